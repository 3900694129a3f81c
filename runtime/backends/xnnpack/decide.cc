#include "backends/xnnpack/decide.h"

#include <xnnpack.h>

#include "backends/xnnpack/depthwise_conv1d.h"
#include "backends/xnnpack/simd/group_norm_int8.h"
#include "backends/xnnpack/simd/simd_kernels.h"
#include "backends/xnnpack/narrow_conv.h"
#include "backends/xnnpack/packed_conv.h"
#include "backends/xnnpack/small_channel_conv1d.h"
#include "core/in_place.h"
#include "ops/op_params.h"

namespace edgegen {
namespace xnnpack {

namespace {

// XNNPACK's padding and pooling arithmetic produce exactly the stored
// output size (ceil_mode and similar variants do not; they stay reference).
bool pool_supported(const OpView& v) {
  const Shape in = shape_of(v.input(0)), out = shape_of(v.output(0));
  if (in.rank != 4) return false;
  using namespace params;
  const int64_t kh = v.int_param(kPoolKernelH), kw = v.int_param(kPoolKernelW);
  const int64_t sh = v.int_param(kPoolStrideH), sw = v.int_param(kPoolStrideW);
  const int64_t dh = v.int_param(kPoolDilationH), dw = v.int_param(kPoolDilationW);
  const int64_t pt = v.int_param(kPoolPadTop), pl = v.int_param(kPoolPadLeft);
  const int64_t pb = v.int_param(kPoolPadBottom), pr = v.int_param(kPoolPadRight);
  const int64_t oh = (in.dims[2] + pt + pb - dh * (kh - 1) - 1) / sh + 1;
  const int64_t ow = (in.dims[3] + pl + pr - dw * (kw - 1) - 1) / sw + 1;
  if (oh != out.dims[2] || ow != out.dims[3]) return false;
  if (v.code() == OpCode::kAveragePool2d) {
    if (dh != 1 || dw != 1) return false;
    const bool padded = pt || pl || pb || pr;
    // XNNPACK averages over the valid (unpadded) window.
    if (padded && v.int_param(kPoolCountIncludePad) != 0) return false;
  }
  return true;
}

bool binary_opcode(OpCode code) {
  return code == OpCode::kAdd || code == OpCode::kSub || code == OpCode::kMul || code == OpCode::kDiv ||
         code == OpCode::kMin || code == OpCode::kMax;
}

}  // namespace

// MatMul of operands of rank >= 2 whose batch dims are the output's or all
// 1 (broadcast); fills the shape when `acc` is given.
bool matmul_batches(const OpView& v, AcceleratedOp* acc) {
  const Shape a = shape_of(v.input(0)), b = shape_of(v.input(1)), y = shape_of(v.output(0));
  if (a.rank < 2 || b.rank < 2 || y.rank < 2) return false;
  auto batches = [](const Shape& s) {
    int64_t count = 1;
    for (int d = 0; d < s.rank - 2; ++d) count *= s.dims[d];
    return count;
  };
  const int64_t batch = batches(y), a_batch = batches(a), b_batch = batches(b);
  // Each operand dim is 1 or the output's, so equal counts mean equal dims.
  if ((a_batch != 1 && a_batch != batch) || (b_batch != 1 && b_batch != batch)) return false;
  if (acc != nullptr) {
    acc->batch = static_cast<size_t>(batch);
    acc->m = static_cast<size_t>(a.dims[a.rank - 2]);
    acc->k = static_cast<size_t>(a.dims[a.rank - 1]);
    acc->n = static_cast<size_t>(b.dims[b.rank - 1]);
    acc->a_stride = a_batch == 1 ? 0 : acc->m * acc->k;
    acc->b_stride = b_batch == 1 ? 0 : acc->k * acc->n;
  }
  return true;
}

// LayerNorm with constant gamma (and beta) of exactly the normalized size.
bool layer_norm_rows(const OpView& v, AcceleratedOp* acc) {
  const Shape x = shape_of(v.input(0));
  const int64_t axis = v.int_param(params::kNormAxis);
  if (axis < 0 || axis >= x.rank || !v.is_constant(1) || (v.has_input(2) && !v.is_constant(2))) return false;
  int64_t cols = 1;
  for (int d = static_cast<int>(axis); d < x.rank; ++d) cols *= x.dims[d];
  if (shape_of(v.input(1)).num_elements() != cols) return false;
  if (v.has_input(2) && shape_of(v.input(2)).num_elements() != cols) return false;
  if (acc != nullptr) {
    acc->count = static_cast<size_t>(cols);
    acc->outer = cols ? static_cast<size_t>(x.num_elements() / cols) : 0;
  }
  return true;
}

// A reduction over one contiguous run of axes: [outer, count, inner].
bool reduce_run(const OpView& v, AcceleratedOp* acc) {
  const Shape x = shape_of(v.input(0));
  if (x.rank < 1) return false;
  bool reduced[kMaxRank] = {};
  const size_t num_axes = v.num_ints() - params::kReduceAxes;
  for (int d = 0; d < x.rank; ++d) reduced[d] = num_axes == 0;
  for (size_t i = 0; i < num_axes; ++i) {
    const int64_t axis = v.int_param(params::kReduceAxes + i);
    if (axis < 0 || axis >= x.rank) return false;
    reduced[axis] = true;
  }
  int first = -1, last = -1;
  for (int d = 0; d < x.rank; ++d)
    if (reduced[d]) {
      if (first < 0) first = d;
      else if (last != d - 1) return false;  // not contiguous
      last = d;
    }
  if (first < 0) return false;
  if (acc != nullptr) {
    acc->outer = acc->count = acc->inner = 1;
    for (int d = 0; d < x.rank; ++d) {
      size_t& part = d < first ? acc->outer : d <= last ? acc->count : acc->inner;
      part *= static_cast<size_t>(x.dims[d]);
    }
  }
  return true;
}

// A reduction over every spatial axis of a 3-D or 4-D float tensor, dims
// kept: a global pooling, whose output has one pixel.
static bool spatial_reduction(const OpView& v) {
  const Shape x = shape_of(v.input(0)), y = shape_of(v.output(0));
  if (!layout_capable(v.input(0)) || y.rank != x.rank || spatial_of(y) != 1) return false;
  const size_t num_axes = v.num_ints() - params::kReduceAxes;
  if (num_axes != static_cast<size_t>(x.rank - 2)) return false;
  bool reduced[kMaxRank] = {};
  for (size_t i = 0; i < num_axes; ++i) {
    const int64_t axis = v.int_param(params::kReduceAxes + i);
    if (axis < 2 || axis >= x.rank) return false;
    reduced[axis] = true;
  }
  for (int d = 2; d < x.rank; ++d)
    if (!reduced[d]) return false;
  return true;
}

// A Transpose that, once unit dims are dropped and axes that stay
// neighbours are merged, is a copy or a batch of matrix transposes:
// input [outer, count, inner] -> output [outer, inner, count].
bool transpose_batches(const OpView& v, AcceleratedOp* acc) {
  const Shape x = shape_of(v.input(0));
  if (x.rank < 1 || v.num_ints() != static_cast<size_t>(x.rank)) return false;
  // Groups of input axes that stay neighbours, in output order: their
  // first input axis and total size.
  int first_axis[kMaxRank];
  int64_t size[kMaxRank];
  int groups = 0, previous = -2;
  // `axis` comes right after `previous` in the input, unit dims between them ignored.
  auto follows = [&](int64_t axis) {
    if (axis <= previous) return false;
    for (int64_t between = previous + 1; between < axis; ++between)
      if (x.dims[between] != 1) return false;
    return true;
  };
  for (int i = 0; i < x.rank; ++i) {
    const int64_t axis = v.int_param(static_cast<size_t>(i));
    if (axis < 0 || axis >= x.rank) return false;
    if (x.dims[axis] == 1) continue;
    if (groups > 0 && follows(axis)) {
      size[groups - 1] *= x.dims[axis];
    } else {
      first_axis[groups] = static_cast<int>(axis);
      size[groups++] = x.dims[axis];
    }
    previous = static_cast<int>(axis);
  }
  auto in_order = [&](int a, int b) { return first_axis[a] < first_axis[b]; };
  size_t outer = 1, rows = 1, cols = 1;
  if (groups <= 1) {
    cols = groups ? static_cast<size_t>(size[0]) : 1;  // a copy
  } else if (groups == 2 && in_order(1, 0)) {
    rows = static_cast<size_t>(size[1]), cols = static_cast<size_t>(size[0]);
  } else if (groups == 3 && in_order(0, 2) && in_order(2, 1)) {
    outer = static_cast<size_t>(size[0]), rows = static_cast<size_t>(size[2]), cols = static_cast<size_t>(size[1]);
  } else {
    return false;
  }
  if (acc != nullptr) acc->outer = outer, acc->count = rows, acc->inner = cols;
  return true;
}

bool quantized_add_layout(const OpView& v, const Layout* natural, bool y_nhwc, AcceleratedOp* acc) {
  if (v.code() != OpCode::kAdd || v.num_inputs() != 2 || v.input(0).dtype() != format::DType::Int8) return false;
  const Shape out = shape_of(v.output(0));
  if (out.rank < 2 || out.rank > 4) return false;
  const size_t batch = static_cast<size_t>(out.dims[0]), channels = static_cast<size_t>(out.dims[1]);
  const size_t pixels = static_cast<size_t>(spatial_of(out));
  simd::QuantizedAddOperand operands[2];
  for (size_t k = 0; k < 2; ++k) {
    const Shape in = shape_of(v.input(k));
    simd::QuantizedAddOperand& o = operands[k];
    if (in.num_elements() == 1) continue;  // strides 0
    if (in.rank != out.rank) return false;
    if (in == out) {
      const bool nhwc = natural != nullptr && natural[v.input_index(k)] == Layout::kNhwc;
      o.batch_stride = channels * pixels;
      o.channel_stride = nhwc ? 1 : pixels;
      o.pixel_stride = nhwc ? channels : 1;
    } else if (static_cast<size_t>(in.dims[1]) == channels && spatial_of(in) == 1 &&
               (in.dims[0] == 1 || in.dims[0] == out.dims[0])) {
      o.batch_stride = in.dims[0] == 1 ? 0 : channels;
      o.channel_stride = 1;
    } else {
      return false;
    }
  }
  if (acc != nullptr) {
    // One pixel: the same bytes either way, and rows along the channels.
    acc->qadd_shape = {batch, channels, pixels, y_nhwc || pixels == 1};
    acc->qadd_operands[0] = operands[0];
    acc->qadd_operands[1] = operands[1];
  }
  return true;
}

namespace {

bool per_tensor_quantized(const format::Tensor& tensor) {
  const format::Quantization* quant = tensor.quantization();
  return quant != nullptr && quant->scale() != nullptr && quant->scale()->size() == 1 && quant->axis() < 0;
}

bool nearest_resize_4d(const OpView& v) {
  return v.input(0).shape()->size() == 4 && v.int_param(params::kResizeMode) == params::kResizeNearestMode;
}

// GroupNorm of an int8 image into an int8 image, with an activation
// simd::group_norm_int8 applies (the reference kernel takes the others).
bool int8_group_norm(const OpView& v) {
  return v.code() == OpCode::kGroupNorm && v.input(0).dtype() == format::DType::Int8 &&
         v.output(0).dtype() == format::DType::Int8 && v.input(0).shape()->size() >= 2 && v.is_constant(1) &&
         v.is_constant(2) && per_tensor_quantized(v.input(0)) && per_tensor_quantized(v.output(0)) &&
         simd::has_group_norm_int8(v.activation());
}

// A unary op on an int8/uint8 tensor, run as its table of bytes.
bool int8_lookup(const OpView& v) {
  return is_elementwise_unary(v.code()) && is_8bit(v.input(0)) && per_tensor_quantized(v.input(0)) &&
         per_tensor_quantized(v.output(0));
}

// A Concat of per-tensor int8 tensors along the channels of rank-3/4 tensors
// (simd/quantized_concat.h).
bool int8_concat(const OpView& v) {
  if (v.code() != OpCode::kConcat || v.input(0).dtype() != format::DType::Int8 || v.int_param(params::kAxis) != 1 ||
      v.num_inputs() > kMaxConversions || !per_tensor_quantized(v.output(0)))
    return false;
  const size_t rank = v.output(0).shape()->size();
  if (rank != 3 && rank != 4) return false;
  for (size_t k = 0; k < v.num_inputs(); ++k)
    if (!v.has_input(k) || !per_tensor_quantized(v.input(k))) return false;
  return true;
}

bool quantize_or_dequantize(const OpView& v) {
  return (v.code() == OpCode::kQuantizeLinear || v.code() == OpCode::kDequantizeLinear) &&
         simd::has_quantize_linear(static_cast<DType>(v.input(0).dtype()), static_cast<DType>(v.output(0).dtype()));
}

}  // namespace

void int8_channels_last_candidates(const Model& model, const format::Graph& graph, uint8_t* candidates) {
  const auto* tensors = graph.tensors();
  for (uint32_t t = 0; t < tensors->size(); ++t) {
    const format::Tensor& tensor = *tensors->Get(t);
    const DType dtype = static_cast<DType>(tensor.dtype());
    const size_t rank = tensor.shape()->size();
    candidates[t] = tensor.buffer() == 0 && (dtype == DType::kInt8 || dtype == DType::kUInt8) && (rank == 3 || rank == 4);
  }
  for (int32_t t : *graph.inputs()) candidates[t] = 0;
  for (int32_t t : *graph.outputs()) candidates[t] = 0;
  // Last op first: a nearest Resize passes its input's layout on, so it
  // reads channels-last when its output may be stored so, which its readers
  // (all later ops) have decided by then.
  for (uint32_t i = graph.operators()->size(); i-- > 0;) {
    OpView v{model, graph, *graph.operators()->Get(i)};
    for (size_t k = 0; k < v.num_inputs(); ++k) {
      if (!v.has_input(k) || !candidates[v.input_index(k)]) continue;
      const bool reads_channels_last =
          (v.code() == OpCode::kDequantizeLinear && quantize_or_dequantize(v) && per_tensor_quantized(v.input(0))) ||
          (k == 0 && quantized_gemm_channels_last(v)) ||
          (k == 0 && v.code() == OpCode::kResize && nearest_resize_4d(v) && candidates[v.op.outputs()->Get(0)]) ||
          (k == 0 && int8_group_norm(v) && candidates[v.op.outputs()->Get(0)]) ||
          quantized_add_layout(v, nullptr, false, nullptr) ||  // either operand, in either layout
          (k == 0 && int8_lookup(v) && candidates[v.op.outputs()->Get(0)]) ||
          (k == 0 && depthwise_int8(v) && candidates[v.op.outputs()->Get(0)]) ||
          int8_concat(v);  // any input, in either layout
      if (!reads_channels_last) candidates[v.input_index(k)] = 0;
    }
  }
}

Decision decide(const OpView& v, const Layout* natural, const uint8_t* int8_candidates) {
  Decision d;
  const OpCode code = v.code();
  auto input_nhwc = [&](size_t i) { return natural[v.input_index(i)] == Layout::kNhwc; };
  // Every activation input is channels-last.
  auto activations_nhwc = [&] {
    bool any = false;
    for (size_t i = 0; i < v.num_inputs(); ++i) {
      if (!v.has_input(i) || v.is_constant(i)) continue;
      if (!input_nhwc(i)) return false;
      any = true;
    }
    return any;
  };
  const int32_t output = v.op.outputs()->Get(0);
  if (quantized_gemm_supported(v)) {
    // Its input in whichever layout it arrives; its output channels-last
    // when every reader takes it so.
    d.executor = Executor::kQGemm;
    d.int8_nhwc = int8_candidates[output] && quantized_gemm_channels_last(v);
    return d;
  }
  if (depthwise_int8(v)) {
    // Channels-last in and out when its input comes so (its output may then
    // be too: int8_channels_last_candidates); else the reference kernel.
    if (input_nhwc(0) && int8_candidates[output]) d.executor = Executor::kDepthwiseInt8, d.int8_nhwc = true;
    return d;
  }
  if (quantize_or_dequantize(v)) {
    d.executor = Executor::kQuantizeLinear;
    // Per tensor, it is the same in either layout: it keeps the one its
    // input comes in (a quantize only when its readers take channels-last).
    if (code == OpCode::kQuantizeLinear && per_tensor_quantized(v.output(0)))
      d.nhwc = d.int8_nhwc = layout_capable(v.input(0)) && input_nhwc(0) && int8_candidates[output];
    else if (code == OpCode::kDequantizeLinear && per_tensor_quantized(v.input(0)))
      d.nhwc = input_nhwc(0);
    return d;
  }
  if (code == OpCode::kLSTM || code == OpCode::kGRU || code == OpCode::kRNN) {
    // Float data (sequence lengths may be int), in the file's layout:
    // recurrent_layer.h, or the reference driver with vectorized arithmetic.
    if (v.input(0).dtype() == format::DType::Float32) d.executor = Executor::kRecurrent;
    return d;
  }
  if (code == OpCode::kResize && is_8bit(v.input(0))) {
    // An int8 decoder's upsampling (the converter resizes int8 images rather
    // than float ones): nearest copies bytes, in the layout its input comes
    // in (channels-last between two int8 convolutions).
    if (nearest_resize_4d(v)) d.executor = Executor::kResizeNearest, d.nhwc = d.int8_nhwc = input_nhwc(0);
    return d;
  }
  if (is_elementwise_unary(code) && is_8bit(v.input(0))) {
    // Byte for byte, in the layout its input comes in.
    if (int8_lookup(v)) d.executor = Executor::kLookup, d.nhwc = d.int8_nhwc = input_nhwc(0);
    return d;
  }
  if (code == OpCode::kConcat && is_8bit(v.input(0))) {
    // Reads each input in the layout it comes in; writes channels-last when
    // an input comes so and every reader takes it so.
    if (!int8_concat(v)) return d;
    d.executor = Executor::kQuantizedConcat;
    for (size_t k = 0; k < v.num_inputs(); ++k)
      if (input_nhwc(k)) d.int8_nhwc = int8_candidates[output] != 0;
    return d;
  }
  if (code == OpCode::kAdd && is_8bit(v.input(0))) {
    // Reads each operand in the layout it comes in; writes channels-last
    // when an operand of its shape comes so and every reader takes it so.
    if (!quantized_add_layout(v, nullptr, false, nullptr)) return d;
    d.executor = Executor::kQuantizedAdd;
    const Shape out = shape_of(v.output(0));
    for (size_t k = 0; k < 2; ++k)
      if (shape_of(v.input(k)) == out && input_nhwc(k)) d.int8_nhwc = int8_candidates[output] != 0;
    return d;
  }
  if (code == OpCode::kGroupNorm && is_8bit(v.input(0))) {
    // Between two int8 convolutions: in the layout its input comes in.
    if (int8_group_norm(v)) d.executor = Executor::kGroupNorm, d.nhwc = d.int8_nhwc = input_nhwc(0);
    return d;
  }
  if (!all_f32(v)) return d;
  switch (code) {
    case OpCode::kConv2d:
    case OpCode::kConvTranspose2d: {
      if (!v.is_constant(1) || (v.has_input(2) && !v.is_constant(2))) return d;
      if (!layout_capable(v.input(0))) return d;
      if (code == OpCode::kConvTranspose2d) {
        // XNNPACK requires the output adjustment to be below the stride.
        if (v.int_param(params::kOutputPadH) >= v.int_param(params::kStrideH) ||
            v.int_param(params::kOutputPadW) >= v.int_param(params::kStrideW))
          return d;
      }
      d.executor = depthwise_conv1d(v)      ? Executor::kDepthwiseConv1d
                   : small_channel_conv1d(v) ? Executor::kSmallConv1d
                   : gemm_conv(v)           ? Executor::kConvGemm
                   : narrow_conv_wins(v)    ? Executor::kNarrowConv
                   : packed_conv_wins(v)    ? Executor::kPackedConv
                   : gemm_deconv(v)         ? Executor::kDeconvGemm
                                            : Executor::kXnnpack;
      d.nhwc = true;
      return d;
    }
    case OpCode::kMaxPool2d:
    case OpCode::kAveragePool2d:
      if (pool_supported(v)) d.executor = Executor::kXnnpack, d.nhwc = true;
      return d;
    case OpCode::kFullyConnected:
      if (v.is_constant(1) && (!v.has_input(2) || v.is_constant(2)))
        d.executor = narrow_conv_wins(v) ? Executor::kNarrowConv : Executor::kXnnpack;
      return d;
    case OpCode::kMatMul:
      if (!v.is_constant(0) && v.is_constant(1) && v.input(1).shape()->size() == 2 && v.input(0).shape()->size() >= 2)
        d.executor = Executor::kXnnpack;
      else if (matmul_batches(v, nullptr))
        d.executor = Executor::kMatMul;
      return d;
    case OpCode::kLayerNorm:
      if (layer_norm_rows(v, nullptr)) d.executor = Executor::kLayerNorm;
      return d;
    case OpCode::kTranspose:
      if (transpose_batches(v, nullptr)) d.executor = Executor::kTranspose;
      return d;
    case OpCode::kReduceSum:
    case OpCode::kReduceMean:
    case OpCode::kReduceMax:
    case OpCode::kReduceMin:
      if (reduce_run(v, nullptr)) {
        d.executor = Executor::kReduce;
        // A global pooling (squeeze-excitation, a classifier's head) of a
        // channels-last input reduces it as it is, [N, H*W, C] over H*W:
        // no conversion, and its [N, C, 1, ...] result is the same bytes in
        // both layouts.
        d.nhwc = spatial_reduction(v) && input_nhwc(0);
      }
      return d;
    case OpCode::kSoftmax: {
      const int64_t rank = static_cast<int64_t>(v.input(0).shape()->size());
      if (v.int_param(params::kSoftmaxBegin) == rank - 1 && v.int_param(params::kSoftmaxEnd) == rank)
        d.executor = Executor::kXnnpack;
      return d;
    }
    case OpCode::kLogSoftmax: {  // a recognizer's or language model's output (XNNPACK has no log form)
      const int64_t rank = static_cast<int64_t>(v.input(0).shape()->size());
      if (rank >= 1 && v.int_param(params::kSoftmaxBegin) == rank - 1 && v.int_param(params::kSoftmaxEnd) == rank)
        d.executor = Executor::kLogSoftmax;
      return d;
    }
    case OpCode::kPad: {
      // Constant padding (no cropping) on XNNPACK, in whichever layout the
      // input comes: its pads are permuted for channels-last.
      const int64_t rank = static_cast<int64_t>(v.input(0).shape()->size());
      if (v.num_inputs() != 1 || rank < 1 || rank > XNN_MAX_TENSOR_DIMS ||
          v.int_param(params::kPadMode) != params::kPadConstant)
        return d;
      for (int64_t i = 0; i < 2 * rank; ++i)
        if (v.int_param(static_cast<size_t>(params::kPadBegin + i)) < 0) return d;
      d.executor = Executor::kXnnpack;
      d.nhwc = layout_capable(v.input(0)) && input_nhwc(0);
      return d;
    }
    case OpCode::kGroupNorm:
    case OpCode::kInstanceNorm:
      // In the layout its input arrives in: channels-last after XNNPACK's
      // convolutions, channels-first after int8 ones (which run NCHW).
      if (v.input(0).shape()->size() >= 2 && v.is_constant(1) && v.is_constant(2))
        d.executor = Executor::kGroupNorm, d.nhwc = layout_capable(v.input(0)) && input_nhwc(0);
      return d;
    case OpCode::kResize:
      if (nearest_resize_4d(v)) d.executor = Executor::kResizeNearest, d.nhwc = input_nhwc(0);
      return d;
    case OpCode::kConcat: {
      if (v.int_param(params::kAxis) != 1 || v.num_inputs() > kMaxConversions) return d;
      for (size_t i = 0; i < v.num_inputs(); ++i)
        if (v.is_constant(i) || !layout_capable(v.input(i)) || !input_nhwc(i)) return d;
      d.executor = Executor::kConcat;
      d.nhwc = true;
      return d;
    }
    default:
      break;
  }
  if (simd::has_unary(v.op.opcode())) {
    d.executor = Executor::kUnary;
    d.nhwc = layout_capable(v.input(0)) && activations_nhwc();
    return d;
  }
  if (binary_opcode(code)) {
    const Shape out = shape_of(v.output(0));
    if (out.rank > XNN_MAX_TENSOR_DIMS) return d;
    d.executor = Executor::kXnnpack;
    // Channels-last when every operand is the output's shape or broadcasts
    // to it with the same bytes in both layouts (one channel or one pixel:
    // a per-channel bias [N, C, 1, 1], a timestep embedding), or is a
    // one-element constant; and some operand arrives channels-last.
    bool nhwc = layout_capable(v.output(0));
    bool any_nhwc = false;
    for (size_t i = 0; i < v.num_inputs() && nhwc; ++i) {
      const Shape in = shape_of(v.input(i));
      if (v.is_constant(i) && in.num_elements() == 1) continue;
      if (in.rank != out.rank || (in != out && !layout_trivial(in))) nhwc = false;
      if (!v.is_constant(i) && input_nhwc(i)) any_nhwc = true;
    }
    d.nhwc = nhwc && any_nhwc;
    return d;
  }
  return d;
}

}  // namespace xnnpack
}  // namespace edgegen
