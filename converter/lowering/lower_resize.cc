// Resize (opsets 10-18) and Upsample (opsets 7-9), nearest and linear, over
// the spatial dims of [N, C, H, W] or [N, C, L].
#include <cmath>

#include "converter/constant_data.h"
#include "converter/lowering/lowering.h"
#include "ops/op_params.h"

namespace edgegen::converter {
namespace {

struct ResizeSpec {
  int64_t mode = params::kResizeNearestMode;
  int64_t coordinate = params::kAsymmetric;
  int64_t nearest = params::kNearestFloor;
  std::vector<float> scales;     // per input dim
  std::vector<int64_t> sizes;    // per input dim
};

int64_t mode_from(NodeContext& node, const std::string& mode) {
  if (mode == "nearest") return params::kResizeNearestMode;
  if (mode == "linear" || (mode == "bilinear" && node.op_type() == "Upsample")) return params::kResizeLinear;
  node.unsupported_attribute("mode", "'" + mode + "'", "nearest, linear");
}

void emit_resize(NodeContext& node, const ResizeSpec& spec) {
  const auto& x = node.input_shape(0);
  int rank = static_cast<int>(x.size());
  if (rank != 3 && rank != 4) node.fail("input has rank " + std::to_string(rank) + "; supported: [N, C, L] and [N, C, H, W]");
  for (int axis = 0; axis < 2; ++axis)
    if (spec.sizes[static_cast<size_t>(axis)] != x[static_cast<size_t>(axis)])
      node.fail("resizing the batch or channel dimension is not supported");
  bool two_d = rank == 4;
  std::vector<int64_t> ints = {spec.mode, spec.coordinate, spec.nearest, two_d ? spec.sizes[2] : 1, spec.sizes.back()};
  std::vector<float> floats = {two_d ? spec.scales[2] : 1.f, spec.scales.back()};
  for (int64_t size : spec.sizes)
    if (size <= 0) node.fail("the output would be empty");
  bool unit_scales = true;
  for (float scale : spec.scales) unit_scales = unit_scales && scale == 1.f;
  if (spec.sizes == x && unit_scales) {
    node.bind_output(0, node.input(0));
    return;
  }
  node.bind_output(0, node.emit(OpCode::kResize, {node.input(0)}, ints, floats));
}

// Opset < 11 (Resize-10, Upsample): asymmetric coordinates and, for
// nearest, floor. Shrinking is rejected: implementations of those opsets
// disagree on its rounding.
void finish_legacy(NodeContext& node, ResizeSpec& spec, const std::vector<float>& scales) {
  const auto x = node.input_shape(0);
  if (scales.size() != x.size()) node.fail("scales must have one entry per input dimension");
  for (size_t i = 0; i < x.size(); ++i) {
    if (!(scales[i] >= 1.f))
      node.fail("scale " + std::to_string(scales[i]) + " < 1 (downsampling) is not supported before opset 11");
    spec.sizes.push_back(static_cast<int64_t>(std::floor(static_cast<double>(x[i]) * static_cast<double>(scales[i]))));
  }
  spec.scales = scales;
  spec.coordinate = params::kAsymmetric;
  spec.nearest = params::kNearestFloor;
  emit_resize(node, spec);
}

void lower_upsample(NodeContext& node) {
  ResizeSpec spec;
  spec.mode = mode_from(node, node.attribute_string("mode", "nearest"));
  std::vector<float> scales;
  if (node.opset() < 9) {
    if (!node.has_attribute("scales")) node.fail("required attribute 'scales' is missing");
    scales = node.attribute_floats("scales", {});
  } else {
    scales = node.constant_floats(1, "scales");
  }
  finish_legacy(node, spec, scales);
}

void lower_resize(NodeContext& node) {
  ResizeSpec spec;
  spec.mode = mode_from(node, node.attribute_string("mode", "nearest"));
  if (node.opset() < 11) {
    finish_legacy(node, spec, node.constant_floats(1, "scales"));
    return;
  }
  const auto& x = node.input_shape(0);
  int rank = static_cast<int>(x.size());

  std::string coordinate = node.attribute_string("coordinate_transformation_mode", "half_pixel");
  if (coordinate == "half_pixel") spec.coordinate = params::kHalfPixel;
  else if (coordinate == "asymmetric") spec.coordinate = params::kAsymmetric;
  else if (coordinate == "align_corners") spec.coordinate = params::kAlignCorners;
  else if (coordinate == "pytorch_half_pixel") spec.coordinate = params::kPytorchHalfPixel;
  else node.unsupported_attribute("coordinate_transformation_mode", "'" + coordinate + "'",
                                  "half_pixel, asymmetric, align_corners, pytorch_half_pixel");
  std::string nearest = node.attribute_string("nearest_mode", "round_prefer_floor");
  if (nearest == "round_prefer_floor") spec.nearest = params::kRoundPreferFloor;
  else if (nearest == "round_prefer_ceil") spec.nearest = params::kRoundPreferCeil;
  else if (nearest == "floor") spec.nearest = params::kNearestFloor;
  else if (nearest == "ceil") spec.nearest = params::kNearestCeil;
  else node.unsupported_attribute("nearest_mode", "'" + nearest + "'", "round_prefer_floor, round_prefer_ceil, floor, ceil");
  node.attribute_float("cubic_coeff_a", -0.75f);       // cubic only
  node.attribute_float("extrapolation_value", 0.f);    // tf_crop_and_resize only
  if (node.attribute_int("exclude_outside", 0) != 0)
    node.unsupported_attribute("exclude_outside", std::to_string(node.attribute_int("exclude_outside", 0)), "0");
  if (node.attribute_int("antialias", 0) != 0)
    node.unsupported_attribute("antialias", std::to_string(node.attribute_int("antialias", 0)), "0");
  std::string policy = node.attribute_string("keep_aspect_ratio_policy", "stretch");
  if (policy != "stretch" && policy != "not_larger" && policy != "not_smaller")
    node.unsupported_attribute("keep_aspect_ratio_policy", "'" + policy + "'", "stretch, not_larger, not_smaller");
  std::vector<int64_t> axes = node.attribute_ints("axes", {});
  if (axes.empty())
    for (int i = 0; i < rank; ++i) axes.push_back(i);
  for (int64_t& axis : axes) axis = node.normalize_axis(axis, rank);

  std::vector<float> given_scales;
  std::vector<int64_t> given_sizes;
  if (node.has_input(2) && element_count(node.input_shape(2)) > 0) given_scales = node.constant_floats(2, "scales");
  if (node.has_input(3) && element_count(node.input_shape(3)) > 0) given_sizes = node.constant_ints(3, "sizes");
  if (given_scales.empty() == given_sizes.empty()) node.fail("exactly one of scales and sizes must be given");

  spec.scales.assign(static_cast<size_t>(rank), 1.f);
  spec.sizes = x;
  if (!given_scales.empty()) {
    if (given_scales.size() != axes.size()) node.fail("scales must have one entry per resized axis");
    for (size_t k = 0; k < axes.size(); ++k) {
      size_t axis = static_cast<size_t>(axes[k]);
      if (!(given_scales[k] > 0.f)) node.fail("scales must be positive");
      spec.scales[axis] = given_scales[k];
      spec.sizes[axis] = static_cast<int64_t>(std::floor(static_cast<double>(x[axis]) * static_cast<double>(given_scales[k])));
    }
  } else {
    if (given_sizes.size() != axes.size()) node.fail("sizes must have one entry per resized axis");
    if (policy != "stretch") {
      // One scale for every axis: the largest (not_smaller) or smallest that fits.
      double scale = policy == "not_larger" ? 1e300 : 0.0;
      for (size_t k = 0; k < axes.size(); ++k) {
        double ratio = static_cast<double>(given_sizes[k]) / static_cast<double>(x[static_cast<size_t>(axes[k])]);
        scale = policy == "not_larger" ? std::min(scale, ratio) : std::max(scale, ratio);
      }
      for (size_t k = 0; k < axes.size(); ++k)
        given_sizes[k] = static_cast<int64_t>(std::round(scale * static_cast<double>(x[static_cast<size_t>(axes[k])])));
    }
    for (size_t k = 0; k < axes.size(); ++k) {
      size_t axis = static_cast<size_t>(axes[k]);
      spec.sizes[axis] = given_sizes[k];
      spec.scales[axis] = static_cast<float>(static_cast<double>(given_sizes[k]) / static_cast<double>(x[axis]));
    }
  }
  emit_resize(node, spec);
}

}  // namespace

void add_resize_lowerings(std::vector<LoweringRule>& rules) {
  rules.push_back({"Upsample", {"mode", "scales"}, lower_upsample});
  rules.push_back({"Resize",
                   {"mode", "coordinate_transformation_mode", "nearest_mode", "cubic_coeff_a", "exclude_outside",
                    "extrapolation_value", "antialias", "axes", "keep_aspect_ratio_policy"},
                   lower_resize});
}

}  // namespace edgegen::converter
