// Items (generated images, inputs to encode) to and from files.
//
// An "item" is one element of a batch: a float tensor of the pipeline's
// item shape (e.g. [1, 16, 16]), stored one after another.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "edgegen/tensor.h"
#include "file_names.h"
#include "image_grid.h"

namespace edgegen::cli {

// The dimensions of a runtime Shape.
std::vector<int64_t> shape_dims(const Shape& shape);
// "[1, 16, 16]".
std::string format_dims(const std::vector<int64_t>& dims);

// Items read from a .npy file of shape [N, item_shape...], or of shape
// item_shape alone (one item). Any supported dtype is converted to float32.
struct ItemsFromFile {
  std::vector<float> values;
  size_t count = 0;
};
// Throws CliError naming the file, the shape found and the shape expected.
ItemsFromFile read_items(const std::string& path, const std::vector<int64_t>& item_shape);

// The bytes of a float32 .npy file of `shape`.
std::vector<uint8_t> float32_npy_bytes(const std::vector<int64_t>& shape, const float* values);

// `count` items as the bytes of an output file: .npy (float32, shape
// [count, item_shape...]) or .png (a grid drawn with `grid`).
std::vector<uint8_t> encode_items(OutputFormat format, const float* items, size_t count,
                                  const std::vector<int64_t>& item_shape, const GridOptions& grid);

}  // namespace edgegen::cli
