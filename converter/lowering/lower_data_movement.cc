// Ops that move data without arithmetic: Reshape and its relatives (Flatten,
// Squeeze, Unsqueeze), Transpose, Concat, Split, Slice, Gather, Pad, Expand,
// Tile, DepthToSpace, SpaceToDepth, ScatterND, ScatterElements.
#include <algorithm>
#include <limits>

#include "converter/constant_data.h"
#include "converter/lowering/lowering.h"
#include "ops/op_params.h"

namespace edgegen::converter {
namespace {

void lower_reshape(NodeContext& node) {
  std::vector<int64_t> requested = node.opset() < 5 ? node.attribute_ints("shape", {}) : node.constant_ints(1, "shape");
  if (node.opset() < 5 && !node.has_attribute("shape")) node.fail("required attribute 'shape' is missing");
  int64_t allow_zero = node.attribute_int("allowzero", 0);
  const auto& input = node.input_shape(0);
  std::vector<int64_t> shape(requested.size());
  int inferred = -1;
  int64_t known = 1;
  for (size_t i = 0; i < requested.size(); ++i) {
    int64_t dim = requested[i];
    if (dim == 0 && !allow_zero) {
      if (i >= input.size()) node.fail("shape entry " + std::to_string(i) + " is 0 but the input has rank " + std::to_string(input.size()));
      dim = input[i];
    }
    if (dim == -1) {
      if (inferred >= 0) node.fail("shape [" + join(requested) + "] has more than one -1");
      inferred = static_cast<int>(i);
      continue;
    }
    if (dim < 0) node.fail("shape [" + join(requested) + "] has a negative entry");
    shape[i] = dim;
    if (__builtin_mul_overflow(known, dim, &known)) node.fail("shape [" + join(requested) + "] has too many elements");
  }
  int64_t total = element_count(input);
  if (inferred >= 0) {
    if (known == 0 || total % known != 0) node.fail("cannot infer the -1 in shape [" + join(requested) + "] for input " + shape_to_string(input));
    shape[static_cast<size_t>(inferred)] = total / known;
  }
  if (element_count(shape) != total)
    node.fail("shape [" + join(requested) + "] does not match the input's " + std::to_string(total) + " elements");
  node.bind_output(0, node.reshape(node.input(0), shape));
}

void lower_flatten(NodeContext& node) {
  const auto& input = node.input_shape(0);
  int rank = static_cast<int>(input.size());
  int64_t axis = node.attribute_int("axis", 1);
  if (axis < -rank || axis > rank) node.fail("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  if (axis < 0) axis += rank;
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < rank; ++i) (i < axis ? outer : inner) *= input[static_cast<size_t>(i)];
  node.bind_output(0, node.reshape(node.input(0), {outer, inner}));
}

std::vector<int64_t> axes_from(NodeContext& node, size_t input_index) {
  if (node.opset() < 13) return node.attribute_ints("axes", {});
  if (node.has_attribute("axes")) node.fail("attribute 'axes' is an input from opset 13");
  return node.has_input(input_index) ? node.constant_ints(input_index, "axes") : std::vector<int64_t>{};
}

void lower_squeeze(NodeContext& node) {
  const auto& input = node.input_shape(0);
  int rank = static_cast<int>(input.size());
  std::vector<int64_t> axes = axes_from(node, 1);
  std::vector<bool> drop(static_cast<size_t>(rank), false);
  if (axes.empty()) {
    for (int i = 0; i < rank; ++i) drop[static_cast<size_t>(i)] = input[static_cast<size_t>(i)] == 1;
  } else {
    for (int64_t axis : axes) {
      int a = node.normalize_axis(axis, rank);
      if (input[static_cast<size_t>(a)] != 1) node.fail("cannot squeeze axis " + std::to_string(axis) + " of size " + std::to_string(input[static_cast<size_t>(a)]));
      drop[static_cast<size_t>(a)] = true;
    }
  }
  std::vector<int64_t> shape;
  for (int i = 0; i < rank; ++i)
    if (!drop[static_cast<size_t>(i)]) shape.push_back(input[static_cast<size_t>(i)]);
  node.bind_output(0, node.reshape(node.input(0), shape));
}

void lower_unsqueeze(NodeContext& node) {
  const auto& input = node.input_shape(0);
  std::vector<int64_t> axes = axes_from(node, 1);
  if (axes.empty()) node.fail("axes are required");
  int out_rank = static_cast<int>(input.size() + axes.size());
  std::vector<bool> inserted(static_cast<size_t>(out_rank), false);
  for (int64_t axis : axes) {
    int a = node.normalize_axis(axis, out_rank);
    if (inserted[static_cast<size_t>(a)]) node.fail("axis " + std::to_string(axis) + " appears twice");
    inserted[static_cast<size_t>(a)] = true;
  }
  std::vector<int64_t> shape;
  size_t next = 0;
  for (int i = 0; i < out_rank; ++i) shape.push_back(inserted[static_cast<size_t>(i)] ? 1 : input[next++]);
  node.bind_output(0, node.reshape(node.input(0), shape));
}

void lower_transpose(NodeContext& node) {
  int rank = node.input_rank(0);
  std::vector<int64_t> reversed;
  for (int i = rank - 1; i >= 0; --i) reversed.push_back(i);
  std::vector<int64_t> perm = node.attribute_ints("perm", reversed);
  if (static_cast<int>(perm.size()) != rank) node.fail("attribute 'perm' needs " + std::to_string(rank) + " entries");
  for (int64_t& axis : perm) axis = node.normalize_axis(axis, rank, "perm entry");
  node.bind_output(0, node.emit(OpCode::kTranspose, {node.input(0)}, perm));
}

void lower_concat(NodeContext& node) {
  if (node.opset() >= 4 && !node.has_attribute("axis")) node.fail("required attribute 'axis' is missing");
  int axis = node.normalize_axis(node.attribute_int("axis", 1), node.input_rank(0));
  std::vector<int> inputs;
  for (size_t i = 0; i < node.num_inputs(); ++i) inputs.push_back(node.input(i));
  node.bind_output(0, node.emit(OpCode::kConcat, inputs, {axis}));
}

void lower_split(NodeContext& node) {
  const auto& input = node.input_shape(0);
  int axis = node.normalize_axis(node.attribute_int("axis", 0), static_cast<int>(input.size()));
  int64_t length = input[static_cast<size_t>(axis)];
  size_t outputs = node.num_outputs();
  std::vector<int64_t> sizes;
  if (node.opset() < 13 && node.has_attribute("split")) sizes = node.attribute_ints("split", {});
  else if (node.opset() < 2 && node.has_input(1)) sizes = node.constant_ints(1, "split");
  else if (node.opset() >= 13 && node.has_input(1)) sizes = node.constant_ints(1, "split");
  if (sizes.empty()) {
    if (node.has_attribute("num_outputs")) {
      int64_t count = node.attribute_int("num_outputs", 0);
      if (count != static_cast<int64_t>(outputs)) node.fail("attribute 'num_outputs' does not match the node's outputs");
      int64_t chunk = (length + count - 1) / count;  // the last chunk may be smaller (opset 18)
      for (int64_t i = 0; i < count; ++i) sizes.push_back(std::min(chunk, length - i * chunk));
    } else {
      if (length % static_cast<int64_t>(outputs) != 0)
        node.fail("axis length " + std::to_string(length) + " does not split evenly into " + std::to_string(outputs) + " outputs");
      sizes.assign(outputs, length / static_cast<int64_t>(outputs));
    }
  }
  if (sizes.size() != outputs) node.fail("split sizes [" + join(sizes) + "] do not match the " + std::to_string(outputs) + " outputs");
  std::vector<int64_t> ints = {axis};
  ints.insert(ints.end(), sizes.begin(), sizes.end());
  std::vector<int> ids = node.emit_multi(OpCode::kSplit, {node.input(0)}, outputs, ints);
  for (size_t i = 0; i < outputs; ++i) node.bind_output(i, ids[i]);
}

void lower_slice(NodeContext& node) {
  const auto& input = node.input_shape(0);
  int rank = static_cast<int>(input.size());
  std::vector<int64_t> starts, ends, axes, steps;
  if (node.opset() < 10) {
    starts = node.attribute_ints("starts", {});
    ends = node.attribute_ints("ends", {});
    axes = node.attribute_ints("axes", {});
  } else {
    starts = node.constant_ints(1, "starts");
    ends = node.constant_ints(2, "ends");
    if (node.has_input(3)) axes = node.constant_ints(3, "axes");
    if (node.has_input(4)) steps = node.constant_ints(4, "steps");
  }
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    node.fail("starts, ends, axes and steps must have the same length");
  std::vector<int64_t> ints;
  for (int i = 0; i < rank; ++i) ints.insert(ints.end(), {0, input[static_cast<size_t>(i)], 1});
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  for (size_t k = 0; k < starts.size(); ++k) {
    int axis = node.normalize_axis(axes[k], rank);
    if (seen[static_cast<size_t>(axis)]) node.fail("axis " + std::to_string(axes[k]) + " is sliced twice");
    seen[static_cast<size_t>(axis)] = true;
    int64_t dim = input[static_cast<size_t>(axis)], step = steps[k];
    if (step == 0) node.fail("step 0 is not allowed");
    int64_t start = starts[k], end = ends[k];
    if (start < 0) start += dim;
    if (end < 0 && end > std::numeric_limits<int64_t>::min() + dim) end += dim;
    else if (end < 0) end = -1;
    if (step > 0) {
      start = std::clamp<int64_t>(start, 0, dim);
      end = std::clamp<int64_t>(end, 0, dim);
    } else {
      start = std::clamp<int64_t>(start, 0, dim - 1);
      end = std::clamp<int64_t>(end, -1, dim - 1);
    }
    ints[static_cast<size_t>(3 * axis)] = start;
    ints[static_cast<size_t>(3 * axis + 1)] = end;
    ints[static_cast<size_t>(3 * axis + 2)] = step;
  }
  node.bind_output(0, node.emit(OpCode::kSlice, {node.input(0)}, ints));
}

void lower_gather(NodeContext& node) {
  const auto& data = node.input_shape(0);
  int axis = node.normalize_axis(node.attribute_int("axis", 0), static_cast<int>(data.size()));
  int indices = node.input(1);
  const IrTensor& index_tensor = node.input_tensor(1);
  if (!index_tensor.is_constant && !node.input_is_constant(0))
    node.fail("either the data or the indices must be constant");
  if (index_tensor.dtype != DType::kInt64 && index_tensor.dtype != DType::kInt32)
    node.fail("indices must be int32 or int64");
  if (index_tensor.is_constant) {
    // Negative indices count from the end; the kernel takes them normalized.
    std::vector<int64_t> values = read_int64s(index_tensor);
    int64_t dim = data[static_cast<size_t>(axis)];
    bool changed = false;
    for (int64_t& value : values) {
      if (value < -dim || value >= dim) node.fail("index " + std::to_string(value) + " is out of range for a dimension of " + std::to_string(dim));
      if (value < 0) value += dim, changed = true;
    }
    if (changed) indices = node.add_constant(make_constant_from_int64s("", index_tensor.dtype, index_tensor.shape, values));
  }
  node.bind_output(0, node.emit(OpCode::kGather, {node.input(0), indices}, {axis}));
}

// Only reduction "none" (opset 16+ adds add/mul/max/min): a KV cache update
// replaces rows.
void check_no_reduction(NodeContext& node) {
  std::string reduction = node.attribute_string("reduction", "none");
  if (reduction != "none") node.unsupported_attribute("reduction", reduction, "none");
}

void lower_scatter_nd(NodeContext& node) {
  check_no_reduction(node);
  node.bind_output(0, node.emit(OpCode::kScatterND, {node.input(0), node.input(1), node.input(2)}));
}

void lower_scatter_elements(NodeContext& node) {
  check_no_reduction(node);
  int axis = node.normalize_axis(node.attribute_int("axis", 0), node.input_rank(0));
  node.bind_output(0, node.emit(OpCode::kScatterElements, {node.input(0), node.input(1), node.input(2)}, {axis}));
}

void lower_pad(NodeContext& node) {
  int rank = node.input_rank(0);
  std::string mode = node.attribute_string("mode", "constant");
  int64_t mode_value = 0;
  if (mode == "constant") mode_value = params::kPadConstant;
  else if (mode == "reflect") mode_value = params::kPadReflect;
  else if (mode == "edge") mode_value = params::kPadEdge;
  else node.unsupported_attribute("mode", "'" + mode + "'", "constant, reflect, edge");

  std::vector<int64_t> pads;
  float value = 0.f;
  if (node.opset() < 11) {
    pads = node.attribute_ints(node.opset() < 2 ? "paddings" : "pads", {});
    value = node.attribute_float("value", 0.f);
  } else {
    pads = node.constant_ints(1, "pads");
    if (node.has_input(2)) {
      const IrTensor& constant = node.input_tensor(2);
      if (!constant.is_constant) node.fail("input 2 (constant_value) must be a constant");
      std::vector<double> values = read_doubles(constant);
      if (values.size() != 1) node.fail("constant_value must hold one value");
      value = static_cast<float>(values[0]);
      if (static_cast<double>(value) != values[0]) node.fail("constant_value is not exactly representable as float");
    }
    if (node.has_input(3)) {
      // Opset 18: pads only for the listed axes.
      std::vector<int64_t> axes = node.constant_ints(3, "axes");
      if (pads.size() != 2 * axes.size()) node.fail("pads must have two entries per axis");
      std::vector<int64_t> full(static_cast<size_t>(2 * rank), 0);
      for (size_t k = 0; k < axes.size(); ++k) {
        int axis = node.normalize_axis(axes[k], rank);
        full[static_cast<size_t>(axis)] = pads[k];
        full[static_cast<size_t>(axis + rank)] = pads[k + axes.size()];
      }
      pads = full;
    }
  }
  if (static_cast<int>(pads.size()) != 2 * rank) node.fail("pads must have " + std::to_string(2 * rank) + " entries");
  for (int64_t pad : pads)
    if (pad < 0) node.fail("negative pads (cropping) are not supported: [" + join(pads) + "]");
  std::vector<int64_t> ints = {mode_value};
  ints.insert(ints.end(), pads.begin(), pads.end());
  node.bind_output(0, node.emit(OpCode::kPad, {node.input(0)}, ints, {value}));
}

// NumPy broadcasting of two static shapes.
std::vector<int64_t> broadcast(NodeContext& node, const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  size_t rank = std::max(a.size(), b.size());
  std::vector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i + a.size() >= rank ? a[i + a.size() - rank] : 1;
    int64_t db = i + b.size() >= rank ? b[i + b.size() - rank] : 1;
    if (da != db && da != 1 && db != 1) node.fail("shapes " + shape_to_string(a) + " and " + shape_to_string(b) + " do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

void lower_expand(NodeContext& node) {
  std::vector<int64_t> shape = broadcast(node, node.input_shape(0), node.constant_ints(1, "shape"));
  if (shape == node.input_shape(0)) {
    node.bind_output(0, node.input(0));
    return;
  }
  node.bind_output(0, node.emit(OpCode::kExpand, {node.input(0)}, shape));
}

void lower_tile(NodeContext& node) {
  const auto& input = node.input_shape(0);
  std::vector<int64_t> repeats = node.constant_ints(1, "repeats");
  if (repeats.size() != input.size()) node.fail("repeats must have one entry per dimension");
  // x [d0, d1] -> [1, d0, 1, d1] -> expand [r0, d0, r1, d1] -> [r0*d0, r1*d1]
  std::vector<int64_t> interleaved, expanded, result;
  for (size_t i = 0; i < input.size(); ++i) {
    if (repeats[i] < 0) node.fail("repeats must not be negative");
    interleaved.insert(interleaved.end(), {1, input[i]});
    expanded.insert(expanded.end(), {repeats[i], input[i]});
    result.push_back(repeats[i] * input[i]);
  }
  int x = node.reshape(node.input(0), interleaved);
  x = node.emit(OpCode::kExpand, {x}, expanded);
  node.bind_output(0, node.reshape(x, result));
}

void lower_depth_to_space(NodeContext& node) {
  if (node.input_rank(0) != 4) node.fail("input must be [N, C, H, W]");
  int64_t block = node.required_int("blocksize");
  std::string mode = node.attribute_string("mode", "DCR");
  const auto& s = node.input_shape(0);
  if (block < 1 || s[1] % (block * block) != 0) node.fail("blocksize must divide the channels into squares");
  int64_t c = s[1] / (block * block);
  int x;
  if (mode == "DCR") {
    x = node.reshape(node.input(0), {s[0], block, block, c, s[2], s[3]});
    x = node.emit(OpCode::kTranspose, {x}, {0, 3, 4, 1, 5, 2});
  } else if (mode == "CRD") {
    x = node.reshape(node.input(0), {s[0], c, block, block, s[2], s[3]});
    x = node.emit(OpCode::kTranspose, {x}, {0, 1, 4, 2, 5, 3});
  } else {
    node.unsupported_attribute("mode", "'" + mode + "'", "DCR, CRD");
  }
  node.bind_output(0, node.reshape(x, {s[0], c, s[2] * block, s[3] * block}));
}

void lower_space_to_depth(NodeContext& node) {
  if (node.input_rank(0) != 4) node.fail("input must be [N, C, H, W]");
  int64_t block = node.required_int("blocksize");
  const auto& s = node.input_shape(0);
  if (block < 1 || s[2] % block != 0 || s[3] % block != 0) node.fail("blocksize must divide H and W");
  int x = node.reshape(node.input(0), {s[0], s[1], s[2] / block, block, s[3] / block, block});
  x = node.emit(OpCode::kTranspose, {x}, {0, 3, 5, 1, 2, 4});
  node.bind_output(0, node.reshape(x, {s[0], s[1] * block * block, s[2] / block, s[3] / block}));
}

}  // namespace

void add_data_movement_lowerings(std::vector<LoweringRule>& rules) {
  rules.push_back({"Reshape", {"shape", "allowzero", "consumed_inputs"}, lower_reshape});
  rules.push_back({"Flatten", {"axis"}, lower_flatten});
  rules.push_back({"Squeeze", {"axes"}, lower_squeeze});
  rules.push_back({"Unsqueeze", {"axes"}, lower_unsqueeze});
  rules.push_back({"Transpose", {"perm"}, lower_transpose});
  rules.push_back({"Concat", {"axis"}, lower_concat});
  rules.push_back({"Split", {"axis", "split", "num_outputs"}, lower_split});
  rules.push_back({"Slice", {"starts", "ends", "axes"}, lower_slice});
  rules.push_back({"Gather", {"axis"}, lower_gather});
  rules.push_back({"ScatterND", {"reduction"}, lower_scatter_nd});
  rules.push_back({"ScatterElements", {"axis", "reduction"}, lower_scatter_elements});
  // Scatter (opset 9-10) is ScatterElements under its old name.
  rules.push_back({"Scatter", {"axis"}, lower_scatter_elements});
  rules.push_back({"Pad", {"mode", "pads", "paddings", "value"}, lower_pad});
  rules.push_back({"Expand", {}, lower_expand});
  rules.push_back({"Tile", {}, lower_tile});
  rules.push_back({"DepthToSpace", {"blocksize", "mode"}, lower_depth_to_space});
  rules.push_back({"SpaceToDepth", {"blocksize"}, lower_space_to_depth});
}

}  // namespace edgegen::converter
