// edgegen run MODEL.egm --input NAME=FILE.npy ... --output-dir DIR [--graph NAME]
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <vector>

#include "atomic_file.h"
#include "cli_error.h"
#include "commands.h"
#include "common_options.h"
#include "file_names.h"
#include "item_files.h"
#include "loaded_model.h"
#include "npy.h"

namespace edgegen::cli {
namespace {

struct RunOptions {
  std::string model_path;
  std::vector<std::string> inputs;  // NAME=FILE.npy
  std::string output_dir;
  std::string graph;
  SessionOptions runtime;
};

// The .npy dtype that holds a runtime dtype exactly; false if none does.
bool npy_dtype_for(DType dtype, NpyDType* out) {
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

std::string graph_names(const Model& model) {
  std::string names;
  for (size_t i = 0; i < model.num_graphs(); ++i) names += (i ? ", " : "") + std::string(model.graph_name(i));
  return names;
}

size_t choose_graph(const Model& model, const RunOptions& options) {
  if (!options.graph.empty()) {
    int index = model.find_graph(options.graph.c_str());
    if (index < 0) throw CliError("no graph '" + options.graph + "' in " + options.model_path + " (graphs: " + graph_names(model) + ")");
    return static_cast<size_t>(index);
  }
  if (model.num_graphs() != 1)
    throw CliError(options.model_path + " has " + std::to_string(model.num_graphs()) + " graphs (" + graph_names(model) +
                   "); choose one with --graph");
  return 0;
}

std::string input_names(Session& session, size_t graph) {
  std::string names;
  for (size_t i = 0; i < session.num_inputs(graph); ++i) names += (i ? ", " : "") + std::string(session.input(graph, i).name);
  return names;
}

// Parses the --input arguments into input index -> file, checking that
// every name exists, none repeats, and every input is given.
std::map<size_t, std::string> match_inputs(Session& session, size_t graph, const RunOptions& options) {
  std::map<size_t, std::string> files;
  for (const std::string& argument : options.inputs) {
    size_t equals = argument.find('=');
    std::string name, file;
    if (equals == std::string::npos) {
      // NAME= may be left out when the graph has a single input.
      if (session.num_inputs(graph) != 1)
        throw CliError("--input " + argument + ": expected NAME=FILE.npy (inputs: " + input_names(session, graph) + ")");
      name = session.input(graph, 0).name;
      file = argument;
    } else {
      name = argument.substr(0, equals);
      file = argument.substr(equals + 1);
    }
    int index = session.find_input(graph, name.c_str());
    if (index < 0)
      throw CliError("--input " + argument + ": the graph has no input '" + name + "' (inputs: " + input_names(session, graph) + ")");
    if (!files.emplace(static_cast<size_t>(index), file).second) throw CliError("--input: '" + name + "' is given twice");
  }
  std::string missing;
  for (size_t i = 0; i < session.num_inputs(graph); ++i)
    if (files.count(i) == 0) missing += (missing.empty() ? "" : ", ") + std::string(session.input(graph, i).name);
  if (!missing.empty()) throw CliError("missing --input for: " + missing);
  return files;
}

// Reads `path` for `input`; its shape and dtype must match exactly.
NpyArray read_input(const Tensor& input, const std::string& path) {
  NpyArray array = read_npy(path);
  std::vector<int64_t> expected = shape_dims(input.shape);
  NpyDType expected_dtype;
  bool representable = npy_dtype_for(input.dtype, &expected_dtype);
  if (array.shape != expected || !representable || array.dtype != expected_dtype) {
    std::string hint = representable && array.shape == expected ? std::string(" (convert with a.astype(np.") + dtype_name(input.dtype) + "))" : "";
    throw CliError(path + ": input '" + input.name + "' needs " + dtype_name(input.dtype) + " " + format_dims(expected) +
                   ", the file holds " + npy_dtype_name(array.dtype) + " " + format_dims(array.shape) + hint);
  }
  return array;
}

void run_run(const RunOptions& options) {
  LoadedModel loaded(options.model_path, options.runtime);
  size_t graph = choose_graph(loaded.model(), options);
  Session& session = loaded.session();
  std::map<size_t, std::string> files = match_inputs(session, graph, options);
  std::map<size_t, NpyArray> arrays;
  for (const auto& [index, path] : files) arrays.emplace(index, read_input(session.input(graph, index), path));

  size_t num_outputs = session.num_outputs(graph);
  std::vector<std::string> tensor_names;
  for (size_t i = 0; i < num_outputs; ++i) {
    const Tensor& output = session.output(graph, i);
    NpyDType unused;
    if (!npy_dtype_for(output.dtype, &unused))
      throw CliError(std::string("output '") + output.name + "' is " + dtype_name(output.dtype) + ", which .npy output does not support");
    tensor_names.push_back(output.name);
  }
  std::vector<std::string> file_names = unique_file_names(tensor_names);
  std::error_code error;
  std::filesystem::create_directories(options.output_dir, error);
  if (error) throw CliError(options.output_dir + ": cannot create the output directory: " + error.message());
  // Opened before running, so an unwritable directory fails early; removed
  // again if anything below fails.
  std::vector<std::unique_ptr<AtomicFile>> outputs;
  for (const std::string& name : file_names)
    outputs.push_back(std::make_unique<AtomicFile>((std::filesystem::path(options.output_dir) / (name + ".npy")).string()));

  for (const auto& [index, array] : arrays)
    if (!array.data.empty()) std::memcpy(session.input(graph, index).data, array.data.data(), array.data.size());
  auto start = std::chrono::steady_clock::now();
  throw_if_error(session.run(graph), "graph '" + std::string(loaded.model().graph_name(graph)) + "'");
  double milliseconds = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

  for (size_t i = 0; i < num_outputs; ++i) {
    const Tensor& output = session.output(graph, i);
    NpyArray array;
    npy_dtype_for(output.dtype, &array.dtype);
    array.shape = shape_dims(output.shape);
    const uint8_t* data = static_cast<const uint8_t*>(output.data);
    array.data.assign(data, data + output.bytes());
    std::vector<uint8_t> bytes = serialize_npy(array);
    outputs[i]->write(bytes.data(), bytes.size());
  }
  for (auto& output : outputs) output->commit();
  std::cout << "ran graph '" << loaded.model().graph_name(graph) << "' in " << std::fixed << std::setprecision(2)
            << milliseconds << " ms\n";
  for (size_t i = 0; i < num_outputs; ++i) {
    const Tensor& output = session.output(graph, i);
    std::cout << "wrote " << outputs[i]->destination() << ": " << output.name << " " << dtype_name(output.dtype) << " "
              << format_dims(shape_dims(output.shape)) << "\n";
  }
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* command = app.add_subcommand(
      "run", "Run one graph on .npy inputs and write each output to DIR/<output name>.npy.\n"
             "Inputs must match the graph's input shapes (batch dimension included) and dtypes exactly;\n"
             "see them with 'edgegen info'.");
  command->add_option("model", options->model_path, "Model file (.egm)")->required();
  command->add_option("-i,--input", options->inputs,
                      "NAME=FILE.npy for each graph input (FILE.npy alone if there is one; none for a graph without inputs)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  command->add_option("-d,--output-dir", options->output_dir, "Directory for the outputs (created if missing)")->required();
  command->add_option("-g,--graph", options->graph, "Graph to run (required when the model has several)");
  add_runtime_options(command, &options->runtime);
  command->callback([options] { run_run(*options); });
}

}  // namespace edgegen::cli
