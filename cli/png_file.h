// PNG encoding and decoding of 8-bit gray and RGB images with libspng.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "image_grid.h"

namespace edgegen::cli {

// The bytes of a PNG file holding `image`. Throws CliError.
std::vector<uint8_t> encode_png(const Image& image);
// Writes atomically (see atomic_file.h).
void write_png(const std::string& path, const Image& image);

// Decodes a PNG (untrusted input) to 8-bit: gray images without alpha stay
// one channel, everything else becomes RGB (alpha dropped). `source`
// prefixes error messages.
Image decode_png(const uint8_t* bytes, size_t size, const std::string& source);
Image read_png(const std::string& path);

}  // namespace edgegen::cli
