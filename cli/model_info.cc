#include "model_info.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <sstream>

#include "cli_error.h"
#include "core/widened_weights.h"
#include "edgegen/pipeline.h"
#include "edgegen/session.h"
#include "edgegen/tensor.h"
#include "edgegen_generated.h"
#include "item_files.h"
#include "ops/registry.h"

namespace edgegen::cli {
namespace {

using nlohmann::ordered_json;

template <typename T>
std::vector<T> to_vector(const flatbuffers::Vector<T>* values) {
  return values ? std::vector<T>(values->begin(), values->end()) : std::vector<T>();
}

std::string string_of(const flatbuffers::String* text) { return text ? text->str() : std::string(); }

std::string graph_name(const Model& model, uint32_t index) {
  const char* name = index < model.num_graphs() ? model.graph_name(index) : nullptr;
  return name ? name : "#" + std::to_string(index);
}

// The name of output `index` of graph `graph`, for pipeline fields that
// refer to graph outputs by position.
std::string output_name(const Model& model, uint32_t graph, uint32_t index) {
  const format::Graph* g = graph < model.num_graphs() ? model.graph(graph) : nullptr;
  if (!g || !g->outputs() || index >= g->outputs()->size()) return "#" + std::to_string(index);
  return string_of(g->tensors()->Get(static_cast<uint32_t>(g->outputs()->Get(index)))->name());
}

std::string input_name(const Model& model, uint32_t graph, int64_t index) {
  const format::Graph* g = graph < model.num_graphs() ? model.graph(graph) : nullptr;
  if (index < 0) return "none";
  if (!g || !g->inputs() || index >= g->inputs()->size()) return "#" + std::to_string(index);
  return string_of(g->tensors()->Get(static_cast<uint32_t>(g->inputs()->Get(static_cast<uint32_t>(index))))->name());
}

ordered_json pipeline_fields(const Model& model) {
  const format::Model* root = model.root();
  ordered_json fields = ordered_json::object();
  switch (model.pipeline_kind()) {
    case PipelineKind::kGraphsOnly:
      break;
    case PipelineKind::kDecoder: {
      const format::DecoderPipeline* p = root->pipeline_as_DecoderPipeline();
      fields["decoder_graph"] = graph_name(model, p->decoder_graph());
      fields["latent_shape"] = to_vector(p->latent_shape());
      fields["prior"] = format::EnumNamePrior(p->prior());
      fields["output_range"] = to_vector(p->output_range());
      if (p->sample_rate() > 0) fields["sample_rate"] = p->sample_rate();
      break;
    }
    case PipelineKind::kVae: {
      const format::VaePipeline* p = root->pipeline_as_VaePipeline();
      fields["encoder_graph"] = graph_name(model, p->encoder_graph());
      fields["decoder_graph"] = graph_name(model, p->decoder_graph());
      fields["latent_shape"] = to_vector(p->latent_shape());
      fields["prior"] = format::EnumNamePrior(p->prior());
      fields["likelihood"] = format::EnumNameLikelihood(p->likelihood());
      fields["output_is_logits"] = p->output_is_logits();
      if (p->likelihood() == format::Likelihood::Gaussian) fields["gaussian_variance"] = p->gaussian_variance();
      fields["mean_output"] = output_name(model, p->encoder_graph(), p->mean_output());
      fields["logvar_output"] = output_name(model, p->encoder_graph(), p->logvar_output());
      fields["output_range"] = to_vector(p->output_range());
      if (p->sample_rate() > 0) fields["sample_rate"] = p->sample_rate();
      break;
    }
    case PipelineKind::kFlow: {
      const format::FlowPipeline* p = root->pipeline_as_FlowPipeline();
      fields["forward_graph"] = graph_name(model, p->forward_graph());
      if (p->has_inverse()) fields["inverse_graph"] = graph_name(model, p->inverse_graph());
      fields["z_output"] = output_name(model, p->forward_graph(), p->z_output());
      fields["logdet_output"] = output_name(model, p->forward_graph(), p->logdet_output());
      fields["event_shape"] = to_vector(p->event_shape());
      fields["base"] = format::EnumNameFlowBase(p->base());
      if (const format::FlowPreprocess* pre = p->preprocess()) {
        fields["dequantize_scale"] = pre->dequantize_scale();
        fields["logit_alpha"] = pre->logit_alpha();
      }
      break;
    }
    case PipelineKind::kDiffusion: {
      const format::DiffusionPipeline* p = root->pipeline_as_DiffusionPipeline();
      fields["denoiser_graph"] = graph_name(model, p->denoiser_graph());
      if (p->has_decoder()) fields["decoder_graph"] = graph_name(model, p->decoder_graph());
      fields["sample_input"] = input_name(model, p->denoiser_graph(), p->sample_input());
      fields["timestep_input"] = input_name(model, p->denoiser_graph(), p->timestep_input());
      fields["class_input"] = input_name(model, p->denoiser_graph(), p->class_input());
      fields["prediction"] = format::EnumNameDiffusionPrediction(p->prediction());
      if (const format::NoiseSchedule* s = p->schedule()) {
        fields["schedule"] = format::EnumNameNoiseScheduleKind(s->kind());
        fields["beta_start"] = s->beta_start();
        fields["beta_end"] = s->beta_end();
        fields["train_steps"] = s->train_steps();
      }
      fields["sample_shape"] = to_vector(p->sample_shape());
      fields["output_range"] = to_vector(p->output_range());
      fields["num_classes"] = p->num_classes();
      // Latent diffusion.
      if (p->has_encoder()) fields["encoder_graph"] = graph_name(model, p->encoder_graph());
      if (p->has_decoder()) {
        fields["latent_scale"] = p->latent_scale();
        // A decoder converted for latent tiles smaller than the sample (--tile).
        const format::Graph* decoder = p->decoder_graph() < model.num_graphs() ? model.graph(p->decoder_graph()) : nullptr;
        if (decoder != nullptr && decoder->inputs() != nullptr && decoder->inputs()->size() > 0) {
          std::vector<int64_t> tile = to_vector(decoder->tensors()->Get(static_cast<uint32_t>(decoder->inputs()->Get(0)))->shape());
          if (!tile.empty()) tile.erase(tile.begin());  // the batch
          if (tile != to_vector(p->sample_shape())) fields["decoder_tile"] = tile;
        }
        if (p->tile_overlap() > 0) fields["decoder_tile_overlap"] = p->tile_overlap();
      }
      if (p->context_input() >= 0) {
        fields["context_input"] = input_name(model, p->denoiser_graph(), p->context_input());
        fields["unconditional_context_stored"] = p->unconditional_context() != nullptr && p->unconditional_context()->size() > 0;
      }
      break;
    }
    case PipelineKind::kAutoregressive: {
      const format::AutoregressivePipeline* p = root->pipeline_as_AutoregressivePipeline();
      fields["conditionals_graph"] = graph_name(model, p->conditionals_graph());
      fields["event_shape"] = to_vector(p->event_shape());
      fields["distribution"] = format::EnumNameArDistribution(p->distribution());
      fields["num_categories"] = p->num_categories();
      break;
    }
    case PipelineKind::kEnergy: {
      const format::EnergyPipeline* p = root->pipeline_as_EnergyPipeline();
      fields["score_graph"] = graph_name(model, p->score_graph());
      if (p->has_energy()) fields["energy_graph"] = graph_name(model, p->energy_graph());
      fields["event_shape"] = to_vector(p->event_shape());
      fields["noise_levels"] = to_vector(p->noise_levels());
      break;
    }
    case PipelineKind::kTokenDecoder: {
      const format::TokenDecoderPipeline* p = root->pipeline_as_TokenDecoderPipeline();
      const format::TokenDecoderGraph* step = p->step();
      fields["step_graph"] = graph_name(model, step->graph());
      if (p->prefill() != nullptr) fields["prefill_graph"] = graph_name(model, p->prefill()->graph());
      fields["tokens_input"] = input_name(model, step->graph(), static_cast<int>(step->tokens_input()));
      fields["position_input"] = input_name(model, step->graph(), static_cast<int>(step->position_input()));
      fields["logits_output"] = output_name(model, step->graph(), step->logits_output());
      fields["vocab_size"] = p->vocab_size();
      fields["max_length"] = p->max_length();
      fields["bos"] = p->bos();
      fields["eos"] = p->eos();
      fields["tokenizer"] = format::EnumNameTokenizer(p->tokenizer());
      if (p->tokenizer() == format::Tokenizer::Bytes) fields["byte_offset"] = p->byte_offset();
      // The KV cache: persistent in the arena, updated in place by every step.
      const format::Graph* graph = model.graph(step->graph());
      uint64_t cache_bytes = 0;
      for (uint32_t input : *step->cache_inputs()) {
        const format::Tensor* tensor = graph->tensors()->Get(static_cast<uint32_t>(graph->inputs()->Get(input)));
        uint64_t elements = 1;
        for (int64_t dim : *tensor->shape()) elements *= static_cast<uint64_t>(dim);
        cache_bytes += elements * dtype_size(static_cast<DType>(tensor->dtype()));
      }
      fields["cache_tensors"] = step->cache_inputs()->size();
      fields["cache_bytes"] = cache_bytes;
      break;
    }
    case PipelineKind::kVocoder: {
      const format::VocoderPipeline* p = root->pipeline_as_VocoderPipeline();
      fields["graph"] = graph_name(model, p->graph());
      fields["sample_rate"] = p->sample_rate();
      fields["hop_length"] = p->hop_length();
      // The frames one run reads and the receptive field: windows overlap by 2 x context.
      const format::Graph* graph = model.graph(p->graph());
      const format::Tensor* mel = graph->tensors()->Get(static_cast<uint32_t>(graph->inputs()->Get(0)));
      const std::vector<int64_t> mel_shape = to_vector(mel->shape());
      if (mel_shape.size() == 3) {
        fields["mel_channels"] = mel_shape[1];
        fields["window_frames"] = mel_shape[2];
        fields["window_seconds"] = static_cast<double>(mel_shape[2]) * p->hop_length() / p->sample_rate();
      }
      fields["context_frames"] = p->context_frames();
      fields["pad_value"] = p->pad_value();
      break;
    }
  }
  return fields;
}

TensorInfo tensor_info(const Model& model, const format::Tensor* tensor) {
  TensorInfo info;
  info.name = string_of(tensor->name());
  info.dtype = dtype_name(static_cast<DType>(tensor->dtype()));
  info.shape = to_vector(tensor->shape());
  info.constant = tensor->buffer() != 0;
  if (info.constant) info.bytes = model.root()->buffers()->Get(tensor->buffer())->size();
  if (const format::Quantization* q = tensor->quantization()) {
    info.scales = to_vector(q->scale());
    info.zero_points = to_vector(q->zero_point());
    // One zero point shared by every slice: listed once per scale, as written before.
    if (info.zero_points.size() == 1 && info.scales.size() > 1)
      info.zero_points.resize(info.scales.size(), info.zero_points[0]);
    info.axis = q->axis();
  }
  return info;
}

uint64_t element_count(const std::vector<int64_t>& shape) {
  uint64_t elements = 1;
  for (int64_t dim : shape) elements *= static_cast<uint64_t>(dim);
  return elements;
}

GraphInfo graph_info(const Model& model, size_t index) {
  const format::Graph* graph = model.graph(index);
  const auto* tensors = graph->tensors();
  GraphInfo info;
  info.name = graph_name(model, static_cast<uint32_t>(index));
  for (int32_t input : to_vector(graph->inputs()))
    info.inputs.push_back(tensor_info(model, tensors->Get(static_cast<uint32_t>(input))));
  for (int32_t output : to_vector(graph->outputs()))
    info.outputs.push_back(tensor_info(model, tensors->Get(static_cast<uint32_t>(output))));
  if (tensors)
    for (const format::Tensor* tensor : *tensors) info.tensors.push_back(tensor_info(model, tensor));
  if (const auto* operators = graph->operators()) {
    info.num_operators = operators->size();
    for (const format::Operator* op : *operators) {
      const char* name = op_name(op->opcode());
      ++info.op_counts[name ? name : "op#" + std::to_string(op->opcode())];
      if (op->outputs() && op->outputs()->size() > 0)
        ++info.op_precisions[info.tensors[static_cast<uint32_t>(op->outputs()->Get(0))].dtype];
      if (op->activation() && op->activation()->kind() != format::ActivationKind::None)
        ++info.fused_activations[format::EnumNameActivationKind(op->activation()->kind())];
    }
  }
  std::set<uint32_t> buffers;
  if (tensors) {
    for (uint32_t i = 0; i < tensors->size(); ++i) {
      const format::Tensor* tensor = tensors->Get(i);
      if (tensor->buffer() == 0 || !buffers.insert(tensor->buffer()).second) continue;
      info.weight_bytes += info.tensors[i].bytes;
      info.constant_bytes[info.tensors[i].dtype] += info.tensors[i].bytes;
      // Parameters: the learned values, whatever their precision (an int32
      // bias of a quantized layer is one too; shape constants are int64).
      if (tensor->dtype() != format::DType::Int64) info.parameter_count += element_count(info.tensors[i].shape);
    }
  }
  if (const format::MemoryPlan* plan = graph->plan()) {
    info.plan_arena_bytes = plan->arena_bytes();
    info.plan_lower_bound_bytes = plan->lower_bound_bytes();
  }
  return info;
}

ordered_json tensors_json(const std::vector<TensorInfo>& tensors, bool details = false) {
  ordered_json list = ordered_json::array();
  for (const TensorInfo& tensor : tensors) {
    ordered_json entry = {{"name", tensor.name}, {"dtype", tensor.dtype}, {"shape", tensor.shape}};
    if (details) {
      entry["constant"] = tensor.constant;
      if (tensor.constant) entry["bytes"] = tensor.bytes;
    }
    if (!tensor.scales.empty()) {
      entry["quantization"] = {{"axis", tensor.axis}, {"scales", tensor.scales}, {"zero_points", tensor.zero_points}};
    }
    list.push_back(entry);
  }
  return list;
}

std::string bytes_text(const BytesByDtype& bytes) {
  std::string text;
  for (const auto& [dtype, count] : bytes) text += (text.empty() ? "" : ", ") + dtype + " " + with_thousands(count);
  return text;
}

// "0.0123" or "126 values 0.0011..0.0203 (axis 0)"; zero points the same way.
std::string quantization_text(const TensorInfo& tensor) {
  char text[160];
  auto [low, high] = std::minmax_element(tensor.scales.begin(), tensor.scales.end());
  auto [zp_low, zp_high] = std::minmax_element(tensor.zero_points.begin(), tensor.zero_points.end());
  if (tensor.scales.size() == 1) {
    std::snprintf(text, sizeof text, "scale %.6g, zero point %lld", static_cast<double>(*low),
                  static_cast<long long>(tensor.zero_points.empty() ? 0 : *zp_low));
  } else {
    const long long zp_min = tensor.zero_points.empty() ? 0 : *zp_low;
    const long long zp_max = tensor.zero_points.empty() ? 0 : *zp_high;
    int used = std::snprintf(text, sizeof text, "%zu scales %.4g..%.4g along axis %d, zero point%s %lld",
                             tensor.scales.size(), static_cast<double>(*low), static_cast<double>(*high),
                             tensor.axis, zp_min == zp_max ? "" : "s", zp_min);
    if (zp_min != zp_max && used > 0 && static_cast<size_t>(used) < sizeof text)
      std::snprintf(text + used, sizeof text - static_cast<size_t>(used), "..%lld", zp_max);
  }
  return text;
}

std::string tensors_text(const std::vector<TensorInfo>& tensors) {
  std::string text;
  for (const TensorInfo& tensor : tensors) {
    if (!text.empty()) text += ", ";
    text += tensor.name + " " + tensor.dtype + " " + format_dims(tensor.shape);
  }
  return text.empty() ? "(none)" : text;
}

std::string counts_text(const std::map<std::string, size_t>& counts) {
  std::string text;
  for (const auto& [name, count] : counts) text += (text.empty() ? "" : ", ") + name + " x" + std::to_string(count);
  return text;
}

// Like JSON, but with ", " between array elements to match how shapes print.
std::string field_text(const ordered_json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (!value.is_array()) return value.dump();
  std::string text = "[";
  for (size_t i = 0; i < value.size(); ++i) text += (i ? ", " : "") + field_text(value[i]);
  return text + "]";
}

}  // namespace

std::string with_thousands(uint64_t value) {
  std::string digits = std::to_string(value);
  std::string text;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) text += ',';
    text += digits[i];
  }
  return text;
}

ModelInfo describe_model(const Model& model, const SessionOptions& options) {
  const format::Model* root = model.root();
  ModelInfo info;
  info.file_bytes = model.size();
  info.format_version = root->format_version();
  info.producer = string_of(root->producer());
  info.batch = model.batch();
  info.pipeline_kind = pipeline_kind_name(model.pipeline_kind());
  info.pipeline = pipeline_fields(model);
  for (size_t i = 0; i < model.num_graphs(); ++i) info.graphs.push_back(graph_info(model, i));
  info.weight_bytes = model.weight_bytes();
  // Buffers shared between graphs count once, as in the file.
  std::set<uint32_t> counted;
  uint64_t widened = 0;
  for (size_t g = 0; g < model.num_graphs(); ++g) {
    const auto* tensors = model.graph(g)->tensors();
    for (uint32_t i = 0; tensors && i < tensors->size(); ++i) {
      const format::Tensor* tensor = tensors->Get(i);
      if (tensor->buffer() == 0 || !counted.insert(tensor->buffer()).second) continue;
      const uint64_t bytes = model.root()->buffers()->Get(tensor->buffer())->size();
      const DType dtype = static_cast<DType>(tensor->dtype());
      const bool narrow_weight = dtype == DType::kInt8 || dtype == DType::kUInt8 || dtype == DType::kFloat16;
      if (narrow_weight) widened += element_count(to_vector(tensor->shape())) * sizeof(float) - bytes;
    }
  }
  info.float32_file_bytes = info.file_bytes + widened;
  info.backend = backend_name(take_value(Session::resolve_backend(options)));
  info.session_arena_bytes = take_value(Session::arena_bytes_needed(model, 0, options));
  info.widened_weight_bytes = WidenedWeights::bytes_needed(model);
  if (model.pipeline_kind() == PipelineKind::kDecoder || model.pipeline_kind() == PipelineKind::kVae)
    info.pipeline_arena_bytes = take_value(Pipeline::arena_bytes_needed(model, options));
  // XNNPACK's part of an arena is what this CPU's kernels pack: another
  // CPU's is known only for the reference kernels.
  for (const DataModel* data_model : {&kDataModel64, &kDataModel32}) {
    const bool host = same_data_model(*data_model, kHostDataModel);
    if (host || info.backend == std::string("reference")) {
      ModelInfo::DeviceArena arena;
      arena.data_model = data_model->name;
      arena.session = host ? info.session_arena_bytes
                           : take_value(Session::arena_bytes_needed(model, 0, options, *data_model));
      if (info.pipeline_arena_bytes > 0) {
        arena.pipeline = host ? info.pipeline_arena_bytes
                              : take_value(Pipeline::arena_bytes_needed(model, options, *data_model));
        arena.c_pipeline = arena.pipeline + data_model->c_pipeline_handle_bytes;
      }
      info.device_arenas.push_back(arena);
    }
  }
  return info;
}

nlohmann::ordered_json model_info_json(const ModelInfo& info, bool tensors) {
  ordered_json json;
  json["file_bytes"] = info.file_bytes;
  json["format_version"] = info.format_version;
  json["producer"] = info.producer;
  json["batch"] = info.batch;
  json["pipeline"] = {{"kind", info.pipeline_kind}};
  json["pipeline"].update(info.pipeline);
  json["graphs"] = ordered_json::array();
  for (const GraphInfo& graph : info.graphs) {
    json["graphs"].push_back({
        {"name", graph.name},
        {"inputs", tensors_json(graph.inputs)},
        {"outputs", tensors_json(graph.outputs)},
        {"operators", graph.num_operators},
        {"op_counts", graph.op_counts},
        {"fused_activations", graph.fused_activations},
        {"parameters", graph.parameter_count},
        {"weight_bytes", graph.weight_bytes},
        {"plan_arena_bytes", graph.plan_arena_bytes},
        {"plan_lower_bound_bytes", graph.plan_lower_bound_bytes},
        {"constant_bytes", graph.constant_bytes},
        {"op_precisions", graph.op_precisions},
    });
    if (tensors) json["graphs"].back()["tensors"] = tensors_json(graph.tensors, true);
  }
  json["weight_bytes"] = info.weight_bytes;
  json["float32_file_bytes"] = info.float32_file_bytes;
  json["backend"] = info.backend;
  json["session_arena_bytes"] = info.session_arena_bytes;
  json["widened_weight_bytes"] = info.widened_weight_bytes;
  if (info.pipeline_arena_bytes > 0) json["pipeline_arena_bytes"] = info.pipeline_arena_bytes;
  if (!info.device_arenas.empty()) {
    ordered_json arenas;
    for (const ModelInfo::DeviceArena& arena : info.device_arenas) {
      ordered_json entry = {{"session", arena.session}};
      if (arena.pipeline > 0) {
        entry["pipeline"] = arena.pipeline;
        entry["c_pipeline"] = arena.c_pipeline;
      }
      arenas[arena.data_model] = entry;
    }
    json["device_arena_bytes"] = arenas;
  }
  return json;
}

std::string model_info_text(const ModelInfo& info, const std::string& title, bool tensors) {
  std::ostringstream out;
  out << title << ": " << with_thousands(info.file_bytes) << " bytes, format version " << info.format_version
      << ", producer \"" << info.producer << "\", batch " << info.batch << "\n";
  out << "pipeline: " << info.pipeline_kind << "\n";
  for (const auto& [key, value] : info.pipeline.items()) out << "  " << key << ": " << field_text(value) << "\n";
  for (const GraphInfo& graph : info.graphs) {
    out << "graph \"" << graph.name << "\": " << graph.num_operators << " operators, "
        << with_thousands(graph.parameter_count) << " parameters, " << with_thousands(graph.weight_bytes)
        << " weight bytes\n";
    out << "  inputs:  " << tensors_text(graph.inputs) << "\n";
    out << "  outputs: " << tensors_text(graph.outputs) << "\n";
    out << "  ops: " << counts_text(graph.op_counts) << "\n";
    if (!graph.fused_activations.empty()) out << "  fused activations: " << counts_text(graph.fused_activations) << "\n";
    if (graph.constant_bytes.size() > 1 || graph.op_precisions.size() > 1 ||
        (!graph.constant_bytes.empty() && graph.constant_bytes.begin()->first != "float32")) {
      out << "  precision: ops by output " << counts_text(graph.op_precisions) << "; weight bytes "
          << (graph.constant_bytes.empty() ? std::string("none") : bytes_text(graph.constant_bytes)) << "\n";
    }
    out << "  arena plan: " << with_thousands(graph.plan_arena_bytes) << " bytes (lower bound "
        << with_thousands(graph.plan_lower_bound_bytes) << ")\n";
    if (tensors) {
      out << "  tensors:\n";
      for (const TensorInfo& tensor : graph.tensors) {
        out << "    " << tensor.name << " " << tensor.dtype << " " << format_dims(tensor.shape);
        if (tensor.constant) out << " constant " << with_thousands(tensor.bytes) << " bytes";
        if (!tensor.scales.empty()) out << ", " << quantization_text(tensor);
        out << "\n";
      }
    }
  }
  out << "weights: " << with_thousands(info.weight_bytes) << " bytes\n";
  if (info.float32_file_bytes != info.file_bytes) {
    char ratio[32];
    std::snprintf(ratio, sizeof ratio, "%.3f", static_cast<double>(info.file_bytes) / info.float32_file_bytes);
    out << "file: " << with_thousands(info.file_bytes) << " bytes, " << ratio << "x of the about "
        << with_thousands(info.float32_file_bytes) << " it would take with float32 weights\n";
  }
  out << "session arena (" << info.backend << " backend): " << with_thousands(info.session_arena_bytes)
      << " bytes prepared";
  if (info.pipeline_arena_bytes > info.session_arena_bytes)
    out << " (" << with_thousands(info.pipeline_arena_bytes) << " with the pipeline's buffers)";
  if (info.widened_weight_bytes > 0)
    out << "; " << with_thousands(info.widened_weight_bytes) << " of them float16 weights widened to float32";
  out << "\n";
  for (const ModelInfo::DeviceArena& arena : info.device_arenas) {
    out << "  on a " << arena.data_model << " CPU: " << with_thousands(arena.session) << " bytes for a Session";
    if (arena.c_pipeline > 0) out << ", " << with_thousands(arena.c_pipeline) << " for eg_pipeline_create";
    out << "\n";
  }
  return out.str();
}

std::string model_info_summary(const ModelInfo& info) {
  size_t ops = 0;
  for (const GraphInfo& graph : info.graphs) ops += graph.num_operators;
  return std::to_string(info.graphs.size()) + (info.graphs.size() == 1 ? " graph, " : " graphs, ") +
         std::to_string(ops) + " ops, " + with_thousands(info.weight_bytes) + " weight bytes, arena " +
         with_thousands(info.pipeline_arena_bytes > 0 ? info.pipeline_arena_bytes : info.session_arena_bytes) +
         " bytes (" + info.backend + " backend)";
}

}  // namespace edgegen::cli
