// The arithmetic of the LSTM, GRU and RNN kernels (kernels/recurrent.cc),
// given as functions so that one driver, which knows ONNX's semantics
// (directions, initial states, sequence lengths, clip, GRU's
// linear_before_reset, peepholes), runs with the portable exact functions
// (the reference kernel, the oracle) or with vectorized ones (the XNNPACK
// backend's simd/recurrent_math.cc). The driver spends nearly all its time
// in these functions.
#pragma once

#include <cstdint>

#include "edgegen/status.h"
#include "ops/kernel.h"

namespace edgegen {

struct RecurrentMath {
  // out[m, n] = sum_k a[m, k] * b[n, k] (+ bias[n]); out's rows are
  // `out_stride` apart (a product may fill the first columns of wider rows).
  void (*multiply_transposed)(const float* a, const float* b, const float* bias, int64_t rows, int64_t columns,
                              int64_t depth, float* out, int64_t out_stride);
  // One batch item's LSTM step over `hidden` units: gates i, o, f, c are
  // px + pr (each `hidden` long, in that order), peepholes (null: none)
  // [3 * hidden] as ONNX orders them (i, o, f); updates c and h in place.
  void (*lstm_cell)(const float* px, const float* pr, const float* peepholes, float clip, int64_t hidden, float* c,
                    float* h);
  // out[j] = sigmoid(clip(a[j] + b[j])) for n values.
  void (*sigmoid_of_sum)(const float* a, const float* b, float clip, int64_t n, float* out);
  // out[j] = tanh(clip(a[j] + (scale ? scale[j] : 1) * b[j])) for n values.
  void (*tanh_of_sum)(const float* a, const float* scale, const float* b, float clip, int64_t n, float* out);
};

// The portable functions: libm's exp and tanh, sums in a fixed order.
extern const RecurrentMath kExactRecurrentMath;

// Runs the LSTM / GRU / RNN op of `context` (prepared by the kernel's
// infer, which sized context.scratch) with `math`.
Status run_recurrent(const KernelContext& context, const RecurrentMath& math);

}  // namespace edgegen
