// The "token_decoder" manifest kind (issue 13): a transformer decoder run
// token by token over a fixed KV cache, as ExecuTorch's static-cache exports.
//
//   {"kind": "token_decoder", "graphs": {"step": "step.onnx", "prefill": "prefill.onnx"},
//    "inputs": {"tokens": "input_ids", "position": "position", "cache": [["k0", "v0"], ["k1", "v1"]]},
//    "outputs": {"logits": "logits", "cache": [["k0_out", "v0_out"], ["k1_out", "v1_out"]]},
//    "vocab_size": 256, "max_length": 512, "bos": 1, "eos": 2, "tokenizer": "bytes"}
//
// step: tokens [b, 1] (int64 or int32), position (the index the token is
// written at: scalar, [1], [b] or [b, 1]), one cache tensor per layer and
// K/V [b, heads, max_length, head_dim] float32; returns logits [b, 1, vocab]
// and each cache updated (same shape) by a ScatterND, ScatterElements or
// Where over the cache input. prefill (optional): the same with tokens
// [b, T], written at position .. position + T - 1. Each cache output is
// planned on its input (in place, kept from run to run: memory_plan.h);
// the names, shapes and dtypes of the pairs are checked here, in both graphs.
// "tokenizer": "bytes" (token = byte value + optional "byte_offset") or the
// path of a SentencePiece model, stored in the file.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "converter/egm_writer.h"
#include "converter/ir.h"

namespace edgegen::converter {

struct Manifest;

struct TokenDecoderManifest {
  std::string tokens_input, position_input, logits_output;
  std::vector<std::pair<std::string, std::string>> cache_inputs;   // per layer (K, V)
  std::vector<std::pair<std::string, std::string>> cache_outputs;  // same order
  int64_t vocab_size = 0;
  int64_t max_length = 0;
  int64_t bos = -1, eos = -1;
  std::string tokenizer = "bytes";         // "bytes" or "sentencepiece"
  std::vector<uint8_t> tokenizer_model;    // the SentencePiece model's bytes
  int64_t byte_offset = 0;
};

// Fills manifest->graphs (step, then prefill if given) and manifest->token_decoder.
void read_token_decoder_manifest(const std::string& path, const nlohmann::json& root, Manifest* manifest);

// The TokenDecoderPipeline table and the graphs' state pairs; checks every
// name, shape and dtype of both graphs and their agreement.
PipelineWriter make_token_decoder_pipeline(const Manifest& manifest, const std::vector<IrGraph>& graphs);

}  // namespace edgegen::converter
