#include "png_file.h"

#include <spng.h>

#include <cstdlib>
#include <memory>

#include "atomic_file.h"
#include "cli_error.h"

namespace edgegen::cli {
namespace {

// Limits for decoding untrusted files: enough for any picture this tool
// reads, small enough that a forged header cannot demand gigabytes.
constexpr uint32_t kMaxDecodeSide = 1 << 14;
constexpr size_t kMaxChunkBytes = 16 << 20;

struct ContextDeleter {
  void operator()(spng_ctx* context) const { spng_ctx_free(context); }
};
using Context = std::unique_ptr<spng_ctx, ContextDeleter>;

void check(int error, const std::string& what) {
  if (error != 0) throw CliError(what + ": " + spng_strerror(error));
}

}  // namespace

std::vector<uint8_t> encode_png(const Image& image) {
  if (image.channels != 1 && image.channels != 3) throw CliError("PNG encoding needs 1 or 3 channels");
  if (image.pixels.size() != static_cast<size_t>(image.width) * image.height * image.channels)
    throw CliError("PNG encoding: pixel buffer does not match the image size");
  Context context(spng_ctx_new(SPNG_CTX_ENCODER));
  if (!context) throw CliError("PNG encoding: out of memory");
  check(spng_set_option(context.get(), SPNG_ENCODE_TO_BUFFER, 1), "PNG encoding");
  spng_ihdr header = {};
  header.width = static_cast<uint32_t>(image.width);
  header.height = static_cast<uint32_t>(image.height);
  header.bit_depth = 8;
  header.color_type = image.channels == 1 ? SPNG_COLOR_TYPE_GRAYSCALE : SPNG_COLOR_TYPE_TRUECOLOR;
  check(spng_set_ihdr(context.get(), &header), "PNG encoding");
  check(spng_encode_image(context.get(), image.pixels.data(), image.pixels.size(), SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE),
        "PNG encoding");
  size_t size = 0;
  int error = 0;
  // The buffer belongs to us after this call and is released with free().
  std::unique_ptr<void, decltype(&std::free)> buffer(spng_get_png_buffer(context.get(), &size, &error), &std::free);
  check(error, "PNG encoding");
  const uint8_t* bytes = static_cast<const uint8_t*>(buffer.get());
  return std::vector<uint8_t>(bytes, bytes + size);
}

void write_png(const std::string& path, const Image& image) { write_file_atomically(path, encode_png(image)); }

Image decode_png(const uint8_t* bytes, size_t size, const std::string& source) {
  Context context(spng_ctx_new(0));
  if (!context) throw CliError(source + ": out of memory");
  check(spng_set_image_limits(context.get(), kMaxDecodeSide, kMaxDecodeSide), source);
  check(spng_set_chunk_limits(context.get(), kMaxChunkBytes, kMaxChunkBytes), source);
  check(spng_set_png_buffer(context.get(), bytes, size), source);
  spng_ihdr header;
  check(spng_get_ihdr(context.get(), &header), source);
  bool gray = header.color_type == SPNG_COLOR_TYPE_GRAYSCALE && header.bit_depth <= 8;
  int format = gray ? SPNG_FMT_G8 : SPNG_FMT_RGB8;
  size_t decoded_size = 0;
  check(spng_decoded_image_size(context.get(), format, &decoded_size), source);
  Image image;
  image.width = static_cast<int>(header.width);
  image.height = static_cast<int>(header.height);
  image.channels = gray ? 1 : 3;
  image.pixels.resize(decoded_size);
  // Transparency (tRNS) is ignored: the pixels are wanted, not compositing.
  check(spng_decode_image(context.get(), image.pixels.data(), decoded_size, format, 0), source);
  return image;
}

Image read_png(const std::string& path) {
  std::vector<uint8_t> bytes = read_file(path);
  return decode_png(bytes.data(), bytes.size(), path);
}

}  // namespace edgegen::cli
