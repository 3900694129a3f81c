// A 1-D convolution with few input channels and a long kernel (an audio
// front end's strided filter bank over raw samples, a vocoder's first
// layer) as im2col + one matrix product on the XNNPACK backend.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "backends/xnnpack/op_view.h"
#include "edgegen/status.h"

typedef struct pthreadpool* pthreadpool_t;
typedef struct xnn_operator* xnn_operator_t;

namespace edgegen {
namespace xnnpack {

// XNNPACK's convolution reads one input channel per kernel tap, which for
// 1-3 channels and hundreds of taps runs at a few % of its GEMM speed. In
// channels-last order the window of one output position is kw * C_in
// consecutive floats of the input (dilation 1), so the rows of the product
// [positions, kw * C_in] x [kw * C_in, C_out] are copies of input ranges
// (zeros where the window hangs over the padding), and its result is the
// channels-last output. Rows are made in bands of at most
// kConvRowsBudget bytes of the op's scratch.
//
// One output channel (a vocoder's last layer, 8-32 channels -> the waveform)
// is the same windows dotted with one weight row: a GEMM with N = 1 wastes
// most of XNNPACK's 16-wide tiles, so `direct` plans dot each window in
// place (no im2col copy) with the weights packed [kw][C_in] into scratch.
struct ConvGemm {
  int64_t batch = 0, in_w = 0, in_channels = 0, kernel_w = 0, stride_w = 0, pad_left = 0, out_w = 0, out_channels = 0;
  int64_t band_rows = 0;
  bool direct = false;             // one output channel: windows dotted in place
  const float* weights = nullptr;  // borrowed (model): [1, C_in, 1, kw] as ONNX stores it
  const float* bias = nullptr;     // borrowed (model), or null
  float out_min = -INFINITY, out_max = INFINITY;  // the fused clamp (set with the operator)
};
constexpr size_t kConvRowsBudget = 256 * 1024;

// A convolution this backend runs as im2col + GEMM: groups 1, one input
// row and one kernel row (1-D, or 2-D with height 1), dilation 1, at most
// 4 input channels, a kernel of at least 16 taps; or, dotted directly, one
// output channel over windows of at least 16 and at most 4096 floats.
bool gemm_conv(const OpView& v);
ConvGemm conv_gemm_plan(const OpView& v);
size_t conv_gemm_rows_bytes(const ConvGemm& plan);

// `op`: a fully connected [kw * C_in] -> [C_out] (bias and clamp fused),
// set up here per band unless it was set up in prepare (one band, batch 1,
// on `rows`). x, y: channels-last.
Status run_conv_gemm(const ConvGemm& plan, xnn_operator_t op, pthreadpool_t pool, float* rows, const float* x,
                     float* y, const char* op_label);
// Writes the band's rows (first .. first + count - 1 output positions of one image).
void im2col_rows(const ConvGemm& plan, const float* image, int64_t first, int64_t count, float* rows);

}  // namespace xnnpack
}  // namespace edgegen
