#include "png_file.h"

#include <doctest/doctest.h>

#include <vector>

#include "atomic_file.h"
#include "cli_error.h"
#include "test_support.h"

namespace edgegen::cli {

TEST_CASE("png: a gray grid written to disk reads back pixel for pixel") {
  testing::TemporaryDirectory directory;
  std::vector<float> items = {0.f, 1.f, 0.25f, 0.75f,  // item 0, 2x2
                              1.f, 0.f, 0.75f, 0.25f};  // item 1
  GridOptions options;
  options.scale = 3;
  options.border = 2;
  Image grid = compose_grid(items.data(), 2, {1, 2, 2}, options);
  write_png(directory.file("grid.png"), grid);
  CHECK(directory.entries() == std::vector<std::string>{"grid.png"});

  Image read = read_png(directory.file("grid.png"));
  CHECK(read.width == grid.width);
  CHECK(read.height == grid.height);
  CHECK(read.channels == 1);
  CHECK(read.pixels == grid.pixels);
  CHECK(read.at(2, 2) == 0);          // item 0, top-left source pixel
  CHECK(read.at(2 + 3, 2) == 255);    // item 0, top-right (scaled by 3)
  CHECK(read.at(2 + 6 + 2, 2) == 255);  // item 1 starts after the 2 px border
  CHECK(read.at(0, 0) == 128);        // border
}

TEST_CASE("png: RGB images round-trip") {
  Image image;
  image.width = 3;
  image.height = 2;
  image.channels = 3;
  for (int i = 0; i < 18; ++i) image.pixels.push_back(static_cast<uint8_t>(i * 14));
  std::vector<uint8_t> bytes = encode_png(image);
  CHECK(bytes.size() > 8);
  CHECK(bytes[1] == 'P');
  Image decoded = decode_png(bytes.data(), bytes.size(), "memory");
  CHECK(decoded.channels == 3);
  CHECK(decoded.pixels == image.pixels);
}

TEST_CASE("png: corrupt input is an error naming the source") {
  std::vector<uint8_t> junk = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  CHECK_THROWS_WITH_AS(decode_png(junk.data(), junk.size(), "junk.png"), doctest::Contains("junk.png"), CliError);
  Image image;
  image.width = 2;
  image.height = 2;
  image.pixels.assign(4, 7);
  std::vector<uint8_t> bytes = encode_png(image);
  // Every cut inside the pixel data. (libspng does not need the last IDAT
  // CRC, 4 bytes, nor IEND, 12 bytes, once the compressed stream is complete.)
  for (size_t cut = 0; cut + 16 < bytes.size(); ++cut) {
    CAPTURE(cut);
    CHECK_THROWS_AS(decode_png(bytes.data(), cut, "cut.png"), CliError);
  }
}

}  // namespace edgegen::cli
