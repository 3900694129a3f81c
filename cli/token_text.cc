#include "token_text.h"

#include <cctype>
#include <cstdlib>

#include "cli_error.h"
#include "edgegen_generated.h"

#include <dlfcn.h>
#include <unistd.h>

namespace edgegen::cli {

// libedgegen_sentencepiece.so (sentencepiece_shim.cc), found beside the
// edgegen executable (or by EDGEGEN_SENTENCEPIECE_MODULE) and loaded on
// first use with its own symbol scope.
struct TokenText::SentencePiece {
  void* module = nullptr;
  void* processor = nullptr;
  void (*free_processor)(void*) = nullptr;
  long (*encode)(void*, const char*, size_t, int*, size_t) = nullptr;
  long (*decode)(void*, const int*, size_t, char*, size_t) = nullptr;
  ~SentencePiece() {
    if (processor != nullptr && free_processor != nullptr) free_processor(processor);
    // The module stays loaded: unloading a library with static protobuf state is not safe.
  }
};

namespace {

std::string module_path() {
  if (const char* path = std::getenv("EDGEGEN_SENTENCEPIECE_MODULE")) return path;
  char executable[4096];
  const ssize_t length = readlink("/proc/self/exe", executable, sizeof executable - 1);
  if (length <= 0) return "libedgegen_sentencepiece.so";
  std::string path(executable, static_cast<size_t>(length));
  return path.substr(0, path.rfind('/') + 1) + "libedgegen_sentencepiece.so";
}

void* open_module(std::string* error) {
  static void* module = nullptr;
  static std::string failure;
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer refuses RTLD_DEEPBIND, and without it the module's
  // protobuf copy clashes with the converter's (sentencepiece_shim.cc).
  failure = "not loaded in an AddressSanitizer build (RTLD_DEEPBIND is incompatible with it)";
#endif
  if (module == nullptr && failure.empty()) {
    const std::string path = module_path();
    module = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    if (module == nullptr) failure = path + ": " + dlerror();
  }
  *error = failure;
  return module;
}

}  // namespace

bool sentencepiece_available() {
  std::string error;
  return open_module(&error) != nullptr;
}

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
  if (spec->tokenizer() == format::Tokenizer::Bytes) return;
  std::string error;
  void* module = open_module(&error);
  if (module == nullptr)
    throw CliError(model_path + ": its SentencePiece tokenizer needs an edgegen built with libsentencepiece "
                                "(apt-get install libsentencepiece-dev, then reconfigure; " + error +
                   "); --prompt-tokens and --tokens-out work without it");
  const auto* bytes = spec->tokenizer_model();
  if (bytes == nullptr || bytes->size() == 0) throw CliError(model_path + ": its SentencePiece model is missing");
  auto load = reinterpret_cast<void* (*)(const char*, size_t, char*, size_t)>(dlsym(module, "edgegen_spm_load"));
  auto piece_size = reinterpret_cast<int (*)(void*)>(dlsym(module, "edgegen_spm_piece_size"));
  sentencepiece_ = std::make_unique<SentencePiece>();
  sentencepiece_->module = module;
  sentencepiece_->free_processor = reinterpret_cast<void (*)(void*)>(dlsym(module, "edgegen_spm_free"));
  sentencepiece_->encode = reinterpret_cast<long (*)(void*, const char*, size_t, int*, size_t)>(dlsym(module, "edgegen_spm_encode"));
  sentencepiece_->decode = reinterpret_cast<long (*)(void*, const int*, size_t, char*, size_t)>(dlsym(module, "edgegen_spm_decode"));
  if (load == nullptr || piece_size == nullptr || sentencepiece_->free_processor == nullptr ||
      sentencepiece_->encode == nullptr || sentencepiece_->decode == nullptr)
    throw CliError(model_path + ": the SentencePiece module lacks its functions (a stale build?)");
  char message[512] = "";
  sentencepiece_->processor = load(reinterpret_cast<const char*>(bytes->data()), bytes->size(), message, sizeof message);
  if (sentencepiece_->processor == nullptr)
    throw CliError(model_path + ": its SentencePiece model does not load: " + message);
  const int pieces = piece_size(sentencepiece_->processor);
  if (pieces < 0 || static_cast<size_t>(pieces) > vocab_)
    throw CliError(model_path + ": its SentencePiece model has " + std::to_string(pieces) +
                   " pieces, more than the model's vocabulary of " + std::to_string(vocab_));
}

TokenText::~TokenText() = default;

std::vector<int32_t> TokenText::encode(const std::string& text, bool add_bos) const {
  std::vector<int32_t> tokens;
  if (add_bos && bos_ >= 0) tokens.push_back(bos_);
  if (sentencepiece_) {
    std::vector<int> ids(text.size() + 16);
    long count = sentencepiece_->encode(sentencepiece_->processor, text.data(), text.size(), ids.data(), ids.size());
    if (count > static_cast<long>(ids.size())) {
      ids.resize(static_cast<size_t>(count));
      count = sentencepiece_->encode(sentencepiece_->processor, text.data(), text.size(), ids.data(), ids.size());
    }
    if (count < 0) throw CliError("SentencePiece cannot encode the text");
    tokens.insert(tokens.end(), ids.begin(), ids.begin() + count);
    return tokens;
  }
  for (unsigned char byte : text) tokens.push_back(static_cast<int32_t>(byte + byte_offset_));
  return tokens;
}

void TokenText::reset_stream() {
  stream_ids_.clear();
  stream_text_.clear();
}

std::string TokenText::append(int32_t token) {
  if (token == bos_ || token == eos_) return "";
  if (sentencepiece_) {
    stream_ids_.push_back(token);
    std::string text(stream_text_.size() + 64, '\0');
    long length = sentencepiece_->decode(sentencepiece_->processor, stream_ids_.data(), stream_ids_.size(), text.data(),
                                         text.size());
    if (length > static_cast<long>(text.size())) {
      text.resize(static_cast<size_t>(length));
      length = sentencepiece_->decode(sentencepiece_->processor, stream_ids_.data(), stream_ids_.size(), text.data(),
                                      text.size());
    }
    if (length < 0) return "";
    text.resize(static_cast<size_t>(length));
    // Only whole additions: a later piece may change how earlier ones decode.
    if (text.size() < stream_text_.size() || text.compare(0, stream_text_.size(), stream_text_) != 0) {
      stream_text_ = text;
      return "";
    }
    std::string added = text.substr(stream_text_.size());
    stream_text_ = std::move(text);
    return added;
  }
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
