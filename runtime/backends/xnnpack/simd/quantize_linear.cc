// QuantizeLinear and DequantizeLinear as vector loops: the precision
// boundaries of a quantized model, passed over once per float op between
// int8 ops (a UNet has one pair per convolution). The reference kernel
// finds each element's channel with a division; here the tensor is walked
// slice by slice, each slice one vector loop with its own scale. The
// arithmetic is quantize_value()'s, in the same order, so the bits match.
#include "backends/xnnpack/simd/simd_kernels.h"

#include "backends/xnnpack/simd/quantize_linear_avx512.h"
#include "core/vector_math.h"
#include "kernels/quantization.h"

namespace edgegen {
namespace simd {
namespace {

// clamp(round_half_even(x / scale) + zero_point), NaN -> zero_point:
// quantize_value() without its branches.
template <typename T>
inline void quantize_body(const float* in, T* out, size_t n, float scale, float low, float high, int32_t zero_point) {
  for (size_t i = 0; i < n; ++i) {
    float q = in[i] / scale;
    q = q > low ? q : (q == q ? low : 0.f);
    q = q < high ? q : high;
    out[i] = static_cast<T>(static_cast<int32_t>(round_half_even(q)) + zero_point);
  }
}

template <typename T>
inline void dequantize_body(const T* in, float* out, size_t n, float scale, int32_t zero_point) {
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(static_cast<int32_t>(in[i]) - zero_point) * scale;
}

EG_VECTOR_CLONES void quantize_s8(const float* in, int8_t* out, size_t n, float scale, float low, float high,
                                  int32_t zero_point) {
  quantize_body(in, out, n, scale, low, high, zero_point);
}
EG_VECTOR_CLONES void quantize_u8(const float* in, uint8_t* out, size_t n, float scale, float low, float high,
                                  int32_t zero_point) {
  quantize_body(in, out, n, scale, low, high, zero_point);
}
EG_VECTOR_CLONES void dequantize_s8(const int8_t* in, float* out, size_t n, float scale, int32_t zero_point) {
  dequantize_body(in, out, n, scale, zero_point);
}
EG_VECTOR_CLONES void dequantize_u8(const uint8_t* in, float* out, size_t n, float scale, int32_t zero_point) {
  dequantize_body(in, out, n, scale, zero_point);
}

// The quantized tensor as [outer, channels, inner] slices along its axis
// (per tensor: one slice).
struct Slices {
  size_t outer = 1, channels = 1, inner = 0;
};
Slices slices_of(const Tensor& quantized) {
  Slices s;
  s.inner = quantized.num_elements();
  if (quantized.quant.per_tensor()) return s;
  const int axis = quantized.quant.axis;
  s.channels = static_cast<size_t>(quantized.shape.dims[axis]);
  s.outer = 1, s.inner = 1;
  for (int d = 0; d < axis; ++d) s.outer *= static_cast<size_t>(quantized.shape.dims[d]);
  for (int d = axis + 1; d < quantized.shape.rank; ++d) s.inner *= static_cast<size_t>(quantized.shape.dims[d]);
  return s;
}

}  // namespace

bool has_quantize_linear(DType from, DType to) {
  return (from == DType::kFloat32 && is_quantized_dtype(to)) || (is_quantized_dtype(from) && to == DType::kFloat32);
}

void quantize_linear(const Tensor& x, const Tensor& y) {
  static const bool avx512 = has_quantize_avx512();
  const Slices s = slices_of(y);
  const QuantizedRange range = quantized_range(y.dtype);
  const float* in = x.data_as<const float>();
  size_t offset = 0;
  for (size_t o = 0; o < s.outer; ++o)
    for (size_t c = 0; c < s.channels; ++c, offset += s.inner) {
      const int32_t zero_point = y.quant.zero_point(c);
      const float low = static_cast<float>(range.min - zero_point), high = static_cast<float>(range.max - zero_point);
      if (y.dtype == DType::kUInt8)
        quantize_u8(in + offset, y.data_as<uint8_t>() + offset, s.inner, y.quant.scale(c), low, high, zero_point);
      else if (avx512)
        quantize_s8_avx512(in + offset, y.data_as<int8_t>() + offset, s.inner, y.quant.scale(c), low, high,
                           zero_point);
      else
        quantize_s8(in + offset, y.data_as<int8_t>() + offset, s.inner, y.quant.scale(c), low, high, zero_point);
    }
}

void dequantize_linear(const Tensor& x, const Tensor& y) {
  const Slices s = slices_of(x);
  float* out = y.data_as<float>();
  size_t offset = 0;
  for (size_t o = 0; o < s.outer; ++o)
    for (size_t c = 0; c < s.channels; ++c, offset += s.inner) {
      if (x.dtype == DType::kUInt8)
        dequantize_u8(x.data_as<const uint8_t>() + offset, out + offset, s.inner, x.quant.scale(c),
                      x.quant.zero_point(c));
      else
        dequantize_s8(x.data_as<const int8_t>() + offset, out + offset, s.inner, x.quant.scale(c),
                      x.quant.zero_point(c));
    }
}

}  // namespace simd
}  // namespace edgegen
