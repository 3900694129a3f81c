// Transposed convolution as GEMM + col2im on the XNNPACK backend.
#pragma once

#include <cstddef>
#include <cstdint>

#include "backends/xnnpack/simd/simd_kernels.h"
#include "backends/xnnpack/op_view.h"
#include "edgegen/status.h"

typedef struct pthreadpool* pthreadpool_t;
typedef struct xnn_operator* xnn_operator_t;

namespace edgegen {
namespace xnnpack {

// A transposed convolution run as one matrix product per band of input
// pixels, [pixels, C_in] x [C_in, kh * kw * C_out] on XNNPACK's fully
// connected operator, whose columns col2im adds into the output. Debian's
// XNNPACK (2022) runs strided transposed convolutions as sub-convolutions
// with a few output channels each, at a fraction of its GEMM speed; this
// form keeps the GEMM wide (measured 1.2-2x faster on the benchmark's
// DCGAN/VAE/vocoder layers, bench/README.md). The columns of one band live
// in the op's scratch, at most kDeconvColumnsBudget bytes.
struct DeconvGemm {
  simd::Col2ImGeometry geometry;
  int64_t batch = 0, in_pixels = 0, in_channels = 0, band_pixels = 0;
  const float* bias = nullptr;  // the constant, used in place; null: none
};
constexpr size_t kDeconvColumnsBudget = 256 * 1024;

// A transposed convolution of one pixel without padding: its output is
// one matrix product, written directly (see create_operator).
bool one_pixel_deconv(const OpView& v);
// A transposed convolution this backend runs as GEMM + col2im.
bool gemm_deconv(const OpView& v);
// Its geometry and band of input pixels, and the scratch of one band's columns.
DeconvGemm deconv_gemm_plan(const OpView& v);
size_t deconv_columns_bytes(const DeconvGemm& plan);

// ONNX transposed-convolution weight [C_in, C_out, taps] (groups 1) as the
// fully connected weight [taps * C_out, C_in] (see the .cc).
void pack_deconv_columns(const float* w, float* out, int64_t in_channels, int64_t out_channels, int64_t taps);

// Runs one op: x [batch, pixels, C_in] -> y [batch, out_pixels, C_out], both
// channels-last; `op` is the fully connected operator of the packed
// columns (set up in prepare when there is one band of one image),
// `columns` the op's scratch.
Status run_deconv_gemm(const DeconvGemm& plan, xnn_operator_t op, pthreadpool_t pool, float* columns,
                       const float* x, float* y, const char* op_label);

}  // namespace xnnpack
}  // namespace edgegen
