// Normally distributed test data, reproducible from a seed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "edgegen/random.h"

namespace edgegen {
namespace testing {

// `count` values of N(0, scale^2) from fill_normal's stream 3 of `seed`.
inline std::vector<float> random_values(size_t count, uint64_t seed, float scale) {
  std::vector<float> values(count);
  fill_normal(seed, 3, 0, values.data(), count);
  for (float& v : values) v *= scale;
  return values;
}

}  // namespace testing
}  // namespace edgegen
