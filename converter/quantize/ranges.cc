#include "converter/quantize/ranges.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "converter/converter.h"

namespace edgegen::converter {
namespace {

// The value below which `fraction` of the histogram's mass lies (linear
// within a bin).
float histogram_quantile(const TensorStatistics& stats, double fraction) {
  uint64_t total = 0;
  for (uint64_t c : stats.histogram) total += c;
  if (total == 0) return stats.min;
  const double target = fraction * static_cast<double>(total);
  const double width = (static_cast<double>(stats.max) - stats.min) / kHistogramBins;
  double below = 0;
  for (int bin = 0; bin < kHistogramBins; ++bin) {
    const double count = static_cast<double>(stats.histogram[static_cast<size_t>(bin)]);
    if (below + count >= target && count > 0) {
      const double within = (target - below) / count;
      return static_cast<float>(stats.min + (bin + within) * width);
    }
    below += count;
  }
  return stats.max;
}

// KL(P || Q) of two unnormalized distributions over the same bins (Q > 0
// wherever P > 0 by construction).
double kl_divergence(const std::vector<double>& p, const std::vector<double>& q) {
  double p_sum = 0, q_sum = 0;
  for (double v : p) p_sum += v;
  for (double v : q) q_sum += v;
  if (p_sum <= 0 || q_sum <= 0) return std::numeric_limits<double>::infinity();
  double divergence = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] <= 0) continue;
    if (q[i] <= 0) return std::numeric_limits<double>::infinity();
    divergence += p[i] / p_sum * std::log((p[i] / p_sum) / (q[i] / q_sum));
  }
  return divergence;
}

// TensorRT's entropy calibration on a histogram of magnitudes: the number
// of leading bins whose clipping to `levels` quantization levels loses the
// least information.
size_t entropy_bins(const std::vector<double>& magnitudes, int levels) {
  const size_t bins = magnitudes.size();
  size_t best = bins;
  double best_divergence = std::numeric_limits<double>::infinity();
  for (size_t kept = static_cast<size_t>(levels); kept <= bins; ++kept) {
    // Reference: the kept bins, with the clipped tail added to the last.
    std::vector<double> p(magnitudes.begin(), magnitudes.begin() + static_cast<std::ptrdiff_t>(kept));
    for (size_t i = kept; i < bins; ++i) p[kept - 1] += magnitudes[i];
    // Candidate: the kept bins merged into `levels` levels, each level's
    // mass spread evenly over its non-empty bins.
    std::vector<double> q(kept, 0.0);
    const double per_level = static_cast<double>(kept) / levels;
    for (int level = 0; level < levels; ++level) {
      const size_t begin = static_cast<size_t>(std::floor(level * per_level));
      const size_t end = std::min(kept, static_cast<size_t>(std::floor((level + 1) * per_level)));
      double mass = 0;
      size_t nonzero = 0;
      for (size_t i = begin; i < end; ++i) {
        mass += magnitudes[i];
        nonzero += magnitudes[i] > 0;
      }
      for (size_t i = begin; i < end; ++i)
        if (magnitudes[i] > 0) q[i] = mass / static_cast<double>(nonzero);
    }
    // The tail's mass makes p[kept-1] > 0 while q may be 0 there.
    if (p[kept - 1] > 0 && q[kept - 1] <= 0) q[kept - 1] = 1e-9;
    const double divergence = kl_divergence(p, q);
    if (divergence < best_divergence) best_divergence = divergence, best = kept;
  }
  return best;
}

Range entropy_range(const TensorStatistics& stats) {
  const bool one_sided = stats.min >= 0.f;
  const float magnitude = std::max(std::fabs(stats.min), std::fabs(stats.max));
  if (magnitude == 0.f) return {stats.min, stats.max};
  // The histogram over [min, max] re-binned by magnitude over [0, magnitude].
  std::vector<double> magnitudes(kHistogramBins, 0.0);
  const double width = (static_cast<double>(stats.max) - stats.min) / kHistogramBins;
  for (int bin = 0; bin < kHistogramBins; ++bin) {
    const double center = stats.min + (bin + 0.5) * width;
    int target = static_cast<int>(std::fabs(center) / magnitude * kHistogramBins);
    target = std::min(target, kHistogramBins - 1);
    magnitudes[static_cast<size_t>(target)] += static_cast<double>(stats.histogram[static_cast<size_t>(bin)]);
  }
  // Levels over the kept magnitudes: all 255 for a one-sided tensor, 128 per side otherwise.
  const size_t kept = entropy_bins(magnitudes, one_sided ? 255 : 128);
  const float threshold = static_cast<float>(kept) / kHistogramBins * magnitude;
  return {std::max(stats.min, -threshold), std::min(stats.max, threshold)};
}

}  // namespace

Range choose_range(const TensorStatistics& stats, const std::string& method, double percentile) {
  if (!stats.seen) return {0.f, 0.f};
  if (method == "minmax" || stats.histogram.empty() || stats.min == stats.max) return {stats.min, stats.max};
  if (method == "percentile") {
    const double clipped = (100.0 - percentile) / 100.0;
    const bool one_sided = stats.min >= 0.f;
    const float low = one_sided ? stats.min : histogram_quantile(stats, clipped / 2);
    const float high = histogram_quantile(stats, 1.0 - (one_sided ? clipped : clipped / 2));
    return {low, std::max(high, low)};
  }
  if (method == "entropy") return entropy_range(stats);
  throw ConversionError("unknown calibration method '" + method + "' (minmax, percentile, entropy)");
}

IrQuantization int8_activation_quantization(Range range) {
  const double low = std::min(0.0, static_cast<double>(range.low));
  const double high = std::max(0.0, static_cast<double>(range.high));
  double scale = (high - low) / 255.0;
  // An all-zero tensor: any scale represents it; keep one that is normal.
  if (!(scale >= 1e-30)) scale = 1.0;
  double zero_point = std::nearbyint(-128.0 - low / scale);
  zero_point = std::clamp(zero_point, -128.0, 127.0);
  IrQuantization quant;
  quant.scales = {static_cast<float>(scale)};
  quant.zero_points = {static_cast<int64_t>(zero_point)};
  return quant;
}

QuantizedWeights quantize_weights(const IrTensor& weights, int axis) {
  if (weights.dtype != DType::kFloat32 || !weights.is_constant)
    throw ConversionError("internal: quantize_weights on '" + weights.name + "', which is not a float32 constant");
  const float* values = reinterpret_cast<const float*>(weights.data.data());
  const size_t count = static_cast<size_t>(weights.num_elements());
  size_t channels = 1, inner = count;
  if (axis >= 0) {
    channels = static_cast<size_t>(weights.shape[static_cast<size_t>(axis)]);
    inner = 1;
    for (size_t d = static_cast<size_t>(axis) + 1; d < weights.shape.size(); ++d)
      inner *= static_cast<size_t>(weights.shape[d]);
  }
  std::vector<float> max_abs(channels, 0.f);
  for (size_t i = 0; i < count; ++i) {
    const size_t c = (i / inner) % channels;
    max_abs[c] = std::max(max_abs[c], std::fabs(values[i]));
  }
  QuantizedWeights result;
  result.quant.axis = axis;
  for (size_t c = 0; c < channels; ++c) {
    if (!std::isfinite(max_abs[c]))
      throw ConversionError("weight '" + weights.name + "' holds a non-finite value; it cannot be quantized");
    const float scale = max_abs[c] > 1e-30f ? max_abs[c] / 127.f : 1.f;
    result.quant.scales.push_back(scale);
    result.quant.zero_points.push_back(0);
  }
  result.values.resize(count);
  for (size_t i = 0; i < count; ++i) {
    const size_t c = (i / inner) % channels;
    const double q = std::nearbyint(static_cast<double>(values[i]) / result.quant.scales[c]);
    result.values[i] = static_cast<int8_t>(std::clamp(q, -127.0, 127.0));
  }
  return result;
}

std::vector<int32_t> quantize_bias(const std::vector<float>& bias, float input_scale, const IrQuantization& weights) {
  std::vector<int32_t> result(bias.size());
  for (size_t c = 0; c < bias.size(); ++c) {
    const double scale = static_cast<double>(input_scale) * weights.scales[weights.scales.size() == 1 ? 0 : c];
    const double q = std::nearbyint(static_cast<double>(bias[c]) / scale);
    result[c] = static_cast<int32_t>(std::clamp(q, -2147483648.0, 2147483647.0));
  }
  return result;
}

}  // namespace edgegen::converter
