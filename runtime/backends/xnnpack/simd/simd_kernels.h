// Fast kernels of our own for what XNNPACK lacks (or lacks in this Debian
// version): layout conversions, transcendental activations, GroupNorm,
// Resize and channel concatenation in either layout, the quantize and
// dequantize steps of int8 models.
//
// Written as plain loops over contiguous arrays that the compiler
// vectorizes (checked with -fopt-info-vec); on x86-64 each hot loop is
// compiled for AVX-512, AVX2 and the SSE2 baseline and picked at load time
// (GCC target_clones), on AArch64 NEON is the baseline. Highway would give
// the same here at the cost of one more dependency in the firmware build.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/recurrent.h"
#include "ops/kernel.h"

namespace edgegen {
namespace simd {

// [batch, channels, spatial] <-> [batch, spatial, channels].
void nchw_to_nhwc(const float* in, float* out, size_t batch, size_t channels, size_t spatial);
void nhwc_to_nchw(const float* in, float* out, size_t batch, size_t channels, size_t spatial);

// True for the element-wise unary opcodes unary() implements.
bool has_unary(uint32_t opcode);
// out[i] = op(in[i]); in == out allowed. `attributes` as in op_params.h.
void unary(uint32_t opcode, const OpAttributes& attributes, const float* in, float* out, size_t count);
// A fused activation over a buffer, in place.
void activation(const FusedActivation& act, float* data, size_t count);
// Clamps `count` floats of each of `rows` rows `stride` floats apart to
// [low, high], in place (a product's fused Relu or Clip on its own columns).
void clamp_rows(float* data, size_t rows, size_t stride, size_t count, float low, float high);

// GroupNorm (InstanceNorm: groups == channels) of x [batch, spatial, channels],
// then the fused activation. `scratch` holds 4 * channels floats.
void group_norm_nhwc(const float* in, const float* gamma, const float* beta, float* out, size_t batch,
                     size_t channels, size_t spatial, size_t groups, float epsilon, const FusedActivation& act,
                     float* scratch);

// The same of x [batch, channels, spatial] (channels-first): a group is one
// contiguous block. `scratch` holds 2 * channels floats.
void group_norm_nchw(const float* in, const float* gamma, const float* beta, float* out, size_t batch,
                     size_t channels, size_t spatial, size_t groups, float epsilon, const FusedActivation& act,
                     float* scratch);

// Concatenates channels-last inputs along channels: input i has channels[i].
void concat_channels_nhwc(const float* const* inputs, const size_t* channels, size_t num_inputs, float* out,
                          size_t pixels);

// Nearest-neighbour Resize of x [batch, in_h, in_w, channels] to
// [batch, out_h, out_w, channels], with ONNX's coordinate transform and
// rounding (kernels/resize_coordinates.h): whole pixels are copied. T is
// float or int8_t (an int8 decoder's upsampling: same scale in and out).
template <typename T>
void resize_nearest_nhwc(const T* in, T* out, size_t batch, size_t channels, int64_t in_h, int64_t in_w,
                         int64_t out_h, int64_t out_w, float scale_h, float scale_w, int64_t transform,
                         int64_t rounding);

// The same of x [batch, channels, in_h, in_w] (channels-first).
template <typename T>
void resize_nearest_nchw(const T* in, T* out, size_t batch, size_t channels, int64_t in_h, int64_t in_w,
                         int64_t out_h, int64_t out_w, float scale_h, float scale_w, int64_t transform,
                         int64_t rounding);

// QuantizeLinear (float32 -> int8/uint8) and DequantizeLinear (int8/uint8
// -> float32) of tensors with their quantization, per tensor or per slice
// along an axis; the same bits as the reference kernels.
bool has_quantize_linear(DType from, DType to);
void quantize_linear(const Tensor& x, const Tensor& y);
void dequantize_linear(const Tensor& x, const Tensor& y);

// The col2im step of a transposed convolution computed as a matrix product,
// channels-last. `columns` holds, for `pixels` consecutive input pixels of
// one image starting at `first_pixel`, every tap's contribution:
// [pixel][kernel_h][kernel_w][channels]. Tap (kh, kw) of input pixel
// (ih, iw) is added to output pixel (ih * stride_h - pad_top + kh,
// iw * stride_w - pad_left + kw) of out [out_h][out_w][channels]; taps that
// fall outside the output are dropped (padding). Dilation 1.
struct Col2ImGeometry {
  int64_t in_w, out_h, out_w, channels;
  int64_t kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left;
};
void col2im_add_nhwc(const float* columns, int64_t first_pixel, int64_t pixels, const Col2ImGeometry& g,
                     float* out);

// c[i] = a[i] x b[i] for `batch` products of a [m, k] and b [k, n] (row-major,
// c contiguous); a stride of 0 repeats one operand (a broadcast batch).
void batched_matmul(const float* a, const float* b, float* c, size_t batch, size_t m, size_t k, size_t n,
                    size_t a_batch_stride, size_t b_batch_stride);

// LayerNorm of `rows` rows of `cols` values: (x - mean) / sqrt(var + eps) *
// gamma + beta (beta may be null); gamma and beta have `cols` values.
void layer_norm(const float* in, const float* gamma, const float* beta, float* out, size_t rows, size_t cols,
                float epsilon);

// LogSoftmax of `rows` rows of `cols` values: x - max - log(sum exp(x - max)).
void log_softmax_rows(const float* in, float* out, size_t rows, size_t cols);

// Softmax of `rows` rows of `cols` values scaled first: with v = scale * x
// (rounded, as a separate Mul would), exp(v - max v) / sum exp(v - max v).
// `out` may be `in` (attention's scores, normalized where the product
// wrote them while they are in cache).
void softmax_rows(const float* in, float* out, size_t rows, size_t cols, float scale);
// The loop softmax_rows runs where the CPU lacks AVX-512 (tests check both).
void softmax_rows_portable(const float* in, float* out, size_t rows, size_t cols, float scale);

// ReduceSum/Mean/Max/Min of in [outer, reduced, inner] over `reduced`,
// into out [outer, inner].
bool has_reduce(uint32_t opcode);
void reduce(uint32_t opcode, const float* in, float* out, size_t outer, size_t reduced, size_t inner);

// out[p][c] = bias[c] (or 0 without a bias) for `pixels` pixels.
void fill_channels(const float* bias, float* out, size_t pixels, size_t channels);

// LSTM, GRU and RNN arithmetic for kernels/recurrent.h's driver, vectorized
// (recurrent_math.cc): what the XNNPACK backend runs the recurrent layers
// with that recurrent_layer.h leaves to the driver (sequence lengths,
// weights computed at run time).
extern const RecurrentMath kFastRecurrentMath;

}  // namespace simd
}  // namespace edgegen
