#include "backends/xnnpack/simd/quantized_add.h"

#include "backends/xnnpack/simd/quantized_add_avx512.h"
#include "core/vector_math.h"

namespace edgegen {
namespace simd {
namespace {

// One output row; the strides of a row's operands are 0 or 1 on the paths
// worth vectorizing (integer arithmetic: every clone gives the same bits).
EG_VECTOR_CLONES void row_dense(const QuantizedAdd& add, const int8_t* a, const int8_t* b, int8_t* y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] = static_cast<int8_t>(add(a[i], b[i]));
}

EG_VECTOR_CLONES void row_one_value(const QuantizedAdd& add, const int8_t* a, int32_t b, int8_t* y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] = static_cast<int8_t>(add(a[i], b));
}

// a broadcast value and b a row: the sum with the operands' roles swapped.
QuantizedAdd swapped(const QuantizedAdd& add) {
  QuantizedAdd s = add;
  s.a_multiplier = add.b_multiplier;
  s.b_multiplier = add.a_multiplier;
  return s;
}

// Layouts that differ (one operand written channels-last, the other not):
// rare, so plain strides.
void row_strided(const QuantizedAdd& add, const int8_t* a, size_t a_step, const int8_t* b, size_t b_step, int8_t* y,
                 size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] = static_cast<int8_t>(add(a[i * a_step], b[i * b_step]));
}

}  // namespace

void quantized_add(const QuantizedAdd& add, const QuantizedAddOperand& a, const QuantizedAddOperand& b, int8_t* y,
                   const QuantizedAddShape& shape, bool avx512) {
  avx512 = avx512 && has_quantized_add_avx512();
  auto dense = avx512 ? quantized_add_row_avx512 : row_dense;
  auto one_value = avx512 ? quantized_add_row_one_value_avx512 : row_one_value;
  // Rows run along the output's contiguous axis.
  const size_t rows = shape.nhwc ? shape.pixels : shape.channels;
  const size_t length = shape.nhwc ? shape.channels : shape.pixels;
  const size_t a_row = shape.nhwc ? a.pixel_stride : a.channel_stride;
  const size_t a_step = shape.nhwc ? a.channel_stride : a.pixel_stride;
  const size_t b_row = shape.nhwc ? b.pixel_stride : b.channel_stride;
  const size_t b_step = shape.nhwc ? b.channel_stride : b.pixel_stride;
  const QuantizedAdd b_first = swapped(add);
  for (size_t n = 0; n < shape.batch; ++n) {
    for (size_t r = 0; r < rows; ++r) {
      const int8_t* pa = a.data + n * a.batch_stride + r * a_row;
      const int8_t* pb = b.data + n * b.batch_stride + r * b_row;
      int8_t* py = y + (n * rows + r) * length;
      if (a_step == 1 && b_step == 1) dense(add, pa, pb, py, length);
      else if (a_step == 1 && b_step == 0) one_value(add, pa, *pb, py, length);
      else if (a_step == 0 && b_step == 1) one_value(b_first, pb, *pa, py, length);
      else row_strided(add, pa, a_step, pb, b_step, py, length);
    }
  }
}

void requantize_row(const QuantizedAdd& requantize, const int8_t* x, size_t step, int8_t* y, size_t n, bool avx512) {
  if (step == 1) {
    if (avx512 && has_quantized_add_avx512()) quantized_add_row_one_value_avx512(requantize, x, 0, y, n);
    else row_one_value(requantize, x, 0, y, n);
    return;
  }
  for (size_t i = 0; i < n; ++i) y[i] = static_cast<int8_t>(requantize(x[i * step], 0));
}

}  // namespace simd
}  // namespace edgegen
