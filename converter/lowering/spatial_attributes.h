// The window attributes shared by Conv, ConvTranspose and the pools
// (kernel_shape, strides, dilations, pads, auto_pad), normalized to explicit
// begin/end padding and flattened into the kernels' H/W parameter layout.
#pragma once

#include <vector>

#include "converter/lowering/node_context.h"

namespace edgegen::converter {

struct SpatialWindow {
  std::vector<int64_t> kernel;      // per spatial dim
  std::vector<int64_t> strides;
  std::vector<int64_t> dilations;
  std::vector<int64_t> pad_begin;
  std::vector<int64_t> pad_end;
};

// Reads strides / dilations / pads / auto_pad for a window over `input_spatial`
// dims with kernel `kernel` (already taken from kernel_shape or the weight).
// With auto_pad SAME_* the padding makes output = ceil(input / stride).
SpatialWindow read_spatial_window(NodeContext& node, const std::vector<int64_t>& input_spatial,
                                  const std::vector<int64_t>& kernel, bool has_dilations);

// The {h, w} pair of a per-dim list for 1-D (h = `unit`) and 2-D windows.
inline int64_t height_of(const std::vector<int64_t>& values, int64_t unit) {
  return values.size() == 2 ? values[0] : unit;
}
inline int64_t width_of(const std::vector<int64_t>& values) { return values.back(); }

// The spatial dims of input 0 and the kernel dims of the weight (input
// `weight_index`), checked against kernel_shape.
void window_dims(NodeContext& node, size_t weight_index, std::vector<int64_t>* input_spatial,
                 std::vector<int64_t>* kernel);
// The kernels' Conv2d ints (params::ConvInt) of a window and group count.
std::vector<int64_t> conv_ints(const SpatialWindow& window, int64_t groups);
// Conv2d's ints from a Conv-like node (Conv, QLinearConv, ConvInteger) whose
// weight is input `weight_index`.
std::vector<int64_t> conv2d_ints(NodeContext& node, size_t weight_index);

// Fails unless the input is [N, C, L] or [N, C, H, W].
void require_1d_or_2d(NodeContext& node, size_t input_index);

}  // namespace edgegen::converter
