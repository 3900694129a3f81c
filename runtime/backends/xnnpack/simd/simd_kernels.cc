#include "backends/xnnpack/simd/simd_kernels.h"

#include "backends/xnnpack/simd/lane_sums.h"
#include "backends/xnnpack/simd/silu_avx512.h"
#include "backends/xnnpack/simd/softmax_avx512.h"
#include "core/vector_math.h"

#include <cmath>
#include <cstring>

#include "kernels/resize_coordinates.h"
#include "ops/op_params.h"
#include "ops/registry.h"

namespace edgegen {
namespace simd {

namespace {

EG_VECTOR_CLONES void relu_loop(const float* in, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = in[i] > 0.f ? in[i] : 0.f;
}
EG_VECTOR_CLONES void leaky_relu_loop(const float* in, float* out, size_t n, float alpha) {
  for (size_t i = 0; i < n; ++i) out[i] = in[i] >= 0.f ? in[i] : in[i] * alpha;
}
EG_VECTOR_CLONES void clip_loop(const float* in, float* out, size_t n, float lo, float hi) {
  for (size_t i = 0; i < n; ++i) {
    float v = in[i] < lo ? lo : in[i];
    out[i] = v > hi ? hi : v;
  }
}
EG_VECTOR_CLONES void sigmoid_loop(const float* in, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = fast_sigmoid(in[i]);
}
EG_VECTOR_CLONES void silu_portable(const float* in, float* out, size_t n) {
  // Below -88, x e^x is under 1e-36 (and -inf's limit is 0), as silu_avx512.
  for (size_t i = 0; i < n; ++i) out[i] = in[i] < -88.f ? -0.f : in[i] * fast_sigmoid(in[i]);
}
void silu_loop(const float* in, float* out, size_t n) {
  static const bool avx512 = has_silu_avx512();
  if (avx512) silu_avx512(in, out, n);
  else silu_portable(in, out, n);
}
EG_VECTOR_CLONES void tanh_loop(const float* in, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = fast_tanh(in[i]);
}
EG_VECTOR_CLONES void exp_loop(const float* in, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = fast_exp(in[i]);
}
// GELU, tanh form (approximate = 1): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
EG_VECTOR_CLONES void gelu_tanh_loop(const float* in, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float x = in[i];
    out[i] = 0.5f * x * (1.f + fast_tanh(0.7978845608028654f * (x + 0.044715f * x * x * x)));
  }
}
EG_VECTOR_CLONES void neg_loop(const float* in, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = -in[i];
}
EG_VECTOR_CLONES void abs_loop(const float* in, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = in[i] < 0.f ? -in[i] : in[i];
}
EG_VECTOR_CLONES void sqrt_loop(const float* in, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = std::sqrt(in[i]);
}
EG_VECTOR_CLONES void reciprocal_loop(const float* in, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = 1.f / in[i];
}
EG_VECTOR_CLONES void log_loop(const float* in, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = fast_log(in[i]);
}
// log(1 + e^x) = max(x, 0) + log1p(e^-|x|): never overflows.
EG_VECTOR_CLONES void softplus_loop(const float* in, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float x = in[i];
    out[i] = (x > 0.f ? x : 0.f) + fast_log1p(fast_exp(x > 0.f ? -x : x));
  }
}
EG_VECTOR_CLONES void elu_loop(const float* in, float* out, size_t n, float alpha) {
  for (size_t i = 0; i < n; ++i) out[i] = in[i] < 0.f ? alpha * fast_expm1(in[i]) : in[i];
}
EG_VECTOR_CLONES void erf_loop(const float* in, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = fast_erf(in[i]);
}
EG_VECTOR_CLONES void gelu_erf_loop(const float* in, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = 0.5f * in[i] * (1.f + fast_erf(in[i] * 0.7071067811865476f));
}
EG_VECTOR_CLONES void sin_loop(const float* in, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = fast_sin(in[i]);
}
EG_VECTOR_CLONES void cos_loop(const float* in, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = fast_cos(in[i]);
}
EG_VECTOR_CLONES void floor_loop(const float* in, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = std::floor(in[i]);
}
EG_VECTOR_CLONES void ceil_loop(const float* in, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = std::ceil(in[i]);
}
EG_VECTOR_CLONES void hard_sigmoid_loop(const float* in, float* out, size_t n, float alpha, float beta) {
  for (size_t i = 0; i < n; ++i) {
    float y = alpha * in[i] + beta;
    y = y < 0.f ? 0.f : y;
    out[i] = y > 1.f ? 1.f : y;
  }
}

EG_VECTOR_CLONES void hard_swish_loop(const float* in, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    float gate = (1.f / 6.f) * in[i] + 0.5f;
    gate = gate < 0.f ? 0.f : gate;
    out[i] = in[i] * (gate > 1.f ? 1.f : gate);
  }
}

// sin/cos: the vector loop, then libm for the rare |x| > 8192 (and inf,
// NaN) that its reduction does not cover. In chunks, keeping the chunk's
// inputs, because out may be in.
void sin_cos(const float* in, float* out, size_t n, bool cosine) {
  constexpr size_t kChunk = 256;
  float inputs[kChunk];
  for (size_t start = 0; start < n; start += kChunk) {
    const size_t m = n - start < kChunk ? n - start : kChunk;
    std::memcpy(inputs, in + start, m * sizeof(float));
    if (cosine) cos_loop(inputs, out + start, m);
    else sin_loop(inputs, out + start, m);
    for (size_t i = 0; i < m; ++i)
      if (!(std::fabs(inputs[i]) <= 8192.f)) out[start + i] = cosine ? std::cos(inputs[i]) : std::sin(inputs[i]);
  }
}

// Blocked so that both the reads and the writes stay in cache lines.
constexpr size_t kBlock = 16;

void transpose_plane(const float* in, float* out, size_t rows, size_t cols) {
  for (size_t r0 = 0; r0 < rows; r0 += kBlock) {
    const size_t r1 = r0 + kBlock < rows ? r0 + kBlock : rows;
    for (size_t c0 = 0; c0 < cols; c0 += kBlock) {
      const size_t c1 = c0 + kBlock < cols ? c0 + kBlock : cols;
      for (size_t r = r0; r < r1; ++r)
        for (size_t c = c0; c < c1; ++c) out[c * rows + r] = in[r * cols + c];
    }
  }
}

// 2-4 planes into pixels (an RGB image into channels-last): the blocked
// transpose above stored one float at a time there (0.12 ms for a 320x320
// image); with the channel count fixed the loop vectorizes into permutes.
template <size_t kChannels>
inline void interleave(const float* in, float* out, size_t spatial) {
  for (size_t p = 0; p < spatial; ++p)
    for (size_t c = 0; c < kChannels; ++c) out[p * kChannels + c] = in[c * spatial + p];
}

EG_VECTOR_CLONES void interleave_planes(const float* in, float* out, size_t channels, size_t spatial) {
  if (channels == 2) interleave<2>(in, out, spatial);
  else if (channels == 3) interleave<3>(in, out, spatial);
  else interleave<4>(in, out, spatial);
}

}  // namespace

void nchw_to_nhwc(const float* in, float* out, size_t batch, size_t channels, size_t spatial) {
  for (size_t n = 0; n < batch; ++n) {
    if (channels >= 2 && channels <= 4)
      interleave_planes(in + n * channels * spatial, out + n * channels * spatial, channels, spatial);
    else transpose_plane(in + n * channels * spatial, out + n * channels * spatial, channels, spatial);
  }
}

void nhwc_to_nchw(const float* in, float* out, size_t batch, size_t channels, size_t spatial) {
  for (size_t n = 0; n < batch; ++n)
    transpose_plane(in + n * channels * spatial, out + n * channels * spatial, spatial, channels);
}

bool has_unary(uint32_t opcode) {
  switch (static_cast<OpCode>(opcode)) {
    case OpCode::kRelu: case OpCode::kLeakyRelu: case OpCode::kClip: case OpCode::kSigmoid:
    case OpCode::kSilu: case OpCode::kTanh: case OpCode::kExp: case OpCode::kNeg: case OpCode::kAbs:
    case OpCode::kSqrt: case OpCode::kReciprocal: case OpCode::kIdentity: case OpCode::kGelu:
    case OpCode::kLog: case OpCode::kSoftplus: case OpCode::kElu: case OpCode::kErf: case OpCode::kSin:
    case OpCode::kCos: case OpCode::kFloor: case OpCode::kCeil: case OpCode::kHardSigmoid: case OpCode::kHardSwish:
      return true;
    default:
      return false;
  }
}

void unary(uint32_t opcode, const OpAttributes& attributes, const float* in, float* out, size_t count) {
  switch (static_cast<OpCode>(opcode)) {
    case OpCode::kRelu: return relu_loop(in, out, count);
    case OpCode::kLeakyRelu: return leaky_relu_loop(in, out, count, attributes.floats[params::kAlpha]);
    case OpCode::kClip:
      return clip_loop(in, out, count, attributes.floats[params::kClipMin], attributes.floats[params::kClipMax]);
    case OpCode::kSigmoid: return sigmoid_loop(in, out, count);
    case OpCode::kSilu: return silu_loop(in, out, count);
    case OpCode::kTanh: return tanh_loop(in, out, count);
    case OpCode::kExp: return exp_loop(in, out, count);
    case OpCode::kNeg: return neg_loop(in, out, count);
    case OpCode::kAbs: return abs_loop(in, out, count);
    case OpCode::kSqrt: return sqrt_loop(in, out, count);
    case OpCode::kReciprocal: return reciprocal_loop(in, out, count);
    case OpCode::kIdentity:
      if (in != out) std::memmove(out, in, count * sizeof(float));
      return;
    case OpCode::kGelu:
      if (attributes.ints[params::kGeluApproximate] == 1) return gelu_tanh_loop(in, out, count);
      return gelu_erf_loop(in, out, count);
    case OpCode::kLog: return log_loop(in, out, count);
    case OpCode::kSoftplus: return softplus_loop(in, out, count);
    case OpCode::kElu: return elu_loop(in, out, count, attributes.floats[params::kAlpha]);
    case OpCode::kErf: return erf_loop(in, out, count);
    case OpCode::kSin: return sin_cos(in, out, count, false);
    case OpCode::kCos: return sin_cos(in, out, count, true);
    case OpCode::kFloor: return floor_loop(in, out, count);
    case OpCode::kCeil: return ceil_loop(in, out, count);
    case OpCode::kHardSigmoid:
      return hard_sigmoid_loop(in, out, count, attributes.floats[params::kAlpha], attributes.floats[params::kBeta]);
    case OpCode::kHardSwish: return hard_swish_loop(in, out, count);
    default:
      return;
  }
}

EG_VECTOR_CLONES void clamp_rows(float* data, size_t rows, size_t stride, size_t count, float lo, float hi) {
  for (size_t r = 0; r < rows; ++r, data += stride)
    for (size_t i = 0; i < count; ++i) {
      float v = data[i] < lo ? lo : data[i];
      data[i] = v > hi ? hi : v;
    }
}

void activation(const FusedActivation& act, float* data, size_t count) {
  switch (act.kind) {
    case ActivationKind::kNone: return;
    case ActivationKind::kRelu: return relu_loop(data, data, count);
    case ActivationKind::kLeakyRelu: return leaky_relu_loop(data, data, count, act.param0);
    case ActivationKind::kClip: return clip_loop(data, data, count, act.param0, act.param1);
    case ActivationKind::kSigmoid: return sigmoid_loop(data, data, count);
    case ActivationKind::kTanh: return tanh_loop(data, data, count);
    case ActivationKind::kSilu: return silu_loop(data, data, count);
  }
}

namespace {

// Whole images per call, pixel after pixel. Sums of 16 channels at a time
// live in registers across the pixels (a fixed-size block the compiler
// keeps in vectors): summing into sums[] itself made every pixel wait for
// the previous one's store (2 us for a 16x16x16 image). Each channel still
// adds its pixels in order, so the bits are those of a plain loop.
constexpr size_t kSumBlock = 16;

EG_VECTOR_CLONES void accumulate_rows(const float* x, float* sums, size_t channels, size_t pixels) {
  size_t c0 = 0;
  for (; c0 + kSumBlock <= channels; c0 += kSumBlock) {
    float block[kSumBlock] = {};
    for (size_t p = 0; p < pixels; ++p)
      for (size_t k = 0; k < kSumBlock; ++k) block[k] += x[p * channels + c0 + k];
    for (size_t k = 0; k < kSumBlock; ++k) sums[c0 + k] += block[k];
  }
  for (size_t p = 0; p < pixels; ++p)
    for (size_t c = c0; c < channels; ++c) sums[c] += x[p * channels + c];
}
EG_VECTOR_CLONES void accumulate_squares_rows(const float* x, const float* mean, float* sums, size_t channels,
                                              size_t pixels) {
  size_t c0 = 0;
  for (; c0 + kSumBlock <= channels; c0 += kSumBlock) {
    float block[kSumBlock] = {};
    for (size_t p = 0; p < pixels; ++p)
      for (size_t k = 0; k < kSumBlock; ++k) {
        const float d = x[p * channels + c0 + k] - mean[c0 + k];
        block[k] += d * d;
      }
    for (size_t k = 0; k < kSumBlock; ++k) sums[c0 + k] += block[k];
  }
  for (size_t p = 0; p < pixels; ++p)
    for (size_t c = c0; c < channels; ++c) {
      const float d = x[p * channels + c] - mean[c];
      sums[c] += d * d;
    }
}
EG_VECTOR_CLONES void scale_shift_rows(const float* x, const float* scale, const float* shift, float* out,
                                       size_t channels, size_t pixels) {
  for (size_t p = 0; p < pixels; ++p, x += channels, out += channels)
    for (size_t c = 0; c < channels; ++c) out[c] = x[c] * scale[c] + shift[c];
}

}  // namespace

void group_norm_nhwc(const float* in, const float* gamma, const float* beta, float* out, size_t batch,
                     size_t channels, size_t spatial, size_t groups, float epsilon, const FusedActivation& act,
                     float* scratch) {
  float* sums = scratch;                  // per channel
  float* channel_mean = scratch + channels;  // the group's mean, broadcast per channel
  float* scale = scratch + 2 * channels;
  float* shift = scratch + 3 * channels;
  const size_t group_channels = channels / groups;
  const double count = static_cast<double>(group_channels * spatial);
  for (size_t n = 0; n < batch; ++n) {
    const float* x = in + n * spatial * channels;
    float* y = out + n * spatial * channels;
    // Two passes (mean, then squared deviations), as the reference kernel,
    // with per-channel partial sums that vectorize across channels.
    std::memset(sums, 0, channels * sizeof(float));
    accumulate_rows(x, sums, channels, spatial);
    for (size_t g = 0; g < groups; ++g) {
      double total = 0.0;
      for (size_t k = 0; k < group_channels; ++k) total += sums[g * group_channels + k];
      const float mean = static_cast<float>(total / count);
      for (size_t k = 0; k < group_channels; ++k) channel_mean[g * group_channels + k] = mean;
    }
    std::memset(sums, 0, channels * sizeof(float));
    accumulate_squares_rows(x, channel_mean, sums, channels, spatial);
    for (size_t g = 0; g < groups; ++g) {
      double total = 0.0;
      for (size_t k = 0; k < group_channels; ++k) total += sums[g * group_channels + k];
      const double inv_std = 1.0 / std::sqrt(total / count + static_cast<double>(epsilon));
      for (size_t k = 0; k < group_channels; ++k) {
        const size_t c = g * group_channels + k;
        scale[c] = static_cast<float>(inv_std * gamma[c]);
        shift[c] = static_cast<float>(beta[c] - channel_mean[c] * inv_std * gamma[c]);
      }
    }
    scale_shift_rows(x, scale, shift, y, channels, spatial);
    activation(act, y, spatial * channels);
  }
}

namespace {

EG_VECTOR_CLONES void scale_shift_plane(const float* x, float* y, size_t n, float scale, float shift) {
  for (size_t i = 0; i < n; ++i) y[i] = x[i] * scale + shift;
}

}  // namespace

void group_norm_nchw(const float* in, const float* gamma, const float* beta, float* out, size_t batch,
                     size_t channels, size_t spatial, size_t groups, float epsilon, const FusedActivation& act,
                     float* scratch) {
  float* scale = scratch;
  float* shift = scratch + channels;
  const size_t group_channels = channels / groups;
  const double count = static_cast<double>(group_channels * spatial);
  for (size_t n = 0; n < batch; ++n) {
    const float* x = in + n * channels * spatial;
    float* y = out + n * channels * spatial;
    // Two passes (mean, then squared deviations) as the reference kernel:
    // float partial sums within a channel plane, double across planes.
    for (size_t g = 0; g < groups; ++g) {
      const float* block = x + g * group_channels * spatial;
      double total = 0.0;
      for (size_t k = 0; k < group_channels; ++k) total += lane_sum(block + k * spatial, spatial);
      const float mean = static_cast<float>(total / count);
      double squares = 0.0;
      for (size_t k = 0; k < group_channels; ++k)
        squares += lane_squared_deviation(block + k * spatial, spatial, mean);
      const double inv_std = 1.0 / std::sqrt(squares / count + static_cast<double>(epsilon));
      for (size_t k = 0; k < group_channels; ++k) {
        const size_t c = g * group_channels + k;
        scale[c] = static_cast<float>(inv_std * gamma[c]);
        shift[c] = static_cast<float>(beta[c] - mean * inv_std * gamma[c]);
      }
    }
    for (size_t c = 0; c < channels; ++c) scale_shift_plane(x + c * spatial, y + c * spatial, spatial, scale[c], shift[c]);
    activation(act, y, channels * spatial);
  }
}

namespace {

constexpr size_t kLanes = 16;  // partial maxima and sums: float reductions vectorize only in lanes

// One row: its max and the sum of exp(x - max) in 16 lanes each, then
// x - max - log(sum) (vector_math.h's exp and log, about 1 ulp each).
EG_VECTOR_CLONES void log_softmax_row(const float* x, float* y, size_t n) {
  float lane_max[kLanes];
  for (size_t k = 0; k < kLanes; ++k) lane_max[k] = -INFINITY;
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (size_t k = 0; k < kLanes; ++k) lane_max[k] = x[i + k] > lane_max[k] ? x[i + k] : lane_max[k];
  float top = -INFINITY;
  for (size_t k = 0; k < kLanes; ++k) top = lane_max[k] > top ? lane_max[k] : top;
  for (; i < n; ++i) top = x[i] > top ? x[i] : top;
  float lane_sum[kLanes] = {};
  i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (size_t k = 0; k < kLanes; ++k) lane_sum[k] += fast_exp(x[i + k] - top);
  float sum = 0.f;
  for (; i < n; ++i) sum += fast_exp(x[i] - top);
  for (size_t k = 0; k < kLanes; ++k) sum += lane_sum[k];
  const float shift = top + fast_log(sum);
  for (size_t j = 0; j < n; ++j) y[j] = x[j] - shift;
}

// One row: v = scale * x into y, its max in 16 lanes, then y = exp(v - max)
// and their sum in 16 lanes, then y times 1 / sum.
EG_VECTOR_CLONES void softmax_row(const float* x, float* y, size_t n, float scale) {
  float lane_max[kLanes];
  for (size_t k = 0; k < kLanes; ++k) lane_max[k] = -INFINITY;
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (size_t k = 0; k < kLanes; ++k) {
      const float v = scale * x[i + k];
      y[i + k] = v;
      lane_max[k] = v > lane_max[k] ? v : lane_max[k];
    }
  float top = -INFINITY;
  for (size_t k = 0; k < kLanes; ++k) top = lane_max[k] > top ? lane_max[k] : top;
  for (; i < n; ++i) {
    y[i] = scale * x[i];
    top = y[i] > top ? y[i] : top;
  }
  float lane_sum[kLanes] = {};
  i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (size_t k = 0; k < kLanes; ++k) {
      const float e = fast_exp(y[i + k] - top);
      y[i + k] = e;
      lane_sum[k] += e;
    }
  float sum = 0.f;
  for (; i < n; ++i) {
    y[i] = fast_exp(y[i] - top);
    sum += y[i];
  }
  for (size_t k = 0; k < kLanes; ++k) sum += lane_sum[k];
  const float inverse = 1.f / sum;
  for (size_t j = 0; j < n; ++j) y[j] *= inverse;
}

}  // namespace

void softmax_rows_portable(const float* in, float* out, size_t rows, size_t cols, float scale) {
  for (size_t r = 0; r < rows; ++r) softmax_row(in + r * cols, out + r * cols, cols, scale);
}

void softmax_rows(const float* in, float* out, size_t rows, size_t cols, float scale) {
  static const bool avx512 = has_softmax_avx512();
  for (size_t r = 0; r < rows; ++r) {
    if (avx512) softmax_row_avx512(in + r * cols, out + r * cols, cols, scale);
    else softmax_row(in + r * cols, out + r * cols, cols, scale);
  }
}

void log_softmax_rows(const float* in, float* out, size_t rows, size_t cols) {
  for (size_t r = 0; r < rows; ++r) log_softmax_row(in + r * cols, out + r * cols, cols);
}

void concat_channels_nhwc(const float* const* inputs, const size_t* channels, size_t num_inputs, float* out,
                          size_t pixels) {
  // Pixel after pixel, each output pixel written whole: input after input
  // wrote every output cache line once per input (an FPN's 4 x 24 channels
  // over 80x80: 0.37 ms, 4x the bytes). Copies of a few dozen floats
  // inline (a memcpy call each cost as much as the copy).
  for (size_t p = 0; p < pixels; ++p)
    for (size_t i = 0; i < num_inputs; ++i) {
      const size_t c = channels[i];
      const float* src = inputs[i] + p * c;
      for (size_t k = 0; k < c; ++k) out[k] = src[k];
      out += c;
    }
}

template <typename T>
void resize_nearest_nhwc(const T* in, T* out, size_t batch, size_t channels, int64_t in_h, int64_t in_w,
                         int64_t out_h, int64_t out_w, float scale_h, float scale_w, int64_t transform,
                         int64_t rounding) {
  // Source columns once per chunk of output columns (on the stack: no
  // scratch); an output row whose source row is the previous one's (every
  // other row of a 2x upsampling) is a copy of that output row.
  constexpr int64_t kChunk = 512;
  int32_t source_column[kChunk];
  const size_t pixel_bytes = channels * sizeof(T);
  const size_t out_row = static_cast<size_t>(out_w) * channels;
  for (int64_t x0 = 0; x0 < out_w; x0 += kChunk) {
    const int64_t width = out_w - x0 < kChunk ? out_w - x0 : kChunk;
    for (int64_t i = 0; i < width; ++i)
      source_column[i] = static_cast<int32_t>(
          resize_round_nearest(resize_source_coordinate(x0 + i, in_w, out_w, scale_w, transform), rounding));
    for (size_t n = 0; n < batch; ++n) {
      const T* image = in + n * static_cast<size_t>(in_h * in_w) * channels;
      T* first = out + n * static_cast<size_t>(out_h) * out_row + static_cast<size_t>(x0) * channels;
      int64_t previous = -1;
      for (int64_t oy = 0; oy < out_h; ++oy) {
        T* to = first + static_cast<size_t>(oy) * out_row;
        const int64_t iy =
            resize_round_nearest(resize_source_coordinate(oy, in_h, out_h, scale_h, transform), rounding);
        if (iy == previous) {
          std::memcpy(to, to - out_row, static_cast<size_t>(width) * pixel_bytes);
          continue;
        }
        previous = iy;
        const T* in_row = image + static_cast<size_t>(iy * in_w) * channels;
        for (int64_t i = 0; i < width; ++i, to += channels)
          std::memcpy(to, in_row + static_cast<size_t>(source_column[i]) * channels, pixel_bytes);
      }
    }
  }
}

template <typename T>
void resize_nearest_nchw(const T* in, T* out, size_t batch, size_t channels, int64_t in_h, int64_t in_w,
                         int64_t out_h, int64_t out_w, float scale_h, float scale_w, int64_t transform,
                         int64_t rounding) {
  // Source columns are computed once per chunk of output columns (on the
  // stack: no scratch), then every plane's rows gather through them.
  constexpr int64_t kChunk = 512;
  int32_t source_column[kChunk];
  const size_t planes = batch * channels;
  const size_t in_plane = static_cast<size_t>(in_h * in_w), out_plane = static_cast<size_t>(out_h * out_w);
  for (int64_t x0 = 0; x0 < out_w; x0 += kChunk) {
    const int64_t width = out_w - x0 < kChunk ? out_w - x0 : kChunk;
    for (int64_t i = 0; i < width; ++i)
      source_column[i] = static_cast<int32_t>(
          resize_round_nearest(resize_source_coordinate(x0 + i, in_w, out_w, scale_w, transform), rounding));
    for (int64_t oy = 0; oy < out_h; ++oy) {
      const int64_t iy = resize_round_nearest(resize_source_coordinate(oy, in_h, out_h, scale_h, transform), rounding);
      for (size_t p = 0; p < planes; ++p) {
        const T* in_row = in + p * in_plane + static_cast<size_t>(iy * in_w);
        T* out_row = out + p * out_plane + static_cast<size_t>(oy * out_w + x0);
        for (int64_t i = 0; i < width; ++i) out_row[i] = in_row[source_column[i]];
      }
    }
  }
}

#define EG_RESIZE_NEAREST(T)                                                                                       \
  template void resize_nearest_nhwc<T>(const T*, T*, size_t, size_t, int64_t, int64_t, int64_t, int64_t, float,   \
                                       float, int64_t, int64_t);                                                   \
  template void resize_nearest_nchw<T>(const T*, T*, size_t, size_t, int64_t, int64_t, int64_t, int64_t, float,   \
                                       float, int64_t, int64_t);
EG_RESIZE_NEAREST(float)
EG_RESIZE_NEAREST(int8_t)
#undef EG_RESIZE_NEAREST

namespace {

EG_VECTOR_CLONES void add_loop(const float* in, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] += in[i];
}

}  // namespace

void col2im_add_nhwc(const float* columns, int64_t first_pixel, int64_t pixels, const Col2ImGeometry& g,
                     float* out) {
  const int64_t tap_row = g.kernel_w * g.channels;  // one kernel row of one pixel's columns
  for (int64_t p = 0; p < pixels; ++p) {
    const int64_t ih = (first_pixel + p) / g.in_w, iw = (first_pixel + p) % g.in_w;
    // The taps of one kernel row land on consecutive output pixels, and a
    // pixel's channels are contiguous in both: one contiguous add per row,
    // clipped to the output's columns.
    const int64_t ow0 = iw * g.stride_w - g.pad_left;
    const int64_t kw_begin = ow0 < 0 ? -ow0 : 0;
    const int64_t kw_end = ow0 + g.kernel_w > g.out_w ? g.out_w - ow0 : g.kernel_w;
    if (kw_begin >= kw_end) continue;
    const float* pixel_columns = columns + p * g.kernel_h * tap_row;
    for (int64_t kh = 0; kh < g.kernel_h; ++kh) {
      const int64_t oh = ih * g.stride_h - g.pad_top + kh;
      if (oh < 0 || oh >= g.out_h) continue;
      add_loop(pixel_columns + kh * tap_row + kw_begin * g.channels,
               out + (oh * g.out_w + ow0 + kw_begin) * g.channels,
               static_cast<size_t>((kw_end - kw_begin) * g.channels));
    }
  }
}

void fill_channels(const float* bias, float* out, size_t pixels, size_t channels) {
  if (bias == nullptr) {
    std::memset(out, 0, pixels * channels * sizeof(float));
    return;
  }
  for (size_t p = 0; p < pixels; ++p) std::memcpy(out + p * channels, bias, channels * sizeof(float));
}

}  // namespace simd
}  // namespace edgegen
