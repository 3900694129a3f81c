// Session::write_prepacked_weights / use_prepacked_weights: the file of
// core/prepacked_weights.h, written and checked layer by layer (no heap:
// each layer is packed into the session's stream buffer and handed out).
#include <cstring>

#include "core/op_state.h"
#include "core/prepacked_weights.h"
#include "edgegen/session.h"

#if defined(EDGEGEN_WITH_XNNPACK)
#include <pthreadpool.h>

#include "backends/xnnpack/xnnpack_backend.h"
#endif

namespace edgegen {

namespace {

constexpr uint32_t kPrepackedVersion = 1;

[[maybe_unused]] uint64_t aligned(uint64_t offset) { return (offset + kPrepackedAlignment - 1) / kPrepackedAlignment * kPrepackedAlignment; }

Status write_zeros(const Session::ByteWriter& writer, uint64_t bytes) {
  static const unsigned char kZeros[4096] = {};
  while (bytes > 0) {
    const size_t n = bytes < sizeof kZeros ? static_cast<size_t>(bytes) : sizeof kZeros;
    EG_RETURN_IF_ERROR(writer.write(writer.user, kZeros, n));
    bytes -= n;
  }
  return Status::ok();
}

}  // namespace

// Calls visit(graph, op index, op, layer) for every layer that takes
// pre-packed weights, in the file's order; stops at the first error.
#define EG_FOR_EACH_PREPACKABLE_LAYER(visit)                                  \
  for (size_t g = 0; g < num_graphs_; ++g) {                                  \
    size_t count = 0;                                                         \
    OpState* ops = graph_ops(g, &count);                                      \
    for (size_t i = 0; i < count; ++i) {                                      \
      xnnpack::PrepackableLayer layer;                                        \
      if (xnnpack::prepackable_layer(ops[i], &layer)) EG_RETURN_IF_ERROR(visit(g, i, ops[i], layer)); \
    }                                                                         \
  }

Status Session::write_prepacked_weights(const ByteWriter& writer) {
  if (!prepared_) return Status::error(StatusCode::kNotPrepared, "write_prepacked_weights() before a successful prepare()");
  if (writer.write == nullptr) return Status::error(StatusCode::kInvalidArgument, "write_prepacked_weights: no writer");
  PrepackedHeader header = {};
  std::memcpy(header.magic, kPrepackedMagic, sizeof header.magic);
  header.version = kPrepackedVersion;
#if defined(EDGEGEN_WITH_XNNPACK)
  // The header and the table first (every layer's entry, offsets in order),
  // then each layer's weights, packed as a run packs them.
  uint64_t file_bytes = 0;
  auto count_layer = [&](size_t, size_t, OpState&, const xnnpack::PrepackableLayer& layer) {
    ++header.entries;
    file_bytes = aligned(file_bytes + layer.bytes);
    return Status::ok();
  };
  EG_FOR_EACH_PREPACKABLE_LAYER(count_layer);
  const uint64_t data_offset = prepacked_data_offset(header.entries);
  header.file_bytes = data_offset + file_bytes;
  EG_RETURN_IF_ERROR(writer.write(writer.user, &header, sizeof header));
  uint64_t offset = data_offset;
  auto write_entry = [&](size_t g, size_t i, OpState& op, const xnnpack::PrepackableLayer& layer) {
    PrepackedEntry entry = {};
    entry.graph = static_cast<uint32_t>(g);
    entry.op = static_cast<uint32_t>(i);
    entry.layout_key = layer.layout_key;
    entry.weights_fingerprint = xnnpack::prepacked_weights_fingerprint(op);
    entry.offset = offset;
    entry.bytes = layer.bytes;
    offset = aligned(offset + layer.bytes);
    return writer.write(writer.user, &entry, sizeof entry);
  };
  EG_FOR_EACH_PREPACKABLE_LAYER(write_entry);
  EG_RETURN_IF_ERROR(write_zeros(writer, data_offset - sizeof header - header.entries * sizeof(PrepackedEntry)));
  auto write_layer = [&](size_t, size_t, OpState& op, const xnnpack::PrepackableLayer& layer) {
    const void* packed = xnnpack::pack_streamed_layer(op, static_cast<pthreadpool_t>(threadpool_));
    EG_RETURN_IF_ERROR(writer.write(writer.user, packed, layer.bytes));
    return write_zeros(writer, aligned(layer.bytes) - layer.bytes);
  };
  EG_FOR_EACH_PREPACKABLE_LAYER(write_layer);
  return Status::ok();
#else
  // Without XNNPACK nothing is streamed: a header only.
  header.file_bytes = prepacked_data_offset(0);
  EG_RETURN_IF_ERROR(writer.write(writer.user, &header, sizeof header));
  return write_zeros(writer, header.file_bytes - sizeof header);
#endif
}

Status Session::use_prepacked_weights(const void* data, size_t bytes) {
  if (!prepared_) return Status::error(StatusCode::kNotPrepared, "use_prepacked_weights() before a successful prepare()");
  if (data == nullptr) return Status::error(StatusCode::kInvalidArgument, "use_prepacked_weights: data is null");
  if (reinterpret_cast<uintptr_t>(data) % 64 != 0)
    return Status::error(StatusCode::kInvalidArgument, "use_prepacked_weights: data must be 64-byte aligned (map the file)");
  PrepackedHeader header;
  if (bytes < sizeof header) return Status::error(StatusCode::kInvalidArgument, "pre-packed weights: %zu bytes, no header", bytes);
  std::memcpy(&header, data, sizeof header);
  if (std::memcmp(header.magic, kPrepackedMagic, sizeof header.magic) != 0)
    return Status::error(StatusCode::kInvalidArgument, "pre-packed weights: not a pre-packed weights file (bad magic)");
  if (header.version != kPrepackedVersion)
    return Status::error(StatusCode::kInvalidArgument, "pre-packed weights: version %u, this runtime reads %u",
                         header.version, kPrepackedVersion);
  if (header.file_bytes != bytes)
    return Status::error(StatusCode::kInvalidArgument, "pre-packed weights: the file is %zu bytes, its header says %llu "
                         "(cut short?)", bytes, static_cast<unsigned long long>(header.file_bytes));
  if (prepacked_data_offset(header.entries) > bytes)
    return Status::error(StatusCode::kInvalidArgument, "pre-packed weights: %u entries do not fit in %zu bytes",
                         header.entries, bytes);
  uint32_t layers = 0;
#if defined(EDGEGEN_WITH_XNNPACK)
  // Every entry is checked against this session's layers before any is used.
  const unsigned char* base = static_cast<const unsigned char*>(data);
  uint32_t k = 0;
  auto check = [&](size_t g, size_t i, OpState& op, const xnnpack::PrepackableLayer& layer) {
    const uint32_t index = k++;
    if (index >= header.entries) return Status::ok();  // counted, refused below
    PrepackedEntry entry;
    std::memcpy(&entry, base + sizeof header + index * sizeof entry, sizeof entry);
    const char* name = operator_name(g, i);
    if (entry.graph != g || entry.op != i || entry.bytes != layer.bytes || entry.layout_key != layer.layout_key)
      return Status::error(StatusCode::kInvalidArgument, "pre-packed weights: layer %u ('%s') was packed for another "
                           "model, CPU or options", index, name);
    if (entry.weights_fingerprint != xnnpack::prepacked_weights_fingerprint(op))
      return Status::error(StatusCode::kInvalidArgument, "pre-packed weights: the weights of layer %u ('%s') differ "
                           "from the model's (the model was converted again?)", index, name);
    if (entry.offset % kPrepackedAlignment != 0 || entry.offset > bytes || entry.bytes > bytes - entry.offset)
      return Status::error(StatusCode::kInvalidArgument, "pre-packed weights: layer %u ('%s') lies outside the file",
                           index, name);
    return Status::ok();
  };
  EG_FOR_EACH_PREPACKABLE_LAYER(check);
  layers = k;
#endif
  if (layers != header.entries)
    return Status::error(StatusCode::kInvalidArgument, "pre-packed weights: the file has %u layers, this session "
                         "streams %u (made for another model or options)", header.entries, layers);
#if defined(EDGEGEN_WITH_XNNPACK)
  k = 0;
  auto use = [&](size_t, size_t, OpState& op, const xnnpack::PrepackableLayer&) {
    PrepackedEntry entry;
    std::memcpy(&entry, base + sizeof header + (k++) * sizeof entry, sizeof entry);
    xnnpack::use_prepacked_layer(op, base + entry.offset, static_cast<size_t>(entry.bytes));
    return Status::ok();
  };
  EG_FOR_EACH_PREPACKABLE_LAYER(use);
#endif
  return Status::ok();
}

#undef EG_FOR_EACH_PREPACKABLE_LAYER

}  // namespace edgegen
