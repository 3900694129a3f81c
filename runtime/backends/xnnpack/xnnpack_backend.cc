#include "backends/xnnpack/xnnpack_backend.h"

#include <pthreadpool.h>
#include <xnnpack.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "backends/xnnpack/simd/byte_lookup.h"
#include "backends/xnnpack/simd/group_norm_int8.h"
#include "backends/xnnpack/simd/quantized_concat.h"
#include "backends/xnnpack/simd/simd_kernels.h"
#include "backends/xnnpack/accelerated_op.h"
#include "backends/xnnpack/decide.h"
#include "backends/xnnpack/deconvolution_gemm.h"
#include "backends/xnnpack/op_view.h"
#include "backends/xnnpack/xnnpack_memory.h"
#include "core/control_flow.h"
#include "core/prepacked_weights.h"
#include "kernels/quantized_unary.h"
#include "core/memory_planner.h"
#include "edgegen/mapped_file.h"
#include "edgegen_generated.h"
#include "ops/op_params.h"
#include "ops/registry.h"

namespace edgegen {
namespace xnnpack {

namespace {

// Reorders an ONNX convolution weight into XNNPACK's
// [groups][group_out][kh][kw][group_in].
void pack_conv_weights(const float* w, float* out, int64_t out_channels, int64_t group_in, int64_t taps) {
  // Written in order (strided reads are cheaper than strided writes).
  for (int64_t o = 0; o < out_channels; ++o)
    for (int64_t t = 0; t < taps; ++t)
      for (int64_t i = 0; i < group_in; ++i) out[(o * taps + t) * group_in + i] = w[(o * group_in + i) * taps + t];
}

// ONNX transposed-convolution weight [C_in, group_out, kh, kw] (C_in = groups * group_in)
// into XNNPACK's [groups][group_out][kh][kw][group_in].
void pack_deconv_weights(const float* w, float* out, int64_t groups, int64_t group_in, int64_t group_out,
                         int64_t taps) {
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t o = 0; o < group_out; ++o)
      for (int64_t t = 0; t < taps; ++t)
        for (int64_t i = 0; i < group_in; ++i)
          out[((g * group_out + o) * taps + t) * group_in + i] = w[(((g * group_in + i) * group_out) + o) * taps + t];
}

Status xnn_error(const OpView& v, const char* what, xnn_status status) {
  return Status::error(StatusCode::kUnsupportedOp, "graph '%s': XNNPACK cannot %s %s '%s' (status %d)",
                       v.graph.name()->c_str(), what, op_name(v.op.opcode()), v.op.name() ? v.op.name()->c_str() : "",
                       static_cast<int>(status));
}

// What every operator creator reads: the op, the buffers it reads and
// writes (already in the layout it computes in), and its output clamp.
struct OperatorArgs {
  const OpView& v;
  const float* const* in;
  float* out;
  pthreadpool_t pool;
  AcceleratedOp* acc;
  float out_min, out_max;
};

// A 1-D or 2-D (transposed) convolution's sizes, 1-D as 2-D with height 1.
struct ConvGeometry {
  int64_t kh, kw, in_h, in_w, groups, in_channels, out_channels, group_in, group_out;
  size_t weight_count;
};

ConvGeometry conv_geometry(const OpView& v) {
  const Shape x = shape_of(v.input(0)), y = shape_of(v.output(0)), w = shape_of(v.input(1));
  const bool one_d = x.rank == 3;
  ConvGeometry g;
  g.kh = one_d ? 1 : w.dims[2];
  g.kw = one_d ? w.dims[2] : w.dims[3];
  g.in_h = one_d ? 1 : x.dims[2];
  g.in_w = one_d ? x.dims[2] : x.dims[3];
  g.groups = v.int_param(params::kGroups);
  g.in_channels = x.dims[1];
  g.out_channels = y.dims[1];
  g.group_in = g.in_channels / g.groups;
  g.group_out = g.out_channels / g.groups;
  g.weight_count = static_cast<size_t>(w.num_elements());
  return g;
}

uint32_t u32(int64_t value) { return static_cast<uint32_t>(value); }

xnn_status create_convolution(const OperatorArgs& a, const ConvGeometry& g, float* reordered, xnn_operator_t* op) {
  using namespace params;
  const OpView& v = a.v;
  pack_conv_weights(v.constant(1), reordered, g.out_channels, g.group_in, g.kh * g.kw);
  if (a.acc->executor == Executor::kConvGemm) {
    // The weight [C_out, kw, C_in] is the fully connected [C_out, kw * C_in]
    // over im2col's rows (convolution_gemm.h).
    const size_t k = static_cast<size_t>(g.kw * g.in_channels), n = static_cast<size_t>(g.out_channels);
    const float* bias = v.has_input(2) ? v.constant(2) : nullptr;
    xnn_status status = xnn_create_fully_connected_nc_f32(k, n, k, n, reordered, bias, a.out_min, a.out_max, 0, op);
    // One band over one image: set up once, here; otherwise per band while running.
    ConvGemm& plan = a.acc->conv;
    plan.out_min = a.out_min;  // the direct one-channel kernel clamps like the operator
    plan.out_max = a.out_max;
    if (status == xnn_status_success && !plan.direct && plan.batch == 1 && plan.band_rows == plan.out_w)
      status = xnn_setup_fully_connected_nc_f32(*op, static_cast<size_t>(plan.out_w), a.acc->kernel_scratch, a.out,
                                                a.pool);
    return status;
  }
  xnn_status status = xnn_create_convolution2d_nhwc_f32(
      u32(v.int_param(kPadTop)), u32(v.int_param(kPadRight)), u32(v.int_param(kPadBottom)),
      u32(v.int_param(kPadLeft)), u32(g.kh), u32(g.kw), u32(v.int_param(kStrideH)), u32(v.int_param(kStrideW)),
      u32(v.int_param(kDilationH)), u32(v.int_param(kDilationW)), u32(g.groups), g.group_in, g.group_out,
      g.in_channels, g.out_channels, reordered, v.has_input(2) ? v.constant(2) : nullptr, a.out_min, a.out_max, 0, op);
  if (status != xnn_status_success) return status;
  return xnn_setup_convolution2d_nhwc_f32(*op, shape_of(v.input(0)).dims[0], g.in_h, g.in_w, a.in[0], a.out, a.pool);
}

// A transposed convolution in one of three forms: GEMM + col2im (ours,
// Executor::kDeconvGemm), one fully connected op (a one-pixel input), or
// XNNPACK's deconvolution.
xnn_status create_transposed_convolution(const OperatorArgs& a, const ConvGeometry& g, float* reordered,
                                         xnn_operator_t* op) {
  using namespace params;
  const OpView& v = a.v;
  AcceleratedOp* acc = a.acc;
  const float* bias = v.has_input(2) ? v.constant(2) : nullptr;
  const int64_t taps = g.kh * g.kw;
  const size_t n = static_cast<size_t>(taps * g.out_channels), k = static_cast<size_t>(g.in_channels);
  if (acc->executor == Executor::kDeconvGemm) {
    // Columns [(kh, kw, c_out)] of every input pixel: weight [C_in, C_out, kh, kw]
    // as a fully connected [kh * kw * C_out, C_in]. Bias and activation
    // follow col2im (they apply to the sums).
    acc->deconv.bias = bias;  // the plan is build_graph's (it sized the scratch)
    acc->post = v.activation();
    pack_deconv_columns(v.constant(1), reordered, g.in_channels, g.out_channels, taps);
    const float none = std::numeric_limits<float>::infinity();
    xnn_status status = xnn_create_fully_connected_nc_f32(k, n, k, n, reordered, nullptr, -none, none, 0, op);
    // One band over one image: set up once, here; otherwise per band while running.
    if (status == xnn_status_success && acc->deconv.batch == 1 && acc->deconv.band_pixels == acc->deconv.in_pixels)
      status = xnn_setup_fully_connected_nc_f32(*op, static_cast<size_t>(acc->deconv.band_pixels), a.in[0],
                                                acc->kernel_scratch, a.pool);
    return status;
  }
  if (one_pixel_deconv(v)) {
    // A transposed convolution of one pixel (a DCGAN's first layer) is a
    // matrix product whose rows are the output pixels' channels: as a
    // fully connected op it runs at GEMM speed, and writes NHWC directly.
    pack_deconv_columns(v.constant(1), reordered, g.in_channels, g.out_channels, taps);
    float* tiled_bias = reordered + g.weight_count;
    for (int64_t t = 0; t < taps; ++t)
      for (int64_t o = 0; o < g.out_channels; ++o) tiled_bias[t * g.out_channels + o] = bias ? bias[o] : 0.f;
    xnn_status status =
        xnn_create_fully_connected_nc_f32(k, n, k, n, reordered, tiled_bias, a.out_min, a.out_max, 0, op);
    if (status != xnn_status_success) return status;
    return xnn_setup_fully_connected_nc_f32(*op, static_cast<size_t>(shape_of(v.input(0)).dims[0]), a.in[0], a.out,
                                            a.pool);
  }
  pack_deconv_weights(v.constant(1), reordered, g.groups, g.group_in, g.group_out, taps);
  xnn_status status = xnn_create_deconvolution2d_nhwc_f32(
      u32(v.int_param(kPadTop)), u32(v.int_param(kPadRight)), u32(v.int_param(kPadBottom)),
      u32(v.int_param(kPadLeft)), u32(g.kh), u32(g.kw), u32(v.int_param(kStrideH)), u32(v.int_param(kStrideW)),
      u32(v.int_param(kDilationH)), u32(v.int_param(kDilationW)), u32(g.groups), g.group_in, g.group_out,
      g.in_channels, g.out_channels, reordered, bias, a.out_min, a.out_max, 0, op);
  if (status != xnn_status_success) return status;
  return xnn_setup_deconvolution2d_nhwc_f32(*op, shape_of(v.input(0)).dims[0], g.in_h, g.in_w,
                                            u32(v.int_param(kOutputPadH)), u32(v.int_param(kOutputPadW)), a.in[0],
                                            a.out, a.pool);
}

xnn_status create_pooling(const OperatorArgs& a, xnn_operator_t* op) {
  using namespace params;
  const OpView& v = a.v;
  const Shape x = shape_of(v.input(0));
  const auto u = [&](int i) { return static_cast<uint32_t>(v.int_param(static_cast<size_t>(i))); };
  const size_t channels = static_cast<size_t>(x.dims[1]);
  xnn_status status;
  if (v.code() == OpCode::kMaxPool2d) {
    status = xnn_create_max_pooling2d_nhwc_f32(u(kPoolPadTop), u(kPoolPadRight), u(kPoolPadBottom), u(kPoolPadLeft),
                                               u(kPoolKernelH), u(kPoolKernelW), u(kPoolStrideH), u(kPoolStrideW),
                                               u(kPoolDilationH), u(kPoolDilationW), channels, channels, channels,
                                               a.out_min, a.out_max, 0, op);
    if (status != xnn_status_success) return status;
    return xnn_setup_max_pooling2d_nhwc_f32(*op, x.dims[0], x.dims[2], x.dims[3], a.in[0], a.out, a.pool);
  }
  status = xnn_create_average_pooling2d_nhwc_f32(u(kPoolPadTop), u(kPoolPadRight), u(kPoolPadBottom),
                                                 u(kPoolPadLeft), u(kPoolKernelH), u(kPoolKernelW), u(kPoolStrideH),
                                                 u(kPoolStrideW), channels, channels, channels, a.out_min, a.out_max,
                                                 0, op);
  if (status != xnn_status_success) return status;
  return xnn_setup_average_pooling2d_nhwc_f32(*op, x.dims[0], x.dims[2], x.dims[3], a.in[0], a.out, a.pool);
}

// A FullyConnected, or a MatMul with a constant B.
xnn_status create_fully_connected(const OperatorArgs& a, xnn_operator_t* op) {
  const OpView& v = a.v;
  const Shape x = shape_of(v.input(0)), w = shape_of(v.input(1));
  const bool matmul = v.code() == OpCode::kMatMul;
  // FullyConnected weight [N, K]; MatMul's constant B is [K, N].
  const size_t k = static_cast<size_t>(matmul ? w.dims[0] : w.dims[1]);
  const size_t n = static_cast<size_t>(matmul ? w.dims[1] : w.dims[0]);
  const size_t rows = k == 0 ? 0 : static_cast<size_t>(x.num_elements()) / k;
  const float* bias = !matmul && v.has_input(2) ? v.constant(2) : nullptr;
  xnn_status status = xnn_create_fully_connected_nc_f32(k, n, k, n, v.constant(1), bias, a.out_min, a.out_max,
                                                        matmul ? XNN_FLAG_TRANSPOSE_WEIGHTS : 0, op);
  if (status != xnn_status_success) return status;
  return xnn_setup_fully_connected_nc_f32(*op, rows, a.in[0], a.out, a.pool);
}

xnn_status create_softmax(const OperatorArgs& a, xnn_operator_t* op) {
  const Shape x = shape_of(a.v.input(0));
  const size_t channels = static_cast<size_t>(x.dims[x.rank - 1]);
  xnn_status status = xnn_create_softmax_nc_f32(channels, channels, channels, 0, op);
  if (status != xnn_status_success) return status;
  return xnn_setup_softmax_nc_f32(*op, channels ? static_cast<size_t>(x.num_elements()) / channels : 0, a.in[0],
                                  a.out, a.pool);
}

xnn_status create_pad(const OperatorArgs& a, xnn_operator_t* op) {
  using namespace params;
  const OpView& v = a.v;
  const Shape x = shape_of(v.input(0));
  size_t dims[XNN_MAX_TENSOR_DIMS], before[XNN_MAX_TENSOR_DIMS], after[XNN_MAX_TENSOR_DIMS];
  const int rank = x.rank;
  for (int d = 0; d < rank; ++d) {
    // Channels-last: axis 1 (channels) moves to the end.
    const int from = !a.acc->nhwc || d == 0 ? d : d == rank - 1 ? 1 : d + 1;
    dims[d] = static_cast<size_t>(x.dims[from]);
    before[d] = static_cast<size_t>(v.int_param(static_cast<size_t>(kPadBegin + from)));
    after[d] = static_cast<size_t>(v.int_param(static_cast<size_t>(kPadBegin + rank + from)));
  }
  const float value = v.float_param(0);
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  xnn_status status = xnn_create_constant_pad_nd_x32(&bits, 0, op);
  if (status != xnn_status_success) return status;
  return xnn_setup_constant_pad_nd_x32(*op, static_cast<size_t>(rank), dims, before, after, a.in[0], a.out, a.pool);
}

// Add, Sub, Mul, Div, Min, Max with broadcasting.
xnn_status create_binary(const OperatorArgs& a, xnn_operator_t* op) {
  const OpView& v = a.v;
  const Shape sa = shape_of(v.input(0)), sb = shape_of(v.input(1));
  size_t a_dims[XNN_MAX_TENSOR_DIMS], b_dims[XNN_MAX_TENSOR_DIMS];
  size_t a_rank = static_cast<size_t>(sa.rank), b_rank = static_cast<size_t>(sb.rank);
  if (a.acc->nhwc) {
    // Channels-last shapes: [N, C, H, W] -> [N, H, W, C]; one-element constants stay one element.
    auto nhwc_dims = [](const Shape& s, size_t* dims, size_t* rank) {
      if (s.num_elements() == 1 && s.rank <= 1) {
        dims[0] = 1, *rank = 1;
        return;
      }
      *rank = static_cast<size_t>(s.rank);
      dims[0] = static_cast<size_t>(s.dims[0]);
      for (int d = 2; d < s.rank; ++d) dims[d - 1] = static_cast<size_t>(s.dims[d]);
      dims[s.rank - 1] = static_cast<size_t>(s.dims[1]);
    };
    nhwc_dims(sa, a_dims, &a_rank);
    nhwc_dims(sb, b_dims, &b_rank);
  } else {
    for (size_t d = 0; d < a_rank; ++d) a_dims[d] = static_cast<size_t>(sa.dims[d]);
    for (size_t d = 0; d < b_rank; ++d) b_dims[d] = static_cast<size_t>(sb.dims[d]);
  }
  // XNNPACK wants rank >= 1.
  if (a_rank == 0) a_dims[0] = 1, a_rank = 1;
  if (b_rank == 0) b_dims[0] = 1, b_rank = 1;
  const float* x = a.in[0];
  const float* y = a.in[1];
  xnn_status status;
  switch (v.code()) {
    case OpCode::kAdd: status = xnn_create_add_nd_f32(a.out_min, a.out_max, 0, op); break;
    case OpCode::kSub: status = xnn_create_subtract_nd_f32(a.out_min, a.out_max, 0, op); break;
    case OpCode::kMul: status = xnn_create_multiply_nd_f32(a.out_min, a.out_max, 0, op); break;
    case OpCode::kDiv: status = xnn_create_divide_nd_f32(a.out_min, a.out_max, 0, op); break;
    case OpCode::kMin: status = xnn_create_minimum_nd_f32(0, op); break;
    default: status = xnn_create_maximum_nd_f32(0, op); break;
  }
  if (status != xnn_status_success) return status;
  // Min/Max take no clamp: a fused activation runs afterwards.
  if (v.code() == OpCode::kMin || v.code() == OpCode::kMax) a.acc->post = v.activation();
  switch (v.code()) {
    case OpCode::kAdd: return xnn_setup_add_nd_f32(*op, a_rank, a_dims, b_rank, b_dims, x, y, a.out, a.pool);
    case OpCode::kSub: return xnn_setup_subtract_nd_f32(*op, a_rank, a_dims, b_rank, b_dims, x, y, a.out, a.pool);
    case OpCode::kMul: return xnn_setup_multiply_nd_f32(*op, a_rank, a_dims, b_rank, b_dims, x, y, a.out, a.pool);
    case OpCode::kDiv: return xnn_setup_divide_nd_f32(*op, a_rank, a_dims, b_rank, b_dims, x, y, a.out, a.pool);
    case OpCode::kMin: return xnn_setup_minimum_nd_f32(*op, a_rank, a_dims, b_rank, b_dims, x, y, a.out, a.pool);
    default: return xnn_setup_maximum_nd_f32(*op, a_rank, a_dims, b_rank, b_dims, x, y, a.out, a.pool);
  }
}

// Creates and sets up the XNNPACK operator of `v`. in/out: the buffers it
// reads and writes (already the layout it computes in).
Status create_operator(const OpView& v, const float* const* in, float* out, pthreadpool_t pool,
                       ReorderBuffer* reorder, AcceleratedOp* acc) {
  OperatorArgs a{v, in, out, pool, acc, 0.f, 0.f};
  split_activation(v.activation(), &a.out_min, &a.out_max, &acc->post);
  xnn_operator_t op = nullptr;
  xnn_status status;
  switch (v.code()) {
    case OpCode::kConv2d:
    case OpCode::kConvTranspose2d: {
      const ConvGeometry g = conv_geometry(v);
      // Reordered weights, then (one-pixel deconvolution) its tiled bias.
      float* reordered = reorder->floats(g.weight_count + static_cast<size_t>(g.kh * g.kw * g.out_channels));
      if (reordered == nullptr) return Status::error(StatusCode::kOutOfMemory, "no memory to reorder weights");
      status = v.code() == OpCode::kConv2d ? create_convolution(a, g, reordered, &op)
                                           : create_transposed_convolution(a, g, reordered, &op);
      break;
    }
    case OpCode::kMaxPool2d:
    case OpCode::kAveragePool2d: status = create_pooling(a, &op); break;
    case OpCode::kFullyConnected:
    case OpCode::kMatMul: status = create_fully_connected(a, &op); break;
    case OpCode::kSoftmax: status = create_softmax(a, &op); break;
    case OpCode::kPad: status = create_pad(a, &op); break;
    default: status = create_binary(a, &op); break;
  }
  if (status != xnn_status_success) {
    if (op != nullptr) xnn_delete_operator(op);
    return xnn_error(v, "run", status);
  }
  acc->op = op;
  return Status::ok();
}

// The packing of a FullyConnected or a MatMul with constant weights (the
// ops create_operator turns into one fully connected operator).
// `post`: the activation the operator leaves to run afterwards.
bool fully_connected_key(const OpView& v, SharedWeights::Key* key, size_t* rows, FusedActivation* post) {
  if (v.code() != OpCode::kFullyConnected && v.code() != OpCode::kMatMul) return false;
  const Shape x = shape_of(v.input(0)), w = shape_of(v.input(1));
  const bool matmul = v.code() == OpCode::kMatMul;
  key->weights = v.constant(1);
  key->bias = !matmul && v.has_input(2) ? v.constant(2) : nullptr;
  key->input_channels = static_cast<size_t>(matmul ? w.dims[0] : w.dims[1]);
  key->output_channels = static_cast<size_t>(matmul ? w.dims[1] : w.dims[0]);
  split_activation(v.activation(), &key->output_min, &key->output_max, post);
  key->flags = matmul ? XNN_FLAG_TRANSPOSE_WEIGHTS : 0;
  *rows = key->input_channels ? static_cast<size_t>(x.num_elements()) / key->input_channels : 0;
  return true;
}

// A fake, aligned address for the counting pass: XNNPACK's setup only does
// arithmetic on the pointers it is given.
float* counting_address(size_t offset) {
  return reinterpret_cast<float*>(static_cast<uintptr_t>(1u << 20) + offset);
}

// The packed weights of an int8 product (backend region) and its scales
// (persistent), counted or placed; packed when placing.
Status place_quantized_gemm(const GraphBuild& build, OpState* state, QuantizedGemm* plan) {
  const bool counting = state == nullptr;
  float* scales = build.persistent->allocate<float>(quantized_gemm_scale_count(*plan));
  if (counting && !build.measure_region) return Status::ok();
  void* packed = region_allocate(build.region, quantized_gemm_packed_bytes(*plan));
  if (build.region->exhausted())
    return Status::error(StatusCode::kArenaTooSmall,
                         "the arena is too small: this model needs more than the %zu bytes left after its "
                         "activations for packed weights (Session::arena_bytes_needed tells the total)",
                         build.region->capacity());
  if (counting) return Status::ok();
  if (packed == nullptr || scales == nullptr)
    return Status::error(StatusCode::kOutOfMemory, "no memory for the packed weights of %s '%s'",
                         op_name(state->context.opcode), state->context.op_name);
  float* reorder = build.reorder->floats((plan->k * plan->n + sizeof(float) - 1) / sizeof(float));
  if (reorder == nullptr) return Status::error(StatusCode::kOutOfMemory, "no memory to reorder weights");
  return prepare_quantized_gemm(state->context, packed, scales, reinterpret_cast<int8_t*>(reorder), plan);
}

// What build_graph decides for a whole graph before creating any operator:
// what runs each op, the layout each tensor is produced in and stored in,
// and each tensor's last reader. It lives at the start of the scratch area
// while placing (counted in the scratch build_graph returns) and on the
// heap while counting.
struct GraphLayout {
  Layout* natural = nullptr;           // per tensor: the layout its producer writes
  Layout* stored = nullptr;            // per tensor: the layout it is kept in
  uint8_t* int8_candidates = nullptr;  // per tensor: see int8_channels_last_candidates
  Decision* decisions = nullptr;       // per op
  int32_t* last_use = nullptr;         // per tensor: its last reader (INT32_MAX: a graph output; -1: none)
  size_t bytes = 0;                    // of the memory holding the arrays above
  void* owned = nullptr;               // counting: that memory, freed with the plan
  GraphLayout() = default;
  GraphLayout(const GraphLayout&) = delete;
  GraphLayout& operator=(const GraphLayout&) = delete;
  ~GraphLayout() { std::free(owned); }
};

// Carves the arrays out of `memory` (or the heap when it is null), fills
// last_use, and makes the layout decisions.
Status decide_graph_layout(const GraphBuild& build, uint8_t* memory, GraphLayout* layout) {
  const format::Graph& graph = *build.graph;
  const auto* tensors = graph.tensors();
  const auto* ops = graph.operators();
  const uint32_t num_tensors = tensors->size();
  const uint32_t num_ops = ops->size();
  layout->bytes = num_tensors * (3 + sizeof(int32_t)) + num_ops * sizeof(Decision) + 2 * alignof(int32_t) + 64;
  if (memory == nullptr) {
    memory = static_cast<uint8_t*>(std::malloc(layout->bytes));
    if (memory == nullptr) return Status::error(StatusCode::kOutOfMemory, "no memory for layout decisions");
    layout->owned = memory;
  }
  layout->natural = reinterpret_cast<Layout*>(memory);
  layout->stored = layout->natural + num_tensors;
  layout->int8_candidates = reinterpret_cast<uint8_t*>(layout->stored + num_tensors);
  layout->decisions = reinterpret_cast<Decision*>(
      memory + ((num_tensors * 3 + alignof(Decision) - 1) / alignof(Decision)) * alignof(Decision));
  uint8_t* after_decisions = reinterpret_cast<uint8_t*>(layout->decisions + num_ops);
  layout->last_use = reinterpret_cast<int32_t*>(
      after_decisions +
      (alignof(int32_t) - reinterpret_cast<uintptr_t>(after_decisions) % alignof(int32_t)) % alignof(int32_t));

  int32_t* last_use = layout->last_use;
  for (uint32_t t = 0; t < num_tensors; ++t) last_use[t] = -1;
  for (uint32_t i = 0; i < num_ops; ++i)
    for (int32_t input : *ops->Get(i)->inputs())
      if (input >= 0) last_use[input] = static_cast<int32_t>(i);
  for (int32_t output : *graph.outputs()) last_use[output] = INT32_MAX;
  // Persistent state (a KV cache) outlives every run: never a slot to convert through.
  if (const auto* state = graph.state())
    for (int32_t tensor : *state) last_use[tensor] = INT32_MAX;

  // 1. What each op runs on, and the layout its outputs naturally come in.
  Layout* natural = layout->natural;
  Layout* stored = layout->stored;
  int8_channels_last_candidates(*build.model, graph, layout->int8_candidates);
  for (uint32_t t = 0; t < num_tensors; ++t) natural[t] = Layout::kNchw;
  for (uint32_t i = 0; i < num_ops; ++i) {
    // If, Else, EndIf: the session's loop runs them (decisions[i] stays reference).
    if (is_control_op(ops->Get(i)->opcode())) {
      layout->decisions[i] = Decision{};
      continue;
    }
    OpView v{*build.model, graph, *ops->Get(i), build.widened};
    const Decision decision = layout->decisions[i] = decide(v, natural, layout->int8_candidates);
    for (int32_t output : *v.op.outputs()) {
      const format::Tensor& tensor = *tensors->Get(static_cast<uint32_t>(output));
      if ((decision.nhwc && layout_capable(tensor)) || (decision.int8_nhwc && !is_f32(tensor)))
        natural[output] = Layout::kNhwc;
    }
  }
  // 2. How each tensor is stored: channels-last when it is produced so and
  // some consumer wants it so; graph outputs always NCHW. Only float
  // tensors are ever converted: others stay as produced.
  for (uint32_t t = 0; t < num_tensors; ++t) stored[t] = is_f32(*tensors->Get(t)) ? Layout::kNchw : natural[t];
  for (uint32_t i = 0; i < num_ops; ++i) {
    if (!layout->decisions[i].nhwc) continue;
    for (int32_t input : *ops->Get(i)->inputs())
      if (input >= 0 && natural[input] == Layout::kNhwc) stored[input] = Layout::kNhwc;
  }
  for (int32_t output : *graph.outputs()) stored[output] = Layout::kNchw;
  return Status::ok();
}

// One operator being built: placing (state set) or counting (state null,
// fake addresses). Its part of the scratch area, after the reference
// kernels' part, is [our kernel's scratch][converted inputs...][converted output].
struct OpBuild {
  const GraphBuild& build;
  const GraphLayout& layout;
  const uint32_t index;
  const OpView v;
  AcceleratedOp& acc;
  OpState* const state;
  uint8_t* const scratch_base;  // placing: where this op's scratch starts
  size_t cursor = 0;            // bytes of the scratch used so far
  const float* in_data[kMaxConversions] = {};
  float* out_data = nullptr;
  uint32_t views_needed = 0;    // operands redirected to converted copies

  bool counting() const { return state == nullptr; }
  Layout native() const { return acc.nhwc ? Layout::kNhwc : Layout::kNchw; }
  const format::Tensor& tensor(int32_t t) const { return *build.graph->tensors()->Get(static_cast<uint32_t>(t)); }
  // A tensor's slot in the arena (a fake address while counting).
  float* slot_of(int32_t t) const {
    return counting() ? counting_address(build.graph->plan()->offsets()->Get(static_cast<uint32_t>(t)))
                      : static_cast<float*>(build.tensors[t].data);
  }
  // A slot's bytes in its own dtype (an int8 slot holds a quarter of the floats).
  size_t bytes_of(int32_t t) const {
    return static_cast<size_t>(shape_of(tensor(t)).num_elements()) * dtype_size(static_cast<DType>(tensor(t).dtype()));
  }
  int occurrences(int32_t t) const {
    int count = 0;
    for (int32_t input : *v.op.inputs()) count += input == t;
    return count;
  }
  float* scratch_at(size_t offset) const {
    return counting() ? counting_address(offset) : reinterpret_cast<float*>(scratch_base + offset);
  }
  bool reads_last(int32_t t) const { return layout.last_use[t] == static_cast<int32_t>(index); }
};

// The scratch our own kernel needs before the conversions.
void reserve_kernel_scratch(OpBuild& b) {
  AcceleratedOp& acc = b.acc;
  if (acc.executor == Executor::kGroupNorm) {
    if (!b.counting()) acc.kernel_scratch = reinterpret_cast<float*>(b.scratch_base);
    const size_t channels = static_cast<size_t>(shape_of(b.v.input(0)).dims[1]);
    const size_t bytes = is_8bit(b.v.input(0)) ? simd::group_norm_int8_scratch_bytes(channels)
                                               : 4 * channels * sizeof(float);
    b.cursor = static_cast<size_t>(align_up(bytes, kArenaAlignment));
  } else if (acc.executor == Executor::kDeconvGemm) {
    acc.kernel_scratch = b.counting() ? counting_address(0) : reinterpret_cast<float*>(b.scratch_base);
    acc.deconv = deconv_gemm_plan(b.v);  // create_operator adds the bias
    b.cursor = static_cast<size_t>(align_up(deconv_columns_bytes(acc.deconv), kArenaAlignment));
  } else if (acc.executor == Executor::kConvGemm) {
    acc.kernel_scratch = b.counting() ? counting_address(0) : reinterpret_cast<float*>(b.scratch_base);
    acc.conv = conv_gemm_plan(b.v);
    b.cursor = static_cast<size_t>(align_up(conv_gemm_rows_bytes(acc.conv), kArenaAlignment));
  } else if (acc.executor == Executor::kPackedConv) {
    acc.packed_conv = packed_conv_plan(b.v, &acc.post);
    acc.packed_conv.scratch = b.counting() ? counting_address(0) : reinterpret_cast<float*>(b.scratch_base);
    b.cursor = static_cast<size_t>(align_up(packed_conv_scratch_bytes(acc.packed_conv), kArenaAlignment));
  } else if (acc.executor == Executor::kQGemm) {
    acc.qgemm = quantized_gemm_plan(b.v, b.layout.natural[b.v.input_index(0)] == Layout::kNhwc,
                                    b.layout.decisions[b.index].int8_nhwc);
    acc.qgemm.scratch = b.scratch_base;
    b.cursor = static_cast<size_t>(align_up(acc.qgemm.scratch_bytes, kArenaAlignment));
  } else if (acc.executor == Executor::kRecurrent) {
    acc.recurrent = recurrent_layer_plan(b.v);
    if (!acc.recurrent.fast) return;
    acc.recurrent.scratch = b.counting() ? counting_address(0) : reinterpret_cast<float*>(b.scratch_base);
    b.cursor = static_cast<size_t>(
        align_up(recurrent_layer_scratch_floats(acc.recurrent) * sizeof(float), kArenaAlignment));
  }
}

// The buffers the op reads: each input as stored, or converted to the
// op's layout (in its own slot when this op reads it last, else in scratch).
Status plan_input_conversions(OpBuild& b) {
  const Model& model = *b.build.model;
  AcceleratedOp& acc = b.acc;
  const int32_t out_tensor = b.v.op.outputs()->Get(0);
  for (size_t k = 0; k < b.v.num_inputs(); ++k) {
    if (!b.v.has_input(k)) continue;
    const int32_t t = b.v.input_index(k);
    const format::Tensor& tensor = b.tensor(t);
    const Shape shape = shape_of(tensor);
    const float* data = b.counting() ? (tensor.buffer() ? b.v.constant(k) : b.slot_of(t))
                                     : static_cast<const float*>(b.build.tensors[t].data);
    // XNNPACK may read XNN_EXTRA_BYTES past an operand; a constant that
    // ends the model file is copied so the over-read stays in our memory
    // (a widened float16 constant is in the arena already).
    if (tensor.buffer() != 0 && !is_widened_constant(tensor) &&
        (acc.executor == Executor::kXnnpack || acc.executor == Executor::kDeconvGemm ||
         acc.executor == Executor::kConvGemm)) {
      const uint8_t* end = static_cast<const uint8_t*>(model.buffer_data(tensor.buffer())) + float_bytes(shape);
      if (end + XNN_EXTRA_BYTES > model.data() + model.size()) {
        void* copy = b.build.persistent->allocate_bytes(float_bytes(shape) + XNN_EXTRA_BYTES);
        if (copy != nullptr) {
          std::memcpy(copy, data, float_bytes(shape));
          data = static_cast<const float*>(copy);
        }
      }
    }
    const bool convert =
        tensor.buffer() == 0 && is_f32(tensor) && b.layout.stored[t] != b.native() && !layout_trivial(shape);
    if (convert) {
      if (acc.num_before == kMaxConversions)
        return Status::error(StatusCode::kInternal, "too many layout conversions for one op");
      Conversion& c = acc.before[acc.num_before++];
      c.from = data;
      c.input = static_cast<uint32_t>(k);
      c.batch = static_cast<uint32_t>(shape.dims[0]);
      c.channels = static_cast<uint32_t>(shape.dims[1]);
      c.spatial = static_cast<uint32_t>(spatial_of(shape));
      c.to_nhwc = b.native() == Layout::kNhwc;
      // (Not when the op computes in place: its output slot is this one.)
      if (b.reads_last(t) && b.occurrences(t) == 1 && out_tensor != t && b.slot_of(out_tensor) != data &&
          b.bytes_of(out_tensor) >= float_bytes(shape)) {
        // This op is the tensor's last reader: convert it in its own slot,
        // through the (not yet written) output slot.
        c.to = const_cast<float*>(data);
        c.via = b.slot_of(out_tensor);
      } else {
        c.to = b.scratch_at(b.cursor);
        b.cursor += static_cast<size_t>(align_up(float_bytes(shape), kArenaAlignment));
        data = c.to;
        ++b.views_needed;
      }
    }
    if (k < kMaxConversions) b.in_data[k] = data;
  }
  return Status::ok();
}

// The buffer the op writes: its output slot, or (when the output is stored
// in the other layout) a buffer converted into the slot afterwards.
void plan_output_conversion(OpBuild& b) {
  AcceleratedOp& acc = b.acc;
  const int32_t t = b.v.op.outputs()->Get(0);
  const format::Tensor& tensor = b.tensor(t);
  const Shape shape = shape_of(tensor);
  b.out_data = b.slot_of(t);
  if (!is_f32(tensor) || b.layout.stored[t] == b.native() || layout_trivial(shape)) return;
  Conversion& c = acc.after;
  acc.has_after = true;
  c.to = b.out_data;
  c.batch = static_cast<uint32_t>(shape.dims[0]);
  c.channels = static_cast<uint32_t>(shape.dims[1]);
  c.spatial = static_cast<uint32_t>(spatial_of(shape));
  c.to_nhwc = b.layout.stored[t] == Layout::kNhwc;
  // An input this op reads last is dead once it has run: the output
  // is converted in its own slot through that input's.
  for (size_t k = 0; k < b.v.num_inputs() && c.via == nullptr; ++k) {
    if (!b.v.has_input(k) || b.v.is_constant(k)) continue;
    const int32_t u = b.v.input_index(k);
    if (u != t && b.reads_last(u) && b.slot_of(u) != b.out_data && b.bytes_of(u) >= float_bytes(shape))
      c.via = b.slot_of(u);
  }
  if (c.via != nullptr) {
    c.from = b.out_data;
  } else {
    c.from = b.scratch_at(b.cursor);
    b.cursor += static_cast<size_t>(align_up(float_bytes(shape), kArenaAlignment));
    b.out_data = const_cast<float*>(c.from);
    ++b.views_needed;
  }
}

// Points the kernel context's operands at the converted copies, so the
// reference kernels and ours read and write what the op computes on.
Status redirect_operands(OpBuild& b) {
  AcceleratedOp& acc = b.acc;
  Tensor* views = b.views_needed ? b.build.persistent->allocate<Tensor>(b.views_needed) : nullptr;
  if (b.counting() || b.views_needed == 0) return Status::ok();
  if (views == nullptr)
    return Status::error(StatusCode::kInternal, "persistent arena layout disagrees with its size computation");
  KernelContext& context = b.state->context;
  uint32_t next = 0;
  for (uint8_t c = 0; c < acc.num_before; ++c) {
    if (acc.before[c].via != nullptr) continue;  // converted in place: same tensor
    const uint32_t k = acc.before[c].input;
    views[next] = *context.inputs[k];
    views[next].data = acc.before[c].to;
    const_cast<const Tensor**>(context.inputs)[k] = &views[next];  // the session's own array
    ++next;
  }
  if (acc.has_after && acc.after.via == nullptr) {
    views[next] = *context.outputs[0];
    views[next].data = b.out_data;
    const_cast<Tensor**>(context.outputs)[0] = &views[next];
  }
  return Status::ok();
}

// An XNNPACK operator: created (its weights packed into the backend region),
// or the one of an earlier op with the same fully connected weights reused.
Status set_up_xnnpack_operator(OpBuild& b) {
  const GraphBuild& build = b.build;
  AcceleratedOp& acc = b.acc;
  SharedWeights::Key key;
  const bool shareable = acc.executor == Executor::kXnnpack && build.shared != nullptr &&
                         fully_connected_key(b.v, &key, &acc.fc_rows, &acc.post);
  SharedWeights::Entry* packed = shareable ? build.shared->find(key) : nullptr;
  if (packed != nullptr) {
    // Same weights as an earlier op: run its operator, set up for this op each time.
    acc.fc_input = b.in_data[0];
    acc.fc_output = b.out_data;
    if (!b.counting()) {
      acc.op = packed->op;
      acc.setup_each_run = true;
      packed->owner->setup_each_run = true;
    }
    return Status::ok();
  }
  ActiveRegion active(build.region);
  Status created = create_operator(b.v, b.in_data, b.out_data, acc.threadpool, build.reorder, &acc);
  if (build.region->exhausted())
    return Status::error(StatusCode::kArenaTooSmall,
                         "the arena is too small: this model needs more than the %zu bytes left after its "
                         "activations for XNNPACK's packed weights (Session::arena_bytes_needed tells the total)",
                         build.region->capacity());
  EG_RETURN_IF_ERROR(created);
  if (shareable) {
    acc.fc_input = b.in_data[0];
    acc.fc_output = b.out_data;
    if (!build.shared->add({key, acc.op, b.counting() ? nullptr : &acc}))
      return Status::error(StatusCode::kOutOfMemory, "no memory to record packed weights");
  }
  return Status::ok();
}

// Our own convolution kernels whose weights a streaming session packs into
// the WeightStream buffer before each run instead of once at prepare.
bool packs_own_stream(Executor executor) {
  return executor == Executor::kPackedConv || executor == Executor::kNarrowConv;
}

// Weight streaming: whether `b`'s weights are packed at each run instead
// of once here. Convolutions and fully connected layers with a constant
// weight of at least stream_weights_min_bytes.
bool streams_weights(const OpBuild& b) {
  const size_t min_bytes = b.build.stream_weights_min_bytes;
  if (min_bytes == 0) return false;
  const OpCode code = b.v.code();
  const bool product = b.acc.executor == Executor::kConvGemm || packs_own_stream(b.acc.executor) ||
                       (b.acc.executor == Executor::kXnnpack &&
                        (code == OpCode::kConv2d || code == OpCode::kFullyConnected || code == OpCode::kMatMul));
  if (!product || b.v.num_inputs() < 2 || !b.v.is_constant(1)) return false;
  return float_bytes(shape_of(b.v.input(1))) >= min_bytes;
}

// Bytes of a streamed layer's weights packed by our own kernel (its plan's).
size_t own_stream_packed_bytes(const AcceleratedOp& acc) {
  return acc.executor == Executor::kPackedConv ? packed_conv_region_bytes(acc.packed_conv)
                                                : narrow_conv_floats(acc.narrow_conv) * sizeof(float);
}

// Packs a streamed layer of our own kernels into the stream buffer, on
// `pool`'s threads, and points its plan there.
void pack_own_stream(AcceleratedOp& acc, pthreadpool_t pool) {
  const WeightStream& stream = *acc.stream;
  const OpView v{*stream.model, *stream.graph, *acc.source, stream.widened};
  float* memory = reinterpret_cast<float*>(stream.packed);
  if (acc.executor == Executor::kPackedConv) pack_packed_conv(v, memory, &acc.packed_conv, pool);
  else pack_narrow_conv(v, memory, &acc.narrow_conv, pool);
}

// Drops the pages a streamed op's constants occupy in the mapped model file.
void release_weight_pages(const OpView& v) {
  for (size_t i = 1; i < v.num_inputs(); ++i)
    if (v.has_input(i) && v.is_constant(i)) {
      const uint32_t buffer = v.input(i).buffer();
      MappedFile::release_pages(v.model.buffer_data(buffer), v.model.root()->buffers()->Get(buffer)->size());
    }
}

// A streamed op at prepare: its operator is created once on the heap to
// measure what packing it takes (XNNPACK's allocations, the reordered
// convolution weights), then deleted; build_graph sizes the graph's one
// WeightStream for the largest. Our own convolutions' packing is sized by
// their plan (set_up_executor made it).
Status measure_streamed_operator(OpBuild& b, size_t* packed_bytes, size_t* reorder_floats) {
  AcceleratedOp& acc = b.acc;
  acc.source = &b.v.op;
  if (packs_own_stream(acc.executor)) {
    *packed_bytes = own_stream_packed_bytes(acc);
    *reorder_floats = 0;
    return Status::ok();
  }
  MemoryRegion counter(nullptr, 0);
  ReorderBuffer reorder;
  Status created;
  {
    ActiveRegion active(&counter);
    created = create_operator(b.v, b.in_data, b.out_data, acc.threadpool, &reorder, &acc);
    if (acc.op != nullptr) xnn_delete_operator(acc.op);
    acc.op = nullptr;
  }
  EG_RETURN_IF_ERROR(created);
  if (b.build.release_weight_pages) release_weight_pages(b.v);
  *packed_bytes = counter.used();
  *reorder_floats = 0;
  if (b.v.code() == OpCode::kConv2d) {
    const ConvGeometry g = conv_geometry(b.v);
    *reorder_floats = g.weight_count + static_cast<size_t>(g.kh * g.kw * g.out_channels);
  }
  // The activation XNNPACK cannot fuse (SiLU) runs after the op, as for a
  // packed op (set_up_executor ran before `post` was known).
  if (acc.post.kind != ActivationKind::kNone) {
    acc.post_data = b.out_data;
    acc.post_count = static_cast<size_t>(shape_of(b.v.output(0)).num_elements());
  }
  acc.stream_in = b.in_data[0];
  acc.stream_out = b.out_data;
  return Status::ok();
}

// Running a streamed op: its weights packed into the stream's buffer by our
// own kernel's packing (on `pool`'s threads), or its operator created there
// (no heap: XNNPACK's allocations go to that region) and set up as at prepare.
Status create_streamed_operator(AcceleratedOp& acc, pthreadpool_t pool) {
  const WeightStream& stream = *acc.stream;
  if (acc.prepacked != nullptr) {  // packed earlier, in a pre-packed weights file
    if (acc.executor == Executor::kPackedConv) point_packed_conv_at(acc.prepacked, &acc.packed_conv);
    else point_narrow_conv_at(acc.prepacked, &acc.narrow_conv);
    return Status::ok();
  }
  if (packs_own_stream(acc.executor)) {
    pack_own_stream(acc, pool);
    return Status::ok();
  }
  MemoryRegion region(stream.packed, stream.packed_bytes);
  ReorderBuffer reorder(stream.reorder, stream.reorder_floats);
  const OpView v{*stream.model, *stream.graph, *acc.source, stream.widened};
  const float* in[kMaxConversions] = {acc.stream_in};
  ActiveRegion active(&region);
  Status created = create_operator(v, in, acc.stream_out, acc.threadpool, &reorder, &acc);
  if (!created.is_ok() && acc.op != nullptr) {
    xnn_delete_operator(acc.op);
    acc.op = nullptr;
  }
  return created;
}

void delete_streamed_operator(AcceleratedOp& acc) {
  if (acc.op != nullptr) xnn_delete_operator(acc.op);  // its memory is the stream's: nothing is freed
  acc.op = nullptr;
  const WeightStream& stream = *acc.stream;
  if (!stream.release_pages) return;
  if (acc.prepacked != nullptr) MappedFile::release_pages(acc.prepacked, acc.prepacked_bytes);
  else release_weight_pages(OpView{*stream.model, *stream.graph, *acc.source, stream.widened});
}

// Handing an op to the worker threads costs a few microseconds (waking
// them, waiting for the last): below about that much work, one thread is
// faster, and a token decoder's step or a small MLP is all such ops (issue
// 12: more threads must never be slower). Work is multiply-adds for the
// products, elements for the rest.
int64_t min_parallel_macs = kMinParallelMacs;
int64_t min_parallel_elements = kMinParallelElements;

// What the op's executor needs beyond its operands: an XNNPACK operator,
// packed int8 weights, or the sizes our own kernels loop over.
Status set_up_executor(OpBuild& b) {
  const OpView& v = b.v;
  AcceleratedOp& acc = b.acc;
  switch (acc.executor) {
    case Executor::kXnnpack:
    case Executor::kDeconvGemm:
    case Executor::kConvGemm:
      // Streamed: measured here, created at each run (build_graph).
      if (streams_weights(b)) break;
      // While counting without measuring the region, no operator is created.
      if (!b.counting() || b.build.measure_region) EG_RETURN_IF_ERROR(set_up_xnnpack_operator(b));
      break;
    case Executor::kQGemm:
      EG_RETURN_IF_ERROR(place_quantized_gemm(b.build, b.state, &acc.qgemm));
      break;
    case Executor::kQuantizedAdd:
      quantized_add_layout(v, b.layout.natural, b.layout.decisions[b.index].int8_nhwc, &acc);
      break;
    case Executor::kDepthwiseInt8: {
      uint8_t* memory = static_cast<uint8_t*>(b.build.persistent->allocate_bytes(depthwise_int8_bytes(v)));
      if (!b.counting()) {
        if (memory == nullptr)
          return Status::error(StatusCode::kArenaTooSmall, "the arena is too small for the weights of '%s'",
                               b.state->context.op_name);
        EG_RETURN_IF_ERROR(place_depthwise_int8(v, b.state->context, memory, &acc.depthwise_int8));
      }
      break;
    }
    case Executor::kQuantizedConcat:
      for (size_t k = 0; k < v.num_inputs(); ++k)
        if (b.layout.natural[v.input_index(k)] == Layout::kNhwc) acc.concat_nhwc_inputs |= static_cast<uint8_t>(1u << k);
      acc.concat_y_nhwc = b.layout.decisions[b.index].int8_nhwc;
      break;
    case Executor::kLookup: {
      uint8_t* table = static_cast<uint8_t*>(b.build.persistent->allocate_bytes(256));
      if (!b.counting()) {
        if (table == nullptr)
          return Status::error(StatusCode::kArenaTooSmall, "the arena is too small for the table of '%s'",
                               b.state->context.op_name);
        EG_RETURN_IF_ERROR(quantized_unary_table(b.state->context, table));
      }
      acc.lookup_table = table;
      break;
    }
    case Executor::kRecurrent:
      // While counting without measuring the region, nothing is packed.
      if (acc.recurrent.fast && (!b.counting() || b.build.measure_region))
        EG_RETURN_IF_ERROR(
            prepare_recurrent_layer(v, b.build.region, acc.threadpool, min_parallel_macs, &acc.recurrent));
      break;
    case Executor::kPackedConv:
      // Streamed: packed at each run (build_graph sizes the stream buffer).
      // While counting without measuring the region, nothing is packed.
      if (!streams_weights(b) && (!b.counting() || b.build.measure_region))
        EG_RETURN_IF_ERROR(prepare_packed_conv(v, b.build.region, acc.threadpool, &acc.packed_conv));
      break;
    case Executor::kDepthwiseConv1d: {
      // Packed once into the persistent arena: [kernel][C] and the bias.
      acc.depthwise = depthwise_conv1d_plan(v);
      acc.post = v.activation();
      const size_t floats = depthwise_conv1d_floats(acc.depthwise);
      float* packed = static_cast<float*>(b.build.persistent->allocate_bytes(floats * sizeof(float)));
      if (!b.counting()) {
        if (packed == nullptr)
          return Status::error(StatusCode::kArenaTooSmall, "the arena is too small for the packed weights of '%s'",
                               b.state->context.op_name);
        pack_depthwise_conv1d(v, packed, &acc.depthwise);
      }
      break;
    }
    case Executor::kSmallConv1d: {
      // Packed once into the persistent arena (a few KiB): the tile loop
      // reads a vector of output channels per tap and input channel.
      acc.small_conv = small_conv1d_plan(v, &acc.post);
      const size_t floats = small_conv1d_floats(acc.small_conv);
      float* packed = static_cast<float*>(b.build.persistent->allocate_bytes(floats * sizeof(float)));
      if (!b.counting()) {
        if (packed == nullptr)
          return Status::error(StatusCode::kArenaTooSmall, "the arena is too small for the packed weights of '%s'",
                               b.state->context.op_name);
        pack_small_conv1d(v, packed, &acc.small_conv);
      }
      break;
    }
    case Executor::kNarrowConv: {
      // Packed once into the persistent arena, like the 1-D direct kernel's;
      // streamed (a UNet's 3x3 convs of 320-1280 channels), packed at each
      // run into the stream buffer by the same code: the same bits.
      acc.narrow_conv = narrow_conv_plan(v, &acc.post);
      if (streams_weights(b)) break;
      const size_t floats = narrow_conv_floats(acc.narrow_conv);
      float* packed = static_cast<float*>(b.build.persistent->allocate_bytes(floats * sizeof(float)));
      if (!b.counting()) {
        if (packed == nullptr)
          return Status::error(StatusCode::kArenaTooSmall, "the arena is too small for the packed weights of '%s'",
                               b.state->context.op_name);
        pack_narrow_conv(v, packed, &acc.narrow_conv, acc.threadpool);
      }
      break;
    }
    case Executor::kGroupNorm:
      acc.groups = v.code() == OpCode::kInstanceNorm ? static_cast<uint32_t>(shape_of(v.input(0)).dims[1])
                                                     : static_cast<uint32_t>(v.int_param(params::kNormGroups));
      // An int8 norm applies its activation before it quantizes.
      if (!is_8bit(v.input(0))) acc.post = v.activation();
      break;
    case Executor::kUnary:
      acc.post = v.activation();
      break;
    case Executor::kMatMul:
      matmul_batches(v, &acc);
      acc.post = v.activation();
      break;
    case Executor::kLayerNorm:
      layer_norm_rows(v, &acc);
      acc.post = v.activation();
      break;
    case Executor::kReduce:
      if (acc.nhwc) {  // a global pooling of a channels-last [N, H*W, C]
        const Shape x = shape_of(v.input(0));
        acc.outer = static_cast<size_t>(x.dims[0]);
        acc.count = static_cast<size_t>(spatial_of(x));
        acc.inner = static_cast<size_t>(x.dims[1]);
      } else {
        reduce_run(v, &acc);
      }
      break;
    case Executor::kTranspose:
      transpose_batches(v, &acc);
      break;
    default:
      break;
  }
  if (acc.post.kind != ActivationKind::kNone) {
    acc.post_data = b.out_data;
    acc.post_count = static_cast<size_t>(shape_of(v.output(0)).num_elements());
  }
  return Status::ok();
}

bool worth_splitting(const OpView& v) {
  const Shape out = shape_of(v.output(0));
  const int64_t elements = out.num_elements();
  int64_t reduction = 0;  // the length of each output's sum, for the products
  switch (v.code()) {
    case OpCode::kConv2d: {
      const Shape w = shape_of(v.input(1));
      reduction = w.num_elements() / (w.dims[0] > 0 ? w.dims[0] : 1);
      break;
    }
    case OpCode::kConvTranspose2d: {
      const Shape x = shape_of(v.input(0)), w = shape_of(v.input(1));
      const int64_t per_input = w.num_elements() / (w.dims[0] > 0 ? w.dims[0] : 1);
      return x.num_elements() * per_input >= min_parallel_macs;
    }
    case OpCode::kFullyConnected:
    case OpCode::kMatMul: {
      const Shape x = shape_of(v.input(0));
      reduction = x.rank > 0 ? x.dims[x.rank - 1] : 1;
      break;
    }
    default:
      break;
  }
  if (reduction > 0) return elements * reduction >= min_parallel_macs;
  int64_t largest = elements;  // a reduction reads more than it writes
  for (size_t i = 0; i < v.num_inputs(); ++i)
    if (v.has_input(i)) largest = std::max<int64_t>(largest, shape_of(v.input(i)).num_elements());
  return largest >= min_parallel_elements;
}

}  // namespace

void set_parallel_thresholds_for_testing(int64_t macs, int64_t elements) {
  min_parallel_macs = macs;
  min_parallel_elements = elements;
}

namespace {

bool overlaps(const void* a, size_t a_bytes, const void* b, size_t b_bytes) {
  const uint8_t* x = static_cast<const uint8_t*>(a);
  const uint8_t* y = static_cast<const uint8_t*>(b);
  return x < y + b_bytes && y < x + a_bytes;
}

// A HardSwish (any simd unary) right after a narrow_conv that is its only
// producer and whose output nothing else reads: the convolution writes the
// unary op's output itself, applying it to each chunk while in cache, and
// the unary op does nothing. A MobileNet's stem and expansions: the
// HardSwish pass over a 160x160x64 tensor cost as much as its convolution
// (memory-bound). Only where the unary op's slot cannot be the
// convolution's input (the plan may give it the input's memory).
void fuse_unary_into_convolutions(const GraphBuild& build, const GraphLayout& layout, AcceleratedOp* accelerated) {
  const auto* ops = build.graph->operators();
  for (uint32_t i = 0; i + 1 < ops->size(); ++i) {
    AcceleratedOp& conv = accelerated[i];
    AcceleratedOp& unary = accelerated[i + 1];
    if (conv.executor != Executor::kNarrowConv || unary.executor != Executor::kUnary) continue;
    if (conv.narrow_conv.blocks != 1 || conv.has_after || conv.post.kind != ActivationKind::kNone) continue;
    if (unary.num_before != 0 || unary.has_after || unary.post.kind != ActivationKind::kNone) continue;
    const format::Operator& next = *ops->Get(i + 1);
    const int32_t between = ops->Get(i)->outputs()->Get(0);
    if (next.inputs()->size() != 1 || next.inputs()->Get(0) != between) continue;
    if (layout.last_use[between] != static_cast<int32_t>(i + 1)) continue;  // read later, or a graph output
    const KernelContext& conv_context = build.ops[i].context;
    const Tensor& out = build.ops[i + 1].context.output(0);
    const Tensor& x = conv_context.input(0);
    bool safe = !overlaps(out.data, out.bytes(), x.data, x.bytes());
    for (uint8_t c = 0; c < conv.num_before; ++c)
      safe = safe && !overlaps(out.data, out.bytes(), conv.before[c].to,
                               static_cast<size_t>(conv.before[c].batch) * conv.before[c].channels *
                                   conv.before[c].spatial * sizeof(float));
    if (!safe) continue;
    conv.fused_out = static_cast<float*>(out.data);
    conv.narrow_conv.then_opcode = build.ops[i + 1].context.opcode;
    conv.narrow_conv.then_attributes = &build.ops[i + 1].context.attributes;
    unary.executor = Executor::kFusedAway;
  }
}

// Attention's scores: a MatMul of two activations (our kernel), then
// optionally a Mul by a constant scalar (1/sqrt(d)), then a Softmax over
// the last axis, each the only reader of the one before. The MatMul writes
// the Softmax's output and normalizes each chunk of rows while in cache;
// the Mul and Softmax do nothing. At 64x64 latents a UNet's self-attention
// scores are 8 x 4096 x 4096 floats (512 MiB): the Mul and XNNPACK's
// Softmax were two more passes over them through memory. The scaling is
// the Mul's rounding (the same values); the Softmax is ours
// (simd::softmax_rows). Only where the Softmax's output does not overlap
// the MatMul's inputs (the plan may give it their memory).
void fuse_attention_softmax(const GraphBuild& build, const GraphLayout& layout, AcceleratedOp* accelerated) {
  const auto* ops = build.graph->operators();
  const auto* tensors = build.graph->tensors();
  for (uint32_t i = 0; i + 1 < ops->size(); ++i) {
    AcceleratedOp& product = accelerated[i];
    if (product.executor != Executor::kMatMul || product.num_before || product.has_after ||
        product.post.kind != ActivationKind::kNone)
      continue;
    int32_t scores = ops->Get(i)->outputs()->Get(0);
    if (layout.last_use[scores] != static_cast<int32_t>(i + 1)) continue;  // one reader, next
    uint32_t next = i + 1;
    float scale = 1.f;
    const format::Operator* op = ops->Get(next);
    if (op->opcode() == static_cast<uint32_t>(OpCode::kMul)) {
      const OpView mul{*build.model, *build.graph, *op, build.widened};
      if (op->inputs()->size() != 2 || mul.num_inputs() != 2 || !mul.has_input(0) || !mul.has_input(1)) continue;
      const size_t constant = mul.input_index(0) == scores ? 1 : 0;
      if (mul.input_index(1 - constant) != scores || !mul.is_constant(constant) ||
          shape_of(mul.input(constant)).num_elements() != 1 || mul.input(constant).dtype() != format::DType::Float32)
        continue;
      const AcceleratedOp& m = accelerated[next];
      if (m.executor == Executor::kReference || m.num_before || m.has_after || m.post.kind != ActivationKind::kNone)
        continue;
      scale = mul.constant(constant)[0];
      scores = op->outputs()->Get(0);
      if (shape_of(*tensors->Get(static_cast<uint32_t>(scores))).num_elements() !=
          shape_of(*tensors->Get(static_cast<uint32_t>(ops->Get(i)->outputs()->Get(0)))).num_elements())
        continue;  // a broadcast
      if (next + 1 >= ops->size() || layout.last_use[scores] != static_cast<int32_t>(next + 1)) continue;
      op = ops->Get(++next);
    }
    if (op->opcode() != static_cast<uint32_t>(OpCode::kSoftmax) || op->inputs()->Get(0) != scores) continue;
    const AcceleratedOp& softmax = accelerated[next];
    // decide: Softmax on XNNPACK only over the last axis.
    if (softmax.executor != Executor::kXnnpack || softmax.num_before || softmax.has_after ||
        softmax.post.kind != ActivationKind::kNone)
      continue;
    const KernelContext& product_context = build.ops[i].context;
    const Tensor& out = build.ops[next].context.output(0);
    if (overlaps(out.data, out.bytes(), product_context.input(0).data, product_context.input(0).bytes()) ||
        overlaps(out.data, out.bytes(), product_context.input(1).data, product_context.input(1).bytes()))
      continue;
    product.fused_out = static_cast<float*>(out.data);
    product.softmax_after = true;
    product.softmax_scale = scale;
    for (uint32_t j = i + 1; j <= next; ++j) accelerated[j].executor = Executor::kFusedAway;
  }
}

}  // namespace

Result<size_t> build_graph(const GraphBuild& build) {
  const format::Graph& graph = *build.graph;
  const auto* ops = graph.operators();
  const bool counting = build.ops == nullptr;
  uint8_t* scratch_base = counting ? nullptr : build.scratch + build.scratch_offset;

  GraphLayout layout;
  EG_RETURN_IF_ERROR(decide_graph_layout(build, scratch_base, &layout));

  size_t max_scratch = layout.bytes;
  AcceleratedOp* accelerated = build.persistent->allocate<AcceleratedOp>(ops->size());
  size_t stream_packed = 0, stream_reorder = 0;  // the largest streamed op's needs
  bool any_streamed = false;
  for (uint32_t i = 0; i < ops->size(); ++i) {
    // Control-flow markers write nothing and are never accelerated; every
    // other op is built on its own, so nothing here spans a branch boundary.
    if (is_control_op(ops->Get(i)->opcode())) continue;
    AcceleratedOp local;
    AcceleratedOp& acc = counting ? local : accelerated[i];
    acc.executor = layout.decisions[i].executor;
    acc.nhwc = layout.decisions[i].nhwc;
    OpBuild b{build, layout, i, OpView{*build.model, graph, *ops->Get(i), build.widened}, acc,
              counting ? nullptr : &build.ops[i], scratch_base};
    // A recurrent layer decides for its parts itself (recurrent_layer.h).
    acc.threadpool = acc.executor == Executor::kRecurrent || worth_splitting(b.v) ? build.threadpool : nullptr;
    reserve_kernel_scratch(b);
    EG_RETURN_IF_ERROR(plan_input_conversions(b));
    plan_output_conversion(b);
    if (b.cursor > max_scratch) max_scratch = b.cursor;
    EG_RETURN_IF_ERROR(redirect_operands(b));
    EG_RETURN_IF_ERROR(set_up_executor(b));
    if (streams_weights(b)) {
      size_t packed = 0, reorder = 0;
      EG_RETURN_IF_ERROR(measure_streamed_operator(b, &packed, &reorder));
      stream_packed = std::max(stream_packed, packed);
      stream_reorder = std::max(stream_reorder, reorder);
      any_streamed = true;
      acc.stream = reinterpret_cast<WeightStream*>(1);  // placed below
    }
    if (counting) {
      if (acc.op != nullptr) xnn_delete_operator(acc.op);
    } else if (acc.executor != Executor::kReference || acc.num_before || acc.has_after) {
      build.ops[i].accelerated = &acc;
      // The reference kernel's scratch stays at the start of the scratch area.
    }
  }
  if (!counting) {
    fuse_unary_into_convolutions(build, layout, accelerated);
    fuse_attention_softmax(build, layout, accelerated);
  }
  if (any_streamed) {
    // One buffer for every streamed op of the graph: they run one at a time.
    WeightStream* stream = build.persistent->allocate<WeightStream>(1);
    // The session's WidenedWeights lives only while it prepares; running
    // reads constants through this copy (it refers to the arena's widened region).
    WidenedWeights* widened = build.widened ? build.persistent->allocate<WidenedWeights>(1) : nullptr;
    uint8_t* packed = static_cast<uint8_t*>(build.persistent->allocate_bytes(stream_packed + 64, 64));
    float* reorder = static_cast<float*>(build.persistent->allocate_bytes((stream_reorder + 16) * sizeof(float), 64));
    if (!counting) {
      if (stream == nullptr || packed == nullptr || reorder == nullptr || (build.widened && widened == nullptr))
        return Status::error(StatusCode::kArenaTooSmall, "the arena is too small for the streamed weights' buffer");
      if (widened != nullptr) *widened = *build.widened;
      *stream = WeightStream{build.model, build.graph, widened, packed, stream_packed + 64, reorder,
                             stream_reorder + 16, build.release_weight_pages};
      for (uint32_t i = 0; i < ops->size(); ++i)
        if (accelerated[i].stream != nullptr) accelerated[i].stream = stream;
    }
  }
  return max_scratch;
}

namespace {

// Element-wise functions on the worker threads, in tiles large enough that
// a tile costs more than handing it out.
constexpr size_t kElementTile = 16384;

struct ElementwiseTask {
  uint32_t opcode;
  const OpAttributes* attributes;  // unary op; null: `activation` in place
  FusedActivation activation;
  const float* in;
  float* out;
};

void elementwise_tile(void* context, size_t start, size_t count) {
  const ElementwiseTask& task = *static_cast<const ElementwiseTask*>(context);
  if (task.attributes != nullptr) simd::unary(task.opcode, *task.attributes, task.in + start, task.out + start, count);
  else simd::activation(task.activation, task.out + start, count);
}

// A channels-last Concat in tiles of pixels on the worker threads (each
// output pixel is one copy of each input's channels: no sums, any split).
constexpr size_t kConcatTile = 1024;

struct ConcatTask {
  const float* const* inputs;
  const size_t* channels;
  size_t num_inputs;
  float* out;
};

void concat_tile(void* context, size_t start, size_t count) {
  const ConcatTask& task = *static_cast<const ConcatTask*>(context);
  const float* inputs[kMaxConversions];
  size_t total = 0;
  for (size_t i = 0; i < task.num_inputs; ++i) {
    inputs[i] = task.inputs[i] + start * task.channels[i];
    total += task.channels[i];
  }
  simd::concat_channels_nhwc(inputs, task.channels, task.num_inputs, task.out + start * total, count);
}

void elementwise(const ElementwiseTask& task, size_t count, pthreadpool_t pool) {
  if (pool == nullptr || count < 2 * kElementTile) {
    elementwise_tile(const_cast<ElementwiseTask*>(&task), 0, count);
    return;
  }
  pthreadpool_parallelize_1d_tile_1d(pool, elementwise_tile, const_cast<ElementwiseTask*>(&task), count,
                                     kElementTile, 0);
}

// Attention's products of two activations on the worker threads: tasks of
// kMatMulRows rows of one batch item (a multiple of the kernel's 4-row tile,
// so every element is summed as on one thread: the same bits).
constexpr size_t kMatMulRows = 64;

struct MatMulTask {
  const float* a;
  const float* b;
  float* c;
  size_t m, k, n, a_stride, b_stride, chunks_per_item;
  bool softmax;  // then each row softmax(scale * row)
  float scale;
};

void matmul_chunk(void* context, size_t chunk) {
  const MatMulTask& t = *static_cast<const MatMulTask*>(context);
  const size_t item = chunk / t.chunks_per_item;
  const size_t first_row = chunk % t.chunks_per_item * kMatMulRows;
  const size_t rows = std::min(kMatMulRows, t.m - first_row);
  float* c = t.c + item * t.m * t.n + first_row * t.n;
  simd::batched_matmul(t.a + item * t.a_stride + first_row * t.k, t.b + item * t.b_stride, c, 1, rows, t.k, t.n, 0,
                       0);
  if (t.softmax) simd::softmax_rows(c, c, rows, t.n, t.scale);  // 64 rows of scores: in L2
}

void matmul(const AcceleratedOp& acc, pthreadpool_t pool, const float* a, const float* b, float* c) {
  const size_t chunks_per_item = (acc.m + kMatMulRows - 1) / kMatMulRows;
  if (!acc.softmax_after && (pool == nullptr || acc.batch * chunks_per_item < 2)) {
    simd::batched_matmul(a, b, c, acc.batch, acc.m, acc.k, acc.n, acc.a_stride, acc.b_stride);
    return;
  }
  MatMulTask task{a,           b, c, acc.m, acc.k, acc.n, acc.a_stride, acc.b_stride, chunks_per_item,
                  acc.softmax_after, acc.softmax_scale};
  pthreadpool_parallelize_1d(pool, matmul_chunk, &task, acc.batch * chunks_per_item, 0);
}

void convert(const Conversion& c) {
  if (c.via != nullptr) {
    std::memcpy(c.via, c.from, static_cast<size_t>(c.batch) * c.channels * c.spatial * sizeof(float));
    if (c.to_nhwc) simd::nchw_to_nhwc(c.via, c.to, c.batch, c.channels, c.spatial);
    else simd::nhwc_to_nchw(c.via, c.to, c.batch, c.channels, c.spatial);
    return;
  }
  if (c.to_nhwc) simd::nchw_to_nhwc(c.from, c.to, c.batch, c.channels, c.spatial);
  else simd::nhwc_to_nchw(c.from, c.to, c.batch, c.channels, c.spatial);
}

}  // namespace

namespace {

// One op, its operator existing (created at prepare or, streamed, just now).
Status run_operator(const OpState& state, pthreadpool_t pool) {
  const AcceleratedOp& acc = *state.accelerated;
  const KernelContext& context = state.context;
  for (uint8_t i = 0; i < acc.num_before; ++i) convert(acc.before[i]);
  switch (acc.executor) {
    case Executor::kReference:
      EG_RETURN_IF_ERROR(state.kernel->eval(context));
      break;
    case Executor::kXnnpack:
      if (acc.setup_each_run && xnn_setup_fully_connected_nc_f32(acc.op, acc.fc_rows, acc.fc_input, acc.fc_output,
                                                                 pool) != xnn_status_success)
        return Status::error(StatusCode::kInternal, "XNNPACK failed to set up %s '%s'", op_name(context.opcode),
                             context.op_name);
      if (xnn_run_operator(acc.op, pool) != xnn_status_success)
        return Status::error(StatusCode::kInternal, "XNNPACK failed to run %s '%s'", op_name(context.opcode),
                             context.op_name);
      break;
    case Executor::kDeconvGemm:
      EG_RETURN_IF_ERROR(run_deconv_gemm(acc.deconv, acc.op, pool, acc.kernel_scratch,
                                         context.input(0).data_as<const float>(), context.output(0).data_as<float>(),
                                         context.op_name));
      break;
    case Executor::kConvGemm:
      EG_RETURN_IF_ERROR(run_conv_gemm(acc.conv, acc.op, pool, acc.kernel_scratch,
                                       context.input(0).data_as<const float>(), context.output(0).data_as<float>(),
                                       context.op_name));
      break;
    case Executor::kPackedConv:
      run_packed_conv(acc.packed_conv, pool, context.input(0).data_as<const float>(),
                      context.output(0).data_as<float>());
      break;
    case Executor::kNarrowConv:
      run_narrow_conv(acc.narrow_conv, pool, context.input(0).data_as<const float>(),
                      acc.fused_out != nullptr ? acc.fused_out : context.output(0).data_as<float>());
      break;
    case Executor::kFusedAway:
      break;
    case Executor::kSmallConv1d:
      run_small_conv1d(acc.small_conv, pool, context.input(0).data_as<const float>(),
                       context.output(0).data_as<float>());
      break;
    case Executor::kDepthwiseConv1d:
      run_depthwise_conv1d(acc.depthwise, pool, context.input(0).data_as<const float>(),
                           context.output(0).data_as<float>());
      break;
    case Executor::kDepthwiseInt8:
      run_depthwise_int8(acc.depthwise_int8, pool, context.input(0).data_as<const int8_t>(),
                         context.output(0).data_as<int8_t>());
      break;
    case Executor::kQuantizedConcat: {
      const Tensor& y = context.output(0);
      simd::QuantizedConcatInput inputs[kMaxConversions];
      for (size_t k = 0; k < context.num_inputs; ++k) {
        const Tensor& x = context.input(k);
        simd::QuantizedConcatInput& in = inputs[k];
        in.data = x.data_as<const int8_t>();
        in.channels = static_cast<size_t>(x.shape.dims[1]);
        in.nhwc = (acc.concat_nhwc_inputs >> k) & 1u;
        in.copy = copied_as_is(x, y, &in.requantize);
      }
      simd::quantized_concat(inputs, context.num_inputs, y.data_as<int8_t>(), static_cast<size_t>(y.shape.dims[0]),
                             static_cast<size_t>(y.shape.dims[1]), static_cast<size_t>(spatial_of(y.shape)),
                             acc.concat_y_nhwc);
      break;
    }
    case Executor::kLookup:
      simd::byte_lookup(acc.lookup_table, context.input(0).data_as<const uint8_t>(),
                        context.output(0).data_as<uint8_t>(), context.output(0).num_elements());
      break;
    case Executor::kQuantizedAdd: {
      QuantizedAdd add;
      EG_RETURN_IF_ERROR(quantized_add_of(context, &add));
      simd::QuantizedAddOperand a = acc.qadd_operands[0], b = acc.qadd_operands[1];
      a.data = context.input(0).data_as<const int8_t>();
      b.data = context.input(1).data_as<const int8_t>();
      simd::quantized_add(add, a, b, context.output(0).data_as<int8_t>(), acc.qadd_shape);
      break;
    }
    case Executor::kQGemm:
      run_quantized_gemm(acc.qgemm, context.input(0).data_as<const int8_t>(), context.output(0).data_as<int8_t>(),
                         pool);
      break;
    case Executor::kRecurrent:
      if (acc.recurrent.fast) EG_RETURN_IF_ERROR(run_recurrent_layer(acc.recurrent, pool, context));
      else EG_RETURN_IF_ERROR(run_recurrent(context, simd::kFastRecurrentMath));
      break;
    case Executor::kQuantizeLinear:
      if (context.opcode == static_cast<uint32_t>(OpCode::kQuantizeLinear))
        simd::quantize_linear(context.input(0), context.output(0));
      else
        simd::dequantize_linear(context.input(0), context.output(0));
      break;
    case Executor::kUnary:
      elementwise({context.opcode, &context.attributes, FusedActivation{}, context.input(0).data_as<const float>(),
                   context.output(0).data_as<float>()},
                  context.output(0).num_elements(), pool);
      break;
    case Executor::kGroupNorm: {
      const Tensor& x = context.input(0);
      size_t spatial = 1;
      for (int d = 2; d < x.shape.rank; ++d) spatial *= static_cast<size_t>(x.shape.dims[d]);
      if (x.dtype == DType::kInt8) {
        const Tensor& y = context.output(0);
        simd::GroupNormInt8 g;
        g.batch = static_cast<size_t>(x.shape.dims[0]), g.channels = static_cast<size_t>(x.shape.dims[1]);
        g.spatial = spatial, g.groups = acc.groups;
        g.gamma = context.input(1).data_as<const float>(), g.beta = context.input(2).data_as<const float>();
        g.x_scale = x.quant.scale(), g.epsilon = context.float_param(params::kEpsilon);
        g.output = quantized_group_norm_output(y.quant.scale(), y.quant.zero_point(), y.dtype);
        g.activation = context.attributes.activation;
        auto group_norm = acc.nhwc ? simd::group_norm_int8_nhwc : simd::group_norm_int8_nchw;
        group_norm(g, x.data_as<const int8_t>(), y.data_as<int8_t>(), acc.kernel_scratch);
        break;
      }
      auto group_norm = acc.nhwc ? simd::group_norm_nhwc : simd::group_norm_nchw;
      group_norm(x.data_as<const float>(), context.input(1).data_as<const float>(),
                 context.input(2).data_as<const float>(), context.output(0).data_as<float>(),
                 static_cast<size_t>(x.shape.dims[0]), static_cast<size_t>(x.shape.dims[1]), spatial, acc.groups,
                 context.float_param(params::kEpsilon), FusedActivation{}, acc.kernel_scratch);
      break;
    }
    case Executor::kResizeNearest: {
      const Tensor& x = context.input(0);
      const Tensor& y = context.output(0);
      auto run = [&](auto resize, const auto* in, auto* out) {
        resize(in, out, static_cast<size_t>(x.shape.dims[0]), static_cast<size_t>(x.shape.dims[1]), x.shape.dims[2],
               x.shape.dims[3], y.shape.dims[2], y.shape.dims[3], context.float_param(params::kResizeScaleH),
               context.float_param(params::kResizeScaleW), context.int_param(params::kResizeCoordinate),
               context.int_param(params::kResizeNearest));
      };
      if (x.dtype == DType::kFloat32)
        run(acc.nhwc ? simd::resize_nearest_nhwc<float> : simd::resize_nearest_nchw<float>, x.data_as<const float>(),
            y.data_as<float>());
      else  // int8 or uint8 (decide): the same bytes
        run(acc.nhwc ? simd::resize_nearest_nhwc<int8_t> : simd::resize_nearest_nchw<int8_t>,
            x.data_as<const int8_t>(), y.data_as<int8_t>());
      break;
    }
    case Executor::kMatMul:
      matmul(acc, pool, context.input(0).data_as<const float>(), context.input(1).data_as<const float>(),
             acc.fused_out != nullptr ? acc.fused_out : context.output(0).data_as<float>());
      break;
    case Executor::kLogSoftmax: {
      const Shape x = context.input(0).shape;
      const size_t cols = static_cast<size_t>(x.dims[x.rank - 1]);
      simd::log_softmax_rows(context.input(0).data_as<const float>(), context.output(0).data_as<float>(),
                             cols ? x.num_elements() / cols : 0, cols);
      break;
    }
    case Executor::kLayerNorm:
      simd::layer_norm(context.input(0).data_as<const float>(), context.input(1).data_as<const float>(),
                       context.has_input(2) ? context.input(2).data_as<const float>() : nullptr,
                       context.output(0).data_as<float>(), acc.outer, acc.count, context.float_param(params::kEpsilon));
      break;
    case Executor::kReduce:
      simd::reduce(context.opcode, context.input(0).data_as<const float>(), context.output(0).data_as<float>(),
                   acc.outer, acc.count, acc.inner);
      break;
    case Executor::kTranspose:
      // [outer, count, inner] -> [outer, inner, count] is the NCHW -> NHWC conversion.
      simd::nchw_to_nhwc(context.input(0).data_as<const float>(), context.output(0).data_as<float>(), acc.outer,
                         acc.count, acc.inner);
      break;
    case Executor::kConcat: {
      const float* inputs[kMaxConversions];
      size_t channels[kMaxConversions];
      const Tensor& first = context.input(0);
      size_t pixels = static_cast<size_t>(first.shape.dims[0]);
      for (int d = 2; d < first.shape.rank; ++d) pixels *= static_cast<size_t>(first.shape.dims[d]);
      for (size_t i = 0; i < context.num_inputs; ++i) {
        inputs[i] = context.input(i).data_as<const float>();
        channels[i] = static_cast<size_t>(context.input(i).shape.dims[1]);
      }
      ConcatTask task{inputs, channels, context.num_inputs, context.output(0).data_as<float>()};
      if (pool == nullptr || pixels < 2 * kConcatTile)
        concat_tile(&task, 0, pixels);
      else
        pthreadpool_parallelize_1d_tile_1d(pool, concat_tile, &task, pixels, kConcatTile, 0);
      break;
    }
  }
  if (acc.post.kind != ActivationKind::kNone)
    elementwise({0, nullptr, acc.post, nullptr, acc.post_data}, acc.post_count, pool);
  if (acc.has_after) convert(acc.after);
  return Status::ok();
}

}  // namespace

Status run(const OpState& state, bool serial) {
  // Serial: every op on the calling thread (core/split_trial.h); XNNPACK's
  // operators run their tiles in order without a pool.
  pthreadpool_t pool = serial ? nullptr : state.accelerated->threadpool;
  if (state.accelerated->stream != nullptr) {
    EG_RETURN_IF_ERROR(create_streamed_operator(*state.accelerated, pool));
    Status status = run_operator(state, pool);
    delete_streamed_operator(*state.accelerated);
    return status;
  }
  return run_operator(state, pool);
}

bool prepackable_layer(const OpState& op, PrepackableLayer* layer) {
  const AcceleratedOp* acc = op.accelerated;
  if (acc == nullptr || acc->stream == nullptr || !packs_own_stream(acc->executor)) return false;
  const uint64_t key = acc->executor == Executor::kPackedConv ? packed_conv_layout_key(acc->packed_conv)
                                                               : narrow_conv_layout_key(acc->narrow_conv);
  layer->layout_key = prepacked_fingerprint(&acc->executor, sizeof acc->executor, key);
  layer->bytes = own_stream_packed_bytes(*acc);
  return true;
}

uint64_t prepacked_weights_fingerprint(const OpState& op) {
  const WeightStream& stream = *op.accelerated->stream;
  const OpView v{*stream.model, *stream.graph, *op.accelerated->source, stream.widened};
  uint64_t fingerprint = 0;
  for (size_t i = 1; i < 3 && i < v.num_inputs(); ++i)
    if (v.has_input(i) && v.is_constant(i))
      fingerprint = prepacked_sample_fingerprint(
          v.constant(i), static_cast<size_t>(shape_of(v.input(i)).num_elements()), fingerprint);
  // The samples faulted in pages around them (the kernel maps 64 KiB per
  // fault): hundreds of MB over a UNet's layers unless dropped at once.
  if (stream.release_pages) release_weight_pages(v);
  return fingerprint;
}

const void* pack_streamed_layer(OpState& op, pthreadpool_t pool) {
  AcceleratedOp& acc = *op.accelerated;
  pack_own_stream(acc, pool);
  const WeightStream& stream = *acc.stream;
  if (stream.release_pages) release_weight_pages(OpView{*stream.model, *stream.graph, *acc.source, stream.widened});
  return acc.executor == Executor::kPackedConv ? static_cast<const void*>(acc.packed_conv.packed)
                                                : static_cast<const void*>(acc.narrow_conv.packed);
}

void use_prepacked_layer(OpState& op, const void* data, size_t bytes) {
  op.accelerated->prepacked = static_cast<const float*>(data);
  op.accelerated->prepacked_bytes = data != nullptr ? bytes : 0;
}

bool splits_work(const OpState& op) { return op.accelerated != nullptr && op.accelerated->threadpool != nullptr; }

const char* executor_name(const OpState& op) {
  if (op.accelerated == nullptr) return "reference";
  switch (op.accelerated->executor) {
    case Executor::kReference: return "reference";
    case Executor::kXnnpack:
    case Executor::kDeconvGemm: return "xnnpack";
    case Executor::kConvGemm: return "im2col";
    case Executor::kQGemm: return "qgemm";
    case Executor::kDepthwiseInt8: return "direct";
    case Executor::kSmallConv1d:
    case Executor::kDepthwiseConv1d: return "direct";
    case Executor::kPackedConv: return "packed";
    case Executor::kNarrowConv: return "narrow";
    case Executor::kFusedAway: return "fused";
    default: return "simd";
  }
}

int num_conversions(const OpState& op) {
  if (op.accelerated == nullptr) return 0;
  return op.accelerated->num_before + (op.accelerated->has_after ? 1 : 0);
}

}  // namespace xnnpack
}  // namespace edgegen
