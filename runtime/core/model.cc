#include "edgegen/model.h"

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "core/control_flow.h"
#include "core/format_message.h"
#include "edgegen_generated.h"
#include "ops/registry.h"

namespace edgegen {

static_assert(static_cast<uint32_t>(PipelineKind::kGraphsOnly) == static_cast<uint32_t>(format::PipelineSpec::GraphsOnly),
              "PipelineKind must follow the schema's PipelineSpec");
static_assert(static_cast<uint32_t>(PipelineKind::kEnergy) == static_cast<uint32_t>(format::PipelineSpec::EnergyPipeline),
              "PipelineKind must follow the schema's PipelineSpec");
static_assert(static_cast<uint32_t>(PipelineKind::kTokenDecoder) ==
                  static_cast<uint32_t>(format::PipelineSpec::TokenDecoderPipeline),
              "PipelineKind must follow the schema's PipelineSpec");
static_assert(static_cast<uint32_t>(PipelineKind::kVocoder) == static_cast<uint32_t>(format::PipelineSpec::VocoderPipeline),
              "PipelineKind must follow the schema's PipelineSpec");

const char* pipeline_kind_name(PipelineKind kind) {
  switch (kind) {
    case PipelineKind::kGraphsOnly: return "graphs";
    case PipelineKind::kDecoder: return "decoder";
    case PipelineKind::kVae: return "vae";
    case PipelineKind::kFlow: return "flow";
    case PipelineKind::kDiffusion: return "diffusion";
    case PipelineKind::kAutoregressive: return "autoregressive";
    case PipelineKind::kEnergy: return "energy";
    case PipelineKind::kTokenDecoder: return "token_decoder";
    case PipelineKind::kVocoder: return "vocoder";
  }
  return "unknown";
}

namespace {

constexpr uint64_t kSegmentAlignment = 64;
// Keeps element counts far from overflowing byte sizes in 64 bits.
constexpr int64_t kMaxElements = int64_t{1} << 40;

Status invalid(const char* format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

Status invalid(const char* format, ...) {
  char message[Status::kMaxMessage];
  va_list args;
  va_start(args, format);
  format_message(message, sizeof message, format, args);
  va_end(args);
  return Status::error(StatusCode::kInvalidModel, "%s", message);
}

const char* name_or(const flatbuffers::String* name, const char* fallback) {
  return name ? name->c_str() : fallback;
}

// The FlatBuffers verifier (Debian's 2.0.8) checks only that a vector's
// 4-byte length is 4-byte aligned, so in a corrupt file the elements of a
// [long], [ulong] or [double] vector can start at 4 mod 8. Reading one is
// undefined behaviour, and on Cortex-M and ARMv7 an unaligned 8-byte load
// faults: a corrupt model in flash would crash the device instead of being
// refused. (Table fields of 8 bytes need nothing more: the generated
// verifier checks them with VerifyField<uint64_t>(..., 8).) The model starts
// at a 64-byte aligned address, so the address and the file offset agree.
// An empty vector has nothing to read, and FlatBufferBuilder does not align
// those (PreAlign of 0 bytes), so they pass. `where_format` names the field;
// it is formatted only on failure.
template <typename T>
Status check_elements_aligned(const uint8_t* file, const flatbuffers::Vector<T>* vector, const char* where_format,
                              ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

template <typename T>
Status check_elements_aligned(const uint8_t* file, const flatbuffers::Vector<T>* vector, const char* where_format,
                              ...) {
  static_assert(sizeof(T) == 8, "only vectors of 8-byte scalars can be misaligned by a verified file");
  if (vector == nullptr || vector->size() == 0 || reinterpret_cast<uintptr_t>(vector->Data()) % sizeof(T) == 0)
    return Status::ok();
  char where[Status::kMaxMessage / 2];
  va_list args;
  va_start(args, where_format);
  format_message(where, sizeof where, where_format, args);
  va_end(args);
  return invalid("%s: its 8-byte elements start at byte %llu of the file, not a multiple of 8 (a corrupt file)", where,
                 static_cast<unsigned long long>(vector->Data() - file));
}

// Every vector of 8-byte scalars in schemas/edgegen.fbs, checked right after
// the FlatBuffers verifier and before anything reads one. A field appended
// to the schema must be added here; model_verification_test.cc reads the
// schema and fails if one is missing from its list of tested fields.
Status verify_wide_vectors_aligned(const format::Model& model, const uint8_t* file) {
  if (const auto* graphs = model.graphs()) {
    for (uint32_t g = 0; g < graphs->size(); ++g) {
      const format::Graph* graph = graphs->Get(g);
      const char* graph_name = name_or(graph->name(), "?");
      if (const auto* tensors = graph->tensors()) {
        for (uint32_t t = 0; t < tensors->size(); ++t) {
          const format::Tensor* tensor = tensors->Get(t);
          const char* name = name_or(tensor->name(), "?");
          EG_RETURN_IF_ERROR(check_elements_aligned(file, tensor->shape(), "graph '%s': tensor %u '%s': shape",
                                                    graph_name, t, name));
          if (const format::Quantization* q = tensor->quantization())
            EG_RETURN_IF_ERROR(check_elements_aligned(
                file, q->zero_point(), "graph '%s': tensor %u '%s': quantization zero_point", graph_name, t, name));
        }
      }
      if (const auto* ops = graph->operators()) {
        for (uint32_t i = 0; i < ops->size(); ++i)
          EG_RETURN_IF_ERROR(check_elements_aligned(file, ops->Get(i)->int_params(),
                                                    "graph '%s': operator %u '%s': int_params", graph_name, i,
                                                    name_or(ops->Get(i)->name(), "")));
      }
      if (const format::MemoryPlan* plan = graph->plan())
        EG_RETURN_IF_ERROR(
            check_elements_aligned(file, plan->offsets(), "graph '%s': memory plan offsets", graph_name));
    }
  }
  switch (model.pipeline_type()) {
    case format::PipelineSpec::DecoderPipeline:
      return check_elements_aligned(file, model.pipeline_as_DecoderPipeline()->latent_shape(),
                                    "pipeline: decoder latent_shape");
    case format::PipelineSpec::VaePipeline:
      return check_elements_aligned(file, model.pipeline_as_VaePipeline()->latent_shape(),
                                    "pipeline: vae latent_shape");
    case format::PipelineSpec::FlowPipeline:
      return check_elements_aligned(file, model.pipeline_as_FlowPipeline()->event_shape(),
                                    "pipeline: flow event_shape");
    case format::PipelineSpec::DiffusionPipeline:
      return check_elements_aligned(file, model.pipeline_as_DiffusionPipeline()->sample_shape(),
                                    "pipeline: diffusion sample_shape");
    case format::PipelineSpec::AutoregressivePipeline:
      return check_elements_aligned(file, model.pipeline_as_AutoregressivePipeline()->event_shape(),
                                    "pipeline: autoregressive event_shape");
    case format::PipelineSpec::EnergyPipeline:
      return check_elements_aligned(file, model.pipeline_as_EnergyPipeline()->event_shape(),
                                    "pipeline: energy event_shape");
    case format::PipelineSpec::TokenDecoderPipeline:  // no 8-byte vectors
    case format::PipelineSpec::VocoderPipeline:
    case format::PipelineSpec::GraphsOnly:
    case format::PipelineSpec::NONE:
      return Status::ok();
  }
  return Status::ok();
}

// real = scale * (q - zero_point): parameters a kernel can trust without
// checking them again. Scales are normal positive floats (zero, denormal,
// infinite or NaN scales turn every value into 0, inf or NaN, and 1/scale
// overflows), zero points are values of the quantized type (int32
// accumulators are symmetric), and only integer tensors are quantized.
Status verify_quantization(const format::Quantization& q, DType dtype, const flatbuffers::Vector<int64_t>& shape,
                           const char* graph_name, const char* name) {
  int64_t zero_min = 0, zero_max = 0;
  switch (dtype) {
    case DType::kInt8: zero_min = -128, zero_max = 127; break;
    case DType::kUInt8: zero_min = 0, zero_max = 255; break;
    case DType::kInt32: zero_min = 0, zero_max = 0; break;
    default:
      return invalid("graph '%s': tensor '%s' of dtype %s has quantization parameters; only int8, uint8 and int32 "
                     "tensors can be quantized",
                     graph_name, name, dtype_name(dtype));
  }
  uint32_t scales = q.scale() ? q.scale()->size() : 0;
  uint32_t zeros = q.zero_point() ? q.zero_point()->size() : 0;
  // One zero point per scale, or one for all of a per-axis tensor's slices.
  if (scales == 0 || (zeros != scales && !(zeros == 1 && q.axis() >= 0)))
    return invalid("graph '%s': tensor '%s' has %u scales and %u zero points (expected as many, or one shared by "
                   "per-axis scales)",
                   graph_name, name, scales, zeros);
  if (q.axis() >= 0 && (static_cast<uint32_t>(q.axis()) >= shape.size() ||
                        static_cast<int64_t>(scales) != shape.Get(static_cast<uint32_t>(q.axis()))))
    return invalid("graph '%s': tensor '%s' per-axis quantization does not match axis %d", graph_name, name, q.axis());
  if (q.axis() < 0 && scales != 1)
    return invalid("graph '%s': tensor '%s' per-tensor quantization has %u scales", graph_name, name, scales);
  for (uint32_t i = 0; i < scales; ++i) {
    float scale = q.scale()->Get(i);
    if (!std::isnormal(scale) || scale < 0)
      return invalid("graph '%s': tensor '%s' quantization scale %u is %g; it must be a positive, finite, normal float",
                     graph_name, name, i, static_cast<double>(scale));
    if (i >= zeros) continue;
    int64_t zero_point = q.zero_point()->Get(i);
    if (zero_point < zero_min || zero_point > zero_max)
      return invalid("graph '%s': tensor '%s' quantization zero point %u is %lld, outside [%lld, %lld] of %s",
                     graph_name, name, i, static_cast<long long>(zero_point), static_cast<long long>(zero_min),
                     static_cast<long long>(zero_max), dtype_name(dtype));
  }
  return Status::ok();
}

Status verify_tensor(const format::Model& model, const format::Graph& graph, uint32_t graph_index,
                     uint32_t tensor_index) {
  const format::Tensor* tensor = graph.tensors()->Get(tensor_index);
  const char* graph_name = graph.name()->c_str();
  const char* name = name_or(tensor->name(), "?");
  if (tensor->name() == nullptr)
    return invalid("graph '%s': tensor %u has no name", graph_name, tensor_index);
  uint32_t dtype = static_cast<uint32_t>(tensor->dtype());
  if (dtype >= kNumDTypes)
    return invalid("graph '%s': tensor '%s' has unknown dtype %u", graph_name, name, dtype);
  const auto* shape = tensor->shape();
  if (shape == nullptr) return invalid("graph '%s': tensor '%s' has no shape", graph_name, name);
  if (shape->size() > static_cast<uint32_t>(kMaxRank))
    return invalid("graph '%s': tensor '%s' has rank %u, more than the %d supported", graph_name, name,
                   shape->size(), kMaxRank);
  // The product of the nonzero dims is bounded, not only the element count:
  // kernels take products of any subset of the dims (strides), and a 0 dim
  // must not let [0, 2^40, 2^40] through.
  int64_t extent = 1;
  bool empty = false;
  for (uint32_t d = 0; d < shape->size(); ++d) {
    int64_t dim = shape->Get(d);
    if (dim < 0) return invalid("graph '%s': tensor '%s' has negative dimension %lld", graph_name, name,
                                static_cast<long long>(dim));
    if (dim == 0) {
      empty = true;
      continue;
    }
    if (extent > kMaxElements / dim) return invalid("graph '%s': tensor '%s' is too large", graph_name, name);
    extent *= dim;
  }
  const int64_t elements = empty ? 0 : extent;
  uint64_t bytes = static_cast<uint64_t>(elements) * dtype_size(static_cast<DType>(dtype));
  uint32_t buffer = tensor->buffer();
  const auto* buffers = model.buffers();
  if (buffer != 0) {
    if (buffers == nullptr || buffer >= buffers->size())
      return invalid("graph '%s': tensor '%s' refers to buffer %u, but the model has %u buffers", graph_name, name,
                     buffer, buffers ? buffers->size() : 0);
    const format::Buffer* data = buffers->Get(buffer);
    if (data->size() != bytes)
      return invalid("graph '%s': tensor '%s' needs %llu bytes (%lld %s elements) but its buffer %u holds %llu",
                     graph_name, name, static_cast<unsigned long long>(bytes), static_cast<long long>(elements),
                     dtype_name(static_cast<DType>(dtype)), buffer, static_cast<unsigned long long>(data->size()));
  }
  if (const format::Quantization* q = tensor->quantization())
    EG_RETURN_IF_ERROR(verify_quantization(*q, static_cast<DType>(dtype), *shape, graph_name, name));
  (void)graph_index;
  return Status::ok();
}

bool is_graph_input(const format::Graph& graph, int32_t tensor) {
  for (int32_t input : *graph.inputs())
    if (input == tensor) return true;
  return false;
}

// Index of the operator producing `tensor`, or -1. Linear scan: loading
// needs no working memory, and graphs are small enough.
int64_t producer_of(const format::Graph& graph, int32_t tensor) {
  const auto* ops = graph.operators();
  for (uint32_t i = 0; i < ops->size(); ++i)
    for (int32_t output : *ops->Get(i)->outputs())
      if (output == tensor) return i;
  return -1;
}

bool is_graph_output(const format::Graph& graph, int32_t tensor) {
  for (int32_t output : *graph.outputs())
    if (output == tensor) return true;
  return false;
}

// Persistent state pairs (Graph.state): each (graph input, graph output) of
// one shape and dtype, every tensor in at most one pair, and the output
// produced by an operator. That the output's plan offset is its input's is
// checked with the plan (Session::prepare); that the producer may update in
// place is the converter's check (memory_plan.cc): a wrong claim gives wrong
// numbers, never an access outside the tensor.
Status verify_state_pairs(const format::Graph& graph) {
  const auto* state = graph.state();
  if (state == nullptr) return Status::ok();
  const char* graph_name = graph.name()->c_str();
  if (state->size() % 2 != 0) return invalid("graph '%s': state lists %u indices, not pairs", graph_name, state->size());
  const uint32_t num_tensors = graph.tensors()->size();
  for (uint32_t i = 0; i < state->size(); i += 2) {
    const int32_t input = state->Get(i), output = state->Get(i + 1);
    if (input < 0 || output < 0 || static_cast<uint32_t>(input) >= num_tensors ||
        static_cast<uint32_t>(output) >= num_tensors)
      return invalid("graph '%s': state pair %u refers to a tensor out of range", graph_name, i / 2);
    if (!is_graph_input(graph, input) || !is_graph_output(graph, output) || producer_of(graph, output) < 0)
      return invalid("graph '%s': state pair %u must be a graph input and a graph output an operator produces",
                     graph_name, i / 2);
    const format::Tensor* a = graph.tensors()->Get(static_cast<uint32_t>(input));
    const format::Tensor* b = graph.tensors()->Get(static_cast<uint32_t>(output));
    bool same = a->dtype() == b->dtype() && a->shape()->size() == b->shape()->size();
    for (uint32_t d = 0; same && d < a->shape()->size(); ++d) same = a->shape()->Get(d) == b->shape()->Get(d);
    if (!same)
      return invalid("graph '%s': state '%s' and '%s' differ in shape or dtype", graph_name, a->name()->c_str(),
                     b->name()->c_str());
    for (uint32_t j = 0; j < i; ++j)
      if (state->Get(j) == input || state->Get(j) == output)
        return invalid("graph '%s': tensor '%s' is in two state pairs", graph_name,
                       graph.tensors()->Get(static_cast<uint32_t>(state->Get(j)))->name()->c_str());
  }
  return Status::ok();
}

Status verify_graph(const format::Model& model, uint32_t graph_index) {
  const format::Graph* graph = model.graphs()->Get(graph_index);
  if (graph->name() == nullptr || graph->name()->size() == 0) return invalid("graph %u has no name", graph_index);
  const char* graph_name = graph->name()->c_str();
  for (uint32_t other = 0; other < graph_index; ++other) {
    const flatbuffers::String* other_name = model.graphs()->Get(other)->name();  // verified earlier
    if (other_name->size() == graph->name()->size() &&
        std::memcmp(other_name->data(), graph_name, other_name->size()) == 0)
      return invalid("two graphs are named '%s'", graph_name);
  }
  if (!graph->tensors() || !graph->operators() || !graph->inputs() || !graph->outputs() || !graph->plan())
    return invalid("graph '%s' lacks tensors, operators, inputs, outputs or its memory plan", graph_name);
  const uint32_t num_tensors = graph->tensors()->size();
  for (uint32_t t = 0; t < num_tensors; ++t) EG_RETURN_IF_ERROR(verify_tensor(model, *graph, graph_index, t));

  auto tensor_name = [&](int32_t index) { return graph->tensors()->Get(static_cast<uint32_t>(index))->name()->c_str(); };
  auto is_constant = [&](int32_t index) { return graph->tensors()->Get(static_cast<uint32_t>(index))->buffer() != 0; };

  // Operators' index lists first: the checks below search them.
  for (uint32_t op_index = 0; op_index < graph->operators()->size(); ++op_index) {
    const format::Operator* op = graph->operators()->Get(op_index);
    // Only the control-flow markers (If, Else, EndIf) write nothing.
    if (!op->inputs() || !op->outputs() || (op->outputs()->size() == 0 && !is_control_op(op->opcode())))
      return invalid("graph '%s': operator %u lacks inputs or outputs", graph_name, op_index);
  }
  for (int32_t input : *graph->inputs()) {
    if (input < 0 || static_cast<uint32_t>(input) >= num_tensors)
      return invalid("graph '%s': input index %d is out of range (%u tensors)", graph_name, input, num_tensors);
    if (is_constant(input)) return invalid("graph '%s': input '%s' is a constant", graph_name, tensor_name(input));
    if (producer_of(*graph, input) >= 0)
      return invalid("graph '%s': input '%s' is also produced by an operator", graph_name, tensor_name(input));
  }

  const bool branches = has_control_flow(*graph);
  const auto* ops = graph->operators();
  for (uint32_t op_index = 0; op_index < ops->size(); ++op_index) {
    const format::Operator* op = ops->Get(op_index);
    const char* op_label = name_or(op->name(), "");
    const char* kind = op_name(op->opcode());
    if (kind == nullptr)
      return Status::error(StatusCode::kUnsupportedOp,
                           "graph '%s': operator %u '%s' has opcode %u, which this runtime does not know (a newer "
                           "converter?)",
                           graph_name, op_index, op_label, op->opcode());
    if (find_reference_kernel(op->opcode()) == nullptr)  // a runtime built for other models
      return Status::error(StatusCode::kUnsupportedOp,
                           "graph '%s': operator %u '%s' is a %s, whose kernel this runtime was built without: add "
                           "%s to EDGEGEN_KERNELS (`edgegen info` lists the operators a model uses)",
                           graph_name, op_index, op_label, kind, kind);
    for (int32_t input : *op->inputs()) {
      if (input == -1) continue;
      if (input < 0 || static_cast<uint32_t>(input) >= num_tensors)
        return invalid("graph '%s': %s %u '%s' reads tensor %d, out of range (%u tensors)", graph_name, kind,
                       op_index, op_label, input, num_tensors);
      if (is_constant(input) || is_graph_input(*graph, input)) continue;
      int64_t producer = producer_of(*graph, input);
      if (producer < 0 || producer >= static_cast<int64_t>(op_index))
        return invalid("graph '%s': %s %u '%s' reads '%s' before any operator produces it", graph_name, kind,
                       op_index, op_label, tensor_name(input));
    }
    const auto* outputs = op->outputs();
    for (uint32_t a = 0; a < outputs->size(); ++a)
      for (uint32_t b = a + 1; b < outputs->size(); ++b)
        if (outputs->Get(a) == outputs->Get(b))
          return invalid("graph '%s': %s %u '%s' lists an output twice", graph_name, kind, op_index, op_label);
    for (int32_t output : *outputs) {
      if (output < 0 || static_cast<uint32_t>(output) >= num_tensors)
        return invalid("graph '%s': %s %u '%s' writes tensor %d, out of range (%u tensors)", graph_name, kind,
                       op_index, op_label, output, num_tensors);
      if (is_constant(output))
        return invalid("graph '%s': %s %u '%s' writes the constant '%s'", graph_name, kind, op_index, op_label,
                       tensor_name(output));
      // An If's outputs are written once per branch; the plan check keeps
      // such a tensor live from its first writer to its last.
      if (producer_of(*graph, output) != static_cast<int64_t>(op_index) && !branches)
        return invalid("graph '%s': tensor '%s' is produced by more than one operator", graph_name,
                       tensor_name(output));
    }
  }
  for (int32_t output : *graph->outputs()) {
    if (output < 0 || static_cast<uint32_t>(output) >= num_tensors)
      return invalid("graph '%s': output index %d is out of range (%u tensors)", graph_name, output, num_tensors);
    if (!is_constant(output) && !is_graph_input(*graph, output) && producer_of(*graph, output) < 0)
      return invalid("graph '%s': output '%s' is never produced", graph_name, tensor_name(output));
    if (is_constant(output))
      return invalid("graph '%s': output '%s' is a constant", graph_name, tensor_name(output));
  }
  EG_RETURN_IF_ERROR(verify_state_pairs(*graph));
  EG_RETURN_IF_ERROR(verify_control_flow(*graph));
  const format::MemoryPlan* plan = graph->plan();
  if (!plan->offsets() || plan->offsets()->size() != num_tensors)
    return invalid("graph '%s': memory plan has %u offsets for %u tensors", graph_name,
                   plan->offsets() ? plan->offsets()->size() : 0, num_tensors);
  // At least 16 so every dtype (and SIMD loads) is aligned at its planned offset.
  if (plan->alignment() < 16 || (plan->alignment() & (plan->alignment() - 1)) != 0 || plan->alignment() > 4096)
    return invalid("graph '%s': memory plan alignment %u is not a power of two from 16 to 4096", graph_name,
                   plan->alignment());
  return Status::ok();
}

Status check_graph_ref(const format::Model& model, uint32_t graph, const char* role) {
  if (graph >= model.graphs()->size())
    return invalid("pipeline: %s graph %u does not exist (the model has %u graphs)", role, graph,
                   model.graphs()->size());
  return Status::ok();
}

// One graph of a token decoder: every index in range, the cache lists
// paired one to one and each pair declared as the graph's state (planned
// in place); shapes and dtypes are the program's check at prepare.
Status verify_token_decoder_graph(const format::Model& model, const format::TokenDecoderGraph* io, const char* role) {
  if (io == nullptr) return invalid("pipeline: token_decoder lacks its %s graph", role);
  EG_RETURN_IF_ERROR(check_graph_ref(model, io->graph(), role));
  const format::Graph* graph = model.graphs()->Get(io->graph());
  const uint32_t inputs = graph->inputs()->size(), outputs = graph->outputs()->size();
  if (io->tokens_input() >= inputs || io->position_input() >= inputs || io->logits_output() >= outputs ||
      io->tokens_input() == io->position_input())
    return invalid("pipeline: token_decoder %s graph: tokens, position or logits index out of range", role);
  const auto* cache_in = io->cache_inputs();
  const auto* cache_out = io->cache_outputs();
  if (cache_in == nullptr || cache_out == nullptr || cache_in->size() == 0 || cache_in->size() != cache_out->size())
    return invalid("pipeline: token_decoder %s graph: cache inputs and outputs must be non-empty lists of one length",
                   role);
  const auto* state = graph->state();
  if (state == nullptr || state->size() != 2 * cache_in->size())
    return invalid("pipeline: token_decoder %s graph: every cache pair must be the graph's state", role);
  for (uint32_t i = 0; i < cache_in->size(); ++i) {
    if (cache_in->Get(i) >= inputs || cache_out->Get(i) >= outputs)
      return invalid("pipeline: token_decoder %s graph: cache %u index out of range", role, i);
    if (graph->inputs()->Get(cache_in->Get(i)) != state->Get(2 * i) ||
        graph->outputs()->Get(cache_out->Get(i)) != state->Get(2 * i + 1))
      return invalid("pipeline: token_decoder %s graph: cache %u is not the graph's state pair %u", role, i, i);
  }
  return Status::ok();
}

Status verify_token_decoder(const format::Model& model, const format::TokenDecoderPipeline& p) {
  EG_RETURN_IF_ERROR(verify_token_decoder_graph(model, p.step(), "step"));
  if (p.prefill() != nullptr) {
    EG_RETURN_IF_ERROR(verify_token_decoder_graph(model, p.prefill(), "prefill"));
    if (p.prefill()->cache_inputs()->size() != p.step()->cache_inputs()->size())
      return invalid("pipeline: token_decoder prefill and step graphs have different numbers of caches");
  }
  if (p.vocab_size() < 2 || p.max_length() < 1)
    return invalid("pipeline: token_decoder vocab_size %u and max_length %u must be at least 2 and 1", p.vocab_size(),
                   p.max_length());
  if (p.bos() >= static_cast<int32_t>(p.vocab_size()) || p.eos() >= static_cast<int32_t>(p.vocab_size()) ||
      p.bos() < -1 || p.eos() < -1)
    return invalid("pipeline: token_decoder bos %d or eos %d is not a token of the %u-token vocabulary", p.bos(),
                   p.eos(), p.vocab_size());
  if (p.tokenizer() == format::Tokenizer::Bytes && p.byte_offset() + 256 > p.vocab_size())
    return invalid("pipeline: token_decoder byte tokenizer: bytes at offset %u do not fit the %u-token vocabulary",
                   p.byte_offset(), p.vocab_size());
  if (p.tokenizer() != format::Tokenizer::Bytes && p.tokenizer() != format::Tokenizer::SentencePiece)
    return invalid("pipeline: token_decoder tokenizer %u is unknown", static_cast<uint32_t>(p.tokenizer()));
  return Status::ok();
}

// A vocoder's graph exists and its audio parameters are usable; the graph's
// shapes are the program's check at prepare.
Status verify_vocoder(const format::Model& model, const format::VocoderPipeline& p) {
  EG_RETURN_IF_ERROR(check_graph_ref(model, p.graph(), "vocoder"));
  if (p.sample_rate() < 1 || p.sample_rate() > 1000000)
    return invalid("pipeline: vocoder sample_rate %u is not 1 to 1000000 samples per second", p.sample_rate());
  if (p.hop_length() < 1 || p.hop_length() > 65536)
    return invalid("pipeline: vocoder hop_length %u is not 1 to 65536 samples", p.hop_length());
  if (p.context_frames() > 65536)
    return invalid("pipeline: vocoder context_frames %u is more than 65536", p.context_frames());
  if (!std::isfinite(p.pad_value())) return invalid("pipeline: vocoder pad_value is not a finite number");
  return Status::ok();
}

// The shape of one item (latent, event, sample: without the batch
// dimension) of a pipeline, which the pipelines size buffers from: present,
// rank 1 to kMaxRank - 1 (the batch makes kMaxRank), dims >= 1, and at most
// kMaxElements elements, so that no product of it overflows.
Status verify_item_shape(const flatbuffers::Vector<int64_t>* shape, const char* what) {
  if (shape == nullptr || shape->size() == 0 || shape->size() >= static_cast<uint32_t>(kMaxRank))
    return invalid("pipeline: %s is missing or has a bad rank (1 to %d dimensions)", what, kMaxRank - 1);
  int64_t elements = 1;
  for (uint32_t d = 0; d < shape->size(); ++d) {
    const int64_t dim = shape->Get(d);
    if (dim < 1) return invalid("pipeline: %s has dimension %lld; it must be at least 1", what, static_cast<long long>(dim));
    if (elements > kMaxElements / dim) return invalid("pipeline: %s is too large", what);
    elements *= dim;
  }
  return Status::ok();
}

// The graphs a pipeline names and the shape of its items; each pipeline
// checks the rest of its table when it is prepared.
Status verify_pipeline(const format::Model& model) {
  switch (model.pipeline_type()) {
    case format::PipelineSpec::GraphsOnly: return Status::ok();
    case format::PipelineSpec::DecoderPipeline: {
      const auto* p = model.pipeline_as_DecoderPipeline();
      EG_RETURN_IF_ERROR(check_graph_ref(model, p->decoder_graph(), "decoder"));
      return verify_item_shape(p->latent_shape(), "decoder latent_shape");
    }
    case format::PipelineSpec::VaePipeline: {
      const auto* p = model.pipeline_as_VaePipeline();
      EG_RETURN_IF_ERROR(check_graph_ref(model, p->encoder_graph(), "encoder"));
      EG_RETURN_IF_ERROR(check_graph_ref(model, p->decoder_graph(), "decoder"));
      return verify_item_shape(p->latent_shape(), "vae latent_shape");
    }
    case format::PipelineSpec::FlowPipeline: {
      const auto* p = model.pipeline_as_FlowPipeline();
      EG_RETURN_IF_ERROR(check_graph_ref(model, p->forward_graph(), "flow forward"));
      if (p->has_inverse()) EG_RETURN_IF_ERROR(check_graph_ref(model, p->inverse_graph(), "flow inverse"));
      return verify_item_shape(p->event_shape(), "flow event_shape");
    }
    case format::PipelineSpec::DiffusionPipeline: {
      const auto* p = model.pipeline_as_DiffusionPipeline();
      EG_RETURN_IF_ERROR(check_graph_ref(model, p->denoiser_graph(), "diffusion denoiser"));
      if (p->has_decoder()) EG_RETURN_IF_ERROR(check_graph_ref(model, p->decoder_graph(), "diffusion decoder"));
      return verify_item_shape(p->sample_shape(), "diffusion sample_shape");
    }
    case format::PipelineSpec::AutoregressivePipeline: {
      const auto* p = model.pipeline_as_AutoregressivePipeline();
      EG_RETURN_IF_ERROR(check_graph_ref(model, p->conditionals_graph(), "autoregressive conditionals"));
      return verify_item_shape(p->event_shape(), "autoregressive event_shape");
    }
    case format::PipelineSpec::EnergyPipeline: {
      const auto* p = model.pipeline_as_EnergyPipeline();
      EG_RETURN_IF_ERROR(check_graph_ref(model, p->score_graph(), "energy (score function)"));
      if (p->has_energy()) EG_RETURN_IF_ERROR(check_graph_ref(model, p->energy_graph(), "energy (energy function)"));
      return verify_item_shape(p->event_shape(), "energy event_shape");
    }
    case format::PipelineSpec::TokenDecoderPipeline:
      return verify_token_decoder(model, *model.pipeline_as_TokenDecoderPipeline());
    case format::PipelineSpec::VocoderPipeline:
      return verify_vocoder(model, *model.pipeline_as_VocoderPipeline());
    case format::PipelineSpec::NONE:
      return invalid("the model declares no pipeline");
  }
  return invalid("unknown pipeline type %u", static_cast<uint32_t>(model.pipeline_type()));
}

}  // namespace

Result<Model> Model::from_buffer(const void* data, size_t size) {
  if (data == nullptr) return Status::error(StatusCode::kInvalidArgument, "model data is null");
  if (reinterpret_cast<uintptr_t>(data) % kModelAlignment != 0)
    return Status::error(StatusCode::kInvalidArgument,
                         "model data must be %zu-byte aligned (map the file, or copy it to aligned memory)",
                         kModelAlignment);
  const uint8_t* bytes = static_cast<const uint8_t*>(data);
  if (size < 8) return invalid("the model is %zu bytes long, too short to be an edgegen model", size);
  if (!format::ModelBufferHasIdentifier(bytes))
    return invalid("not an edgegen model: file identifier is '%.4s', expected 'EGM1'",
                   reinterpret_cast<const char*>(bytes + 4));
  // The FlatBuffer verifier addresses at most 2 GiB; weights lie beyond.
  size_t verify_size = size < FLATBUFFERS_MAX_BUFFER_SIZE - 1 ? size : FLATBUFFERS_MAX_BUFFER_SIZE - 1;
  flatbuffers::Verifier verifier(bytes, verify_size, /*max_depth=*/64, /*max_tables=*/10000000);
  if (!format::VerifyModelBuffer(verifier))
    return invalid("the model's FlatBuffer is corrupt (FlatBuffers verifier failed)");
  const format::Model* root = format::GetModel(bytes);
  // The verifier accepts a union whose type is set but whose table is absent.
  if (root->pipeline_type() != format::PipelineSpec::NONE && root->pipeline() == nullptr)
    return invalid("the model declares a pipeline of type %u but holds no pipeline table",
                   static_cast<uint32_t>(root->pipeline_type()));
  EG_RETURN_IF_ERROR(verify_wide_vectors_aligned(*root, bytes));

  if (root->format_version() == 0 || root->format_version() > kFormatVersion)
    return Status::error(StatusCode::kUnsupportedVersion,
                         "model format version %u; this runtime reads versions 1 to %u", root->format_version(),
                         kFormatVersion);
  uint64_t segment_offset = root->segment_offset();
  uint64_t segment_size = root->segment_size();
  if (segment_offset % kSegmentAlignment != 0 || segment_offset > size || segment_size > size - segment_offset)
    return invalid("weight segment [%llu, +%llu) does not fit in the %zu-byte file or is misaligned",
                   static_cast<unsigned long long>(segment_offset), static_cast<unsigned long long>(segment_size),
                   size);
  if (!root->graphs() || root->graphs()->size() == 0) return invalid("the model has no graphs");
  if (!root->buffers() || root->buffers()->size() == 0) return invalid("the model lacks the buffer table");
  for (uint32_t i = 0; i < root->buffers()->size(); ++i) {
    const format::Buffer* buffer = root->buffers()->Get(i);
    if (buffer->offset() % kSegmentAlignment != 0 || buffer->offset() > segment_size ||
        buffer->size() > segment_size - buffer->offset())
      return invalid("buffer %u [%llu, +%llu) is misaligned or lies outside the %llu-byte weight segment", i,
                     static_cast<unsigned long long>(buffer->offset()), static_cast<unsigned long long>(buffer->size()),
                     static_cast<unsigned long long>(segment_size));
  }
  if (root->batch() == 0) return invalid("the model's batch size is 0");
  for (uint32_t g = 0; g < root->graphs()->size(); ++g) EG_RETURN_IF_ERROR(verify_graph(*root, g));
  EG_RETURN_IF_ERROR(verify_pipeline(*root));

  Model model;
  model.data_ = bytes;
  model.size_ = size;
  model.root_ = root;
  return model;
}

size_t Model::num_graphs() const { return root_->graphs()->size(); }

const format::Graph* Model::graph(size_t index) const { return root_->graphs()->Get(static_cast<uint32_t>(index)); }

const char* Model::graph_name(size_t index) const { return graph(index)->name()->c_str(); }

int Model::find_graph(const char* name) const {
  for (size_t i = 0; i < num_graphs(); ++i)
    if (std::strcmp(graph_name(i), name) == 0) return static_cast<int>(i);
  return -1;
}

PipelineKind Model::pipeline_kind() const { return static_cast<PipelineKind>(root_->pipeline_type()); }

uint32_t Model::batch() const { return root_->batch(); }

const void* Model::buffer_data(uint32_t index) const {
  if (index == 0) return nullptr;
  const format::Buffer* buffer = root_->buffers()->Get(index);
  return data_ + root_->segment_offset() + buffer->offset();
}

uint64_t Model::weight_bytes() const {
  uint64_t total = 0;
  for (const format::Buffer* buffer : *root_->buffers()) total += buffer->size();
  return total;
}

}  // namespace edgegen
