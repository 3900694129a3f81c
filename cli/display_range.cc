#include "display_range.h"

#include <algorithm>
#include <cmath>

namespace edgegen::cli {

DisplayRange flow_display_range(float dequantize_scale, float logit_alpha, const float* samples, size_t count) {
  if (dequantize_scale > 0.f) return {0.f, dequantize_scale, "the flow's preprocess.dequantize_scale"};
  if (logit_alpha >= 0.f) return {0.f, 1.f, "the flow's logit preprocessing"};
  return observed_display_range(samples, count);
}

DisplayRange autoregressive_display_range(ArKind kind, uint32_t categories, const float* samples, size_t count) {
  if (kind == ArKind::kBernoulli) return {0.f, 1.f, "bernoulli values 0 and 1"};
  // One category has nothing to contrast: draw it as black.
  if (kind == ArKind::kCategorical)
    return {0.f, categories > 1 ? static_cast<float>(categories - 1) : 1.f,
            "categories 0.." + std::to_string(categories > 0 ? categories - 1 : 0)};
  return observed_display_range(samples, count);
}

DisplayRange observed_display_range(const float* samples, size_t count) {
  float low = INFINITY, high = -INFINITY;
  for (size_t i = 0; i < count; ++i)
    if (std::isfinite(samples[i])) {
      low = std::min(low, samples[i]);
      high = std::max(high, samples[i]);
    }
  if (!(low <= high)) return {0.f, 1.f, "no finite sample values; 0..1"};
  if (!(high > low)) {  // all equal: widened enough to stay a range at any magnitude
    const float half = std::max(0.5f, std::fabs(low) * 1e-3f);
    return {low - half, low + half, "the samples' own value (all equal)"};
  }
  return {low, high, "the samples' own min..max"};
}

}  // namespace edgegen::cli
