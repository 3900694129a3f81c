#include "converter/manifest_token_decoder.h"

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "converter/converter.h"
#include "converter/manifest.h"
#include "converter/manifest_checks.h"

namespace edgegen::converter {
namespace {

using nlohmann::json;

std::string read_name(const std::string& path, const json& object, const std::string& key, const std::string& where) {
  if (!object.contains(key) || !object[key].is_string() || object[key].get<std::string>().empty())
    manifest_error(path, "'" + where + "' needs '" + key + "': the name of a graph " +
                             (where == "inputs" ? "input" : "output"));
  return object[key].get<std::string>();
}

std::vector<std::pair<std::string, std::string>> read_cache(const std::string& path, const json& object,
                                                            const std::string& where) {
  const std::string shape = "'" + where + ".cache' must be a non-empty list of [K, V] name pairs, one per layer";
  if (!object.contains("cache") || !object["cache"].is_array() || object["cache"].empty()) manifest_error(path, shape);
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const json& pair : object["cache"]) {
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_string()) manifest_error(path, shape);
    pairs.emplace_back(pair[0].get<std::string>(), pair[1].get<std::string>());
  }
  return pairs;
}

int64_t read_integer(const std::string& path, const json& root, const std::string& key, int64_t low, int64_t high,
                     int64_t fallback, bool required) {
  if (!root.contains(key)) {
    if (required) manifest_error(path, "missing key '" + key + "'");
    return fallback;
  }
  const json& value = root[key];
  if (!value.is_number_integer() || value.get<int64_t>() < low || value.get<int64_t>() > high)
    manifest_error(path, "'" + key + "' must be an integer from " + std::to_string(low) + " to " + std::to_string(high));
  return value.get<int64_t>();
}

std::string dtype_text(DType dtype) { return dtype_name(dtype); }

// Where the pipeline's tensors are in one graph, checked against the manifest.
struct GraphIo {
  uint32_t tokens = 0, position = 0, logits = 0;
  std::vector<uint32_t> cache_inputs, cache_outputs;
  int64_t batch = 0, length = 0;  // tokens [batch, length]
  std::vector<std::vector<int64_t>> cache_shapes;
};

uint32_t find_input(const IrGraph& graph, const std::string& name, const std::string& what) {
  std::string names;
  for (size_t i = 0; i < graph.inputs.size(); ++i) {
    const std::string& input = graph.tensors[static_cast<size_t>(graph.inputs[i])].name;
    if (input == name) return static_cast<uint32_t>(i);
    names += (names.empty() ? "'" : ", '") + input + "'";
  }
  throw ConversionError("graph '" + graph.name + "': " + what + " '" + name + "' is not a graph input (inputs: " + names + ")");
}

uint32_t find_output(const IrGraph& graph, const std::string& name, const std::string& what) {
  std::string names;
  for (size_t i = 0; i < graph.outputs.size(); ++i) {
    const std::string& output = graph.tensors[static_cast<size_t>(graph.outputs[i])].name;
    if (output == name) return static_cast<uint32_t>(i);
    names += (names.empty() ? "'" : ", '") + output + "'";
  }
  throw ConversionError("graph '" + graph.name + "': " + what + " '" + name + "' is not a graph output (outputs: " + names + ")");
}

GraphIo check_graph(const TokenDecoderManifest& td, const IrGraph& graph) {
  GraphIo io;
  const std::string where = "graph '" + graph.name + "': ";
  auto input_tensor = [&](uint32_t index) -> const IrTensor& { return graph.tensors[static_cast<size_t>(graph.inputs[index])]; };
  auto output_tensor = [&](uint32_t index) -> const IrTensor& { return graph.tensors[static_cast<size_t>(graph.outputs[index])]; };

  io.tokens = find_input(graph, td.tokens_input, "inputs.tokens");
  const IrTensor& tokens = input_tensor(io.tokens);
  if ((tokens.dtype != DType::kInt64 && tokens.dtype != DType::kInt32) || tokens.shape.size() != 2)
    throw ConversionError(where + "tokens '" + tokens.name + "' must be int64 or int32 [batch, T], not " +
                          dtype_text(tokens.dtype) + " " + shape_to_string(tokens.shape));
  io.batch = tokens.shape[0];
  io.length = tokens.shape[1];
  if (io.length > td.max_length)
    throw ConversionError(where + "tokens '" + tokens.name + "' " + shape_to_string(tokens.shape) + " hold more than max_length " +
                          std::to_string(td.max_length) + " positions");

  io.position = find_input(graph, td.position_input, "inputs.position");
  const IrTensor& position = input_tensor(io.position);
  const std::vector<int64_t>& p = position.shape;
  const bool position_shape_ok = p.empty() || (p.size() == 1 && (p[0] == 1 || p[0] == io.batch)) ||
                                 (p.size() == 2 && p[0] == io.batch && p[1] == 1);
  if ((position.dtype != DType::kInt64 && position.dtype != DType::kInt32) || !position_shape_ok)
    throw ConversionError(where + "position '" + position.name + "' must be int64 or int32 of shape [], [1], [batch] or [batch, 1], not " +
                          dtype_text(position.dtype) + " " + shape_to_string(p));

  io.logits = find_output(graph, td.logits_output, "outputs.logits");
  const IrTensor& logits = output_tensor(io.logits);
  const std::vector<int64_t>& l = logits.shape;
  const bool logits_ok = logits.dtype == DType::kFloat32 &&
                         ((l.size() == 3 && l[0] == io.batch && l[1] == io.length && l[2] == td.vocab_size) ||
                          (l.size() == 2 && io.length == 1 && l[0] == io.batch && l[1] == td.vocab_size));
  if (!logits_ok)
    throw ConversionError(where + "logits '" + logits.name + "' must be float32 [" + std::to_string(io.batch) + ", " +
                          std::to_string(io.length) + ", vocab_size " + std::to_string(td.vocab_size) + "], not " +
                          dtype_text(logits.dtype) + " " + shape_to_string(l));

  for (size_t layer = 0; layer < td.cache_inputs.size(); ++layer)
    for (int kv = 0; kv < 2; ++kv) {
      const std::string& in_name = kv == 0 ? td.cache_inputs[layer].first : td.cache_inputs[layer].second;
      const std::string& out_name = kv == 0 ? td.cache_outputs[layer].first : td.cache_outputs[layer].second;
      const std::string label = std::string(kv == 0 ? "K" : "V") + " cache of layer " + std::to_string(layer);
      const uint32_t in_index = find_input(graph, in_name, "inputs.cache (" + label + ")");
      const uint32_t out_index = find_output(graph, out_name, "outputs.cache (" + label + ")");
      const IrTensor& in = input_tensor(in_index);
      const IrTensor& out = output_tensor(out_index);
      if (in.dtype != DType::kFloat32 || in.shape.size() != 4 || in.shape[0] != io.batch || in.shape[2] != td.max_length)
        throw ConversionError(where + label + " '" + in.name + "' must be float32 [batch " + std::to_string(io.batch) +
                              ", heads, max_length " + std::to_string(td.max_length) + ", head_dim], not " +
                              dtype_text(in.dtype) + " " + shape_to_string(in.shape));
      if (out.dtype != in.dtype || out.shape != in.shape)
        throw ConversionError(where + label + ": output '" + out.name + "' " + dtype_text(out.dtype) + " " +
                              shape_to_string(out.shape) + " must have the shape and dtype of its input '" + in.name +
                              "' " + shape_to_string(in.shape) + " (a static cache updated in place)");
      io.cache_inputs.push_back(in_index);
      io.cache_outputs.push_back(out_index);
      io.cache_shapes.push_back(in.shape);
    }
  for (uint32_t a = 0; a < io.cache_inputs.size(); ++a)
    for (uint32_t b = a + 1; b < io.cache_inputs.size(); ++b)
      if (io.cache_inputs[a] == io.cache_inputs[b] || io.cache_outputs[a] == io.cache_outputs[b])
        throw ConversionError(where + "a cache name is listed twice");
  const size_t expected_inputs = 2 + io.cache_inputs.size();
  if (graph.inputs.size() != expected_inputs) {
    std::string extra;
    for (size_t i = 0; i < graph.inputs.size(); ++i) {
      bool known = i == io.tokens || i == io.position;
      for (uint32_t c : io.cache_inputs) known = known || i == c;
      if (!known) extra += (extra.empty() ? "'" : ", '") + input_tensor(static_cast<uint32_t>(i)).name + "'";
    }
    throw ConversionError(where + "inputs " + extra + " are not tokens, position or a cache: the runtime cannot feed them");
  }
  return io;
}

flatbuffers::Offset<format::TokenDecoderGraph> build_graph_io(flatbuffers::FlatBufferBuilder& builder, uint32_t graph,
                                                             const GraphIo& io) {
  return format::CreateTokenDecoderGraphDirect(builder, graph, io.tokens, io.position, io.logits, &io.cache_inputs,
                                               &io.cache_outputs);
}

}  // namespace

void read_token_decoder_manifest(const std::string& path, const json& root, Manifest* manifest) {
  check_manifest_keys(path, root, "",
                      {"kind", "graphs", "inputs", "outputs", "vocab_size", "max_length", "bos", "eos", "tokenizer",
                       "byte_offset"});
  if (!root.contains("graphs") || !root["graphs"].is_object() || !root["graphs"].contains("step") ||
      !root["graphs"]["step"].is_string())
    manifest_error(path, "'graphs' must be {\"step\": \"PATH.onnx\"} or {\"step\": ..., \"prefill\": \"PATH.onnx\"}");
  check_manifest_keys(path, root["graphs"], " in 'graphs'", {"step", "prefill"});
  std::filesystem::path directory = std::filesystem::path(path).parent_path();
  manifest->graphs.emplace_back("step", (directory / root["graphs"]["step"].get<std::string>()).string());
  if (root["graphs"].contains("prefill")) {
    if (!root["graphs"]["prefill"].is_string()) manifest_error(path, "'graphs.prefill' must be a path");
    manifest->graphs.emplace_back("prefill", (directory / root["graphs"]["prefill"].get<std::string>()).string());
  }
  TokenDecoderManifest& td = manifest->token_decoder;
  for (const char* key : {"inputs", "outputs"})
    if (!root.contains(key) || !root[key].is_object()) manifest_error(path, std::string("missing object key '") + key + "'");
  const json& inputs = root["inputs"];
  const json& outputs = root["outputs"];
  check_manifest_keys(path, inputs, " in 'inputs'", {"tokens", "position", "cache"});
  check_manifest_keys(path, outputs, " in 'outputs'", {"logits", "cache"});
  td.tokens_input = read_name(path, inputs, "tokens", "inputs");
  td.position_input = read_name(path, inputs, "position", "inputs");
  td.logits_output = read_name(path, outputs, "logits", "outputs");
  td.cache_inputs = read_cache(path, inputs, "inputs");
  td.cache_outputs = read_cache(path, outputs, "outputs");
  if (td.cache_inputs.size() != td.cache_outputs.size())
    manifest_error(path, "'inputs.cache' has " + std::to_string(td.cache_inputs.size()) + " layers but 'outputs.cache' has " +
                             std::to_string(td.cache_outputs.size()) + ": each cache input needs its updated output");
  td.vocab_size = read_integer(path, root, "vocab_size", 2, int64_t{1} << 24, 0, true);
  td.max_length = read_integer(path, root, "max_length", 1, int64_t{1} << 24, 0, true);
  td.bos = read_integer(path, root, "bos", -1, td.vocab_size - 1, -1, false);
  td.eos = read_integer(path, root, "eos", -1, td.vocab_size - 1, -1, false);
  td.byte_offset = read_integer(path, root, "byte_offset", 0, int64_t{1} << 24, 0, false);
  if (root.contains("tokenizer")) {
    if (!root["tokenizer"].is_string()) manifest_error(path, "'tokenizer' must be \"bytes\" or the path of a SentencePiece .model");
    std::string tokenizer = root["tokenizer"].get<std::string>();
    if (tokenizer != "bytes") {
      std::string model_path = (directory / tokenizer).string();
      // A regular file of bounded size, checked before reading (not a device or a pipe).
      std::error_code error;
      const bool regular = std::filesystem::is_regular_file(model_path, error);
      const uintmax_t size = regular ? std::filesystem::file_size(model_path, error) : 0;
      if (!regular || error)
        manifest_error(path, "'tokenizer': the SentencePiece model '" + model_path + "' is not a readable file (or use \"bytes\")");
      if (size == 0 || size > (uintmax_t{64} << 20))
        manifest_error(path, "'tokenizer': the SentencePiece model '" + model_path + "' is empty or larger than 64 MiB");
      std::ifstream file(model_path, std::ios::binary);
      td.tokenizer_model.resize(static_cast<size_t>(size));
      if (!file || !file.read(reinterpret_cast<char*>(td.tokenizer_model.data()), static_cast<std::streamsize>(size)))
        manifest_error(path, "'tokenizer': cannot read the SentencePiece model '" + model_path + "'");
      td.tokenizer = "sentencepiece";
      td.byte_offset = 0;
    }
  }
  if (td.tokenizer == "bytes" && td.byte_offset + 256 > td.vocab_size)
    manifest_error(path, "a bytes tokenizer needs vocab_size >= byte_offset + 256 (vocab_size " +
                             std::to_string(td.vocab_size) + ", byte_offset " + std::to_string(td.byte_offset) + ")");
}

PipelineWriter make_token_decoder_pipeline(const Manifest& manifest, const std::vector<IrGraph>& graphs) {
  const TokenDecoderManifest& td = manifest.token_decoder;
  const GraphIo step = check_graph(td, graphs[0]);
  if (step.length != 1)
    throw ConversionError("graph 'step': tokens must be [batch, 1], one token per run (prefill takes [batch, T])");
  const bool has_prefill = graphs.size() > 1;
  GraphIo prefill;
  if (has_prefill) {
    prefill = check_graph(td, graphs[1]);
    if (prefill.batch != step.batch)
      throw ConversionError("graph 'prefill': batch " + std::to_string(prefill.batch) + " differs from the step graph's " +
                            std::to_string(step.batch));
    if (prefill.length < 2)
      throw ConversionError("graph 'prefill': tokens must be [batch, T] with T >= 2 (the step graph takes one token)");
    for (size_t i = 0; i < step.cache_shapes.size(); ++i)
      if (prefill.cache_shapes[i] != step.cache_shapes[i])
        throw ConversionError("graph 'prefill': cache '" + graphs[1].tensors[static_cast<size_t>(graphs[1].inputs[prefill.cache_inputs[i]])].name +
                              "' " + shape_to_string(prefill.cache_shapes[i]) + " differs from the step graph's " +
                              shape_to_string(step.cache_shapes[i]) + ": both graphs must share one cache");
  }
  PipelineWriter writer;
  writer.type = format::PipelineSpec::TokenDecoderPipeline;
  for (size_t g = 0; g < graphs.size(); ++g) {
    const GraphIo& io = g == 0 ? step : prefill;
    std::vector<std::pair<int, int>> pairs;
    for (size_t i = 0; i < io.cache_inputs.size(); ++i)
      pairs.emplace_back(graphs[g].inputs[io.cache_inputs[i]], graphs[g].outputs[io.cache_outputs[i]]);
    writer.state_pairs.push_back(pairs);
  }
  TokenDecoderManifest copy = td;
  writer.build = [copy, step, prefill, has_prefill](flatbuffers::FlatBufferBuilder& builder) {
    auto step_io = build_graph_io(builder, 0, step);
    flatbuffers::Offset<format::TokenDecoderGraph> prefill_io = 0;
    if (has_prefill) prefill_io = build_graph_io(builder, 1, prefill);
    const auto tokenizer = copy.tokenizer == "bytes" ? format::Tokenizer::Bytes : format::Tokenizer::SentencePiece;
    return format::CreateTokenDecoderPipelineDirect(
               builder, step_io, prefill_io, static_cast<uint32_t>(copy.vocab_size),
               static_cast<uint32_t>(copy.max_length), static_cast<int32_t>(copy.bos), static_cast<int32_t>(copy.eos),
               tokenizer, copy.tokenizer_model.empty() ? nullptr : &copy.tokenizer_model,
               static_cast<uint32_t>(copy.byte_offset))
        .Union();
  };
  return writer;
}

}  // namespace edgegen::converter
