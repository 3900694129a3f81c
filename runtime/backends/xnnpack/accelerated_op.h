// What the XNNPACK backend keeps per operator (in the arena): what runs it,
// its layout conversions and the state of that executor.
#pragma once

#include <cstddef>
#include <cstdint>

#include "backends/xnnpack/convolution_gemm.h"
#include "backends/xnnpack/deconvolution_gemm.h"
#include "backends/xnnpack/quantized_gemm.h"
#include "ops/kernel.h"

namespace edgegen {
namespace xnnpack {

enum class Executor : uint8_t {
  kReference,
  kXnnpack,
  kDeconvGemm,
  kConvGemm,   // im2col + XNNPACK's fully connected (convolution_gemm.h)
  // Our own kernels (backends/xnnpack/simd):
  kUnary,
  kGroupNorm,
  kConcat,
  kResizeNearest,
  kMatMul,     // of two activations
  kLayerNorm,
  kReduce,
  kTranspose,  // a batch of matrix transposes
  kQGemm,      // int8 FullyConnected, Conv2d, ConvTranspose2d (quantized_gemm.h)
  kQuantizeLinear,  // QuantizeLinear and DequantizeLinear
};

// One layout conversion of a [batch, channels, spatial] tensor.
struct Conversion {
  const float* from = nullptr;
  float* to = nullptr;
  uint32_t batch = 0, channels = 0, spatial = 0;
  uint32_t input = 0;  // which operand (conversions before the op)
  bool to_nhwc = false;
  // In place: `from` is first copied to `via`, a buffer dead at this step,
  // and transposed from there into `to` (== from). Saves the scratch copy.
  float* via = nullptr;
};

constexpr int kMaxConversions = 8;

struct AcceleratedOp {
  Executor executor = Executor::kReference;
  bool nhwc = false;  // the layout the op itself computes in
  uint8_t num_before = 0;
  bool has_after = false;
  xnn_operator_t op = nullptr;
  pthreadpool_t threadpool = nullptr;
  Conversion before[kMaxConversions];
  Conversion after;
  FusedActivation post;  // an activation XNNPACK could not fuse
  float* post_data = nullptr;
  size_t post_count = 0;
  uint32_t groups = 0;      // GroupNorm
  float* kernel_scratch = nullptr;
  DeconvGemm deconv;
  ConvGemm conv;
  QuantizedGemm qgemm;
  // kMatMul: batch products [m, k] x [k, n]; a stride of 0 broadcasts.
  size_t batch = 0, m = 0, k = 0, n = 0, a_stride = 0, b_stride = 0;
  // kLayerNorm (outer rows of `count`), kReduce ([outer, count, inner] over
  // count) and kTranspose ([outer, count, inner] -> [outer, inner, count]).
  size_t outer = 0, count = 0, inner = 0;
  // A fully connected operator shared with other ops (SharedWeights) is set
  // up with this op's rows and buffers before each run.
  bool setup_each_run = false;
  size_t fc_rows = 0;
  const float* fc_input = nullptr;
  float* fc_output = nullptr;
};

}  // namespace xnnpack
}  // namespace edgegen
