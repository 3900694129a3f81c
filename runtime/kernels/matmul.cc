// MatMul with numpy.matmul semantics: a [..., M, K] x b [..., K, N] with
// broadcast batch dims; a rank-1 a is a row [1, K] and a rank-1 b a column
// [K, 1], and the added dim is dropped from the output.
// Quantized (ONNX QLinearMatMul, MatMulInteger): int8/uint8 a and b, each
// with one scale and zero point; the int32 sums (a - a_zp)(b - b_zp) are
// requantized to a's dtype, or output as int32 (params::kMatMulInt32Output).
#include "kernels/kernel_util.h"
#include "kernels/quantization.h"
#include "ops/op_params.h"

namespace edgegen {
namespace {

// The operands seen as batches of matrices, batch dims aligned to the right
// and padded with 1 to the output's batch rank.
struct MatMulShape {
  int64_t m = 1, k = 1, n = 1;
  int batch_rank = 0;
  int64_t batch[kMaxRank] = {};
  int64_t a_batch[kMaxRank] = {};
  int64_t b_batch[kMaxRank] = {};
};

MatMulShape matmul_shape(const Shape& a, const Shape& b) {
  MatMulShape s;
  s.m = a.rank >= 2 ? a.dims[a.rank - 2] : 1;
  s.k = a.dims[a.rank - 1];
  s.n = b.rank >= 2 ? b.dims[b.rank - 1] : 1;
  const int a_batch_rank = a.rank > 2 ? a.rank - 2 : 0;
  const int b_batch_rank = b.rank > 2 ? b.rank - 2 : 0;
  s.batch_rank = a_batch_rank > b_batch_rank ? a_batch_rank : b_batch_rank;
  for (int i = 0; i < s.batch_rank; ++i) {
    const int ia = i - (s.batch_rank - a_batch_rank), ib = i - (s.batch_rank - b_batch_rank);
    s.a_batch[i] = ia >= 0 ? a.dims[ia] : 1;
    s.b_batch[i] = ib >= 0 ? b.dims[ib] : 1;
    s.batch[i] = s.a_batch[i] == 1 ? s.b_batch[i] : s.a_batch[i];
  }
  return s;
}

// Both operands int8 or uint8 with one scale and zero point each; the
// output a's dtype with one (when declared), or int32.
Status check_quantized_matmul(const KernelContext& context, bool int32_output) {
  for (size_t i = 0; i < 2; ++i) {
    const Tensor& t = context.input(i);
    if (!is_quantized_dtype(t.dtype) || !t.quant.per_tensor() || !t.quant.present())
      return op_error(context, StatusCode::kInvalidModel,
                      "input '%s' (%s) must be int8 or uint8 with one scale and zero point", t.name,
                      dtype_name(t.dtype));
  }
  const Tensor& y = context.output(0);
  if (!int32_output && y.quant.present() && !y.quant.per_tensor())
    return op_error(context, StatusCode::kInvalidModel, "output '%s' needs one scale and zero point", y.name);
  return Status::ok();
}

Status matmul_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 2, 2, 1));
  bool int32_output = false;
  EG_RETURN_IF_ERROR(read_int32_output_flag(context, params::kMatMulInt32Output, &int32_output));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, context.attributes.num_ints, 0));
  if (context.attributes.activation.kind != ActivationKind::kNone)
    return op_error(context, StatusCode::kInvalidModel, "does not accept a fused activation");
  const bool quantized = is_quantized_dtype(context.input(0).dtype);
  if (quantized) {
    EG_RETURN_IF_ERROR(check_quantized_matmul(context, int32_output));
  } else {
    EG_RETURN_IF_ERROR(check_input_dtype(context, 0, DType::kFloat32));
    EG_RETURN_IF_ERROR(check_input_dtype(context, 1, DType::kFloat32));
  }
  EG_RETURN_IF_ERROR(check_input_rank(context, 0, 1, kMaxRank));
  EG_RETURN_IF_ERROR(check_input_rank(context, 1, 1, kMaxRank));

  const Tensor& a = context.input(0);
  const Tensor& b = context.input(1);
  char as[96], bs[96];
  const int64_t b_k = b.shape.rank >= 2 ? b.shape.dims[b.shape.rank - 2] : b.shape.dims[0];
  const MatMulShape s = matmul_shape(a.shape, b.shape);
  if (b_k != s.k)
    return op_error(context, StatusCode::kInvalidModel, "inner dims of '%s' %s and '%s' %s differ", a.name,
                    format_shape(a.shape, as, sizeof as), b.name, format_shape(b.shape, bs, sizeof bs));
  for (int i = 0; i < s.batch_rank; ++i)
    if (s.a_batch[i] != s.b_batch[i] && s.a_batch[i] != 1 && s.b_batch[i] != 1)
      return op_error(context, StatusCode::kInvalidModel, "batch dims of '%s' %s and '%s' %s do not broadcast",
                      a.name, format_shape(a.shape, as, sizeof as), b.name, format_shape(b.shape, bs, sizeof bs));

  Shape out;
  for (int i = 0; i < s.batch_rank; ++i) out.dims[out.rank++] = s.batch[i];
  if (a.shape.rank >= 2) out.dims[out.rank++] = s.m;
  if (b.shape.rank >= 2) out.dims[out.rank++] = s.n;
  if (quantized) context.scratch_bytes = static_cast<size_t>(s.n) * sizeof(int32_t);
  return set_output(context, 0, int32_output ? DType::kInt32 : quantized ? a.dtype : DType::kFloat32, out);
}

// c[M, N] = a[M, K] * b[K, N], row-major; the inner loop runs along rows of
// b and c so it is contiguous.
void matmul_2d(const float* a, const float* b, float* c, int64_t m, int64_t k, int64_t n) {
  for (int64_t i = 0; i < m; ++i) {
    float* c_row = c + i * n;
    for (int64_t j = 0; j < n; ++j) c_row[j] = 0.f;
    for (int64_t p = 0; p < k; ++p) {
      const float a_value = a[i * k + p];
      const float* b_row = b + p * n;
      for (int64_t j = 0; j < n; ++j) c_row[j] += a_value * b_row[j];
    }
  }
}

// The quantized c[M, N] from a[M, K], b[K, N]: int32 sums in `acc` [N],
// then requantized (Out = A) or stored as they are (Out = int32_t).
template <typename A, typename B, typename Out>
void matmul_2d_quantized(const A* a, const B* b, Out* c, int64_t m, int64_t k, int64_t n, int32_t a_zero,
                         int32_t b_zero, const Requantize& requantize, int32_t* acc) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) acc[j] = 0;
    for (int64_t p = 0; p < k; ++p) {
      const int32_t a_value = static_cast<int32_t>(a[i * k + p]) - a_zero;
      const B* b_row = b + p * n;
      for (int64_t j = 0; j < n; ++j) acc[j] += a_value * (static_cast<int32_t>(b_row[j]) - b_zero);
    }
    for (int64_t j = 0; j < n; ++j)
      c[i * n + j] = static_cast<Out>(sizeof(Out) == sizeof(int32_t) ? acc[j] : requantize(acc[j]));
  }
}

// One batch of the quantized product, dispatched on the dtypes.
struct QuantizedMatMul {
  const Tensor* a;
  const Tensor* b;
  const Tensor* y;
  Requantize requantize;
  int32_t* acc;

  template <typename A, typename B>
  void run_typed(size_t a_offset, size_t b_offset, size_t c_offset, const MatMulShape& s) const {
    const A* a_data = a->data_as<const A>() + a_offset;
    const B* b_data = b->data_as<const B>() + b_offset;
    const int32_t a_zero = a->quant.zero_point(), b_zero = b->quant.zero_point();
    if (y->dtype == DType::kInt32)
      matmul_2d_quantized(a_data, b_data, y->data_as<int32_t>() + c_offset, s.m, s.k, s.n, a_zero, b_zero, requantize, acc);
    else
      matmul_2d_quantized(a_data, b_data, y->data_as<A>() + c_offset, s.m, s.k, s.n, a_zero, b_zero, requantize, acc);
  }
  void run(size_t a_offset, size_t b_offset, size_t c_offset, const MatMulShape& s) const {
    const bool a_signed = a->dtype == DType::kInt8, b_signed = b->dtype == DType::kInt8;
    if (a_signed && b_signed) run_typed<int8_t, int8_t>(a_offset, b_offset, c_offset, s);
    else if (a_signed) run_typed<int8_t, uint8_t>(a_offset, b_offset, c_offset, s);
    else if (b_signed) run_typed<uint8_t, int8_t>(a_offset, b_offset, c_offset, s);
    else run_typed<uint8_t, uint8_t>(a_offset, b_offset, c_offset, s);
  }
};

Status matmul_eval(const KernelContext& context) {
  const Tensor& a = context.input(0);
  const Tensor& b = context.input(1);
  const MatMulShape s = matmul_shape(a.shape, b.shape);
  const bool quantized = is_quantized_dtype(a.dtype);
  QuantizedMatMul quantized_matmul{&a, &b, &context.output(0), Requantize{}, static_cast<int32_t*>(context.scratch)};
  if (quantized && context.output(0).dtype != DType::kInt32) {
    QuantizedRange range;
    EG_RETURN_IF_ERROR(quantized_output_range(context, context.output(0), &range));
    quantized_matmul.requantize = channel_requantize(a, b, context.output(0), 0, range);
  }

  // Element strides of each batch dim; 0 where the operand is broadcast.
  int64_t a_stride[kMaxRank], b_stride[kMaxRank];
  int64_t a_step = s.m * s.k, b_step = s.k * s.n, batches = 1;
  for (int i = s.batch_rank - 1; i >= 0; --i) {
    a_stride[i] = s.a_batch[i] == 1 ? 0 : a_step;
    b_stride[i] = s.b_batch[i] == 1 ? 0 : b_step;
    a_step *= s.a_batch[i];
    b_step *= s.b_batch[i];
    batches *= s.batch[i];
  }

  const float* a_data = a.data_as<const float>();
  const float* b_data = b.data_as<const float>();
  float* out = context.output(0).data_as<float>();
  int64_t index[kMaxRank] = {};
  int64_t a_offset = 0, b_offset = 0;
  for (int64_t batch = 0; batch < batches; ++batch) {
    if (quantized)
      quantized_matmul.run(static_cast<size_t>(a_offset), static_cast<size_t>(b_offset),
                           static_cast<size_t>(batch * s.m * s.n), s);
    else
      matmul_2d(a_data + a_offset, b_data + b_offset, out + batch * s.m * s.n, s.m, s.k, s.n);
    // Odometer increment of the batch index, keeping both offsets in step.
    for (int i = s.batch_rank - 1; i >= 0; --i) {
      ++index[i];
      a_offset += a_stride[i];
      b_offset += b_stride[i];
      if (index[i] < s.batch[i]) break;
      a_offset -= a_stride[i] * index[i];
      b_offset -= b_stride[i] * index[i];
      index[i] = 0;
    }
  }
  return Status::ok();
}

}  // namespace

extern const Kernel kMatMulKernel = {matmul_infer, matmul_eval};

}  // namespace edgegen
