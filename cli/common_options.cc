#include "common_options.h"

#include <map>

#include "cli_error.h"

namespace edgegen::cli {
namespace {
std::string prepacked_path;
}  // namespace

const std::string& prepacked_weights_path() { return prepacked_path; }

void add_runtime_options(CLI::App* command, SessionOptions* options) {
  command->add_option("--threads", options->threads, "Worker threads (default: the performance cores)")
      ->check(CLI::Range(1, 1024));
  static const std::map<std::string, Backend> kBackends = {
      {"auto", Backend::kAuto}, {"xnnpack", Backend::kXnnpack}, {"reference", Backend::kReference}};
  command
      ->add_option("--backend", options->backend,
                   "Kernels: auto (XNNPACK when available), xnnpack, or reference (the portable oracle)")
      ->transform(CLI::CheckedTransformer(kBackends, CLI::ignore_case))
      ->default_str("auto");
  command->add_flag_callback(
      "--low-memory", [options] { options->stream_weights_min_bytes = kLowMemoryStreamBytes; },
      "Weight streaming for models of several GB: convolutions and fully connected layers with weights of 1 MiB "
      "or more are packed just before they run, into one buffer, and their pages of the mapped file released "
      "after; peak memory is about the arena plus one layer, at the cost of repacking each run");
  command->add_option("--prepacked", prepacked_path,
                      "With --low-memory: keep the streamed layers' packed weights in FILE (written on first use, "
                      "about the model's size; rewritten when made for another model, CPU or options), so each "
                      "run reads them packed instead of repacking")
      ->type_name("FILE");
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
