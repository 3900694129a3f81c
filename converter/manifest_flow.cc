#include "converter/manifest_flow.h"

#include <filesystem>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "converter/converter.h"
#include "converter/manifest.h"
#include "converter/manifest_checks.h"

namespace edgegen::converter {
namespace {

using nlohmann::json;

std::vector<int64_t> drop_batch(const std::vector<int64_t>& shape) {
  return shape.empty() ? shape : std::vector<int64_t>(shape.begin() + 1, shape.end());
}

// Index of the output called `name` (or `fallback` when name is empty).
uint32_t find_output(const IrGraph& graph, const std::string& graph_role, const std::string& role,
                     const std::string& name, uint32_t fallback) {
  if (name.empty()) {
    if (fallback >= graph.outputs.size())
      throw ConversionError("the " + graph_role + " graph has no output " + std::to_string(fallback) + " for '" + role + "'");
    return fallback;
  }
  std::string names;
  for (size_t i = 0; i < graph.outputs.size(); ++i) {
    const std::string& output = graph.tensors[static_cast<size_t>(graph.outputs[i])].name;
    if (output == name) return static_cast<uint32_t>(i);
    names += (names.empty() ? "'" : ", '") + output + "'";
  }
  throw ConversionError("outputs." + role + " = '" + name + "' is not a " + graph_role + " output (outputs: " + names + ")");
}

}  // namespace

void read_flow_manifest(const std::string& path, const json& root, Manifest* manifest) {
  check_manifest_keys(path, root, "", {"kind", "graphs", "outputs", "event_shape", "base", "preprocess"});
  if (!root.contains("graphs") || !root["graphs"].is_object()) manifest_error(path, "missing object key 'graphs'");
  const json& graphs = root["graphs"];
  check_manifest_keys(path, graphs, " in 'graphs'", {"forward", "inverse"});
  std::filesystem::path directory = std::filesystem::path(path).parent_path();
  for (const char* role : {"forward", "inverse"}) {
    if (!graphs.contains(role)) {
      if (std::string(role) == "forward") manifest_error(path, "'graphs' needs the path of the 'forward' graph");
      continue;
    }
    if (!graphs[role].is_string()) manifest_error(path, std::string("'graphs.") + role + "' must be a path");
    manifest->graphs.emplace_back(role, (directory / graphs[role].get<std::string>()).string());
  }

  FlowManifest& flow = manifest->flow;
  if (!root.contains("event_shape")) manifest_error(path, "missing key 'event_shape'");
  const json& shape = root["event_shape"];
  if (!shape.is_array() || shape.empty()) manifest_error(path, "'event_shape' must be a non-empty list of positive integers");
  for (const auto& dim : shape) {
    if (!dim.is_number_integer() || dim.get<int64_t>() < 1)
      manifest_error(path, "'event_shape' must be a non-empty list of positive integers");
    flow.event_shape.push_back(dim.get<int64_t>());
  }
  if (root.contains("base")) {
    if (!root["base"].is_string() || (root["base"] != "normal" && root["base"] != "logistic"))
      manifest_error(path, "'base' must be \"normal\" or \"logistic\"");
    flow.base = root["base"].get<std::string>();
  }
  if (root.contains("outputs")) {
    const json& outputs = root["outputs"];
    if (!outputs.is_object()) manifest_error(path, "'outputs' must map roles (z, logdet) to forward output names");
    check_manifest_keys(path, outputs, " in 'outputs'", {"z", "logdet"});
    for (const auto& item : outputs.items())
      if (!item.value().is_string()) manifest_error(path, "'outputs." + item.key() + "' must be an output name");
    if (outputs.contains("z")) flow.z_output = outputs["z"].get<std::string>();
    if (outputs.contains("logdet")) flow.logdet_output = outputs["logdet"].get<std::string>();
  }
  if (root.contains("preprocess")) {
    const json& preprocess = root["preprocess"];
    if (!preprocess.is_object()) manifest_error(path, "'preprocess' must be an object");
    check_manifest_keys(path, preprocess, " in 'preprocess'", {"dequantize_scale", "logit_alpha"});
    if (preprocess.contains("dequantize_scale")) {
      const json& scale = preprocess["dequantize_scale"];
      // Stored as float32: it must stay positive and finite there.
      if (!scale.is_number() || !(scale.get<double>() > 0) || !(scale.get<double>() <= std::numeric_limits<float>::max()) ||
          !(scale.get<float>() > 0))
        manifest_error(path, "'preprocess.dequantize_scale' must be a positive number that fits float32 (got " + scale.dump() + ")");
      flow.dequantize_scale = scale.get<float>();
    }
    if (preprocess.contains("logit_alpha")) {
      const json& alpha = preprocess["logit_alpha"];
      if (!alpha.is_number() || !(alpha.get<double>() >= 0 && alpha.get<double>() < 0.5))
        manifest_error(path, "'preprocess.logit_alpha' must be a number in [0, 0.5)");
      flow.logit_alpha = alpha.get<float>();
    }
  }
}

PipelineWriter make_flow_pipeline(const Manifest& manifest, const std::vector<IrGraph>& graphs) {
  const FlowManifest& flow = manifest.flow;
  const IrGraph& forward = graphs[0];
  const int64_t event_size = shape_product(flow.event_shape);
  if (forward.inputs.size() != 1)
    throw ConversionError("the forward graph has " + std::to_string(forward.inputs.size()) + " inputs; a flow needs exactly one (x)");
  const IrTensor& x = forward.tensors[static_cast<size_t>(forward.inputs[0])];
  if (drop_batch(x.shape) != flow.event_shape)
    throw ConversionError("event_shape " + shape_to_string(flow.event_shape) + " does not match the forward input '" + x.name +
                          "' shape " + shape_to_string(drop_batch(x.shape)) + " (without the batch dimension)");
  uint32_t z_output = find_output(forward, "forward", "z", flow.z_output, 0);
  uint32_t logdet_output = find_output(forward, "forward", "logdet", flow.logdet_output, 1);
  if (z_output == logdet_output) throw ConversionError("the z and logdet outputs must differ");
  const IrTensor& z = forward.tensors[static_cast<size_t>(forward.outputs[z_output])];
  if (shape_product(drop_batch(z.shape)) != event_size)
    throw ConversionError("forward output '" + z.name + "' " + shape_to_string(drop_batch(z.shape)) + " must hold " +
                          std::to_string(event_size) + " values per item (z has the event's size)");
  const IrTensor& logdet = forward.tensors[static_cast<size_t>(forward.outputs[logdet_output])];
  if (logdet.shape.empty() || shape_product(drop_batch(logdet.shape)) != 1)
    throw ConversionError("forward output '" + logdet.name + "' " + shape_to_string(logdet.shape) +
                          " must hold one log-determinant per item ([batch] or [batch, 1])");
  bool has_inverse = graphs.size() > 1;
  if (has_inverse) {
    const IrGraph& inverse = graphs[1];
    if (inverse.inputs.size() != 1 || inverse.outputs.empty())
      throw ConversionError("the inverse graph must have one input (z) and an output (x)");
    const IrTensor& in = inverse.tensors[static_cast<size_t>(inverse.inputs[0])];
    const IrTensor& out = inverse.tensors[static_cast<size_t>(inverse.outputs[0])];
    if (drop_batch(in.shape) != drop_batch(z.shape))
      throw ConversionError("the inverse input '" + in.name + "' " + shape_to_string(drop_batch(in.shape)) +
                            " does not match the forward output z " + shape_to_string(drop_batch(z.shape)));
    if (drop_batch(out.shape) != flow.event_shape)
      throw ConversionError("the inverse output '" + out.name + "' " + shape_to_string(drop_batch(out.shape)) +
                            " does not match event_shape " + shape_to_string(flow.event_shape));
  }
  format::FlowBase base = flow.base == "logistic" ? format::FlowBase::Logistic : format::FlowBase::Normal;
  FlowManifest copy = flow;
  return {format::PipelineSpec::FlowPipeline,
          [copy, has_inverse, z_output, logdet_output, base](flatbuffers::FlatBufferBuilder& builder) {
            auto preprocess = format::CreateFlowPreprocess(builder, copy.dequantize_scale, copy.logit_alpha);
            return format::CreateFlowPipelineDirect(builder, 0, has_inverse ? 1 : 0, has_inverse, z_output, logdet_output,
                                                    &copy.event_shape, base, preprocess)
                .Union();
          }};
}

}  // namespace edgegen::converter
