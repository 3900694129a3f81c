// Ops that spline flows need at run time (Durkan et al., "Neural Spline
// Flows", 2019): CumSum (knot positions) and GatherElements (each input's bin
// parameters). Comparisons and Where of run-time tensors are lowered in
// lower_constant_only.cc, which folds them when constant.
#include "converter/constant_data.h"
#include "converter/lowering/lowering.h"

namespace edgegen::converter {
namespace {

void lower_cumsum(NodeContext& node) {
  if (!node.input_is_constant(1)) node.fail("the axis input must be constant");
  std::vector<int64_t> axis = read_int64s(node.input_tensor(1));
  if (axis.size() != 1) node.fail("axis must hold one value");
  int normalized = node.normalize_axis(axis[0], node.input_rank(0));
  int64_t exclusive = node.attribute_int("exclusive", 0), reverse = node.attribute_int("reverse", 0);
  if ((exclusive != 0 && exclusive != 1) || (reverse != 0 && reverse != 1)) node.fail("exclusive and reverse must be 0 or 1");
  node.bind_output(0, node.emit(OpCode::kCumSum, {node.input(0)}, {normalized, exclusive, reverse}));
}

void lower_gather_elements(NodeContext& node) {
  int axis = node.normalize_axis(node.attribute_int("axis", 0), node.input_rank(0));
  node.bind_output(0, node.emit(OpCode::kGatherElements, {node.input(0), node.input(1)}, {axis}));
}

}  // namespace

void add_density_lowerings(std::vector<LoweringRule>& rules) {
  rules.push_back({"CumSum", {"exclusive", "reverse"}, lower_cumsum});
  rules.push_back({"GatherElements", {"axis"}, lower_gather_elements});
}

}  // namespace edgegen::converter
