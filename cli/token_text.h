// Text <-> tokens for token decoders, by the tokenizer the model declares
// (schemas/edgegen.fbs TokenDecoderPipeline): "bytes" maps byte v to token
// v + byte_offset; a SentencePiece model stored in the file is used through
// Debian's libsentencepiece, in the module libedgegen_sentencepiece.so
// (cli/sentencepiece_shim.cc) built beside the tool when the library is
// installed and loaded on first use. The runtime library never tokenizes
// and never links it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "edgegen/model.h"

namespace edgegen::cli {

// Whether the SentencePiece module loads.
bool sentencepiece_available();

class TokenText {
 public:
  // Throws CliError when the model is not a token decoder or its tokenizer
  // is not available in this build.
  TokenText(const Model& model, const std::string& model_path);
  ~TokenText();

  // The tokens of `text`, with bos first when `add_bos` and the model has one.
  std::vector<int32_t> encode(const std::string& text, bool add_bos) const;
  // Streaming: the text `token` adds after the tokens appended since the
  // last reset_stream() (bytes: its byte; SentencePiece: the new suffix of
  // the decoded sequence, so spaces and multi-byte pieces come out right).
  std::string append(int32_t token);
  void reset_stream();

  int32_t bos() const { return bos_; }
  int32_t eos() const { return eos_; }
  size_t vocab_size() const { return vocab_; }
  size_t max_length() const { return max_length_; }
  bool is_sentencepiece() const { return sentencepiece_ != nullptr; }

 private:
  struct SentencePiece;
  int32_t bos_ = -1, eos_ = -1;
  size_t vocab_ = 0, max_length_ = 0;
  uint32_t byte_offset_ = 0;
  std::unique_ptr<SentencePiece> sentencepiece_;
  std::vector<int> stream_ids_;
  std::string stream_text_;
};

// "1,5,7" or "1 5 7" -> tokens; throws CliError naming `what` on anything else.
std::vector<int32_t> parse_token_list(const std::string& text, const std::string& what);

}  // namespace edgegen::cli
