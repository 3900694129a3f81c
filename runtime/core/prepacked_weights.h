// Pre-packed weights: the layers a weight-streaming session (SessionOptions::
// stream_weights_min_bytes) runs on our own convolution kernels, stored in
// those kernels' packed layout in a file beside the model. A streamed run
// then reads each layer's packed weights from the mapped file instead of
// repacking the model's weights into the stream buffer (issue 14: repacking
// 3.4 GB was about a second of every SD-1.5 UNet step).
//
// The file is specific to the model, to this CPU's kernel choices and to
// the session's options; each entry records what its packing depends on
// (the kernel's layout key, a fingerprint of the layer's weights), and a
// session refuses a file whose entries differ from its own layers, so a
// stale file is rebuilt rather than used.
//
// Layout (host byte order: the file never leaves the machine that made it):
//   PrepackedHeader, PrepackedEntry[entries], zero padding, then each
//   entry's packed floats at its offset (a multiple of kPrepackedAlignment,
//   so a layer's pages can be released from the mapping after it runs).
#pragma once

#include <cstddef>
#include <cstdint>

namespace edgegen {

constexpr uint64_t kPrepackedAlignment = 4096;
constexpr char kPrepackedMagic[8] = {'E', 'G', 'P', 'A', 'C', 'K', '1', '\0'};

struct PrepackedHeader {
  char magic[8];
  uint32_t version;
  uint32_t entries;
  uint64_t file_bytes;  // the whole file: a truncated copy is refused
  uint64_t reserved[5];
};
static_assert(sizeof(PrepackedHeader) == 64, "PrepackedHeader is written as is");

struct PrepackedEntry {
  uint32_t graph;
  uint32_t op;
  uint64_t layout_key;            // the kernel's packed_*_layout_key
  uint64_t weights_fingerprint;   // prepacked_fingerprint of the layer's weights and bias
  uint64_t offset;                // from the file's start
  uint64_t bytes;
  uint64_t reserved;
};
static_assert(sizeof(PrepackedEntry) == 48, "PrepackedEntry is written as is");

// FNV-1a over bytes, continuing from `seed` (0: a fresh hash). Layout keys
// hash their sizes with it; weights are fingerprinted by samples of their
// bytes (prepacked_sample_fingerprint), not in full: hashing gigabytes
// would cost what pre-packing saves.
uint64_t prepacked_fingerprint(const void* data, size_t bytes, uint64_t seed = 0);
// Hashes `count` and 256-byte samples of `data` at its start, its end and
// eight places between: a model converted again with other weights
// differs in them.
uint64_t prepacked_sample_fingerprint(const float* data, size_t count, uint64_t seed = 0);

// Where the packed data of the entries starts (after the header and table).
inline uint64_t prepacked_data_offset(uint32_t entries) {
  const uint64_t table = sizeof(PrepackedHeader) + uint64_t{entries} * sizeof(PrepackedEntry);
  return (table + kPrepackedAlignment - 1) / kPrepackedAlignment * kPrepackedAlignment;
}

}  // namespace edgegen
