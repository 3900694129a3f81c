#include "common_options.h"

#include "cli_error.h"

namespace edgegen::cli {

void add_threads_option(CLI::App* command, int* threads) {
  command->add_option("--threads", *threads, "Worker threads (reserved: the runtime is single-threaded for now)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
}

void add_picture_options(CLI::App* command, GridOptions* grid) {
  command->add_option("--scale", grid->scale,
                      "PNG only: enlarge each pixel K times (nearest); default: tiles of 64+ px, picture 256+ px wide")
      ->check(CLI::Range(1, 64));
  command->add_option("--border", grid->border, "PNG only: pixels between tiles")
      ->check(CLI::Range(0, 16))
      ->capture_default_str();
}

size_t checked_float_count(size_t count, size_t size, const std::string& what) {
  // 1 GiB of floats is far beyond anything a small generative model produces.
  constexpr size_t kMaxFloats = size_t{1} << 28;
  size_t total;
  if (__builtin_mul_overflow(count, size, &total) || total > kMaxFloats)
    throw CliError(what + ": " + std::to_string(count) + " items of " + std::to_string(size) +
                   " values is too much memory; use fewer items");
  return total;
}

}  // namespace edgegen::cli
