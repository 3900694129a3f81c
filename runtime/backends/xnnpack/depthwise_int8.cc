#include "backends/xnnpack/depthwise_int8.h"

#include <pthreadpool.h>

#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "core/vector_math.h"
#include "kernels/quantization.h"

namespace edgegen {
namespace xnnpack {
namespace {

constexpr size_t kBlock = 64;  // channels accumulated in registers at a time
constexpr size_t kAlign = 64;

size_t aligned(size_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; }

// One output pixel's `count` channels from `c0`: the in-bound taps' products,
// then the per-channel requantization (the reference kernel's operations:
// the sources of this file build with -ffp-contract=off).
EG_VECTOR_CLONES void pixel_block(const DepthwiseInt8& p, const int8_t* const* taps, const int8_t* const* weights,
                                  size_t num_taps, size_t c0, size_t count, int8_t* __restrict y) {
  int32_t acc[kBlock];
  for (size_t k = 0; k < count; ++k) acc[k] = p.bias[c0 + k];
  const int32_t zero = p.x_zero_point;
  for (size_t t = 0; t < num_taps; ++t) {
    const int8_t* __restrict x = taps[t] + c0;
    const int8_t* __restrict w = weights[t] + c0;
    for (size_t k = 0; k < count; ++k) acc[k] += (static_cast<int32_t>(x[k]) - zero) * w[k];
  }
  const float* scale = p.scales + c0;
  for (size_t k = 0; k < count; ++k) {
    float v = static_cast<float>(acc[k]) * scale[k];
    const float leaky = v * p.negative_slope;
    v = leaky > v ? leaky : v;
    v = v < p.low ? p.low : v;
    v = v > p.high ? p.high : v;
    y[k] = static_cast<int8_t>(static_cast<int32_t>(round_half_even(v)) + p.zero_point);
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
// GCC 12's AVX-512 headers start some intrinsics from _mm512_undefined_*(),
// which its flow analysis reports as uninitialized (a false positive).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
// pixel_block on AVX-512: 16 channels a vector, the taps' products in int32
// lanes, then the same float operations lane by lane (a max/min pair is
// the comparisons' select; the conversion rounds to nearest even).
__attribute__((target("avx512f,avx512bw,avx512vl"))) void pixel_block_avx512(
    const DepthwiseInt8& p, const int8_t* const* taps, const int8_t* const* weights, size_t num_taps, size_t c0,
    size_t count, int8_t* y) {
  const __m512i zero = _mm512_set1_epi32(p.x_zero_point);
  const __m512 slope = _mm512_set1_ps(p.negative_slope), low = _mm512_set1_ps(p.low), high = _mm512_set1_ps(p.high);
  const __m512i zero_point = _mm512_set1_epi32(p.zero_point);
  for (size_t k = 0; k < count; k += 16) {
    const size_t c = c0 + k;
    const __mmask16 lanes = count - k >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << (count - k)) - 1u);
    __m512i acc = _mm512_maskz_loadu_epi32(lanes, p.bias + c);
    for (size_t t = 0; t < num_taps; ++t) {
      const __m512i x = _mm512_sub_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(lanes, taps[t] + c)), zero);
      const __m512i w = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(lanes, weights[t] + c));
      acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(x, w));
    }
    __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), _mm512_maskz_loadu_ps(lanes, p.scales + c));
    v = _mm512_max_ps(_mm512_mul_ps(v, slope), v);
    v = _mm512_min_ps(_mm512_max_ps(v, low), high);
    const __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(v), zero_point);
    _mm512_mask_cvtepi32_storeu_epi8(y + k, lanes, q);
  }
}

bool has_avx512() {
  static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512vl");
  return has;
}
#pragma GCC diagnostic pop
#endif

struct Task {
  const DepthwiseInt8* plan;
  const int8_t* x;
  int8_t* y;
};

// Output row `index` (batch-major) of every pixel and channel.
void run_row(void* context, size_t index) {
  const Task& task = *static_cast<const Task*>(context);
  const DepthwiseInt8& p = *task.plan;
  const ConvSizes& s = p.sizes;
  const size_t channels = static_cast<size_t>(s.in_channels);
  const int64_t n = static_cast<int64_t>(index) / s.out_h, oh = static_cast<int64_t>(index) % s.out_h;
  const int8_t* image = task.x + static_cast<size_t>(n * s.in_h * s.in_w) * channels;
  int8_t* out = task.y + static_cast<size_t>((n * s.out_h + oh) * s.out_w) * channels;
  const int8_t* taps[64];
  const int8_t* weights[64];
  for (int64_t ow = 0; ow < s.out_w; ++ow) {
    size_t num_taps = 0;
    for (int64_t i = 0; i < s.kernel_h; ++i) {
      const int64_t ih = oh * s.stride_h - s.pad_top + i * s.dilation_h;
      if (ih < 0 || ih >= s.in_h) continue;
      for (int64_t j = 0; j < s.kernel_w; ++j) {
        const int64_t iw = ow * s.stride_w - s.pad_left + j * s.dilation_w;
        if (iw < 0 || iw >= s.in_w) continue;  // padding: x = x_zp, nothing to add
        taps[num_taps] = image + static_cast<size_t>(ih * s.in_w + iw) * channels;
        weights[num_taps++] = p.weights + static_cast<size_t>(i * s.kernel_w + j) * channels;
      }
    }
#if defined(__x86_64__) && defined(__GNUC__)
    if (has_avx512()) {
      pixel_block_avx512(p, taps, weights, num_taps, 0, channels, out + static_cast<size_t>(ow) * channels);
      continue;
    }
#endif
    for (size_t c0 = 0; c0 < channels; c0 += kBlock)
      pixel_block(p, taps, weights, num_taps, c0, channels - c0 < kBlock ? channels - c0 : kBlock,
                  out + static_cast<size_t>(ow) * channels + c0);
  }
}

}  // namespace

bool depthwise_int8(const OpView& v) {
  if (v.code() != OpCode::kConv2d || v.input(0).dtype() != format::DType::Int8 ||
      v.output(0).dtype() != format::DType::Int8 || v.input(0).shape()->size() != 4)
    return false;
  if (!v.is_constant(1) || v.input(1).dtype() != format::DType::Int8) return false;
  if (v.has_input(2) && (!v.is_constant(2) || v.input(2).dtype() != format::DType::Int32)) return false;
  const format::Quantization* xq = v.input(0).quantization();
  const format::Quantization* wq = v.input(1).quantization();
  const format::Quantization* yq = v.output(0).quantization();
  if (xq == nullptr || wq == nullptr || yq == nullptr || xq->scale()->size() != 1 || yq->scale()->size() != 1)
    return false;
  for (int64_t zero_point : *wq->zero_point())
    if (zero_point != 0) return false;
  const ActivationKind act = v.activation().kind;
  if (act != ActivationKind::kNone && act != ActivationKind::kRelu && act != ActivationKind::kClip &&
      act != ActivationKind::kLeakyRelu)
    return false;
  const ConvSizes s = conv_sizes(v);
  const Shape w = shape_of(v.input(1));
  return v.int_param(params::kGroups) == s.in_channels && s.out_channels == s.in_channels && w.dims[1] == 1 &&
         s.kernel_h * s.kernel_w <= 64 && s.in_channels >= 1;
}

size_t depthwise_int8_bytes(const OpView& v) {
  const ConvSizes s = conv_sizes(v);
  const size_t channels = static_cast<size_t>(s.in_channels);
  return aligned(static_cast<size_t>(s.kernel_h * s.kernel_w) * channels) + aligned(channels * sizeof(int32_t)) +
         aligned(channels * sizeof(float));
}

Status place_depthwise_int8(const OpView& v, const KernelContext& context, uint8_t* memory, DepthwiseInt8* plan) {
  DepthwiseInt8& p = *plan;
  p.sizes = conv_sizes(v);
  const size_t channels = static_cast<size_t>(p.sizes.in_channels);
  const size_t taps = static_cast<size_t>(p.sizes.kernel_h * p.sizes.kernel_w);
  int8_t* weights = reinterpret_cast<int8_t*>(memory);
  int32_t* bias = reinterpret_cast<int32_t*>(memory + aligned(taps * channels));
  float* scales = reinterpret_cast<float*>(memory + aligned(taps * channels) + aligned(channels * sizeof(int32_t)));
  const Tensor& x = context.input(0);
  const Tensor& w = context.input(1);
  const Tensor& y = context.output(0);
  const int8_t* w_data = w.data_as<const int8_t>();  // [C, 1, kh, kw]
  for (size_t c = 0; c < channels; ++c)
    for (size_t t = 0; t < taps; ++t) weights[t * channels + c] = w_data[c * taps + t];
  if (context.has_input(2)) std::memcpy(bias, context.input(2).data, channels * sizeof(int32_t));
  else std::memset(bias, 0, channels * sizeof(int32_t));
  QuantizedRange range;
  EG_RETURN_IF_ERROR(quantized_output_range(context, y, &range));
  for (size_t c = 0; c < channels; ++c) {
    const Requantize r = channel_requantize(x, w, y, static_cast<int64_t>(c), range);
    scales[c] = r.scale;
    p.negative_slope = r.negative_slope, p.low = r.low, p.high = r.high, p.zero_point = r.zero_point;
  }
  p.x_zero_point = x.quant.zero_point();
  p.weights = weights, p.bias = bias, p.scales = scales;
  return Status::ok();
}

void run_depthwise_int8(const DepthwiseInt8& plan, pthreadpool_t pool, const int8_t* x, int8_t* y) {
  Task task{&plan, x, y};
  const size_t rows = static_cast<size_t>(plan.sizes.batch * plan.sizes.out_h);
  if (pool != nullptr && rows > 1) pthreadpool_parallelize_1d(pool, run_row, &task, rows, 0);
  else
    for (size_t i = 0; i < rows; ++i) run_row(&task, i);
}

}  // namespace xnnpack
}  // namespace edgegen
