// A 1-D convolution with few input channels and a long kernel (an audio
// front end's strided filter bank over raw samples, a vocoder's first
// layer) as im2col + one matrix product on the XNNPACK backend.
#pragma once

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
struct ConvGemm {
  int64_t batch = 0, in_w = 0, in_channels = 0, kernel_w = 0, stride_w = 0, pad_left = 0, out_w = 0, out_channels = 0;
  int64_t band_rows = 0;
};
constexpr size_t kConvRowsBudget = 256 * 1024;

// A convolution this backend runs as im2col + GEMM: groups 1, one input
// row and one kernel row (1-D, or 2-D with height 1), dilation 1, at most
// 4 input channels, a kernel of at least 16 taps.
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
