#include "converter/converter.h"

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

IrGraph convert_graph(const std::string& onnx_path, const std::string& graph_name, const ConvertOptions& options) {
  onnx::ModelProto model = read_onnx_file(onnx_path);
  std::string directory = std::filesystem::path(onnx_path).parent_path().string();
  IrGraph graph;
  try {
    graph = import_onnx(model, graph_name, directory, options);
  } catch (const ConversionError& error) {
    throw ConversionError("'" + onnx_path + "': " + error.what());
  }
  eliminate_dead_code(graph);
  recognize_group_norm(graph);
  if (options.fold_batchnorm) fold_batch_norm(graph);
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

std::vector<uint8_t> finish(std::vector<IrGraph>& graphs, const PipelineWriter& pipeline, const ConvertOptions& options,
                            std::vector<std::string>* notes) {
  maybe_store_float16_weights(graphs, options, notes);
  for (size_t g = 0; g < graphs.size() && g < pipeline.state_pairs.size(); ++g)
    graphs[g].state_pairs = pipeline.state_pairs[g];
  std::vector<GraphPlan> plans;
  for (const IrGraph& graph : graphs) plans.push_back(plan_graph_memory(graph));
  return write_egm(graphs, plans, pipeline, static_cast<uint32_t>(options.batch));
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

}  // namespace

std::vector<uint8_t> convert(const std::string& input_path, const ConvertOptions& options,
                             std::vector<std::string>* notes) {
  if (options.batch < 1) throw ConversionError("batch must be at least 1");
  std::string extension = std::filesystem::path(input_path).extension().string();
  if (extension == ".onnx") {
    std::vector<IrGraph> graphs;
    graphs.push_back(convert_graph(input_path, "main", options));
    maybe_quantize(graphs, nullptr, options, notes);
    return finish(graphs, PipelineWriter{}, options, notes);
  }
  if (extension == ".json") {
    Manifest manifest = read_manifest(input_path);
    std::vector<IrGraph> graphs;
    for (const auto& [role, path] : manifest.graphs) graphs.push_back(convert_graph(path, role, options));
    maybe_quantize(graphs, &manifest, options, notes);
    PipelineWriter pipeline;
    try {
      pipeline = make_pipeline(manifest, graphs);
    } catch (const ConversionError& error) {
      throw ConversionError("manifest '" + input_path + "': " + error.what());
    }
    return finish(graphs, pipeline, options, notes);
  }
  throw ConversionError("'" + input_path + "': expected an .onnx model or a .json manifest");
}

}  // namespace edgegen::converter
