#include "converter/lowering/spatial_attributes.h"

namespace edgegen::converter {

void require_1d_or_2d(NodeContext& node, size_t input_index) {
  int rank = node.input_rank(input_index);
  if (rank != 3 && rank != 4)
    node.fail("input " + std::to_string(input_index) + " has rank " + std::to_string(rank) +
              "; supported: 1-D [N, C, L] and 2-D [N, C, H, W] (no 3-D)");
}

SpatialWindow read_spatial_window(NodeContext& node, const std::vector<int64_t>& input_spatial,
                                  const std::vector<int64_t>& kernel, bool has_dilations) {
  size_t dims = input_spatial.size();
  SpatialWindow window;
  window.kernel = kernel;
  window.strides = node.attribute_ints("strides", std::vector<int64_t>(dims, 1));
  window.dilations = has_dilations ? node.attribute_ints("dilations", std::vector<int64_t>(dims, 1))
                                   : std::vector<int64_t>(dims, 1);
  if (window.strides.size() != dims) node.fail("attribute 'strides' needs " + std::to_string(dims) + " values");
  if (window.dilations.size() != dims) node.fail("attribute 'dilations' needs " + std::to_string(dims) + " values");
  for (size_t i = 0; i < dims; ++i) {
    if (window.strides[i] < 1) node.fail("attribute 'strides' must be positive");
    if (window.dilations[i] < 1) node.fail("attribute 'dilations' must be positive");
    if (window.kernel[i] < 1) node.fail("kernel size must be positive");
  }

  std::string auto_pad = node.attribute_string("auto_pad", "NOTSET");
  if (auto_pad == "NOTSET") {
    std::vector<int64_t> pads = node.attribute_ints("pads", std::vector<int64_t>(2 * dims, 0));
    if (pads.size() != 2 * dims) node.fail("attribute 'pads' needs " + std::to_string(2 * dims) + " values");
    for (int64_t pad : pads)
      if (pad < 0) node.fail("attribute 'pads' has a negative value; not supported");
    window.pad_begin.assign(pads.begin(), pads.begin() + static_cast<long>(dims));
    window.pad_end.assign(pads.begin() + static_cast<long>(dims), pads.end());
  } else if (auto_pad == "VALID") {
    window.pad_begin.assign(dims, 0);
    window.pad_end.assign(dims, 0);
  } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    for (size_t i = 0; i < dims; ++i) {
      int64_t out = (input_spatial[i] + window.strides[i] - 1) / window.strides[i];
      int64_t extent = (window.kernel[i] - 1) * window.dilations[i] + 1;
      int64_t total = std::max<int64_t>(0, (out - 1) * window.strides[i] + extent - input_spatial[i]);
      int64_t small = total / 2, large = total - total / 2;
      // SAME_UPPER puts the odd pixel at the end, SAME_LOWER at the beginning.
      window.pad_begin.push_back(auto_pad == "SAME_UPPER" ? small : large);
      window.pad_end.push_back(auto_pad == "SAME_UPPER" ? large : small);
    }
  } else {
    node.unsupported_attribute("auto_pad", "'" + auto_pad + "'", "NOTSET, VALID, SAME_UPPER, SAME_LOWER");
  }
  return window;
}

void window_dims(NodeContext& node, size_t weight_index, std::vector<int64_t>* input_spatial,
                 std::vector<int64_t>* kernel) {
  require_1d_or_2d(node, 0);
  const auto x = node.input_shape(0);
  const auto w = node.input_shape(weight_index);
  if (w.size() != x.size()) node.fail("weight rank " + std::to_string(w.size()) + " does not match input rank");
  input_spatial->assign(x.begin() + 2, x.end());
  kernel->assign(w.begin() + 2, w.end());
  if (node.has_attribute("kernel_shape") && node.attribute_ints("kernel_shape", {}) != *kernel)
    node.fail("attribute 'kernel_shape' [" + join(node.attribute_ints("kernel_shape", {})) +
              "] does not match the weight's spatial shape [" + join(*kernel) + "]");
}

std::vector<int64_t> conv_ints(const SpatialWindow& window, int64_t groups) {
  bool two_d = window.kernel.size() == 2;
  return {height_of(window.strides, 1),    width_of(window.strides),
          height_of(window.dilations, 1),  width_of(window.dilations),
          two_d ? window.pad_begin[0] : 0, window.pad_begin.back(),
          two_d ? window.pad_end[0] : 0,   window.pad_end.back(),
          groups};
}

std::vector<int64_t> conv2d_ints(NodeContext& node, size_t weight_index) {
  std::vector<int64_t> input_spatial, kernel;
  window_dims(node, weight_index, &input_spatial, &kernel);
  SpatialWindow window = read_spatial_window(node, input_spatial, kernel, true);
  int64_t groups = node.attribute_int("group", 1);
  if (groups < 1) node.fail("attribute 'group' must be positive");
  return conv_ints(window, groups);
}

}  // namespace edgegen::converter
