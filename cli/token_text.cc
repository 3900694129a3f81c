#include "token_text.h"

#include <cctype>

#include "cli_error.h"
#include "edgegen_generated.h"

namespace edgegen::cli {

TokenText::TokenText(const Model& model, const std::string& model_path) {
  if (model.pipeline_kind() != PipelineKind::kTokenDecoder)
    throw CliError(model_path + ": a '" + std::string(pipeline_kind_name(model.pipeline_kind())) +
                   "' pipeline, not a token_decoder");
  const auto* spec = model.root()->pipeline_as_TokenDecoderPipeline();
  bos_ = spec->bos();
  eos_ = spec->eos();
  vocab_ = spec->vocab_size();
  max_length_ = spec->max_length();
  byte_offset_ = spec->byte_offset();
  if (spec->tokenizer() != format::Tokenizer::Bytes)
    throw CliError(model_path + ": its SentencePiece tokenizer is not supported by this build; use --prompt-tokens "
                                "and --tokens-out");
}

std::vector<int32_t> TokenText::encode(const std::string& text, bool add_bos) const {
  std::vector<int32_t> tokens;
  if (add_bos && bos_ >= 0) tokens.push_back(bos_);
  for (unsigned char byte : text) tokens.push_back(static_cast<int32_t>(byte + byte_offset_));
  return tokens;
}

std::string TokenText::decode(int32_t token) const {
  if (token == bos_ || token == eos_) return "";
  const int64_t byte = static_cast<int64_t>(token) - byte_offset_;
  if (byte < 0 || byte > 255) return "";
  return std::string(1, static_cast<char>(byte));
}

std::vector<int32_t> parse_token_list(const std::string& text, const std::string& what) {
  std::vector<int32_t> tokens;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ',' || std::isspace(static_cast<unsigned char>(text[i]))) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end;
    if (end == i || end - i > 9)
      throw CliError(what + ": expected token ids separated by commas or spaces, found '" + text.substr(i, 16) + "'");
    tokens.push_back(static_cast<int32_t>(std::stol(text.substr(i, end - i))));
    i = end;
  }
  return tokens;
}

}  // namespace edgegen::cli
