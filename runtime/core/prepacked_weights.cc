#include "core/prepacked_weights.h"

namespace edgegen {

uint64_t prepacked_fingerprint(const void* data, size_t bytes, uint64_t seed) {
  uint64_t hash = seed != 0 ? seed : 0xcbf29ce484222325ull;
  const unsigned char* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < bytes; ++i) hash = (hash ^ p[i]) * 0x100000001b3ull;
  return hash;
}

uint64_t prepacked_sample_fingerprint(const float* data, size_t count, uint64_t seed) {
  const uint64_t count64 = count;
  uint64_t hash = prepacked_fingerprint(&count64, sizeof count64, seed);
  if (data == nullptr || count == 0) return hash;
  constexpr size_t kSample = 64;  // floats: 256 bytes
  constexpr size_t kPlaces = 10;
  for (size_t place = 0; place < kPlaces; ++place) {
    const size_t span = count > kSample ? count - kSample : 0;
    const size_t first = span * place / (kPlaces - 1);
    const size_t n = count - first < kSample ? count - first : kSample;
    hash = prepacked_fingerprint(data + first, n * sizeof(float), hash);
  }
  return hash;
}

}  // namespace edgegen
