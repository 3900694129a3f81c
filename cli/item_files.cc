#include "item_files.h"

#include <algorithm>
#include <cstring>

#include "cli_error.h"
#include "npy.h"
#include "png_file.h"

namespace edgegen::cli {

std::vector<int64_t> shape_dims(const Shape& shape) { return std::vector<int64_t>(shape.dims, shape.dims + shape.rank); }

std::string format_dims(const std::vector<int64_t>& dims) {
  std::string text = "[";
  for (size_t i = 0; i < dims.size(); ++i) text += (i ? ", " : "") + std::to_string(dims[i]);
  return text + "]";
}

ItemsFromFile read_items(const std::string& path, const std::vector<int64_t>& item_shape) {
  NpyArray array = read_npy(path);
  ItemsFromFile items;
  if (array.shape == item_shape) {
    items.count = 1;
  } else if (array.shape.size() == item_shape.size() + 1 &&
             std::equal(item_shape.begin(), item_shape.end(), array.shape.begin() + 1)) {
    items.count = static_cast<size_t>(array.shape[0]);
  } else {
    std::string expected = "[N";
    for (int64_t dim : item_shape) expected += ", " + std::to_string(dim);
    expected += "]";
    throw CliError(path + ": shape " + format_dims(array.shape) + " does not fit the model, which expects " + expected +
                   " (or one item of " + format_dims(item_shape) + ")");
  }
  if (items.count == 0) throw CliError(path + ": holds no items (shape " + format_dims(array.shape) + ")");
  items.values = npy_to_float32(array);
  return items;
}

std::vector<uint8_t> float32_npy_bytes(const std::vector<int64_t>& shape, const float* values) {
  NpyArray array;
  array.shape = shape;
  array.data.resize(array.num_elements() * sizeof(float));
  if (!array.data.empty()) std::memcpy(array.data.data(), values, array.data.size());
  return serialize_npy(array);
}

std::vector<uint8_t> encode_items(OutputFormat format, const float* items, size_t count,
                                  const std::vector<int64_t>& item_shape, const GridOptions& grid) {
  if (format == OutputFormat::kNpy) {
    std::vector<int64_t> shape = item_shape;
    shape.insert(shape.begin(), static_cast<int64_t>(count));
    return float32_npy_bytes(shape, items);
  }
  return encode_png(compose_grid(items, count, item_layout_from_shape(item_shape), grid));
}

}  // namespace edgegen::cli
