// What the XNNPACK backend keeps per operator (in the arena): what runs it,
// its layout conversions and the state of that executor.
#pragma once

#include <cstddef>
#include <cstdint>

#include "backends/xnnpack/convolution_gemm.h"
#include "backends/xnnpack/deconvolution_gemm.h"
#include "backends/xnnpack/depthwise_conv1d.h"
#include "backends/xnnpack/depthwise_int8.h"
#include "backends/xnnpack/narrow_conv.h"
#include "backends/xnnpack/packed_conv.h"
#include "backends/xnnpack/quantized_gemm.h"
#include "backends/xnnpack/recurrent_layer.h"
#include "backends/xnnpack/simd/quantized_add.h"
#include "backends/xnnpack/small_channel_conv1d.h"
#include "core/widened_weights.h"
#include "edgegen/model.h"
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
  kLogSoftmax,  // over the last axis (simd::log_softmax_rows)
  kReduce,
  kTranspose,  // a batch of matrix transposes
  kQGemm,      // int8 FullyConnected, Conv2d, ConvTranspose2d (quantized_gemm.h)
  kQuantizeLinear,  // QuantizeLinear and DequantizeLinear
  kRecurrent,  // LSTM, GRU, RNN (recurrent_layer.h)
  kSmallConv1d,  // 1-D (transposed) convolution of few channels (small_channel_conv1d.h)
  kPackedConv,   // float Conv2d as im2col bands + a packed GEMM (packed_conv.h)
  kDepthwiseConv1d,  // depthwise 1-D convolution (depthwise_conv1d.h)
  kNarrowConv,   // float Conv2d of few output channels or blocks of 64, large FullyConnected, direct (narrow_conv.h)
  kFusedAway,    // a unary op the op before it computed (fuse_unary_into_convolutions)
  kQuantizedAdd,  // int8 Add (simd/quantized_add.h)
  kLookup,        // an int8 unary op as a table of bytes (kernels/quantized_unary.h, simd/byte_lookup.h)
  kQuantizedConcat,  // int8 Concat along channels (simd/quantized_concat.h)
  kDepthwiseInt8,    // int8 depthwise Conv2d, channels-last (depthwise_int8.h)
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

// Weight streaming (SessionOptions::stream_weights_min_bytes): what a
// streamed op needs to create its XNNPACK operator while running. One per
// graph, in the arena, shared by the graph's streamed ops (one runs at a time).
struct WeightStream {
  const Model* model = nullptr;
  const format::Graph* graph = nullptr;
  const WidenedWeights* widened = nullptr;
  uint8_t* packed = nullptr;   // XNNPACK's allocations for one operator
  size_t packed_bytes = 0;     // the largest streamed op's
  float* reorder = nullptr;    // a convolution's reordered weights
  size_t reorder_floats = 0;   // the largest streamed op's
  bool release_pages = false;  // SessionOptions::release_weight_pages
};

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
  SmallConv1d small_conv;
  DepthwiseConv1d depthwise;
  DepthwiseInt8 depthwise_int8;
  PackedConv packed_conv;
  NarrowConv narrow_conv;
  float* fused_out = nullptr;  // kNarrowConv / kMatMul with the next op(s) fused: the last one's output
  // kMatMul: attention's scores, then Mul by a constant and Softmax over
  // the last axis fused (fuse_attention_softmax): each chunk of rows is
  // scaled and normalized while in cache (simd::softmax_rows).
  bool softmax_after = false;
  float softmax_scale = 1.f;
  QuantizedGemm qgemm;
  // kQuantizedAdd: the output's shape and layout, and where each operand's
  // elements are (strides; the data pointers are set at run).
  simd::QuantizedAddShape qadd_shape;
  simd::QuantizedAddOperand qadd_operands[2];
  const uint8_t* lookup_table = nullptr;  // kLookup: 256 bytes in the persistent arena
  uint8_t concat_nhwc_inputs = 0;         // kQuantizedConcat: bit k, input k is channels-last
  bool concat_y_nhwc = false;             // and its output
  RecurrentLayer recurrent;
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
  // Weight streaming: non-null when this op's operator is created before
  // each run (into stream->packed) and deleted after; `source` is the op in
  // the model, in[0]/out what the operator reads and writes.
  WeightStream* stream = nullptr;
  const format::Operator* source = nullptr;
  const float* stream_in = nullptr;
  float* stream_out = nullptr;
  // A streamed layer of our own kernels whose packed weights a pre-packed
  // weights file holds (core/prepacked_weights.h): read from there, not
  // repacked. Null: packed into stream->packed before each run.
  const float* prepacked = nullptr;
  size_t prepacked_bytes = 0;
};

}  // namespace xnnpack
}  // namespace edgegen
