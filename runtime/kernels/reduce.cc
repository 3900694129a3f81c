// ReduceMean, ReduceSum, ReduceMax, ReduceMin over a set of axes
// (ints {keepdims, axis...}; no axes = every axis). Mean is f32; Sum, Max and
// Min also take i32 and i64 (integer sums wrap around).
//
// Empty reductions follow ONNX (opset 18+): Sum gives 0, Mean 0 / 0 = NaN,
// Max the lowest value of the dtype (-inf for f32), Min the highest (+inf).
// Max and Min propagate NaN, as np.max / np.min.
//
// Each output element walks its reduced elements with an IndexWalker over
// the input strides of the reduced axes; no scratch. The output must not
// alias the input.
#include <cmath>
#include <limits>
#include <type_traits>

#include "kernels/kernel_util.h"
#include "ops/op_params.h"

namespace edgegen {
namespace {

template <typename T>
bool is_nan(T x) {
  if constexpr (std::is_floating_point_v<T>) return std::isnan(x);
  else return false;
}

struct SumReducer {
  template <typename T>
  static T init() { return T{0}; }
  template <typename T>
  static T combine(T acc, T x) {
    if constexpr (std::is_integral_v<T>)
      return static_cast<T>(static_cast<std::make_unsigned_t<T>>(acc) + static_cast<std::make_unsigned_t<T>>(x));
    else return acc + x;
  }
  template <typename T>
  static T finish(T acc, int64_t) { return acc; }
};

struct MeanReducer : SumReducer {
  template <typename T>
  static T finish(T acc, int64_t count) { return acc / static_cast<T>(count); }
};

struct MaxReducer {
  template <typename T>
  static T init() {
    return std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::lowest();
  }
  template <typename T>
  static T combine(T acc, T x) { return (x > acc || is_nan(x)) ? x : acc; }  // a NaN sticks: x > NaN is false
  template <typename T>
  static T finish(T acc, int64_t) { return acc; }
};

struct MinReducer {
  template <typename T>
  static T init() {
    return std::numeric_limits<T>::has_infinity ? std::numeric_limits<T>::infinity() : std::numeric_limits<T>::max();
  }
  template <typename T>
  static T combine(T acc, T x) { return (x < acc || is_nan(x)) ? x : acc; }
  template <typename T>
  static T finish(T acc, int64_t) { return acc; }
};

// Which input axes are reduced, from ints {keepdims, axis...}.
void reduced_axes(const KernelContext& context, int rank, bool* reduced) {
  const size_t num_axes = context.attributes.num_ints - params::kReduceAxes;
  for (int d = 0; d < rank; ++d) reduced[d] = num_axes == 0;
  for (size_t i = 0; i < num_axes; ++i) reduced[context.int_param(params::kReduceAxes + i)] = true;
}

template <bool kIntegerOk>
Status reduce_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 1, 1, 1));
  EG_RETURN_IF_ERROR(check_activation(context, false));
  const Tensor& in = context.input(0);
  const int rank = in.shape.rank;
  const size_t num_ints = context.attributes.num_ints;
  if (num_ints < 1 || num_ints > 1 + static_cast<size_t>(rank) || context.attributes.num_floats != 0)
    return op_error(context, StatusCode::kInvalidModel,
                    "has %zu integer and %zu float attributes, expected {keepdims, up to %d axes} and none", num_ints,
                    context.attributes.num_floats, rank);
  if (in.dtype != DType::kFloat32 && !(kIntegerOk && (in.dtype == DType::kInt32 || in.dtype == DType::kInt64)))
    return op_error(context, StatusCode::kUnsupportedOp, "input 0 '%s' is %s, expected float32%s", in.name,
                    dtype_name(in.dtype), kIntegerOk ? ", int32 or int64" : "");
  const int64_t keepdims = context.int_param(params::kKeepDims);
  if (keepdims != 0 && keepdims != 1)
    return op_error(context, StatusCode::kInvalidModel, "keepdims is %lld, expected 0 or 1",
                    static_cast<long long>(keepdims));
  bool seen[kMaxRank] = {};
  for (size_t i = params::kReduceAxes; i < num_ints; ++i) {
    const int64_t axis = context.int_param(i);
    if (axis < 0 || axis >= rank)
      return op_error(context, StatusCode::kInvalidModel, "axis %lld is out of range for input '%s' of rank %d",
                      static_cast<long long>(axis), in.name, rank);
    if (seen[axis])
      return op_error(context, StatusCode::kInvalidModel, "axis %lld is listed twice", static_cast<long long>(axis));
    seen[axis] = true;
  }

  bool reduced[kMaxRank];
  reduced_axes(context, rank, reduced);
  Shape out;
  for (int d = 0; d < rank; ++d) {
    if (!reduced[d]) out.dims[out.rank++] = in.shape.dims[d];
    else if (keepdims) out.dims[out.rank++] = 1;
  }
  return set_output(context, 0, in.dtype, out);
}

template <typename T, typename Reducer>
void reduce_loop(const KernelContext& context) {
  const Tensor& in = context.input(0);
  const int rank = in.shape.rank;
  bool reduced[kMaxRank];
  reduced_axes(context, rank, reduced);
  int64_t strides[kMaxRank];
  contiguous_strides(in.shape, strides);

  // Split the input axes into kept (the output, in order) and reduced ones.
  int kept_rank = 0, reduced_rank = 0;
  int64_t kept_dims[kMaxRank], kept_strides[kMaxRank], reduced_dims[kMaxRank], reduced_strides[kMaxRank];
  int64_t reduce_count = 1;
  for (int d = 0; d < rank; ++d) {
    if (reduced[d]) {
      reduced_dims[reduced_rank] = in.shape.dims[d];
      reduced_strides[reduced_rank++] = strides[d];
      reduce_count *= in.shape.dims[d];
    } else {
      kept_dims[kept_rank] = in.shape.dims[d];
      kept_strides[kept_rank++] = strides[d];
    }
  }

  const T* src = in.data_as<const T>();
  T* dst = context.output(0).data_as<T>();
  const int64_t out_count = context.output(0).shape.num_elements();
  IndexWalker<1> outer(kept_rank, kept_dims);
  outer.set_strides(0, kept_strides);
  IndexWalker<1> inner(reduced_rank, reduced_dims);  // wraps back to 0 after each output
  inner.set_strides(0, reduced_strides);
  for (int64_t o = 0; o < out_count; ++o) {
    const T* base = src + outer.offset(0);
    T acc = Reducer::template init<T>();
    for (int64_t r = 0; r < reduce_count; ++r) {
      acc = Reducer::combine(acc, base[inner.offset(0)]);
      inner.next();
    }
    dst[o] = Reducer::finish(acc, reduce_count);
    outer.next();
  }
}

template <typename Reducer>
Status reduce_eval(const KernelContext& context) {
  switch (context.input(0).dtype) {
    case DType::kFloat32: reduce_loop<float, Reducer>(context); break;
    case DType::kInt32: reduce_loop<int32_t, Reducer>(context); break;
    case DType::kInt64: reduce_loop<int64_t, Reducer>(context); break;
    default: return op_error(context, StatusCode::kInternal, "dtype not accepted by infer");
  }
  return Status::ok();
}

}  // namespace

extern const Kernel kReduceMeanKernel = {reduce_infer<false>, reduce_eval<MeanReducer>};
extern const Kernel kReduceSumKernel = {reduce_infer<true>, reduce_eval<SumReducer>};
extern const Kernel kReduceMaxKernel = {reduce_infer<true>, reduce_eval<MaxReducer>};
extern const Kernel kReduceMinKernel = {reduce_infer<true>, reduce_eval<MinReducer>};

}  // namespace edgegen
