// The value range a PNG of density samples maps to black..white. Density
// models generate in the data's own units (a flow with dequantize_scale 17
// gives 0..17, a 17-category MADE 0..16), not in the 0..1 the picture
// writer assumes, so the range comes from what the model declares; models
// that declare none are drawn over their samples' own extent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "edgegen/density.h"

namespace edgegen::cli {

struct DisplayRange {
  float low = 0.f;
  float high = 1.f;
  // Where the range comes from, for the command's report, e.g.
  // "the flow's dequantize_scale" or "the samples' own min..max".
  std::string origin;
};

// A flow: [0, dequantize_scale] when it declares one; [0, 1] for a logit
// transform alone (logit_alpha >= 0); otherwise observed_display_range.
DisplayRange flow_display_range(float dequantize_scale, float logit_alpha, const float* samples, size_t count);

// An autoregressive model: bernoulli [0, 1]; categorical [0, categories - 1];
// gaussian (no declared range) observed_display_range.
DisplayRange autoregressive_display_range(ArKind kind, uint32_t categories, const float* samples, size_t count);

// min..max over the finite values of `samples` (NaN and infinities ignored:
// the picture clamps them). A constant set gets a range centred on its value
// (at least [v - 0.5, v + 0.5]), so it is drawn mid-gray; a set without
// finite values gets [0, 1].
DisplayRange observed_display_range(const float* samples, size_t count);

}  // namespace edgegen::cli
