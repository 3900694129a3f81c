// Turning generated items (float tensors) into one 8-bit picture: a grid of
// tiles, each item mapped from the model's output range to 0..255.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace edgegen::cli {

// An 8-bit image, rows top to bottom, channels interleaved (gray or RGB).
struct Image {
  int width = 0;
  int height = 0;
  int channels = 1;  // 1 (gray) or 3 (RGB)
  std::vector<uint8_t> pixels;  // height * width * channels

  uint8_t at(int x, int y, int channel = 0) const { return pixels[(static_cast<size_t>(y) * width + x) * channels + channel]; }
};

// How one item is laid out in memory, derived from its shape (without the
// batch dimension): [C, H, W] with C = 1 or 3, [H, W], or [1, H, W]-like.
struct ItemLayout {
  int channels = 1;
  int height = 0;
  int width = 0;
};

// The layout of items of shape `item_shape`; throws CliError saying which
// shapes can be drawn when this one cannot (suggesting .npy output).
ItemLayout item_layout_from_shape(const std::vector<int64_t>& item_shape);

struct GridOptions {
  // Tiles per row; 0 = ceil(sqrt(count)), a near-square grid.
  int columns = 0;
  // Nearest-neighbour upscaling of each pixel; 0 = automatic: the smallest
  // factor that makes the picture at least kMinimumWidth pixels wide and
  // each tile at least kMinimumTileSide pixels on its longer side, reduced
  // again while the picture would be wider than kMaximumAutomaticWidth.
  int scale = 0;
  // Pixels between tiles and around the grid, after scaling.
  int border = 2;
  uint8_t border_value = 128;  // mid-gray separates both dark and light tiles
  // The value range mapped to 0..255 (values outside are clamped).
  float low = 0.f;
  float high = 1.f;
};

constexpr int kMinimumWidth = 256;
constexpr int kMinimumTileSide = 64;
constexpr int kMaximumAutomaticWidth = 2048;

// Draws `count` items of `layout` (CHW floats, one after another) as a grid.
// Throws CliError if the picture would be unreasonably large.
Image compose_grid(const float* items, size_t count, const ItemLayout& layout, const GridOptions& options);

// One value mapped from [low, high] to 0..255, rounded and clamped (NaN -> 0).
uint8_t to_pixel(float value, float low, float high);

}  // namespace edgegen::cli
