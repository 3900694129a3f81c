// From what calibration saw to quantization parameters: the range an
// activation is quantized over (by the chosen method) and the int8 scale
// and zero point of a range; symmetric per-channel int8 weights.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "converter/ir.h"
#include "converter/quantize/calibration.h"

namespace edgegen::converter {

struct Range {
  float low = 0.f;
  float high = 0.f;
};

// The range to quantize a tensor over: "minmax", "percentile" (clips
// (100 - percentile)% of the values, half from each tail; one-sided for a
// tensor that is never negative) or "entropy" (the clipping whose
// quantized distribution is closest to the observed one in KL divergence).
Range choose_range(const TensorStatistics& stats, const std::string& method, double percentile);

// Asymmetric int8 parameters for a range (widened to hold 0 exactly, so
// zero padding and ReLU's floor are exact).
IrQuantization int8_activation_quantization(Range range);

// Symmetric int8 weights, one scale per slice along `axis` (-1: one for
// the whole tensor); values in [-127, 127].
struct QuantizedWeights {
  std::vector<int8_t> values;
  IrQuantization quant;
};
QuantizedWeights quantize_weights(const IrTensor& weights, int axis);

// int32 bias in units of input_scale * weight_scale[c].
std::vector<int32_t> quantize_bias(const std::vector<float>& bias, float input_scale, const IrQuantization& weights);

}  // namespace edgegen::converter
