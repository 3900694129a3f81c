// Element-wise ONNX ops: activations, arithmetic with broadcasting, Cast,
// Clip, and the ops expressed as short chains of them (PRelu, Selu, ...).
#include <cmath>
#include <limits>

#include "converter/constant_data.h"
#include "converter/lowering/lowering.h"
#include "converter/onnx_tensor.h"

namespace edgegen::converter {
namespace {

// "consumed_inputs" (opset 1) was an in-place hint with no effect on results.
const char kConsumedInputs[] = "consumed_inputs";

template <OpCode kOp>
void lower_plain_unary(NodeContext& node) {
  const IrTensor& x = node.input_tensor(0);
  if ((kOp == OpCode::kNeg || kOp == OpCode::kAbs) && x.is_constant && x.dtype != DType::kFloat32 && is_integer_dtype(x.dtype)) {
    // The kernels are float-only; integer shape arithmetic is folded here.
    std::vector<int64_t> values = read_int64s(x);
    for (int64_t& value : values) value = kOp == OpCode::kNeg ? -value : (value < 0 ? -value : value);
    node.bind_output(0, node.add_constant(make_constant_from_int64s("", x.dtype, x.shape, values)));
    return;
  }
  node.bind_output(0, node.emit(kOp, {node.input(0)}));
}

void lower_leaky_relu(NodeContext& node) {
  node.bind_output(0, node.emit(OpCode::kLeakyRelu, {node.input(0)}, {}, {node.attribute_float("alpha", 0.01f)}));
}

void lower_elu(NodeContext& node) {
  node.bind_output(0, node.emit(OpCode::kElu, {node.input(0)}, {}, {node.attribute_float("alpha", 1.0f)}));
}

void lower_hard_sigmoid(NodeContext& node) {
  node.bind_output(0, node.emit(OpCode::kHardSigmoid, {node.input(0)}, {},
                                {node.attribute_float("alpha", 0.2f), node.attribute_float("beta", 0.5f)}));
}

void lower_hard_swish(NodeContext& node) { node.bind_output(0, node.emit(OpCode::kHardSwish, {node.input(0)})); }

void lower_selu(NodeContext& node) {
  float alpha = node.attribute_float("alpha", 1.67326319217681884765625f);
  float gamma = node.attribute_float("gamma", 1.05070102214813232421875f);
  int elu = node.emit(OpCode::kElu, {node.input(0)}, {}, {alpha});
  node.bind_output(0, node.emit(OpCode::kMul, {elu, node.float_constant({}, {gamma})}));
}

// celu(x) = max(0, x) + min(0, alpha * (exp(x / alpha) - 1)) = alpha * elu(x / alpha)
void lower_celu(NodeContext& node) {
  float alpha = node.attribute_float("alpha", 1.0f);
  if (alpha == 0.f) node.fail("attribute 'alpha' must not be 0");
  int x = node.input(0);
  if (alpha == 1.f) {
    node.bind_output(0, node.emit(OpCode::kElu, {x}, {}, {1.0f}));
    return;
  }
  int scaled = node.emit(OpCode::kDiv, {x, node.float_constant({}, {alpha})});
  int elu = node.emit(OpCode::kElu, {scaled}, {}, {1.0f});
  node.bind_output(0, node.emit(OpCode::kMul, {elu, node.float_constant({}, {alpha})}));
}

void lower_softsign(NodeContext& node) {
  int magnitude = node.emit(OpCode::kAbs, {node.input(0)});
  int denominator = node.emit(OpCode::kAdd, {magnitude, node.float_constant({}, {1.0f})});
  node.bind_output(0, node.emit(OpCode::kDiv, {node.input(0), denominator}));
}

void lower_mish(NodeContext& node) {
  int softplus = node.emit(OpCode::kSoftplus, {node.input(0)});
  int tanh = node.emit(OpCode::kTanh, {softplus});
  node.bind_output(0, node.emit(OpCode::kMul, {node.input(0), tanh}));
}

void lower_gelu(NodeContext& node) {
  std::string approximate = node.attribute_string("approximate", "none");
  int64_t mode = 0;
  if (approximate == "tanh") mode = 1;
  else if (approximate != "none") node.unsupported_attribute("approximate", "'" + approximate + "'", "none, tanh");
  node.bind_output(0, node.emit(OpCode::kGelu, {node.input(0)}, {mode}));
}

void lower_prelu(NodeContext& node) {
  int x = node.input(0), slope = node.input(1);
  std::vector<int64_t> x_shape = node.input_shape(0), slope_shape = node.input_shape(1);
  if (node.opset() < 7 && slope_shape.size() == 1 && x_shape.size() >= 2 && slope_shape[0] == x_shape[1] &&
      slope_shape[0] != 1) {
    // Before opset 7 a [C] slope applies per channel (axis 1), not numpy-style.
    std::vector<int64_t> per_channel(x_shape.size() - 1, 1);
    per_channel[0] = slope_shape[0];
    slope = node.reshape(slope, per_channel);
  }
  const IrTensor slope_tensor = node.builder().tensor(slope);
  if (slope_tensor.is_constant && slope_tensor.dtype == DType::kFloat32) {
    std::vector<float> values = read_floats(slope_tensor);
    bool uniform = !values.empty();
    for (float value : values) uniform = uniform && value == values[0];
    // A single slope broadcasts like a scalar; the output shape is still x's.
    if (uniform && element_count(slope_tensor.shape) == 1 && slope_tensor.shape.size() <= node.input_shape(0).size()) {
      node.bind_output(0, node.emit(OpCode::kLeakyRelu, {x}, {}, {values[0]}));
      return;
    }
  }
  // prelu(x) = max(x, 0) + slope * min(x, 0)
  int zero = node.float_constant({}, {0.0f});
  int positive = node.emit(OpCode::kRelu, {x});
  int negative = node.emit(OpCode::kMin, {x, zero});
  int scaled = node.emit(OpCode::kMul, {negative, slope});
  node.bind_output(0, node.emit(OpCode::kAdd, {positive, scaled}));
}

// Opset < 7 binary ops broadcast only with broadcast=1, aligning B at `axis`.
int legacy_broadcast_operand(NodeContext& node, int a, int b) {
  if (!node.has_attribute("broadcast") && !node.has_attribute("axis")) return b;
  int64_t broadcast = node.attribute_int("broadcast", 0);
  if (broadcast != 0 && broadcast != 1) node.unsupported_attribute("broadcast", std::to_string(broadcast), "0, 1");
  const auto& a_shape = node.builder().tensor(a).shape;
  const auto& b_shape = node.builder().tensor(b).shape;
  if (broadcast == 0) {
    if (node.has_attribute("axis")) node.fail("attribute 'axis' requires broadcast=1");
    if (a_shape != b_shape) node.fail("inputs have different shapes but broadcast=0");
    return b;
  }
  int rank_a = static_cast<int>(a_shape.size()), rank_b = static_cast<int>(b_shape.size());
  int axis = node.has_attribute("axis") ? node.normalize_axis(node.attribute_int("axis", 0), rank_a)
                                        : rank_a - rank_b;
  if (axis < 0 || axis + rank_b > rank_a) node.fail("attribute 'axis' does not fit input B's rank");
  std::vector<int64_t> shape = b_shape;
  shape.resize(static_cast<size_t>(rank_a - axis), 1);
  return node.reshape(b, shape);
}

// x ** e for a constant float x-shaped result and one exponent value e that
// is a product of squares and square roots: Mul / Sqrt / Reciprocal, which
// the fast backends run (a Pow always ran on the reference kernel, and
// RMSNorm and L2 norms square every element). -1 when e is not one of them.
int pow_by_constant(NodeContext& node, int x, int exponent) {
  const IrTensor& base = node.builder().tensor(x);
  const IrTensor& power = node.builder().tensor(exponent);
  if (!power.is_constant || power.dtype != DType::kFloat32 || base.dtype != DType::kFloat32 || base.is_constant)
    return -1;
  // The exponent must not widen the result: it broadcasts into x's shape.
  if (power.shape.size() > base.shape.size()) return -1;
  for (size_t i = 0; i < power.shape.size(); ++i) {
    const int64_t dim = power.shape[power.shape.size() - 1 - i];
    if (dim != 1 && dim != base.shape[base.shape.size() - 1 - i]) return -1;
  }
  const std::vector<float> values = read_floats(power);
  if (values.empty()) return -1;
  for (float value : values)
    if (value != values[0]) return -1;
  const float e = values[0];
  auto square = [&](int t) { return node.emit(OpCode::kMul, {t, t}); };
  if (e == 1.f) return node.emit(OpCode::kIdentity, {x});
  if (e == 2.f) return square(x);
  if (e == 3.f) return node.emit(OpCode::kMul, {square(x), x});
  if (e == 4.f) return square(square(x));
  if (e == 0.5f) return node.emit(OpCode::kSqrt, {x});
  if (e == -1.f) return node.emit(OpCode::kReciprocal, {x});
  if (e == -2.f) return node.emit(OpCode::kReciprocal, {square(x)});
  if (e == -0.5f) return node.emit(OpCode::kReciprocal, {node.emit(OpCode::kSqrt, {x})});
  return -1;
}

template <OpCode kOp>
void lower_binary(NodeContext& node) {
  int a = node.input(0);
  int b = legacy_broadcast_operand(node, a, node.input(1));
  if (kOp == OpCode::kPow) {
    const int rewritten = pow_by_constant(node, a, b);
    if (rewritten >= 0) {
      node.bind_output(0, rewritten);
      return;
    }
  }
  if (kOp == OpCode::kPow && node.builder().tensor(a).dtype != node.builder().tensor(b).dtype) {
    // ONNX lets the exponent have its own type; the kernel wants one dtype.
    b = node.emit(OpCode::kCast, {b}, {static_cast<int64_t>(node.builder().tensor(a).dtype)});
  }
  node.bind_output(0, node.emit(kOp, {a, b}));
}

// Sum, Mean, Min, Max with any number of inputs: a chain of binary ops.
int chain(NodeContext& node, OpCode opcode) {
  if (node.num_inputs() == 0) node.fail("needs at least one input");
  int result = node.input(0);
  for (size_t i = 1; i < node.num_inputs(); ++i) result = node.emit(opcode, {result, node.input(i)});
  return result;
}

template <OpCode kOp>
void lower_variadic(NodeContext& node) {
  node.bind_output(0, chain(node, kOp));
}

void lower_mean(NodeContext& node) {
  int sum = chain(node, OpCode::kAdd);
  if (node.num_inputs() == 1) {
    node.bind_output(0, sum);
    return;
  }
  node.bind_output(0, node.emit(OpCode::kDiv, {sum, node.float_constant({}, {static_cast<float>(node.num_inputs())})}));
}

void lower_cast(NodeContext& node) {
  int64_t saturate = node.attribute_int("saturate", 1);
  (void)saturate;  // only affects float8 targets, which are rejected below
  DType to = dtype_from_onnx(static_cast<int>(node.required_int("to")), "attribute 'to' of Cast");
  int x = node.input(0);
  if (node.builder().tensor(x).dtype == to) {
    node.bind_output(0, x);
    return;
  }
  node.bind_output(0, node.emit(OpCode::kCast, {x}, {static_cast<int64_t>(to)}));
}

void lower_clip(NodeContext& node) {
  int x = node.input(0);
  DType dtype = node.input_tensor(0).dtype;
  if (dtype != DType::kFloat32) {
    // Integer clip as max then min, which the binary kernel supports.
    if (node.opset() < 11) node.fail("integer Clip needs opset 11 or later");
    int result = x;
    if (node.has_input(1)) result = node.emit(OpCode::kMax, {result, node.input(1)});
    if (node.has_input(2)) result = node.emit(OpCode::kMin, {result, node.input(2)});
    node.bind_output(0, result);
    return;
  }
  float low = -std::numeric_limits<float>::infinity(), high = std::numeric_limits<float>::infinity();
  if (node.opset() < 11) {
    low = node.attribute_float("min", -std::numeric_limits<float>::max());
    high = node.attribute_float("max", std::numeric_limits<float>::max());
  } else {
    if (node.has_attribute("min") || node.has_attribute("max")) node.fail("attributes min/max are not allowed from opset 11");
    bool runtime_bounds = (node.has_input(1) && !node.input_is_constant(1)) || (node.has_input(2) && !node.input_is_constant(2));
    if (runtime_bounds) {
      // Bounds computed at run time: max then min with the binary kernels.
      int result = x;
      if (node.has_input(1)) result = node.emit(OpCode::kMax, {result, node.input(1)});
      if (node.has_input(2)) result = node.emit(OpCode::kMin, {result, node.input(2)});
      node.bind_output(0, result);
      return;
    }
    auto scalar = [&](size_t index, const char* what) {
      std::vector<float> values = node.constant_floats(index, what);
      if (values.size() != 1) node.fail(std::string(what) + " must hold one value");
      return values[0];
    };
    if (node.has_input(1)) low = scalar(1, "min");
    if (node.has_input(2)) high = scalar(2, "max");
  }
  node.bind_output(0, node.emit(OpCode::kClip, {x}, {}, {low, high}));
}

void lower_identity(NodeContext& node) { node.bind_output(0, node.input(0)); }

void lower_dropout(NodeContext& node) {
  if (node.output_used(1)) node.fail("the mask output is used; only inference Dropout (identity) is supported");
  if (node.has_input(2)) {
    std::vector<int64_t> training = node.constant_ints(2, "training_mode");
    if (training.size() != 1 || training[0] != 0) node.fail("training_mode must be false for inference");
  }
  node.bind_output(0, node.input(0));
}

}  // namespace

void add_elementwise_lowerings(std::vector<LoweringRule>& rules) {
  rules.push_back({"Relu", {kConsumedInputs}, lower_plain_unary<OpCode::kRelu>});
  rules.push_back({"Sigmoid", {kConsumedInputs}, lower_plain_unary<OpCode::kSigmoid>});
  rules.push_back({"Tanh", {kConsumedInputs}, lower_plain_unary<OpCode::kTanh>});
  rules.push_back({"Softplus", {}, lower_plain_unary<OpCode::kSoftplus>});
  rules.push_back({"Exp", {kConsumedInputs}, lower_plain_unary<OpCode::kExp>});
  rules.push_back({"Log", {kConsumedInputs}, lower_plain_unary<OpCode::kLog>});
  rules.push_back({"Sqrt", {kConsumedInputs}, lower_plain_unary<OpCode::kSqrt>});
  rules.push_back({"Neg", {kConsumedInputs}, lower_plain_unary<OpCode::kNeg>});
  rules.push_back({"Abs", {kConsumedInputs}, lower_plain_unary<OpCode::kAbs>});
  rules.push_back({"Sin", {}, lower_plain_unary<OpCode::kSin>});
  rules.push_back({"Cos", {}, lower_plain_unary<OpCode::kCos>});
  rules.push_back({"Erf", {}, lower_plain_unary<OpCode::kErf>});
  rules.push_back({"Reciprocal", {kConsumedInputs}, lower_plain_unary<OpCode::kReciprocal>});
  rules.push_back({"Floor", {kConsumedInputs}, lower_plain_unary<OpCode::kFloor>});
  rules.push_back({"Ceil", {kConsumedInputs}, lower_plain_unary<OpCode::kCeil>});
  rules.push_back({"LeakyRelu", {"alpha", kConsumedInputs}, lower_leaky_relu});
  rules.push_back({"Elu", {"alpha", kConsumedInputs}, lower_elu});
  rules.push_back({"HardSigmoid", {"alpha", "beta", kConsumedInputs}, lower_hard_sigmoid});
  rules.push_back({"HardSwish", {}, lower_hard_swish});
  rules.push_back({"Selu", {"alpha", "gamma", kConsumedInputs}, lower_selu});
  rules.push_back({"Softsign", {}, lower_softsign});
  rules.push_back({"Celu", {"alpha"}, lower_celu});
  rules.push_back({"Mish", {}, lower_mish});
  rules.push_back({"Gelu", {"approximate"}, lower_gelu});
  rules.push_back({"PRelu", {kConsumedInputs}, lower_prelu});
  rules.push_back({"Add", {"broadcast", "axis", kConsumedInputs}, lower_binary<OpCode::kAdd>});
  rules.push_back({"Sub", {"broadcast", "axis", kConsumedInputs}, lower_binary<OpCode::kSub>});
  rules.push_back({"Mul", {"broadcast", "axis", kConsumedInputs}, lower_binary<OpCode::kMul>});
  rules.push_back({"Div", {"broadcast", "axis", kConsumedInputs}, lower_binary<OpCode::kDiv>});
  rules.push_back({"Pow", {"broadcast", "axis"}, lower_binary<OpCode::kPow>});
  rules.push_back({"Min", {kConsumedInputs}, lower_variadic<OpCode::kMin>});
  rules.push_back({"Max", {kConsumedInputs}, lower_variadic<OpCode::kMax>});
  rules.push_back({"Sum", {kConsumedInputs}, lower_variadic<OpCode::kAdd>});
  rules.push_back({"Mean", {kConsumedInputs}, lower_mean});
  rules.push_back({"Cast", {"to", "saturate"}, lower_cast});
  rules.push_back({"Clip", {"min", "max", kConsumedInputs}, lower_clip});
  rules.push_back({"Identity", {}, lower_identity});
  rules.push_back({"Dropout", {"ratio", "is_test", "seed", kConsumedInputs}, lower_dropout});
}

}  // namespace edgegen::converter
