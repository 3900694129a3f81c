#include "converter/converter.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "converter/egm_writer.h"
#include "converter/graph_check.h"
#include "converter/manifest.h"
#include "converter/memory_plan.h"
#include "converter/onnx_import.h"
#include "converter/passes/passes.h"
#include "converter/quantize/fp16_weights.h"
#include "converter/quantize/quantize_model.h"

namespace edgegen::converter {
namespace {

IrGraph convert_graph(const std::string& onnx_path, const std::string& graph_name, const ConvertOptions& options,
                      GraphInputNames* seen) {
  onnx::ModelProto model = read_onnx_file(onnx_path);
  std::string directory = std::filesystem::path(onnx_path).parent_path().string();
  IrGraph graph;
  try {
    graph = import_onnx(model, graph_name, directory, options, seen);
  } catch (const ConversionError& error) {
    throw ConversionError("'" + onnx_path + "': " + error.what());
  }
  eliminate_dead_code(graph);
  recognize_group_norm(graph);
  if (options.fold_batchnorm) fold_batch_norm(graph);
  if (options.fuse_activations) fold_bias_add(graph);  // the same switch: passes that merge an op into the product
  if (options.fuse_activations) fuse_activations(graph);
  fold_quantize_dequantize(graph);
  eliminate_dead_code(graph);
  fold_dequantized_weights(graph);
  eliminate_dead_code(graph);
  shift_uint8_to_int8(graph);
  check_graph(graph);
  return graph;
}

// Last, after everything that runs the graphs' kernels (folding,
// calibration, the pipeline's checks): operators never see float16 weights.
void maybe_store_float16_weights(std::vector<IrGraph>& graphs, const ConvertOptions& options,
                                 std::vector<std::string>* notes) {
  if (!options.float16_weights) return;
  Float16WeightsReport report = store_float16_weights(graphs);
  if (notes == nullptr) return;
  char line[256];
  std::snprintf(line, sizeof line,
                "float16 weights: %zu constant%s, %llu -> %llu bytes (largest relative rounding error %.2g); "
                "%zu constant%s of fewer than %lld elements stay float32",
                report.converted, report.converted == 1 ? "" : "s",
                static_cast<unsigned long long>(report.float32_bytes),
                static_cast<unsigned long long>(report.float16_bytes), report.max_relative_error,
                report.kept_float32, report.kept_float32 == 1 ? "" : "s", static_cast<long long>(kMinFloat16Elements));
  notes->push_back(line);
}

uint64_t finish(std::vector<IrGraph>& graphs, const PipelineWriter& pipeline, const ConvertOptions& options,
                const ByteSink& sink, std::vector<std::string>* notes) {
  maybe_store_float16_weights(graphs, options, notes);
  for (size_t g = 0; g < graphs.size() && g < pipeline.state_pairs.size(); ++g)
    graphs[g].state_pairs = pipeline.state_pairs[g];
  std::vector<GraphPlan> plans;
  for (const IrGraph& graph : graphs) plans.push_back(plan_graph_memory(graph));
  return write_egm(graphs, plans, pipeline, static_cast<uint32_t>(options.batch), sink);
}

// Quantizes the graphs when asked and describes what it did.
void maybe_quantize(std::vector<IrGraph>& graphs, const Manifest* manifest, const ConvertOptions& options,
                    std::vector<std::string>* notes) {
  if (!options.quantize.int8) return;
  QuantizationReport report = quantize_model(graphs, manifest, options);
  if (notes == nullptr) return;
  notes->push_back("int8 quantization: calibration data " + report.calibration + ", ranges by " +
                   options.quantize.method);
  for (const auto& graph : report.graphs) {
    std::string line = "  graph '" + graph.graph + "': " + std::to_string(graph.int8_ops) + " ops in int8";
    if (!graph.kept_float.empty()) {
      line += ", kept in float32:";
      for (const std::string& name : graph.kept_float) line += " " + name;
    }
    if (!graph.output_snr_db.empty()) {
      line += "; output SNR vs float32:";
      char buffer[32];
      for (double snr : graph.output_snr_db) {
        std::snprintf(buffer, sizeof buffer, " %.1f dB", snr);
        line += buffer;
      }
    }
    notes->push_back(line);
  }
}

using InputShapes = std::map<std::string, std::vector<int64_t>>;
using Dims = std::map<std::string, int64_t>;

// An input shape or a dimension that matched no graph input is a typo or
// a misunderstanding: refuse it rather than ignore it.
void check_shape_options_used(const InputShapes& input_shapes, const Dims& dims, const GraphInputNames& seen,
                              const std::string& where) {
  for (const auto& [name, shape] : input_shapes)
    if (!seen.inputs.count(name))
      throw ConversionError(where + "input shape for '" + name + "': no graph input has that name (inputs: " +
                            quoted_list(seen.inputs) + ")");
  for (const auto& [symbol, value] : dims)
    if (!seen.symbols.count(symbol))
      throw ConversionError(where + "dimension '" + symbol + "': no graph input has that symbolic dimension (symbols: " +
                            quoted_list(seen.symbols) + ")");
}

void note_narrowed_double(const std::string& path, const GraphInputNames& seen, std::vector<std::string>* notes) {
  if (seen.narrowed_double && notes != nullptr)
    notes->push_back("warning: " + path + " computes in double (float64); edgegen computes it in float32 "
                     "(its double inputs and outputs are float32: feed float32, expect float32 precision)");
}

// A manifest graph's options: the manifest's shapes for it and its
// dimensions, under those of the command line (which win).
ConvertOptions graph_options(const ConvertOptions& options, const Manifest& manifest, const std::string& role) {
  ConvertOptions result = options;
  auto shapes = manifest.input_shapes.find(role);
  if (shapes != manifest.input_shapes.end())
    for (const auto& [name, shape] : shapes->second) result.input_shapes.emplace(name, shape);
  for (const auto& [symbol, value] : manifest.dims) result.dims.emplace(symbol, value);
  // --tile sizes the spatial dimensions of a diffusion decoder's input only.
  if (!(manifest.kind == "diffusion" && role == "decoder")) result.decoder_tile = 0;
  return result;
}

// --tile / --tile-overlap: only where there is a decoder to tile.
void check_tile_options(const ConvertOptions& options, const Manifest* manifest) {
  if (options.decoder_tile == 0 && options.tile_overlap < 0) return;
  const bool has_decoder = manifest != nullptr && manifest->kind == "diffusion" &&
                           std::any_of(manifest->graphs.begin(), manifest->graphs.end(),
                                       [](const auto& graph) { return graph.first == "decoder"; });
  if (!has_decoder)
    throw ConversionError("--tile and --tile-overlap apply to a diffusion manifest with a \"decoder\" graph "
                          "(its decoder is converted for latent tiles)");
  if (options.decoder_tile < 0) throw ConversionError("--tile must be a positive number of latent pixels");
}

}  // namespace

std::vector<uint8_t> convert(const std::string& input_path, const ConvertOptions& options,
                             std::vector<std::string>* notes) {
  std::vector<uint8_t> file;
  convert(input_path, options, [&](const void* data, size_t size) {
    const uint8_t* bytes = static_cast<const uint8_t*>(data);
    file.insert(file.end(), bytes, bytes + size);
  }, notes);
  return file;
}

uint64_t convert(const std::string& input_path, const ConvertOptions& options, const ByteSink& sink,
                 std::vector<std::string>* notes) {
  if (options.batch < 1) throw ConversionError("batch must be at least 1");
  std::string extension = std::filesystem::path(input_path).extension().string();
  if (extension == ".onnx") {
    std::vector<IrGraph> graphs;
    GraphInputNames seen;
    check_tile_options(options, nullptr);
    graphs.push_back(convert_graph(input_path, "main", options, &seen));
    note_narrowed_double(input_path, seen, notes);
    check_shape_options_used(options.input_shapes, options.dims, seen, "");
    maybe_quantize(graphs, nullptr, options, notes);
    return finish(graphs, PipelineWriter{}, options, sink, notes);
  }
  if (extension == ".json") {
    Manifest manifest = read_manifest(input_path);
    check_tile_options(options, &manifest);
    if (options.tile_overlap >= 0) manifest.diffusion.tile_overlap = options.tile_overlap;
    std::vector<IrGraph> graphs;
    GraphInputNames seen_anywhere;
    for (const auto& [role, path] : manifest.graphs) {
      GraphInputNames seen;
      graphs.push_back(convert_graph(path, role, graph_options(options, manifest, role), &seen));
      note_narrowed_double(path, seen, notes);
      // The manifest names inputs per graph: each must be one of that graph's.
      auto shapes = manifest.input_shapes.find(role);
      if (shapes != manifest.input_shapes.end())
        check_shape_options_used(shapes->second, {}, seen, "manifest '" + input_path + "': 'input_shapes." + role + "': ");
      seen_anywhere.inputs.insert(seen.inputs.begin(), seen.inputs.end());
      seen_anywhere.symbols.insert(seen.symbols.begin(), seen.symbols.end());
    }
    Dims dims = options.dims;  // the command line's and the manifest's apply to every graph
    dims.insert(manifest.dims.begin(), manifest.dims.end());
    check_shape_options_used(options.input_shapes, dims, seen_anywhere, "");
    maybe_quantize(graphs, &manifest, options, notes);
    PipelineWriter pipeline;
    try {
      pipeline = make_pipeline(manifest, graphs);
    } catch (const ConversionError& error) {
      throw ConversionError("manifest '" + input_path + "': " + error.what());
    }
    return finish(graphs, pipeline, options, sink, notes);
  }
  throw ConversionError("'" + input_path + "': expected an .onnx model or a .json manifest");
}

}  // namespace edgegen::converter
