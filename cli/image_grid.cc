#include "image_grid.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "cli_error.h"

namespace edgegen::cli {
namespace {

// PNG allows 2^31 - 1, but a picture this large is certainly a mistake.
constexpr int64_t kMaxPictureSide = 1 << 15;

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

}  // namespace

ItemLayout item_layout_from_shape(const std::vector<int64_t>& item_shape) {
  ItemLayout layout;
  bool drawable = false;
  if (item_shape.size() == 2) {
    layout.height = static_cast<int>(std::min<int64_t>(item_shape[0], kMaxPictureSide + 1));
    layout.width = static_cast<int>(std::min<int64_t>(item_shape[1], kMaxPictureSide + 1));
    drawable = true;
  } else if (item_shape.size() == 3 && (item_shape[0] == 1 || item_shape[0] == 3)) {
    layout.channels = static_cast<int>(item_shape[0]);
    layout.height = static_cast<int>(std::min<int64_t>(item_shape[1], kMaxPictureSide + 1));
    layout.width = static_cast<int>(std::min<int64_t>(item_shape[2], kMaxPictureSide + 1));
    drawable = true;
  }
  if (!drawable || layout.height <= 0 || layout.width <= 0 || layout.height > kMaxPictureSide ||
      layout.width > kMaxPictureSide)
    throw CliError("items of shape " + shape_text(item_shape) +
                   " cannot be drawn as images (need [C, H, W] with C = 1 or 3, or [H, W]); write .npy instead");
  return layout;
}

uint8_t to_pixel(float value, float low, float high) {
  float unit = (value - low) / (high - low);
  if (!(unit > 0.f)) return 0;  // also NaN
  if (unit >= 1.f) return 255;
  return static_cast<uint8_t>(std::lround(unit * 255.f));
}

Image compose_grid(const float* items, size_t count, const ItemLayout& layout, const GridOptions& options) {
  if (count == 0) throw CliError("no images to draw");
  if (!(options.high > options.low)) throw CliError("the output range [low, high] must have high > low");
  int64_t columns = options.columns > 0 ? options.columns : static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(count))));
  columns = std::min<int64_t>(columns, static_cast<int64_t>(count));
  int64_t rows = (static_cast<int64_t>(count) + columns - 1) / columns;
  int64_t border = std::max(0, options.border);
  auto picture_width = [&](int64_t scale) { return columns * layout.width * scale + (columns + 1) * border; };
  int64_t scale = options.scale;
  if (scale <= 0) {
    int64_t content_width = columns * layout.width;
    int64_t longer_side = std::max(layout.width, layout.height);
    scale = std::max<int64_t>({1, (kMinimumWidth + content_width - 1) / content_width,
                               (kMinimumTileSide + longer_side - 1) / longer_side});
    while (scale > 1 && picture_width(scale) > kMaximumAutomaticWidth) --scale;
  }
  int64_t tile_width = layout.width * scale, tile_height = layout.height * scale;
  int64_t width = picture_width(scale);
  int64_t height = rows * tile_height + (rows + 1) * border;
  if (scale > kMaxPictureSide || width > kMaxPictureSide || height > kMaxPictureSide)
    throw CliError("the picture would be " + std::to_string(width) + " x " + std::to_string(height) +
                   " pixels; use fewer items, a smaller --scale, or .npy output");

  Image image;
  image.width = static_cast<int>(width);
  image.height = static_cast<int>(height);
  image.channels = layout.channels;
  image.pixels.assign(static_cast<size_t>(width * height * layout.channels), options.border_value);
  size_t plane = static_cast<size_t>(layout.height) * layout.width;
  size_t item_size = plane * layout.channels;
  for (size_t index = 0; index < count; ++index) {
    const float* item = items + index * item_size;
    int64_t left = border + static_cast<int64_t>(index % columns) * (tile_width + border);
    int64_t top = border + static_cast<int64_t>(index / columns) * (tile_height + border);
    for (int64_t y = 0; y < tile_height; ++y) {
      int64_t source_row = y / scale;
      uint8_t* row = &image.pixels[static_cast<size_t>(((top + y) * width + left) * layout.channels)];
      for (int64_t x = 0; x < tile_width; ++x) {
        size_t source = static_cast<size_t>(source_row * layout.width + x / scale);
        // Items are planar (CHW); pixels are interleaved (HWC).
        for (int c = 0; c < layout.channels; ++c)
          row[x * layout.channels + c] = to_pixel(item[c * plane + source], options.low, options.high);
      }
    }
  }
  return image;
}

}  // namespace edgegen::cli
