// edgegen run MODEL.egm --input NAME=FILE.npy ... --output-dir DIR [--graph NAME]
//             [--stateful IN=OUT ... [--steps N]]
#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "atomic_file.h"
#include "edgegen/carried_state.h"
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
  std::vector<std::string> stateful;  // IN=OUT: state input fed from the output of the run before
  size_t steps = 0;                   // runs of a stateful graph (0: from the inputs' first dimension)
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
// every name exists, none repeats, and every input not in `optional` is given.
std::map<size_t, std::string> match_inputs(Session& session, size_t graph, const RunOptions& options,
                                           const std::set<size_t>& optional) {
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
    if (files.count(i) == 0 && optional.count(i) == 0)
      missing += (missing.empty() ? "" : ", ") + std::string(session.input(graph, i).name);
  if (!missing.empty()) throw CliError("missing --input for: " + missing);
  return files;
}

// Reads `path` for `input`; its dtype must match exactly, and its shape be
// the input's, or (a stream of a stateful graph) [steps, the input's shape].
NpyArray read_input(const Tensor& input, const std::string& path, bool stream) {
  NpyArray array = read_npy(path);
  std::vector<int64_t> expected = shape_dims(input.shape);
  NpyDType expected_dtype = NpyDType::kFloat32;
  bool representable = npy_dtype_for(input.dtype, &expected_dtype);
  bool shape_ok = array.shape == expected ||
                  (stream && array.shape.size() == expected.size() + 1 &&
                   std::equal(expected.begin(), expected.end(), array.shape.begin() + 1));
  if (!shape_ok || !representable || array.dtype != expected_dtype) {
    std::string hint = representable && shape_ok ? std::string(" (convert with a.astype(np.") + dtype_name(input.dtype) + "))" : "";
    std::string wanted = format_dims(expected);
    if (stream) wanted += " or [steps, " + wanted.substr(1);
    throw CliError(path + ": input '" + input.name + "' needs " + dtype_name(input.dtype) + " " + wanted +
                   ", the file holds " + npy_dtype_name(array.dtype) + " " + format_dims(array.shape) + hint);
  }
  return array;
}

// --stateful IN=OUT, each checked against the graph by CarriedState.
std::vector<std::pair<std::string, std::string>> parse_state_pairs(const RunOptions& options) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const std::string& argument : options.stateful) {
    size_t equals = argument.find('=');
    if (equals == std::string::npos || equals == 0 || equals + 1 == argument.size())
      throw CliError("--stateful " + argument + ": expected INPUT=OUTPUT (a state input and the output that feeds it)");
    pairs.emplace_back(argument.substr(0, equals), argument.substr(equals + 1));
  }
  return pairs;
}

std::string describe_output(const Tensor& output, const std::vector<int64_t>& dims) {
  return std::string(output.name) + " " + dtype_name(output.dtype) + " " + format_dims(dims);
}

void run_run(const RunOptions& options) {
  LoadedModel loaded(options.model_path, options.runtime);
  size_t graph = choose_graph(loaded.model(), options);
  const std::string graph_label = "graph '" + std::string(loaded.model().graph_name(graph)) + "'";

  // A stateful graph keeps its state in the session's reservation (CarriedState).
  std::vector<std::pair<std::string, std::string>> names = parse_state_pairs(options);
  std::vector<StatePair> pairs;
  for (const auto& [input, output] : names) pairs.push_back({input.c_str(), output.c_str()});
  const bool stateful = !pairs.empty();
  if (!stateful && options.steps > 0) throw CliError("--steps needs --stateful (a graph without state runs once)");
  size_t reserve = 0;
  if (stateful) {
    Result<size_t> needed = CarriedState::reserve_bytes_needed(loaded.model(), graph, pairs.data(), pairs.size());
    throw_if_error(needed.status(), "--stateful");
    reserve = *needed;
  }
  Session& session = loaded.session(reserve);
  CarriedState state;
  std::set<size_t> state_inputs, state_outputs;
  if (stateful) {
    throw_if_error(state.bind(&session, graph, pairs.data(), pairs.size()), "--stateful");
    for (size_t i = 0; i < state.num_pairs(); ++i) {
      state_inputs.insert(state.input_index(i));
      state_outputs.insert(state.output_index(i));
    }
  }

  // Inputs: a state input's file (optional) is its first value; any other
  // input of a stateful graph may hold one value per step.
  std::map<size_t, std::string> files = match_inputs(session, graph, options, state_inputs);
  std::map<size_t, NpyArray> arrays;
  size_t steps = options.steps;
  std::string steps_from = "--steps";
  bool any_stream = false;
  for (const auto& [index, path] : files) {
    const Tensor& input = session.input(graph, index);
    const bool stream = stateful && state_inputs.count(index) == 0;
    NpyArray array = read_input(input, path, stream);
    // A file of the input's own shape is one value, used at every step.
    if (stream) any_stream = true;
    if (stream && array.shape.size() == static_cast<size_t>(input.shape.rank) + 1) {
      const size_t given = static_cast<size_t>(array.shape[0]);
      if (steps == 0) {
        steps = given;
        steps_from = path;
      } else if (given != steps) {
        throw CliError(path + ": " + std::to_string(given) + " steps, but " + steps_from + " gives " +
                       std::to_string(steps));
      }
    }
    arrays.emplace(index, std::move(array));
  }
  if (steps == 0 && any_stream) steps = 1;
  if (!stateful) steps = 1;
  if (steps == 0)
    throw CliError("every input of " + graph_label + " is a state: give the number of runs with --steps N");

  size_t num_outputs = session.num_outputs(graph);
  std::vector<std::string> tensor_names;
  std::vector<NpyArray> results(num_outputs);
  for (size_t i = 0; i < num_outputs; ++i) {
    const Tensor& output = session.output(graph, i);
    if (!npy_dtype_for(output.dtype, &results[i].dtype))
      throw CliError(std::string("output '") + output.name + "' is " + dtype_name(output.dtype) + ", which .npy output does not support");
    tensor_names.push_back(output.name);
    // A stateful graph's outputs gather one value per step; its state
    // outputs are written once, after the last step.
    results[i].shape = shape_dims(output.shape);
    const bool per_step = stateful && state_outputs.count(i) == 0;
    if (per_step) results[i].shape.insert(results[i].shape.begin(), static_cast<int64_t>(steps));
    results[i].data.resize(output.bytes() * (per_step ? steps : 1));
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

  // Initial states given in files replace the zeros.
  for (size_t i = 0; i < state.num_pairs(); ++i) {
    auto found = arrays.find(state.input_index(i));
    if (found != arrays.end()) std::memcpy(state.state(i), found->second.data.data(), found->second.data.size());
  }
  auto start = std::chrono::steady_clock::now();
  for (size_t step = 0; step < steps; ++step) {
    for (const auto& [index, array] : arrays) {
      if (state_inputs.count(index) || array.data.empty()) continue;
      Tensor& input = session.input(graph, index);
      const bool one_value = array.data.size() == input.bytes();
      std::memcpy(input.data, array.data.data() + (one_value ? 0 : step * input.bytes()), input.bytes());
    }
    if (stateful) {
      throw_if_error(state.run(), graph_label + ", step " + std::to_string(step));
    } else {
      throw_if_error(session.run(graph), graph_label);
    }
    for (size_t i = 0; i < num_outputs; ++i) {
      const Tensor& output = session.output(graph, i);
      const bool per_step = stateful && state_outputs.count(i) == 0;
      if (!per_step && step + 1 < steps) continue;
      std::memcpy(results[i].data.data() + (per_step ? step * output.bytes() : 0), output.data, output.bytes());
    }
  }
  double milliseconds = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

  for (size_t i = 0; i < num_outputs; ++i) {
    std::vector<uint8_t> bytes = serialize_npy(results[i]);
    outputs[i]->write(bytes.data(), bytes.size());
  }
  for (auto& output : outputs) output->commit();
  std::cout << "ran " << graph_label;
  if (stateful) std::cout << " " << steps << " times, carrying " << state.num_pairs() << " state tensor(s),";
  std::cout << " in " << std::fixed << std::setprecision(2) << milliseconds << " ms\n";
  for (size_t i = 0; i < num_outputs; ++i)
    std::cout << "wrote " << outputs[i]->destination() << ": " << describe_output(session.output(graph, i), results[i].shape)
              << "\n";
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
  command->add_option("--stateful", options->stateful,
                      "INPUT=OUTPUT: a streaming graph's state input, fed from this output of the run before "
                      "(zeros first, or the INPUT's --input file); repeatable. The other inputs then hold one value "
                      "per run ([steps, ...]), the other outputs are written with a leading steps dimension, and "
                      "the state outputs once, after the last run")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  command->add_option("--steps", options->steps,
                      "Runs of a --stateful graph (default: the first dimension of its per-run inputs)")
      ->check(CLI::PositiveNumber);
  add_runtime_options(command, &options->runtime);
  command->callback([options] { run_run(*options); });
}

}  // namespace edgegen::cli
