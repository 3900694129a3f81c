// Element-wise ops on the value of numbers rather than on a function of
// them: Sign, Round (halves to even), IsNaN, IsInf, Mod (issue 12).
#include "converter/constant_data.h"
#include "converter/lowering/lowering.h"

namespace edgegen::converter {
namespace {

void require_float_input(NodeContext& node) {
  const IrTensor& x = node.input_tensor(0);
  if (x.dtype != DType::kFloat32)
    node.fail("input '" + x.name + "' is " + dtype_name(x.dtype) + "; edgegen runs this op on float32 only");
}

template <OpCode kOp>
void lower_float_unary(NodeContext& node) {
  require_float_input(node);
  node.bind_output(0, node.emit(kOp, {node.input(0)}));
}

void lower_is_inf(NodeContext& node) {
  require_float_input(node);
  int64_t negative = node.attribute_int("detect_negative", 1), positive = node.attribute_int("detect_positive", 1);
  if ((negative != 0 && negative != 1) || (positive != 0 && positive != 1))
    node.fail("detect_negative and detect_positive must be 0 or 1");
  node.bind_output(0, node.emit(OpCode::kIsInf, {node.input(0)}, {negative, positive}));
}

void lower_mod(NodeContext& node) {
  const IrTensor& a = node.input_tensor(0);
  const IrTensor& b = node.input_tensor(1);
  if (a.dtype != DType::kFloat32 && a.dtype != DType::kInt32 && a.dtype != DType::kInt64 && a.dtype != DType::kInt8 &&
      a.dtype != DType::kUInt8)
    node.fail(std::string("inputs of dtype ") + dtype_name(a.dtype) + " are not supported (float32, int8, uint8, int32, int64)");
  if (a.quant.scales.size() > 0 || b.quant.scales.size() > 0) node.fail("quantized inputs are not supported");
  if (b.dtype != a.dtype) node.fail("the two inputs differ in dtype");
  int64_t fmod = node.attribute_int("fmod", 0);
  if (fmod != 0 && fmod != 1) node.fail("attribute 'fmod' must be 0 or 1");
  if (fmod == 0 && a.dtype == DType::kFloat32) node.fail("float inputs need fmod = 1 (the ONNX spec)");
  node.bind_output(0, node.emit(OpCode::kMod, {node.input(0), node.input(1)}, {fmod}));
}

}  // namespace

void add_numeric_lowerings(std::vector<LoweringRule>& rules) {
  rules.push_back({"Sign", {}, lower_float_unary<OpCode::kSign>});
  rules.push_back({"Round", {}, lower_float_unary<OpCode::kRound>});
  rules.push_back({"IsNaN", {}, lower_float_unary<OpCode::kIsNaN>});
  rules.push_back({"IsInf", {"detect_negative", "detect_positive"}, lower_is_inf});
  rules.push_back({"Mod", {"fmod"}, lower_mod});
}

}  // namespace edgegen::converter
