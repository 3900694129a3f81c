#include "backends/xnnpack/simd/group_norm_int8.h"

#include <algorithm>
#include <cstring>

#include "backends/xnnpack/simd/group_norm_int8_avx512.h"
#include "core/vector_math.h"

namespace edgegen {
namespace simd {
namespace {

// Pixels whose int32 sums of q^2 (<= 2^14 each) cannot overflow; the
// sums are carried in int64 across chunks.
constexpr size_t kChunkPixels = size_t{1} << 16;
constexpr size_t kSumBlock = 16;  // channels summed in registers at a time

EG_VECTOR_CLONES void accumulate_rows(const int8_t* x, int32_t* sums, int32_t* squares, size_t channels,
                                      size_t pixels) {
  size_t c0 = 0;
  for (; c0 + kSumBlock <= channels; c0 += kSumBlock) {
    int32_t sum[kSumBlock] = {}, square[kSumBlock] = {};
    for (size_t p = 0; p < pixels; ++p)
      for (size_t k = 0; k < kSumBlock; ++k) {
        const int32_t v = x[p * channels + c0 + k];
        sum[k] += v;
        square[k] += v * v;
      }
    for (size_t k = 0; k < kSumBlock; ++k) sums[c0 + k] += sum[k], squares[c0 + k] += square[k];
  }
  for (size_t p = 0; p < pixels; ++p)
    for (size_t c = c0; c < channels; ++c) {
      const int32_t v = x[p * channels + c];
      sums[c] += v;
      squares[c] += v * v;
    }
}

EG_VECTOR_CLONES void accumulate_plane(const int8_t* x, size_t n, int32_t* sum_out, int32_t* square_out) {
  int32_t sum = 0, square = 0;
  for (size_t i = 0; i < n; ++i) {
    const int32_t v = x[i];
    sum += v;
    square += v * v;
  }
  *sum_out = sum;
  *square_out = square;
}

// The output step of quantized_group_norm.h with ReLU / Clip folded into
// the clamp bounds (max(y, 0) / s == max(y / s, 0) bit for bit).
struct OutputStep {
  float inverse_scale, low, high, zero_point;
};

inline int8_t clamped_value(float v, const OutputStep& o) {
  v = v == v ? v : 0.f;
  v = v * o.inverse_scale;
  v = v < o.low ? o.low : v;
  v = v > o.high ? o.high : v;
  return static_cast<int8_t>(round_half_even(v) + o.zero_point);
}

inline int8_t silu_value(float v, const OutputStep& o) {
  v = v == v ? v : 0.f;
  v = v / (1.f + fast_exp(-v));
  v = v * o.inverse_scale;
  v = v == v ? v : 0.f;
  v = v < o.low ? o.low : v;
  v = v > o.high ? o.high : v;
  return static_cast<int8_t>(round_half_even(v) + o.zero_point);
}

// Channels-last: the coefficients repeat with every pixel.
EG_VECTOR_CLONES void rows_clamped(const int8_t* x, int8_t* y, const float* a, const float* b, size_t channels,
                                   size_t pixels, OutputStep o) {
  for (size_t p = 0; p < pixels; ++p, x += channels, y += channels)
    for (size_t c = 0; c < channels; ++c) y[c] = clamped_value(a[c] * static_cast<float>(x[c]) + b[c], o);
}
EG_VECTOR_CLONES void rows_silu(const int8_t* x, int8_t* y, const float* a, const float* b, size_t channels,
                                size_t pixels, OutputStep o) {
  for (size_t p = 0; p < pixels; ++p, x += channels, y += channels)
    for (size_t c = 0; c < channels; ++c) y[c] = silu_value(a[c] * static_cast<float>(x[c]) + b[c], o);
}

// Channels-first: one channel's plane, one pair of coefficients.
EG_VECTOR_CLONES void plane_clamped(const int8_t* x, int8_t* y, float a, float b, size_t n, OutputStep o) {
  for (size_t i = 0; i < n; ++i) y[i] = clamped_value(a * static_cast<float>(x[i]) + b, o);
}
EG_VECTOR_CLONES void plane_silu(const int8_t* x, int8_t* y, float a, float b, size_t n, OutputStep o) {
  for (size_t i = 0; i < n; ++i) y[i] = silu_value(a * static_cast<float>(x[i]) + b, o);
}

// The clamp bounds with ReLU or Clip folded in (has_group_norm_int8).
OutputStep output_step(const GroupNormInt8& g) {
  OutputStep o{g.output.inverse_scale, g.output.low, g.output.high, static_cast<float>(g.output.zero_point)};
  const FusedActivation& act = g.activation;
  if (act.kind == ActivationKind::kRelu) o.low = std::max(o.low, 0.f);
  if (act.kind == ActivationKind::kClip) {
    o.low = std::max(o.low, act.param0 * o.inverse_scale);
    o.high = std::min(o.high, act.param1 * o.inverse_scale);
  }
  return o;
}

OutputStepAvx512 on_avx512(const GroupNormInt8& g, const OutputStep& o) {
  return {o.inverse_scale, o.low, o.high, g.output.zero_point, g.activation.kind == ActivationKind::kSilu};
}

struct Scratch {
  int64_t* sums;
  int64_t* squares;
  int32_t* chunk_sums;
  int32_t* chunk_squares;
  float* a;
  float* b;
};

Scratch carve(void* scratch, size_t channels) {
  auto* wide = static_cast<int64_t*>(scratch);
  auto* narrow = reinterpret_cast<int32_t*>(wide + 2 * channels);
  auto* floats = reinterpret_cast<float*>(narrow + 2 * channels);
  return {wide, wide + channels, narrow, narrow + channels, floats, floats + channels};
}

void coefficients(const GroupNormInt8& g, const Scratch& s) {
  const size_t group_channels = g.channels / g.groups;
  const int64_t count = static_cast<int64_t>(group_channels * g.spatial);
  for (size_t group = 0; group < g.groups; ++group) {
    const size_t first = group * group_channels;
    int64_t sum = 0, squares = 0;
    for (size_t k = 0; k < group_channels; ++k) sum += s.sums[first + k], squares += s.squares[first + k];
    quantized_group_norm_coefficients(sum, squares, count, g.x_scale, g.epsilon, g.gamma + first, g.beta + first,
                                      s.a + first, s.b + first, group_channels);
  }
}

}  // namespace

bool has_group_norm_int8(const FusedActivation& act) {
  return act.kind == ActivationKind::kNone || act.kind == ActivationKind::kRelu ||
         act.kind == ActivationKind::kClip || act.kind == ActivationKind::kSilu;
}

size_t group_norm_int8_scratch_bytes(size_t channels) {
  return channels * (2 * sizeof(int64_t) + 2 * sizeof(int32_t) + 2 * sizeof(float));
}

void group_norm_int8_nhwc(const GroupNormInt8& g, const int8_t* in, int8_t* out, void* scratch) {
  const bool avx512 = g.avx512 && has_group_norm_int8_avx512();
  const Scratch s = carve(scratch, g.channels);
  const size_t image = g.spatial * g.channels;
  for (size_t n = 0; n < g.batch; ++n) {
    const int8_t* x = in + n * image;
    std::fill(s.sums, s.sums + g.channels, 0);
    std::fill(s.squares, s.squares + g.channels, 0);
    for (size_t p0 = 0; p0 < g.spatial; p0 += kChunkPixels) {
      std::fill(s.chunk_sums, s.chunk_sums + g.channels, 0);
      std::fill(s.chunk_squares, s.chunk_squares + g.channels, 0);
      const size_t pixels = std::min(kChunkPixels, g.spatial - p0);
      if (avx512) accumulate_rows_avx512(x + p0 * g.channels, s.chunk_sums, s.chunk_squares, g.channels, pixels);
      else accumulate_rows(x + p0 * g.channels, s.chunk_sums, s.chunk_squares, g.channels, pixels);
      for (size_t c = 0; c < g.channels; ++c) s.sums[c] += s.chunk_sums[c], s.squares[c] += s.chunk_squares[c];
    }
    coefficients(g, s);
    const OutputStep o = output_step(g);
    if (avx512) normalize_rows_avx512(x, out + n * image, s.a, s.b, 1, g.channels, g.spatial, on_avx512(g, o));
    else if (g.activation.kind == ActivationKind::kSilu) rows_silu(x, out + n * image, s.a, s.b, g.channels, g.spatial, o);
    else rows_clamped(x, out + n * image, s.a, s.b, g.channels, g.spatial, o);
  }
}

void group_norm_int8_nchw(const GroupNormInt8& g, const int8_t* in, int8_t* out, void* scratch) {
  const bool avx512 = g.avx512 && has_group_norm_int8_avx512();
  const Scratch s = carve(scratch, g.channels);
  const size_t image = g.spatial * g.channels;
  for (size_t n = 0; n < g.batch; ++n) {
    const int8_t* x = in + n * image;
    for (size_t c = 0; c < g.channels; ++c) {
      s.sums[c] = s.squares[c] = 0;
      for (size_t p0 = 0; p0 < g.spatial; p0 += kChunkPixels) {
        int32_t sum, square;
        accumulate_plane(x + c * g.spatial + p0, std::min(kChunkPixels, g.spatial - p0), &sum, &square);
        s.sums[c] += sum;
        s.squares[c] += square;
      }
    }
    coefficients(g, s);
    const OutputStep o = output_step(g);
    for (size_t c = 0; c < g.channels; ++c) {
      const int8_t* plane = x + c * g.spatial;
      int8_t* y = out + n * image + c * g.spatial;
      if (avx512) normalize_rows_avx512(plane, y, s.a + c, s.b + c, 0, g.spatial, 1, on_avx512(g, o));
      else if (g.activation.kind == ActivationKind::kSilu) plane_silu(plane, y, s.a[c], s.b[c], g.spatial, o);
      else plane_clamped(plane, y, s.a[c], s.b[c], g.spatial, o);
    }
  }
}

}  // namespace simd
}  // namespace edgegen
