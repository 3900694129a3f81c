#include "density_sample.h"

#include <iostream>
#include <vector>

#include "atomic_file.h"
#include "cli_error.h"
#include "common_options.h"
#include "display_range.h"
#include "edgegen/density.h"
#include "file_names.h"
#include "item_files.h"

namespace edgegen::cli {
namespace {

// Writes the samples; a PNG maps `range` to black..white.
void write_samples(OutputFormat format, AtomicFile& output, const std::vector<float>& items, size_t count,
                   const std::vector<int64_t>& event_shape, GridOptions grid, const DisplayRange& range) {
  grid.low = range.low;
  grid.high = range.high;
  std::vector<uint8_t> bytes = encode_items(format, items.data(), count, event_shape, grid);
  output.write(bytes.data(), bytes.size());
  output.commit();
}

// Says which values a PNG drew as black and white, and why.
void report_range(OutputFormat format, const DisplayRange& range) {
  if (format == OutputFormat::kPng)
    std::cout << "  pixels: black = " << range.low << ", white = " << range.high << " (" << range.origin << ")\n";
}

}  // namespace

void sample_flow(const LoadedModel& loaded, size_t count, uint64_t seed, float temperature,
                 const std::string& output_path, GridOptions grid) {
  OutputFormat format = output_format_of(output_path, "-o");
  FlowPipeline flow;
  throw_if_error(flow.prepare(loaded.model(), loaded.options()), loaded.path());
  loaded.use_prepacked_weights(flow.session());
  if (!flow.can_sample()) throw CliError(loaded.path() + ": this flow has no inverse graph, so it cannot sample");
  std::vector<int64_t> event_shape = shape_dims(flow.event_shape());
  if (format == OutputFormat::kPng) item_layout_from_shape(event_shape);
  AtomicFile output(output_path);
  std::vector<float> items(checked_float_count(count, flow.event_size(), "-n"));
  throw_if_error(flow.sample(seed, temperature, count, items.data()), loaded.path());
  DisplayRange range = flow_display_range(flow.dequantize_scale(), flow.logit_alpha(), items.data(), items.size());
  write_samples(format, output, items, count, event_shape, grid, range);
  std::cout << "wrote " << output_path << ": " << count << " flow samples of " << format_dims(event_shape) << " (seed "
            << seed << ", temperature " << temperature << ")\n";
  report_range(format, range);
}

void sample_autoregressive(const LoadedModel& loaded, size_t count, uint64_t seed, float temperature, uint32_t top_k,
                           const std::string& output_path, GridOptions grid) {
  OutputFormat format = output_format_of(output_path, "-o");
  AutoregressivePipeline model;
  throw_if_error(model.prepare(loaded.model(), loaded.options()), loaded.path());
  loaded.use_prepacked_weights(model.session());
  std::vector<int64_t> event_shape = shape_dims(model.event_shape());
  if (format == OutputFormat::kPng) item_layout_from_shape(event_shape);
  AtomicFile output(output_path);
  std::vector<float> items(checked_float_count(count, model.event_size(), "-n"));
  ArSampleOptions options;
  options.seed = seed;
  options.temperature = temperature;
  options.top_k = top_k;
  throw_if_error(model.sample(options, count, items.data()), loaded.path());
  DisplayRange range = autoregressive_display_range(model.distribution(), model.categories(), items.data(), items.size());
  write_samples(format, output, items, count, event_shape, grid, range);
  std::cout << "wrote " << output_path << ": " << count << " autoregressive samples of " << format_dims(event_shape)
            << " (seed " << seed << ", temperature " << temperature << (top_k ? ", top-k " + std::to_string(top_k) : "")
            << ")\n";
  report_range(format, range);
}

void sample_energy(const LoadedModel& loaded, size_t count, uint64_t seed, const std::string& output_path,
                   GridOptions grid) {
  OutputFormat format = output_format_of(output_path, "-o");
  EnergyPipeline model;
  throw_if_error(model.prepare(loaded.model(), loaded.options()), loaded.path());
  loaded.use_prepacked_weights(model.session());
  std::vector<int64_t> event_shape = shape_dims(model.event_shape());
  if (format == OutputFormat::kPng) item_layout_from_shape(event_shape);
  AtomicFile output(output_path);
  std::vector<float> items(checked_float_count(count, model.event_size(), "-n"));
  throw_if_error(model.sample(seed, count, items.data()), loaded.path());
  DisplayRange range = observed_display_range(items.data(), items.size());  // an energy model declares no range
  write_samples(format, output, items, count, event_shape, grid, range);
  std::cout << "wrote " << output_path << ": " << count << " Langevin samples of " << format_dims(event_shape) << " (seed "
            << seed << ", " << model.num_noise_levels() << " noise levels)\n";
  report_range(format, range);
}

}  // namespace edgegen::cli
