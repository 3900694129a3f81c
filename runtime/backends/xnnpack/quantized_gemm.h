// int8 FullyConnected, Conv2d and ConvTranspose2d on our int8 GEMM
// (backends/xnnpack/simd/qgemm.h), with the tensors in the file's NCHW layout.
//
//   FullyConnected   x [rows, K] is the GEMM's A as it is: y = qgemm_int8(x, W[N, K]).
//   Conv2d           the input image transposed to NHWC, then per band of
//                    output pixels: im2col with K in (kh, kw, c) order (runs
//                    of C or kw * C bytes; the input zero point pads; a 1x1
//                    stride-1 convolution reads the NHWC rows directly) ->
//                    qgemm_int8 with the weight reordered to [O, kh, kw, C]
//                    -> [pixels, O], transposed into NCHW.
//   ConvTranspose2d  the input image transposed to [pixels, C_in]; per band of
//                    input pixels qgemm_int32 with W as [C_in, C_out * kh * kw]
//                    (the ONNX weight as it is), whose columns col2im adds into
//                    an int32 accumulator plane per output channel (started at
//                    the bias); then requantized per channel into NCHW.
//                    Used when the input is small next to the kernel (a
//                    decoder's 1x1 latent projected to 4x4).
//   ... strided      otherwise, as stride_h * stride_w convolutions ("phases",
//                    the sub-pixel decomposition): the output pixels with
//                    (oh + pad_top) % stride_h == r_h and likewise in w are
//                    the sums over the taps kh = r_h, r_h + stride_h, ... of
//                    the input rows (oh + pad_top - kh) / stride_h, so each
//                    phase is a convolution with its own slice of the kernel,
//                    run like Conv2d (im2col from NHWC -> qgemm_int8 with the
//                    requantization fused) and written to every stride-th
//                    output pixel. No int32 planes, no col2im: 2-3x faster on
//                    decoder layers (k4 s2 p1).
//   windows          conv and phases read their im2col rows in place from
//                    the padded channels-last input (window_rows, below), and
//                    a phase's rows of a channels-last output are every
//                    stride-th pixel: qgemm_int8 writes them there itself.
//
// Between int8 convolutions (conv -> dequantize -> float ops -> quantize ->
// conv) the backend keeps the int8 images channels-last, and the conv and
// phase kinds then read their input as it is and write [pixels, O] rows
// straight to their output: neither transpose runs.
//
// The accumulation is exact integer arithmetic and the requantization is the
// reference kernels' (kernels/quantization.h), so results are bit-identical
// to them. Packed weights live in the backend's region, per-column scales in
// the persistent arena, everything else in the op's scratch, which does not
// depend on the number of threads (the arena size must not): at most
// kQGemmMaxTasks tasks share a product, each with its own GEMM scratch.
#pragma once

#include <cstddef>
#include <cstdint>

#include "backends/xnnpack/simd/qgemm.h"
#include "backends/xnnpack/op_view.h"
#include "edgegen/status.h"

typedef struct pthreadpool* pthreadpool_t;

namespace edgegen {
namespace xnnpack {

constexpr size_t kQGemmMaxTasks = 8;
// Bytes one band's im2col rows / columns may take in scratch.
constexpr size_t kQGemmBandBudget = 256 * 1024;

enum class QGemmKind : uint8_t { kFullyConnected, kConv, kDeconv, kDeconvPhases };

// One phase of a strided transposed convolution (see above): the output
// pixels (first_h + i * stride_h, first_w + j * stride_w), i < rows_h,
// j < rows_w, each the product of an im2col row over taps_h x taps_w input
// pixels (ascending, ending at (oh + pad_top - r_h) / stride_h) with the
// kernel taps r_h + (taps_h - 1 - t) * stride_h (t = 0 .. taps_h - 1).
struct DeconvPhase {
  int64_t r_h = 0, r_w = 0;
  int64_t first_h = 0, first_w = 0, rows_h = 0, rows_w = 0;
  int64_t taps_h = 0, taps_w = 0;
  size_t k = 0;              // taps_h * taps_w * C_in
  size_t packed_offset = 0;  // of its packed weights, from QuantizedGemm::packed
};
constexpr int64_t kMaxDeconvPhases = 16;

// ConvSizes: the geometry (conv, deconv; 1-D ops have in_h = out_h = kernel_h = 1).
struct QuantizedGemm : ConvSizes {
  QGemmKind kind = QGemmKind::kFullyConnected;
  size_t rows = 0, k = 0, n = 0;  // the product [rows, k] x [k, n] (conv: per image)
  // Conv and deconv phases may read and write their int8 images channels-last
  // (an int8 chain between convolutions; the backend decides, see decide.h):
  // then no transposes.
  bool input_nhwc = false, output_nhwc = false;
  // Conv and deconv phases with dilation 1 along w: each im2col row is a
  // window of kernel_h (taps_h) runs of kernel_w * C (taps_w * C) consecutive
  // bytes of the channels-last input, one image row apart, so the GEMM reads
  // its rows in place (lda = stride_w * C for a conv, C for a phase, along an
  // output row) from a copy of the input with window_pad_* pixels of the zero
  // point around it: no im2col (a vocoder's and a decoder's last layers,
  // K = 64-128, spent more time copying rows than multiplying them): one
  // run per row in 1-D, one per kernel row in 2-D (simd::QGemmRowRuns).
  bool window_rows = false;
  int64_t window_pad_top = 0, window_pad_bottom = 0, window_pad_lo = 0, window_pad_hi = 0;
  // The products read their windows in place from the padded copy
  // (simd::QGemmRowRuns::in_place): no panel copy; the copy is stored +128
  // for the variants that multiply unsigned bytes. Set by prepare.
  bool in_place_windows = false, unsigned_image = false;
  int64_t band_pixels = 0;  // conv, deconv phases: output pixels, deconv: input pixels per band
  DeconvPhase phases[kMaxDeconvPhases];  // kDeconvPhases: stride_h * stride_w of them
  int64_t phase_count = 0;
  size_t packed_bytes = 0;  // kDeconvPhases: all phases'
  int32_t x_zero_point = 0;
  // Scratch layout (offsets from `scratch`, 64-byte aligned):
  // conv and deconv phases [nhwc image (window_rows: padded)][im2col band][band output], deconv [image
  // rows][columns][acc], then kQGemmMaxTasks task scratches.
  size_t nhwc_offset = 0, a_offset = 0, c_offset = 0, acc_offset = 0, task_offset = 0, task_bytes = 0, scratch_bytes = 0;
  uint8_t* scratch = nullptr;  // the op's scratch; borrowed
  // Filled by prepare_quantized_gemm:
  const void* packed = nullptr;            // borrowed (backend region)
  simd::QGemmRequantization requantization;  // .scale: per column (fc, conv, phases) or channel (deconv); persistent arena
  const int32_t* bias = nullptr;           // deconv: the accumulators' start per channel (model constant); null: 0
};

// An op this backend runs on the qgemm: int8 (not uint8) activations, constant
// weights and bias, a fused ReLU/Clip or none, groups 1.
bool quantized_gemm_supported(const OpView& v);

// Whether the op can read and write its int8 images channels-last (Conv2d,
// and ConvTranspose2d by phases).
bool quantized_gemm_channels_last(const OpView& v);

// The product's sizes, geometry and scratch layout (no pointers yet), with
// the images in the layouts given (honoured only where channels_last holds).
QuantizedGemm quantized_gemm_plan(const OpView& v, bool input_nhwc = false, bool output_nhwc = false);
size_t quantized_gemm_packed_bytes(const QuantizedGemm& plan);

// Packs the weights into `packed` (quantized_gemm_packed_bytes, 64-byte
// aligned) and computes the per-column scales into `scales` (plan.n or
// out_channels floats) from the op's tensors in `context`. `reorder`:
// k * n bytes of temporary memory (Conv2d's weight reordering).
Status prepare_quantized_gemm(const KernelContext& context, void* packed, float* scales, int8_t* reorder,
                              QuantizedGemm* plan);
size_t quantized_gemm_scale_count(const QuantizedGemm& plan);

// Runs the op: x, y int8 NCHW (FullyConnected: [rows, K] -> [rows, N]).
void run_quantized_gemm(const QuantizedGemm& plan, const int8_t* x, int8_t* y, pthreadpool_t pool);

}  // namespace xnnpack
}  // namespace edgegen
