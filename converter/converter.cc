#include "converter/converter.h"

#include <filesystem>

#include "converter/egm_writer.h"
#include "converter/graph_check.h"
#include "converter/manifest.h"
#include "converter/memory_plan.h"
#include "converter/onnx_import.h"
#include "converter/passes/passes.h"

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
  eliminate_dead_code(graph);
  check_graph(graph);
  return graph;
}

std::vector<uint8_t> finish(const std::vector<IrGraph>& graphs, const PipelineWriter& pipeline, const ConvertOptions& options) {
  std::vector<GraphPlan> plans;
  for (const IrGraph& graph : graphs) plans.push_back(plan_graph_memory(graph));
  return write_egm(graphs, plans, pipeline, static_cast<uint32_t>(options.batch));
}

}  // namespace

std::vector<uint8_t> convert(const std::string& input_path, const ConvertOptions& options) {
  if (options.batch < 1) throw ConversionError("batch must be at least 1");
  std::string extension = std::filesystem::path(input_path).extension().string();
  if (extension == ".onnx") {
    std::vector<IrGraph> graphs;
    graphs.push_back(convert_graph(input_path, "main", options));
    return finish(graphs, PipelineWriter{}, options);
  }
  if (extension == ".json") {
    Manifest manifest = read_manifest(input_path);
    std::vector<IrGraph> graphs;
    for (const auto& [role, path] : manifest.graphs) graphs.push_back(convert_graph(path, role, options));
    PipelineWriter pipeline;
    try {
      pipeline = make_pipeline(manifest, graphs);
    } catch (const ConversionError& error) {
      throw ConversionError("manifest '" + input_path + "': " + error.what());
    }
    return finish(graphs, pipeline, options);
  }
  throw ConversionError("'" + input_path + "': expected an .onnx model or a .json manifest");
}

}  // namespace edgegen::converter
