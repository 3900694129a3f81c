// A C interface to libsentencepiece, built as its own shared module
// (libedgegen_sentencepiece.so) that the edgegen tool loads with dlopen
// (RTLD_LOCAL | RTLD_DEEPBIND) only when a model's tokenizer is
// SentencePiece. Debian's libsentencepiece carries its own copy of
// protobuf-lite; linked into the edgegen tool beside the converter's
// libprotobuf it crashes the tool at start-up (the two copies' symbols
// interpose). Loaded this way, its references resolve inside the module.
#include <sentencepiece_processor.h>

#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

namespace {

void copy_message(const std::string& text, char* out, size_t capacity) {
  if (out == nullptr || capacity == 0) return;
  const size_t n = text.size() < capacity - 1 ? text.size() : capacity - 1;
  std::memcpy(out, text.data(), n);
  out[n] = '\0';
}

}  // namespace

extern "C" {

// A processor for the serialized model, or null with the reason in `error`.
__attribute__((visibility("default"))) void* edgegen_spm_load(const char* data, size_t size, char* error,
                                                              size_t capacity) {
  auto* processor = new sentencepiece::SentencePieceProcessor();
  const auto status = processor->LoadFromSerializedProto(std::string(data, size));
  if (!status.ok()) {
    copy_message(status.ToString(), error, capacity);
    delete processor;
    return nullptr;
  }
  return processor;
}

__attribute__((visibility("default"))) void edgegen_spm_free(void* processor) {
  delete static_cast<sentencepiece::SentencePieceProcessor*>(processor);
}

__attribute__((visibility("default"))) int edgegen_spm_piece_size(void* processor) {
  return static_cast<sentencepiece::SentencePieceProcessor*>(processor)->GetPieceSize();
}

// Writes up to `capacity` ids; returns how many the text has (more than
// capacity: call again with more room), or -1 on failure.
__attribute__((visibility("default"))) long edgegen_spm_encode(void* processor, const char* text, size_t length,
                                                               int* ids, size_t capacity) {
  std::vector<int> pieces;
  if (!static_cast<sentencepiece::SentencePieceProcessor*>(processor)->Encode(std::string(text, length), &pieces).ok())
    return -1;
  for (size_t i = 0; i < pieces.size() && i < capacity; ++i) ids[i] = pieces[i];
  return static_cast<long>(pieces.size());
}

// Writes the decoded text of `ids` (up to capacity bytes, not terminated);
// returns its length (more than capacity: call again), or -1 on failure.
__attribute__((visibility("default"))) long edgegen_spm_decode(void* processor, const int* ids, size_t count, char* out,
                                                               size_t capacity) {
  std::string text;
  if (!static_cast<sentencepiece::SentencePieceProcessor*>(processor)->Decode(std::vector<int>(ids, ids + count), &text).ok())
    return -1;
  std::memcpy(out, text.data(), text.size() < capacity ? text.size() : capacity);
  return static_cast<long>(text.size());
}

}  // extern "C"
