#include "converter/manifest_autoregressive.h"

#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "converter/converter.h"
#include "converter/manifest.h"
#include "converter/manifest_checks.h"

namespace edgegen::converter {
namespace {

using nlohmann::json;

}  // namespace

void read_autoregressive_manifest(const std::string& path, const json& root, Manifest* manifest) {
  const std::set<std::string> allowed = {"kind", "graphs", "event_shape", "distribution", "categories"};
  for (const auto& item : root.items())
    if (!allowed.count(item.key()))
      manifest_error(path, "unknown key '" + item.key() + "' (allowed: categories, distribution, event_shape, graphs, kind)");
  if (!root.contains("graphs") || !root["graphs"].is_object() || !root["graphs"].contains("conditionals") ||
      !root["graphs"]["conditionals"].is_string() || root["graphs"].size() != 1)
    manifest_error(path, "'graphs' must be {\"conditionals\": \"PATH.onnx\"}");
  std::filesystem::path directory = std::filesystem::path(path).parent_path();
  manifest->graphs.emplace_back("conditionals", (directory / root["graphs"]["conditionals"].get<std::string>()).string());
  AutoregressiveManifest& ar = manifest->autoregressive;
  if (!root.contains("event_shape") || !root["event_shape"].is_array() || root["event_shape"].empty())
    manifest_error(path, "'event_shape' must be a non-empty list of positive integers");
  for (const auto& dim : root["event_shape"]) {
    if (!dim.is_number_integer() || dim.get<int64_t>() < 1)
      manifest_error(path, "'event_shape' must be a non-empty list of positive integers");
    ar.event_shape.push_back(dim.get<int64_t>());
  }
  if (root.contains("distribution")) {
    const json& value = root["distribution"];
    if (!value.is_string() || (value != "bernoulli" && value != "categorical" && value != "gaussian"))
      manifest_error(path, "'distribution' must be \"bernoulli\", \"categorical\" or \"gaussian\"");
    ar.distribution = value.get<std::string>();
  }
  if (root.contains("categories")) {
    const json& value = root["categories"];
    if (!value.is_number_integer() || value.get<int64_t>() < 2 || value.get<int64_t>() > 65536)
      manifest_error(path, "'categories' must be an integer from 2 to 65536");
    ar.categories = value.get<uint32_t>();
  }
  if (ar.distribution == "categorical" && ar.categories == 0)
    manifest_error(path, "a categorical distribution needs 'categories' (the number of values of each dimension)");
  if (ar.distribution != "categorical" && ar.categories != 0)
    manifest_error(path, "'categories' is only for the categorical distribution");
}

PipelineWriter make_autoregressive_pipeline(const Manifest& manifest, const std::vector<IrGraph>& graphs) {
  const AutoregressiveManifest& ar = manifest.autoregressive;
  const IrGraph& graph = graphs[0];
  if (graph.inputs.size() != 1 || graph.outputs.empty())
    throw ConversionError("the conditionals graph must have one input (x) and an output");
  const IrTensor& x = graph.tensors[static_cast<size_t>(graph.inputs[0])];
  const int64_t dims = shape_product(ar.event_shape, 0);
  if (std::vector<int64_t>(x.shape.begin() + (x.shape.empty() ? 0 : 1), x.shape.end()) != ar.event_shape)
    throw ConversionError("event_shape " + shape_to_string(ar.event_shape) + " does not match the conditionals input '" +
                          x.name + "' " + shape_to_string(x.shape) + " (after the batch dimension)");
  // Everything the runtime's AutoregressivePipeline::prepare requires, checked here.
  const bool integer_input = x.dtype == DType::kInt64 || x.dtype == DType::kInt32;
  if (x.dtype != DType::kFloat32 && !integer_input)
    throw ConversionError("the conditionals input '" + x.name + "' is " + dtype_name(x.dtype) +
                          "; it must be float32, or int64/int32 token ids for a categorical distribution");
  if (integer_input && ar.distribution != "categorical")
    throw ConversionError("the conditionals input '" + x.name + "' is " + dtype_name(x.dtype) +
                          " (token ids): integer inputs are for \"distribution\": \"categorical\"; a " +
                          ar.distribution + " model takes float32");
  const IrTensor& out = graph.tensors[static_cast<size_t>(graph.outputs[0])];
  if (out.dtype != DType::kFloat32)
    throw ConversionError("the conditionals output '" + out.name + "' is " + dtype_name(out.dtype) +
                          "; it must be float32 (" +
                          (ar.distribution == "categorical" ? "logits" : ar.distribution == "gaussian" ? "means and log standard deviations" : "logits") +
                          ")");
  const int64_t per_item = ar.distribution == "categorical" ? dims * ar.categories
                           : ar.distribution == "gaussian"  ? 2 * dims
                                                            : dims;
  if (out.shape.empty() || shape_product(out.shape, 1) != per_item)
    throw ConversionError("the conditionals output '" + out.name + "' " + shape_to_string(out.shape) + " must hold " +
                          std::to_string(per_item) + " values per item for a " + ar.distribution + " distribution over " +
                          std::to_string(dims) + " dimensions");
  format::ArDistribution distribution = ar.distribution == "categorical" ? format::ArDistribution::Categorical
                                        : ar.distribution == "gaussian"  ? format::ArDistribution::Gaussian
                                                                         : format::ArDistribution::Bernoulli;
  AutoregressiveManifest copy = ar;
  return {format::PipelineSpec::AutoregressivePipeline, [copy, distribution](flatbuffers::FlatBufferBuilder& builder) {
            return format::CreateAutoregressivePipelineDirect(builder, 0, &copy.event_shape, distribution, copy.categories)
                .Union();
          }};
}

}  // namespace edgegen::converter
