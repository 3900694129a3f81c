// Text <-> tokens for token decoders, by the tokenizer the model declares
// (schemas/edgegen.fbs TokenDecoderPipeline): "bytes" maps byte v to token
// v + byte_offset. A SentencePiece model stored in the file needs a build
// with libsentencepiece (host tools only; the runtime never tokenizes).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "edgegen/model.h"

namespace edgegen::cli {

class TokenText {
 public:
  // Throws CliError when the model is not a token decoder or its tokenizer
  // is not available in this build.
  explicit TokenText(const Model& model, const std::string& model_path);

  // The tokens of `text`, with bos first when `add_bos` and the model has one.
  std::vector<int32_t> encode(const std::string& text, bool add_bos) const;
  // The bytes of one token ("" for special tokens such as bos and eos).
  std::string decode(int32_t token) const;

  int32_t bos() const { return bos_; }
  int32_t eos() const { return eos_; }
  size_t vocab_size() const { return vocab_; }
  size_t max_length() const { return max_length_; }

 private:
  int32_t bos_ = -1, eos_ = -1;
  size_t vocab_ = 0, max_length_ = 0;
  uint32_t byte_offset_ = 0;
};

// "1,5,7" or "1 5 7" -> tokens; throws CliError naming `what` on anything else.
std::vector<int32_t> parse_token_list(const std::string& text, const std::string& what);

}  // namespace edgegen::cli
