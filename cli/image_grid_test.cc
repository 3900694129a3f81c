#include "image_grid.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "cli_error.h"

namespace edgegen::cli {

TEST_CASE("image grid: values map from the output range to 0..255, clamped") {
  CHECK(to_pixel(0.f, 0.f, 1.f) == 0);
  CHECK(to_pixel(1.f, 0.f, 1.f) == 255);
  CHECK(to_pixel(0.5f, 0.f, 1.f) == 128);
  CHECK(to_pixel(-1.f, -1.f, 1.f) == 0);
  CHECK(to_pixel(0.f, -1.f, 1.f) == 128);
  CHECK(to_pixel(7.f, -1.f, 1.f) == 255);
  CHECK(to_pixel(-7.f, -1.f, 1.f) == 0);
  CHECK(to_pixel(std::numeric_limits<float>::quiet_NaN(), 0.f, 1.f) == 0);
  CHECK(to_pixel(std::numeric_limits<float>::infinity(), 0.f, 1.f) == 255);
}

TEST_CASE("image grid: item layouts") {
  ItemLayout gray = item_layout_from_shape({1, 16, 8});
  CHECK(gray.channels == 1);
  CHECK(gray.height == 16);
  CHECK(gray.width == 8);
  ItemLayout rgb = item_layout_from_shape({3, 4, 5});
  CHECK(rgb.channels == 3);
  ItemLayout plain = item_layout_from_shape({6, 7});
  CHECK(plain.channels == 1);
  CHECK(plain.height == 6);
  CHECK(plain.width == 7);
  CHECK_THROWS_WITH_AS(item_layout_from_shape({8}), doctest::Contains("write .npy instead"), CliError);
  CHECK_THROWS_AS(item_layout_from_shape({2, 4, 4}), CliError);
  CHECK_THROWS_AS(item_layout_from_shape({1, 0, 4}), CliError);
  CHECK_THROWS_AS(item_layout_from_shape({1, 1LL << 40, 4}), CliError);
}

TEST_CASE("image grid: tiles are placed row-major with borders between and around") {
  // Five 2x2 gray items: value k/4 everywhere for item k.
  std::vector<float> items;
  for (int k = 0; k < 5; ++k) items.insert(items.end(), 4, k / 4.f);
  GridOptions options;
  options.scale = 1;
  options.border = 1;
  options.border_value = 99;
  Image image = compose_grid(items.data(), 5, {1, 2, 2}, options);
  // ceil(sqrt(5)) = 3 columns, 2 rows: 3*2 + 4 borders wide, 2*2 + 3 borders high.
  CHECK(image.width == 10);
  CHECK(image.height == 7);
  CHECK(image.channels == 1);
  CHECK(image.at(0, 0) == 99);
  CHECK(image.at(1, 1) == 0);    // item 0
  CHECK(image.at(4, 2) == 64);   // item 1
  CHECK(image.at(7, 1) == 128);  // item 2
  CHECK(image.at(3, 1) == 99);   // border between items 0 and 1
  CHECK(image.at(1, 4) == 191);  // item 3, second row
  CHECK(image.at(4, 5) == 255);  // item 4
  CHECK(image.at(7, 4) == 99);   // the empty sixth cell shows the border colour
}

TEST_CASE("image grid: planar RGB items become interleaved pixels") {
  // One 1x2 RGB item: pixel 0 red, pixel 1 blue (CHW layout).
  std::vector<float> item = {1, 0, /*green*/ 0, 0, /*blue*/ 0, 1};
  GridOptions options;
  options.scale = 1;
  options.border = 0;
  Image image = compose_grid(item.data(), 1, {3, 1, 2}, options);
  CHECK(image.pixels == std::vector<uint8_t>{255, 0, 0, 0, 0, 255});
}

TEST_CASE("image grid: default scale makes the picture at least 256 pixels wide") {
  std::vector<float> items(4 * 16 * 16, 0.5f);
  GridOptions options;
  Image image = compose_grid(items.data(), 4, {1, 16, 16}, options);
  // 2 columns of 16 px: scale 8 gives 256 px of content plus 3 borders of 2 px.
  CHECK(image.width == 2 * 16 * 8 + 3 * 2);
  CHECK(image.height == image.width);
  // Nearest upscaling: each source pixel is an 8x8 block.
  CHECK(image.at(2, 2) == 128);
  CHECK(image.at(2 + 127, 2 + 127) == 128);
}

TEST_CASE("image grid: default scale keeps tiles at least 64 px, pictures at most 2048 px wide") {
  std::vector<float> items(64 * 28 * 28, 0.f);
  GridOptions options;
  options.columns = 8;
  Image strip = compose_grid(items.data(), 8, {1, 16, 16}, options);
  CHECK(strip.width == 8 * 64 + 9 * 2);  // scale 4: 16 px tiles become 64 px
  options.columns = 64;
  Image wide = compose_grid(items.data(), 64, {1, 28, 28}, options);
  CHECK(wide.width == 64 * 28 + 65 * 2);  // scale 3 would exceed 2048 px; back to 1
}

TEST_CASE("image grid: explicit columns give a strip; bad requests throw") {
  std::vector<float> items(3 * 4, 1.f);
  GridOptions options;
  options.columns = 3;
  options.scale = 2;
  options.border = 1;
  Image strip = compose_grid(items.data(), 3, {1, 2, 2}, options);
  CHECK(strip.width == 3 * 4 + 4);
  CHECK(strip.height == 4 + 2);
  CHECK_THROWS_AS(compose_grid(items.data(), 0, {1, 2, 2}, options), CliError);
  options.low = 1.f;
  options.high = 1.f;
  CHECK_THROWS_AS(compose_grid(items.data(), 3, {1, 2, 2}, options), CliError);
  options.high = 2.f;
  options.scale = 100000;
  CHECK_THROWS_WITH_AS(compose_grid(items.data(), 3, {1, 2, 2}, options), doctest::Contains("pixels"), CliError);
}

}  // namespace edgegen::cli
