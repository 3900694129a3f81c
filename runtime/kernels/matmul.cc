// MatMul with numpy.matmul semantics: a [..., M, K] x b [..., K, N] with
// broadcast batch dims; a rank-1 a is a row [1, K] and a rank-1 b a column
// [K, 1], and the added dim is dropped from the output.
#include "kernels/kernel_util.h"

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

Status matmul_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 2, 2, 1));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, 0, 0));
  if (context.attributes.activation.kind != ActivationKind::kNone)
    return op_error(context, StatusCode::kInvalidModel, "does not accept a fused activation");
  EG_RETURN_IF_ERROR(check_input_dtype(context, 0, DType::kFloat32));
  EG_RETURN_IF_ERROR(check_input_dtype(context, 1, DType::kFloat32));
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
  return set_output(context, 0, DType::kFloat32, out);
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

Status matmul_eval(const KernelContext& context) {
  const Tensor& a = context.input(0);
  const Tensor& b = context.input(1);
  const MatMulShape s = matmul_shape(a.shape, b.shape);

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
