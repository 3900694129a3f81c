// edgegen bench MODEL.egm [--graph NAME] [--threads N] [--runs R] [--warmup W]
//                         [--min-time S] [--seed S] [--json] [--profile] [--save-io DIR]
//
// Measures what a device cares about, the same way for every model so that
// kernel changes can be compared side by side with other engines
// (bench/run.sh runs this next to ONNX Runtime and PyTorch):
//   - load + prepare: MappedFile::open -> Model::from_buffer -> Session::prepare;
//   - per graph: W warm-up runs, then at least R timed runs and at least S
//     seconds of them; median / min / max latency;
//   - FLOPs of the graph (flops.h) and the GFLOP/s achieved at the median;
//   - the session's arena bytes against the file's plan lower bound;
//   - the process's peak resident set size (getrusage).
// --profile adds a per-operator table (Session::run_with_profile), taken in
// separate runs so that reading the clock between operators does not touch
// the latency figures.
//
// Inputs are standard normal values from edgegen::fill_normal(seed, input
// index, 0), restored before every run: a graph may reuse an input's arena
// slot after its last read, and timing must not depend on what the previous
// run left there. Integer and bool inputs are zero.
#include <sys/resource.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_error.h"
#include "commands.h"
#include "cpu_peak.h"
#include "common_options.h"
#include "edgegen/mapped_file.h"
#include "edgegen/model.h"
#include "edgegen/random.h"
#include "edgegen/session.h"
#include "edgegen_generated.h"
#include "flops.h"
#include "item_files.h"
#include "loaded_model.h"
#include "model_info.h"
#include "npy.h"
#include "ops/registry.h"

#ifndef EDGEGEN_BUILD_TYPE
#define EDGEGEN_BUILD_TYPE "unknown"
#endif

namespace edgegen::cli {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::ordered_json;

// Guards against a typo such as --runs 1e9 on a model that takes a second.
constexpr int kMaxRuns = 1000000;

struct BenchOptions {
  std::string model_path;
  std::string graph;
  SessionOptions runtime;
  int runs = 20;
  int warmup = 3;
  double min_time_seconds = 1.0;
  uint64_t seed = 1;
  bool json = false;
  bool profile = false;
  std::string save_io_dir;
};

double milliseconds(Clock::duration duration) { return std::chrono::duration<double, std::milli>(duration).count(); }

// The median of `values` (sorted in place); 0 for none.
double median_of(std::vector<double>& values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t middle = values.size() / 2;
  return values.size() % 2 ? values[middle] : 0.5 * (values[middle - 1] + values[middle]);
}

uint64_t peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<uint64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

struct OpTiming {
  size_t index = 0;
  std::string name;
  std::string type;
  uint64_t flops = 0;
  double median_ms = 0;
  double share = 0;  // of the sum of all operators' medians
  std::string executor;  // xnnpack, simd or reference
  int conversions = 0;   // NCHW <-> NHWC conversions the op does
};

struct IoFile {
  std::string name;
  std::vector<int64_t> shape;
  std::string dtype;
  std::string file;  // with --save-io
};

struct GraphResult {
  std::string name;
  size_t operators = 0;
  uint64_t flops = 0;
  int warmup = 0;
  int runs = 0;
  double median_ms = 0, min_ms = 0, max_ms = 0, mean_ms = 0;
  bool calling_thread_only = false;  // after the runs: Session::runs_on_calling_thread
  uint64_t plan_arena_bytes = 0;
  uint64_t plan_lower_bound_bytes = 0;
  std::vector<IoFile> inputs, outputs;
  std::vector<OpTiming> profile;  // sorted by time, slowest first

  double gflops_per_second() const { return median_ms > 0 ? flops / (median_ms * 1e6) : 0; }
};

struct BenchResult {
  std::string model_path;
  std::string pipeline;
  uint64_t file_bytes = 0;
  uint64_t weight_bytes = 0;
  double load_ms = 0;  // map + verify + prepare
  uint64_t arena_bytes = 0;
  uint64_t plan_arena_bytes = 0;        // largest graph plan: graphs share one region
  uint64_t plan_lower_bound_bytes = 0;  // largest graph lower bound
  std::vector<GraphResult> graphs;
  uint64_t peak_rss_bytes = 0;
  std::string backend;
  int threads = 1;
  uint64_t activation_bytes = 0;  // the session's activation region (plan + scratch + conversions)
  uint64_t backend_bytes = 0;     // XNNPACK's packed weights and operators
  double peak_gflops = 0;         // measured fp32 peak of one core x threads
};

// One graph input: its host copy, written into the arena before each run.
struct InputData {
  std::vector<uint8_t> bytes;
};

std::vector<size_t> chosen_graphs(const Model& model, const BenchOptions& options) {
  std::vector<size_t> graphs;
  if (!options.graph.empty()) {
    int index = model.find_graph(options.graph.c_str());
    if (index < 0) {
      std::string names;
      for (size_t i = 0; i < model.num_graphs(); ++i) names += (i ? ", " : "") + std::string(model.graph_name(i));
      throw CliError("no graph '" + options.graph + "' in " + options.model_path + " (graphs: " + names + ")");
    }
    graphs.push_back(static_cast<size_t>(index));
  } else {
    for (size_t i = 0; i < model.num_graphs(); ++i) graphs.push_back(i);
  }
  return graphs;
}

std::vector<InputData> make_inputs(Session& session, size_t graph, uint64_t seed) {
  std::vector<InputData> inputs;
  for (size_t i = 0; i < session.num_inputs(graph); ++i) {
    const Tensor& tensor = session.input(graph, i);
    InputData data;
    data.bytes.assign(tensor.bytes(), 0);
    if (tensor.dtype == DType::kFloat32)
      fill_normal(seed, i, 0, reinterpret_cast<float*>(data.bytes.data()), tensor.num_elements());
    inputs.push_back(std::move(data));
  }
  return inputs;
}

void restore_inputs(Session& session, size_t graph, const std::vector<InputData>& inputs) {
  for (size_t i = 0; i < inputs.size(); ++i) std::memcpy(session.input(graph, i).data, inputs[i].bytes.data(), inputs[i].bytes.size());
}

void run_or_throw(Session& session, size_t graph) {
  throw_if_error(session.run(graph), std::string("graph '") + session.model().graph_name(graph) + "'");
}

std::string file_safe(const std::string& name) {
  std::string safe;
  for (char c : name) safe += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
  return safe;
}

bool npy_dtype_of(DType dtype, NpyDType* out) {
  switch (dtype) {
    case DType::kFloat32: *out = NpyDType::kFloat32; return true;
    case DType::kInt32: *out = NpyDType::kInt32; return true;
    case DType::kInt64: *out = NpyDType::kInt64; return true;
    case DType::kUInt8: *out = NpyDType::kUInt8; return true;
    case DType::kInt8: *out = NpyDType::kInt8; return true;
    case DType::kBool: *out = NpyDType::kBool; return true;
    case DType::kFloat16: return false;
  }
  return false;
}

// Describes one input or output tensor and, with a directory, writes it as
// DIR/<graph>.<input|output><i>.npy.
IoFile describe_io(const Tensor& tensor, const std::string& dir, const std::string& stem) {
  IoFile io;
  io.name = tensor.name;
  io.shape = shape_dims(tensor.shape);
  io.dtype = dtype_name(tensor.dtype);
  NpyDType npy_dtype;
  if (!dir.empty() && npy_dtype_of(tensor.dtype, &npy_dtype)) {
    NpyArray array;
    array.dtype = npy_dtype;
    array.shape = io.shape;
    const uint8_t* data = tensor.data_as<const uint8_t>();
    array.data.assign(data, data + tensor.bytes());
    io.file = (std::filesystem::path(dir) / (stem + ".npy")).string();
    write_npy(io.file, array);
  }
  return io;
}

struct ProfileRecorder {
  std::vector<std::vector<double>>* op_ms;
};

void record_op(void* user, int /*graph*/, size_t op_index, uint64_t nanoseconds) {
  auto* recorder = static_cast<ProfileRecorder*>(user);
  if (op_index < recorder->op_ms->size()) (*recorder->op_ms)[op_index].push_back(nanoseconds * 1e-6);
}

GraphResult bench_graph(Session& session, size_t graph, const BenchOptions& options) {
  const Model& model = session.model();
  GraphResult result;
  result.name = model.graph_name(graph);
  result.operators = session.num_operators(graph);
  std::vector<uint64_t> op_flops = graph_op_flops(model, graph);
  for (uint64_t flops : op_flops) result.flops += flops;
  if (const format::MemoryPlan* plan = model.graph(graph)->plan()) {
    result.plan_arena_bytes = plan->arena_bytes();
    result.plan_lower_bound_bytes = plan->lower_bound_bytes();
  }

  std::vector<InputData> inputs = make_inputs(session, graph, options.seed);
  std::string stem = file_safe(result.name);
  for (size_t i = 0; i < inputs.size(); ++i) {
    restore_inputs(session, graph, inputs);
    result.inputs.push_back(describe_io(session.input(graph, i), options.save_io_dir, stem + ".input" + std::to_string(i)));
  }

  // The first warm-up run gives the outputs saved for cross-engine checks.
  restore_inputs(session, graph, inputs);
  run_or_throw(session, graph);
  for (size_t i = 0; i < session.num_outputs(graph); ++i)
    result.outputs.push_back(describe_io(session.output(graph, i), options.save_io_dir, stem + ".output" + std::to_string(i)));
  for (int i = 1; i < options.warmup; ++i) {
    restore_inputs(session, graph, inputs);
    run_or_throw(session, graph);
  }
  result.warmup = std::max(options.warmup, 1);

  std::vector<double> times;
  Clock::duration measured{};
  while ((static_cast<int>(times.size()) < options.runs ||
          std::chrono::duration<double>(measured).count() < options.min_time_seconds) &&
         static_cast<int>(times.size()) < kMaxRuns) {
    restore_inputs(session, graph, inputs);
    Clock::time_point start = Clock::now();
    run_or_throw(session, graph);
    Clock::duration elapsed = Clock::now() - start;
    measured += elapsed;
    times.push_back(milliseconds(elapsed));
  }
  result.runs = static_cast<int>(times.size());
  result.mean_ms = milliseconds(measured) / times.size();
  result.median_ms = median_of(times);
  result.min_ms = times.front();
  result.max_ms = times.back();
  result.calling_thread_only = session.runs_on_calling_thread(graph);

  if (options.profile) {
    std::vector<std::vector<double>> op_ms(result.operators);
    ProfileRecorder recorder{&op_ms};
    OpProfileCallback callback;
    callback.on_op = record_op;
    callback.user = &recorder;
    for (int run = 0; run < result.runs; ++run) {
      restore_inputs(session, graph, inputs);
      throw_if_error(session.run_with_profile(graph, callback), "graph '" + result.name + "'");
    }
    double total_ms = 0;
    for (size_t op = 0; op < result.operators; ++op) {
      OpTiming timing;
      timing.index = op;
      const char* name = session.operator_name(graph, op);
      const char* type = op_name(session.operator_code(graph, op));
      timing.name = name ? name : "";
      timing.type = type ? type : "op#" + std::to_string(session.operator_code(graph, op));
      timing.flops = op < op_flops.size() ? op_flops[op] : 0;
      timing.median_ms = median_of(op_ms[op]);
      timing.executor = session.operator_executor(graph, op);
      timing.conversions = session.operator_conversions(graph, op);
      total_ms += timing.median_ms;
      result.profile.push_back(timing);
    }
    for (OpTiming& timing : result.profile) timing.share = total_ms > 0 ? timing.median_ms / total_ms : 0;
    std::stable_sort(result.profile.begin(), result.profile.end(),
                     [](const OpTiming& a, const OpTiming& b) { return a.median_ms > b.median_ms; });
  }
  return result;
}

BenchResult run_bench_measurements(const BenchOptions& options) {
  BenchResult result;
  result.model_path = options.model_path;

  Clock::time_point load_start = Clock::now();
  // Mapped, verified and prepared as every command does (with --prepacked:
  // the pre-packed weights file used, or written first).
  LoadedModel loaded(options.model_path, options.runtime);
  const Model& model = loaded.model();
  Session& session = loaded.session();
  result.load_ms = milliseconds(Clock::now() - load_start);
  result.backend = backend_name(session.backend());
  result.threads = session.threads();
  result.activation_bytes = session.activation_bytes();
  result.backend_bytes = session.backend_bytes();
  result.peak_gflops = measure_cpu_peak().fp32_gflops * result.threads;

  result.pipeline = pipeline_kind_name(model.pipeline_kind());
  result.file_bytes = std::filesystem::file_size(options.model_path);
  result.weight_bytes = model.weight_bytes();
  result.arena_bytes = session.arena_bytes();
  for (size_t i = 0; i < model.num_graphs(); ++i) {
    if (const format::MemoryPlan* plan = model.graph(i)->plan()) {
      result.plan_arena_bytes = std::max<uint64_t>(result.plan_arena_bytes, plan->arena_bytes());
      result.plan_lower_bound_bytes = std::max<uint64_t>(result.plan_lower_bound_bytes, plan->lower_bound_bytes());
    }
  }
  if (!options.save_io_dir.empty()) std::filesystem::create_directories(options.save_io_dir);
  for (size_t graph : chosen_graphs(model, options)) result.graphs.push_back(bench_graph(session, graph, options));
  result.peak_rss_bytes = peak_rss_bytes();
  return result;
}

bool xnnpack_linked() {
#ifdef EDGEGEN_WITH_XNNPACK
  return true;
#else
  return false;
#endif
}

ordered_json io_json(const std::vector<IoFile>& files) {
  ordered_json list = ordered_json::array();
  for (const IoFile& io : files) {
    ordered_json entry = {{"name", io.name}, {"dtype", io.dtype}, {"shape", io.shape}};
    if (!io.file.empty()) entry["file"] = io.file;
    list.push_back(entry);
  }
  return list;
}

ordered_json bench_json(const BenchResult& result, const BenchOptions& options) {
  ordered_json json;
  json["engine"] = "edgegen";
  json["version"] = EDGEGEN_VERSION;
  json["kernels"] = result.backend;
  json["xnnpack_linked"] = xnnpack_linked();
  json["build_type"] = EDGEGEN_BUILD_TYPE;
  json["model"] = result.model_path;
  json["pipeline"] = result.pipeline;
  json["threads_requested"] = options.runtime.threads;
  json["threads_used"] = result.threads;
  json["seed"] = options.seed;
  json["file_bytes"] = result.file_bytes;
  json["weight_bytes"] = result.weight_bytes;
  json["load_ms"] = result.load_ms;
  json["arena_bytes"] = result.arena_bytes;
  json["plan_arena_bytes"] = result.plan_arena_bytes;
  json["plan_lower_bound_bytes"] = result.plan_lower_bound_bytes;
  json["activation_bytes"] = result.activation_bytes;
  json["packed_weight_bytes"] = result.backend_bytes;
  json["peak_gflops"] = result.peak_gflops;
  json["cpu"] = nlohmann::json::parse(cpu_report(true));
  json["graphs"] = ordered_json::array();
  for (const GraphResult& graph : result.graphs) {
    ordered_json entry;
    entry["name"] = graph.name;
    entry["operators"] = graph.operators;
    entry["flops"] = graph.flops;
    entry["warmup"] = graph.warmup;
    entry["runs"] = graph.runs;
    entry["median_ms"] = graph.median_ms;
    entry["min_ms"] = graph.min_ms;
    entry["max_ms"] = graph.max_ms;
    entry["mean_ms"] = graph.mean_ms;
    entry["calling_thread_only"] = graph.calling_thread_only;
    entry["gflops_per_second"] = graph.gflops_per_second();
    entry["fraction_of_peak"] = result.peak_gflops > 0 ? graph.gflops_per_second() / result.peak_gflops : 0.0;
    entry["plan_arena_bytes"] = graph.plan_arena_bytes;
    entry["plan_lower_bound_bytes"] = graph.plan_lower_bound_bytes;
    entry["inputs"] = io_json(graph.inputs);
    entry["outputs"] = io_json(graph.outputs);
    if (options.profile) {
      entry["profile"] = ordered_json::array();
      for (const OpTiming& op : graph.profile)
        entry["profile"].push_back({{"index", op.index},
                                    {"name", op.name},
                                    {"op", op.type},
                                    {"median_ms", op.median_ms},
                                    {"share", op.share},
                                    {"flops", op.flops},
                                    {"executor", op.executor},
                                    {"conversions", op.conversions},
                                    {"gflops_per_second", op.median_ms > 0 ? op.flops / (op.median_ms * 1e6) : 0.0},
                                    {"fraction_of_peak", op.median_ms > 0 && result.peak_gflops > 0
                                                             ? op.flops / (op.median_ms * 1e6) / result.peak_gflops
                                                             : 0.0}});
    }
    json["graphs"].push_back(entry);
  }
  json["peak_rss_bytes"] = result.peak_rss_bytes;
  return json;
}

std::string format_fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

// 1234567 -> "1.23 M", for FLOP counts.
std::string with_unit(double value) {
  const char* units[] = {"", " k", " M", " G", " T"};
  int unit = 0;
  while (value >= 1000 && unit < 4) {
    value /= 1000;
    ++unit;
  }
  return format_fixed(value, unit ? 2 : 0) + units[unit];
}

std::string bench_text(const BenchResult& result, const BenchOptions& options) {
  std::ostringstream text;
  text << result.model_path << ": " << result.pipeline << " pipeline, " << with_thousands(result.file_bytes)
       << " bytes, kernels: " << result.backend << ", build: " << EDGEGEN_BUILD_TYPE << "\n";
  if (std::string(EDGEGEN_BUILD_TYPE) != "Release")
    text << "  warning: not a Release build; these numbers do not describe the runtime\n";
  text << "  threads: " << result.threads << (options.runtime.threads == 0 ? " (default: performance cores)" : "")
       << "\n";
  text << "  load + prepare: " << format_fixed(result.load_ms, 3) << " ms\n";
  text << "  arena: " << with_thousands(result.arena_bytes) << " bytes: activations "
       << with_thousands(result.activation_bytes) << " (plan " << with_thousands(result.plan_arena_bytes)
       << ", lower bound " << with_thousands(result.plan_lower_bound_bytes) << "; operator scratch "
       << with_thousands(result.activation_bytes - std::min(result.activation_bytes, result.plan_arena_bytes))
       << "), packed weights " << with_thousands(result.backend_bytes) << "\n";
  text << "  fp32 peak: " << format_fixed(result.peak_gflops, 1) << " GFLOP/s (measured, " << result.threads
       << " thread" << (result.threads > 1 ? "s" : "") << ")\n";
  for (const GraphResult& graph : result.graphs) {
    text << "graph " << graph.name << ": " << graph.operators << " ops, " << with_unit(graph.flops) << "FLOP\n";
    text << "  " << graph.runs << " runs after " << graph.warmup << " warm-up: median " << format_fixed(graph.median_ms, 3)
         << " ms, min " << format_fixed(graph.min_ms, 3) << " ms, max " << format_fixed(graph.max_ms, 3) << " ms, "
         << format_fixed(graph.gflops_per_second(), 2) << " GFLOP/s ("
         << format_fixed(result.peak_gflops > 0 ? 100 * graph.gflops_per_second() / result.peak_gflops : 0, 1)
         << "% of peak)\n";
    if (result.threads > 1 && graph.calling_thread_only)
      text << "  every op on the calling thread: measured faster than splitting them across " << result.threads
           << " threads\n";
    if (options.profile) {
      char line[256];
      std::snprintf(line, sizeof line, "  %4s  %-16s %-28s %-11s %10s %7s %9s %7s\n", "#", "op", "name", "kernel", "ms",
                    "share", "GFLOP/s", "%peak");
      text << line;
      for (const OpTiming& op : graph.profile) {
        std::string name = op.name.size() > 28 ? op.name.substr(0, 25) + "..." : op.name;
        std::string gflops = op.flops ? format_fixed(op.flops / (op.median_ms * 1e6), 2) : "-";
        std::string kernel = op.executor + (op.conversions ? "+" + std::to_string(op.conversions) + "T" : "");
        std::string of_peak = op.flops && result.peak_gflops > 0
                                  ? format_fixed(100 * op.flops / (op.median_ms * 1e6) / result.peak_gflops, 1)
                                  : "-";
        std::snprintf(line, sizeof line, "  %4zu  %-16s %-28s %-11s %10.4f %6.1f%% %9s %7s\n", op.index,
                      op.type.c_str(), name.c_str(), kernel.c_str(), op.median_ms, 100 * op.share, gflops.c_str(),
                      of_peak.c_str());
        text << line;
      }
    }
  }
  text << "peak RSS: " << format_fixed(result.peak_rss_bytes / 1048576.0, 1) << " MiB\n";
  return text.str();
}

void run_bench(const BenchOptions& options) {
  BenchResult result = run_bench_measurements(options);
  if (options.json)
    std::cout << bench_json(result, options).dump(2) << "\n";
  else
    std::cout << bench_text(result, options);
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto options = std::make_shared<BenchOptions>();
  CLI::App* command = app.add_subcommand(
      "bench", "Measure load time, latency, GFLOP/s and memory of a model's graphs (inputs: seeded random normals).\n"
               "Runs W warm-up runs, then at least R runs and at least --min-time seconds.");
  command->add_option("model", options->model_path, "Model file (.egm)")->required();
  command->add_option("--graph", options->graph, "Only this graph (default: every graph)");
  add_runtime_options(command, &options->runtime);
  command->add_option("--runs", options->runs, "Least number of timed runs")->check(CLI::Range(1, kMaxRuns))->capture_default_str();
  command->add_option("--warmup", options->warmup, "Warm-up runs before timing (at least 1 is made)")
      ->check(CLI::Range(0, 10000))
      ->capture_default_str();
  command->add_option("--min-time", options->min_time_seconds, "Least seconds of timed runs per graph")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  command->add_option("--seed", options->seed, "Seed of the random inputs")->capture_default_str();
  command->add_flag("--json", options->json, "Print the results as JSON");
  command->add_flag("--profile", options->profile, "Also time every operator (in separate runs)");
  command->add_option("--save-io", options->save_io_dir,
                      "Write each graph's inputs and first outputs to DIR/<graph>.input<i>.npy / .output<i>.npy");
  command->callback([options] { run_bench(*options); });
}

}  // namespace edgegen::cli
