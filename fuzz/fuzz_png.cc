// libFuzzer: PNG decoding (cli/png_file.h, libspng) on untrusted bytes, as
// for in-painting masks. A bad file is a CliError; a decoded image has the
// pixels its size says and survives an encode/decode round trip.
#include <cstdio>
#include <cstdlib>

#include "cli_error.h"
#include "png_file.h"

using namespace edgegen::cli;

namespace {
void expect(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz_png: %s\n", what);
    std::abort();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Image image;
  try {
    image = decode_png(data, size, "fuzz.png");
  } catch (const CliError&) {
    return 0;
  }
  expect(image.channels == 1 || image.channels == 3, "decoded image has neither 1 nor 3 channels");
  expect(image.width > 0 && image.height > 0, "decoded image is empty");
  expect(image.pixels.size() == static_cast<size_t>(image.width) * image.height * image.channels,
         "pixel count does not match the image size");
  if (image.pixels.size() > (1u << 22)) return 0;
  std::vector<uint8_t> encoded = encode_png(image);
  Image again = decode_png(encoded.data(), encoded.size(), "round trip");
  expect(again.width == image.width && again.height == image.height && again.channels == image.channels &&
             again.pixels == image.pixels,
         "the image changed in an encode/decode round trip");
  return 0;
}
