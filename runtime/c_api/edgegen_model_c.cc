// The C API's model handle (eg_model_*): a thin layer over edgegen::Module
// and the Program it prepares, plus a plain Session for models whose kind
// has no program (graphs only). Every entry point checks its pointers and
// sizes, then calls the C++ interface; no C++ type crosses the boundary.
#include <algorithm>
#include <cstddef>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include "core/memory_planner.h"
#include "edgegen/density.h"
#include "edgegen/token_decoder.h"
#include "edgegen/diffusion.h"
#include "edgegen/edgegen.h"
#include "edgegen/carried_state.h"
#include "edgegen/module.h"
#include "edgegen/pipeline.h"
#include "edgegen_generated.h"

struct eg_model {
  edgegen::Module module;
  edgegen::Session graph_session;  // prepared only for a kind without a program
  // Streaming (eg_model_carry_state): pairs named by the model's own strings.
  edgegen::StatePair state_pairs[edgegen::CarriedState::kMaxPairs];
  size_t num_state_pairs = 0;
  size_t state_graph = 0;
  edgegen::CarriedState carried_state;  // bound to graph_session at prepare
  void* owned_self = nullptr;      // owned: the malloc block holding this handle, or null
  char last_error[edgegen::Status::kMaxMessage] = "";
};

namespace {

using edgegen::Status;
using edgegen::StatusCode;

constexpr size_t kHandleAlignment = alignof(eg_model) > 16 ? alignof(eg_model) : 16;

eg_status to_c(const Status& status) { return static_cast<eg_status>(status.code()); }

eg_status remember(eg_model* model, const Status& status) {
  if (!status.is_ok()) std::snprintf(model->last_error, sizeof model->last_error, "%s", status.message());
  return to_c(status);
}

eg_status fail(eg_model* model, StatusCode code, const char* message) {
  return remember(model, Status::error(code, "%s", message));
}

// The session graphs run in: the program's, or the plain one.
edgegen::Session* session_of(eg_model* model) {
  if (model->module.program() != nullptr) return &model->module.program()->session();
  if (model->graph_session.prepared()) return &model->graph_session;
  return nullptr;
}

bool has_program_class(const eg_model* model) { return model->module.declared_capabilities() != 0; }

Status session_options_of(const eg_run_options* options, edgegen::SessionOptions* out) {
  if (options == nullptr) return Status::ok();
  if (options->struct_size < sizeof(eg_run_options))
    return Status::error(StatusCode::kInvalidArgument, "eg_run_options.struct_size is %zu, less than %zu",
                         options->struct_size, sizeof(eg_run_options));
  if (options->backend < EG_BACKEND_AUTO || options->backend > EG_BACKEND_XNNPACK || options->threads < 0)
    return Status::error(StatusCode::kInvalidArgument, "unknown backend %d or negative threads %d", options->backend,
                         options->threads);
  out->backend = static_cast<edgegen::Backend>(options->backend);
  out->threads = options->threads;
  return Status::ok();
}

const edgegen::format::Tensor* graph_tensor(const eg_model* model, size_t graph, size_t index, bool input) {
  if (!model->module.loaded() || graph >= model->module.model().num_graphs()) return nullptr;
  const edgegen::format::Graph* g = model->module.model().graph(graph);
  if (g == nullptr || g->tensors() == nullptr) return nullptr;
  const flatbuffers::Vector<int32_t>* list = input ? g->inputs() : g->outputs();
  if (list == nullptr || index >= list->size()) return nullptr;
  int32_t tensor = list->Get(static_cast<uint32_t>(index));
  if (tensor < 0 || static_cast<uint32_t>(tensor) >= g->tensors()->size()) return nullptr;
  return g->tensors()->Get(static_cast<uint32_t>(tensor));
}

size_t graph_list_size(const eg_model* model, size_t graph, bool input) {
  const edgegen::format::Graph* g = model->module.model().graph(graph);
  const flatbuffers::Vector<int32_t>* list = g == nullptr ? nullptr : (input ? g->inputs() : g->outputs());
  return list == nullptr ? 0 : list->size();
}

eg_status tensor_info(const eg_model* model, size_t graph, size_t index, bool input, eg_tensor_info* out) {
  if (model == nullptr || out == nullptr) return EG_INVALID_ARGUMENT;
  if (out->struct_size < sizeof(eg_tensor_info)) return EG_INVALID_ARGUMENT;
  const edgegen::format::Tensor* tensor = graph_tensor(model, graph, index, input);
  if (tensor == nullptr) return EG_INVALID_ARGUMENT;
  out->name = tensor->name() != nullptr ? tensor->name()->c_str() : "";
  out->dtype = static_cast<int>(tensor->dtype());
  out->rank = 0;
  uint64_t elements = 1;
  if (tensor->shape() != nullptr) {
    // Load verified the rank (<= kMaxRank) and the dims.
    out->rank = static_cast<int>(std::min<uint32_t>(tensor->shape()->size(), 8));
    for (int i = 0; i < out->rank; ++i) {
      out->dims[i] = tensor->shape()->Get(static_cast<uint32_t>(i));
      elements *= static_cast<uint64_t>(out->dims[i]);
    }
  }
  out->bytes = static_cast<size_t>(elements * edgegen::dtype_size(static_cast<edgegen::DType>(out->dtype)));
  return EG_OK;
}

// The prepared program when it offers `capability`. The order of the
// checks is the API's: a NULL handle, then no program (EG_NOT_PREPARED),
// then the capability (EG_UNSUPPORTED_OP, whatever the buffers), and only
// then the caller's buffers and sizes.
eg_status program_offering(eg_model* model, edgegen::Capability capability, edgegen::Program** out) {
  *out = nullptr;
  edgegen::Program* program = model->module.program();
  if (program == nullptr)
    return fail(model, StatusCode::kNotPrepared, "the model is not prepared with a program (eg_model_prepare)");
  if (!program->can(capability))
    return remember(model, Status::error(StatusCode::kUnsupportedOp, "a '%s' pipeline cannot %s%s",
                                         edgegen::pipeline_kind_name(program->kind()),
                                         edgegen::capability_name(capability),
                                         model->module.declares(capability)
                                             ? " as prepared: eg_model_prepare it for this capability first"
                                             : ""));
  *out = program;
  return EG_OK;
}

eg_status null_argument(eg_model* model, const char* function, const char* argument) {
  return remember(model, Status::error(StatusCode::kInvalidArgument, "%s: %s is NULL", function, argument));
}

// EG_CAP_NONE or exactly one known capability bit.
bool valid_capability(uint32_t capability) {
  return capability == EG_CAP_NONE ||
         ((capability & (capability - 1)) == 0 && capability <= static_cast<uint32_t>(EG_CAP_IMAGE_TO_IMAGE));
}

Status capability_argument(uint32_t capability) {
  if (valid_capability(capability)) return Status::ok();
  return Status::error(StatusCode::kInvalidArgument,
                       "capability 0x%x is not EG_CAP_NONE or one EG_CAP_ bit (prepare for one operation at a time)",
                       static_cast<unsigned>(capability));
}

struct ProgressAdapter {
  eg_progress_fn fn;
  void* user;
};

bool on_step(void* user, size_t step, size_t total, double elapsed_seconds) {
  const ProgressAdapter* adapter = static_cast<const ProgressAdapter*>(user);
  return adapter->fn(adapter->user, step, total, elapsed_seconds) != 0;
}

// SamplingOptions (and DiffusionOptions) from the C structs; `diffusion`
// and `adapter` are storage that must outlive the call.
Status sampling_options_of(const eg_sampling_options* in, edgegen::SamplingOptions* out,
                           edgegen::DiffusionOptions* diffusion, ProgressAdapter* adapter) {
  if (in == nullptr) return Status::ok();
  if (in->struct_size < sizeof(eg_sampling_options))
    return Status::error(StatusCode::kInvalidArgument, "eg_sampling_options.struct_size is %zu, less than %zu",
                         in->struct_size, sizeof(eg_sampling_options));
  out->seed = in->seed;
  out->temperature = in->temperature;
  out->top_k = in->top_k;
  out->latents = in->latents;
  out->labels = in->labels;
  const eg_diffusion_options* d = in->diffusion;
  if (d == nullptr) return Status::ok();
  // The struct grew by appending (context .. strength): older callers pass a smaller size.
  constexpr size_t kFirstSize = offsetof(eg_diffusion_options, context);
  if (d->struct_size < kFirstSize)
    return Status::error(StatusCode::kInvalidArgument, "eg_diffusion_options.struct_size is %zu, less than %zu",
                         d->struct_size, kFirstSize);
  const bool has_latent_fields = d->struct_size >= sizeof(eg_diffusion_options);
  if (d->sampler < EG_SAMPLER_DDIM || d->sampler > EG_SAMPLER_LCM)
    return Status::error(StatusCode::kInvalidArgument, "unknown sampler %d", d->sampler);
  if (d->spacing < EG_SPACING_LEADING || d->spacing > EG_SPACING_LINSPACE)
    return Status::error(StatusCode::kInvalidArgument, "unknown timestep spacing %d", d->spacing);
  if (d->steps < 1 || d->steps > edgegen::DiffusionPipeline::kMaxSteps)
    return Status::error(StatusCode::kInvalidArgument, "steps %zu is outside 1 .. %zu", d->steps,
                         edgegen::DiffusionPipeline::kMaxSteps);
  if (d->resample < 1) return Status::error(StatusCode::kInvalidArgument, "resample %d is less than 1", d->resample);
  if ((d->known == nullptr) != (d->mask == nullptr))
    return Status::error(StatusCode::kInvalidArgument, "in-painting needs both known and mask");
  diffusion->sampler = static_cast<edgegen::SamplerKind>(d->sampler);
  diffusion->steps = d->steps;
  diffusion->spacing = static_cast<edgegen::TimestepSpacing>(d->spacing);
  diffusion->karras = d->karras != 0;
  diffusion->eta = d->eta;
  diffusion->guidance = d->guidance;
  diffusion->seed = in->seed;
  diffusion->init_noise = d->init_noise;
  diffusion->known = d->known;
  diffusion->mask = d->mask;
  diffusion->resample = d->resample;
  if (has_latent_fields) {
    diffusion->context = d->context;
    diffusion->unconditional_context = d->unconditional_context;
    diffusion->init_image = d->init_image;
    diffusion->strength = d->strength;
  }
  if (d->progress != nullptr) {
    adapter->fn = d->progress;
    adapter->user = d->progress_user;
    diffusion->progress.on_step = on_step;
    diffusion->progress.user = adapter;
  }
  out->diffusion = diffusion;
  return Status::ok();
}

}  // namespace

extern "C" {

const char* eg_status_string(eg_status status) {
  return edgegen::status_code_name(static_cast<edgegen::StatusCode>(status));
}

const char* eg_pipeline_kind_name(int kind) {
  if (kind < EG_KIND_GRAPHS_ONLY || kind > EG_KIND_VOCODER) return "unknown";
  return edgegen::pipeline_kind_name(static_cast<edgegen::PipelineKind>(kind));
}

size_t eg_model_handle_bytes(void) { return sizeof(eg_model) + kHandleAlignment; }

eg_status eg_model_load(const void* data, size_t size, void* storage, size_t storage_bytes, eg_model** out_model) {
  if (out_model == nullptr) return EG_INVALID_ARGUMENT;
  *out_model = nullptr;
  if (data == nullptr || size == 0) return EG_INVALID_ARGUMENT;
  void* owned = nullptr;
  if (storage == nullptr) {
    owned = std::malloc(eg_model_handle_bytes());
    if (owned == nullptr) return EG_OUT_OF_MEMORY;
    storage = owned;
  } else if (storage_bytes < eg_model_handle_bytes()) {
    return EG_ARENA_TOO_SMALL;
  }
  void* base = reinterpret_cast<void*>(static_cast<uintptr_t>(
      edgegen::align_up(reinterpret_cast<uintptr_t>(storage), kHandleAlignment)));
  eg_model* model = new (base) eg_model();
  model->owned_self = owned;
  Status loaded = model->module.load(data, size);
  if (!loaded.is_ok()) {
    model->~eg_model();
    std::free(owned);
    return to_c(loaded);
  }
  *out_model = model;
  return EG_OK;
}

eg_status eg_model_verify(const void* data, size_t size, char* message, size_t capacity) {
  if (message == nullptr && capacity != 0) return EG_INVALID_ARGUMENT;
  if (capacity != 0) message[0] = '\0';
  Status verified = Status::ok();
  if (data == nullptr || size == 0) {
    verified = Status::error(edgegen::StatusCode::kInvalidArgument, "no model bytes (data %s, size %zu)",
                             data == nullptr ? "NULL" : "given", size);
  } else {
    edgegen::Result<edgegen::Model> model = edgegen::Model::from_buffer(data, size);
    if (!model.ok()) verified = model.status();
  }
  if (!verified.is_ok() && capacity != 0) std::snprintf(message, capacity, "%s", verified.message());
  return to_c(verified);
}

void eg_model_destroy(eg_model* model) {
  if (model == nullptr) return;
  void* owned = model->owned_self;
  model->~eg_model();
  std::free(owned);
}

const char* eg_model_last_error(const eg_model* model) { return model != nullptr ? model->last_error : ""; }

eg_status eg_model_kind(const eg_model* model, int* out_kind) {
  if (model == nullptr || out_kind == nullptr) return EG_INVALID_ARGUMENT;
  *out_kind = static_cast<int>(model->module.kind());
  return EG_OK;
}

eg_status eg_model_declared_capabilities(const eg_model* model, uint32_t* out_capabilities) {
  if (model == nullptr || out_capabilities == nullptr) return EG_INVALID_ARGUMENT;
  *out_capabilities = model->module.declared_capabilities();
  return EG_OK;
}

eg_status eg_model_batch(const eg_model* model, size_t* out_batch) {
  if (model == nullptr || out_batch == nullptr) return EG_INVALID_ARGUMENT;
  *out_batch = model->module.model().batch();
  return EG_OK;
}

eg_status eg_model_num_graphs(const eg_model* model, size_t* out_count) {
  if (model == nullptr || out_count == nullptr) return EG_INVALID_ARGUMENT;
  *out_count = model->module.model().num_graphs();
  return EG_OK;
}

eg_status eg_model_graph_name(const eg_model* model, size_t graph, const char** out_name) {
  if (model == nullptr || out_name == nullptr || graph >= model->module.model().num_graphs())
    return EG_INVALID_ARGUMENT;
  const char* name = model->module.model().graph_name(graph);
  *out_name = name != nullptr ? name : "";
  return EG_OK;
}

eg_status eg_model_find_graph(const eg_model* model, const char* name, size_t* out_graph) {
  if (model == nullptr || name == nullptr || out_graph == nullptr) return EG_INVALID_ARGUMENT;
  int graph = model->module.model().find_graph(name);
  if (graph < 0) return EG_INVALID_ARGUMENT;
  *out_graph = static_cast<size_t>(graph);
  return EG_OK;
}

eg_status eg_model_num_inputs(const eg_model* model, size_t graph, size_t* out_count) {
  if (model == nullptr || out_count == nullptr || graph >= model->module.model().num_graphs())
    return EG_INVALID_ARGUMENT;
  *out_count = graph_list_size(model, graph, true);
  return EG_OK;
}

eg_status eg_model_num_outputs(const eg_model* model, size_t graph, size_t* out_count) {
  if (model == nullptr || out_count == nullptr || graph >= model->module.model().num_graphs())
    return EG_INVALID_ARGUMENT;
  *out_count = graph_list_size(model, graph, false);
  return EG_OK;
}

eg_status eg_model_input_info(const eg_model* model, size_t graph, size_t index, eg_tensor_info* out_info) {
  return tensor_info(model, graph, index, true, out_info);
}

eg_status eg_model_output_info(const eg_model* model, size_t graph, size_t index, eg_tensor_info* out_info) {
  return tensor_info(model, graph, index, false, out_info);
}

namespace {

// The reservation the carried state needs (0 without eg_model_carry_state).
edgegen::Result<size_t> state_reserve_bytes(const eg_model* model) {
  if (model->num_state_pairs == 0) return size_t{0};
  return edgegen::CarriedState::reserve_bytes_needed(model->module.model(), model->state_graph, model->state_pairs,
                                                     model->num_state_pairs);
}

// The model's own copy of a graph input's (or output's) name, or null.
const char* stored_name(const eg_model* model, size_t graph, const char* name, bool input) {
  const edgegen::format::Graph& stored = *model->module.model().graph(graph);
  const auto* endpoints = input ? stored.inputs() : stored.outputs();
  for (uint32_t i = 0; i < endpoints->size(); ++i) {
    const char* candidate = stored.tensors()->Get(static_cast<uint32_t>(endpoints->Get(i)))->name()->c_str();
    if (std::strcmp(candidate, name) == 0) return candidate;
  }
  return nullptr;
}

}  // namespace

eg_status eg_model_carry_state(eg_model* model, size_t graph, const char* input, const char* output) {
  if (model == nullptr || input == nullptr || output == nullptr) return EG_INVALID_ARGUMENT;
  const edgegen::Model& stored = model->module.model();
  if (graph >= stored.num_graphs())
    return remember(model, Status::error(StatusCode::kInvalidArgument, "no graph %zu (the model has %zu)", graph,
                                         stored.num_graphs()));
  if (model->num_state_pairs > 0 && graph != model->state_graph)
    return remember(model, Status::error(StatusCode::kInvalidArgument,
                                         "carried state is for one graph; graph %zu already has state pairs",
                                         model->state_graph));
  if (model->num_state_pairs == edgegen::CarriedState::kMaxPairs)
    return fail(model, StatusCode::kInvalidArgument, "too many carried state pairs");
  edgegen::StatePair pair;
  pair.input = stored_name(model, graph, input, true);
  pair.output = stored_name(model, graph, output, false);
  if (pair.input == nullptr || pair.output == nullptr)
    return remember(model, Status::error(StatusCode::kInvalidArgument, "graph %zu has no %s '%s'", graph,
                                         pair.input == nullptr ? "input" : "output",
                                         pair.input == nullptr ? input : output));
  // Checked with the pairs before it now, so a bad pair fails here and not at prepare.
  model->state_pairs[model->num_state_pairs] = pair;
  edgegen::Result<size_t> checked = edgegen::CarriedState::reserve_bytes_needed(
      stored, graph, model->state_pairs, model->num_state_pairs + 1);
  if (!checked.ok()) return remember(model, checked.status());
  model->state_graph = graph;
  ++model->num_state_pairs;
  return EG_OK;
}

eg_status eg_model_reset_state(eg_model* model) {
  if (model == nullptr) return EG_INVALID_ARGUMENT;
  if (!model->carried_state.bound())
    return fail(model, StatusCode::kNotPrepared, "no carried state is bound (eg_model_carry_state, then eg_model_prepare)");
  model->carried_state.reset();
  return EG_OK;
}

eg_status eg_model_arena_bytes(eg_model* model, const eg_run_options* options, uint32_t capability,
                               size_t* out_bytes) {
  if (model == nullptr || out_bytes == nullptr) return EG_INVALID_ARGUMENT;
  edgegen::SessionOptions session_options;
  Status checked = session_options_of(options, &session_options);
  if (checked.is_ok()) checked = capability_argument(capability);
  if (!checked.is_ok()) return remember(model, checked);
  if (capability == EG_CAP_NONE && !has_program_class(model)) {
    edgegen::Result<size_t> reserve = state_reserve_bytes(model);
    if (!reserve.ok()) return remember(model, reserve.status());
    edgegen::Result<size_t> bytes = edgegen::Session::arena_bytes_needed(model->module.model(), *reserve, session_options);
    if (!bytes.ok()) return remember(model, bytes.status());
    *out_bytes = *bytes;
    return EG_OK;
  }
  edgegen::Result<size_t> bytes =
      model->module.arena_bytes_needed(session_options, static_cast<edgegen::Capability>(capability));
  if (!bytes.ok()) return remember(model, bytes.status());
  *out_bytes = *bytes;
  return EG_OK;
}

eg_status eg_model_prepare(eg_model* model, void* arena, size_t arena_bytes, const eg_run_options* options,
                           uint32_t capability) {
  if (model == nullptr) return EG_INVALID_ARGUMENT;
  edgegen::SessionOptions session_options;
  Status checked = session_options_of(options, &session_options);
  if (checked.is_ok()) checked = capability_argument(capability);
  if (!checked.is_ok()) return remember(model, checked);
  model->carried_state = edgegen::CarriedState();
  model->graph_session.~Session();
  new (&model->graph_session) edgegen::Session();
  if (capability == EG_CAP_NONE && !has_program_class(model)) {
    edgegen::Result<size_t> reserve = state_reserve_bytes(model);
    if (!reserve.ok()) return remember(model, reserve.status());
    Status prepared =
        arena != nullptr
            ? model->graph_session.prepare(model->module.model(), arena, arena_bytes, *reserve, session_options)
            : model->graph_session.prepare(model->module.model(), *reserve, session_options);
    if (prepared.is_ok() && model->num_state_pairs > 0)
      prepared = model->carried_state.bind(&model->graph_session, model->state_graph, model->state_pairs,
                                           model->num_state_pairs);
    if (!prepared.is_ok()) {
      model->graph_session.~Session();
      new (&model->graph_session) edgegen::Session();
    }
    return remember(model, prepared);
  }
  if (model->num_state_pairs > 0)
    return fail(model, StatusCode::kInvalidArgument,
                "carried state (eg_model_carry_state) is for graphs-only models prepared with EG_CAP_NONE");
  const edgegen::Capability needed = static_cast<edgegen::Capability>(capability);
  Status prepared = arena != nullptr ? model->module.prepare(arena, arena_bytes, session_options, needed)
                                     : model->module.prepare(session_options, needed);
  return remember(model, prepared);
}

eg_status eg_model_capabilities(const eg_model* model, uint32_t* out_capabilities) {
  if (model == nullptr || out_capabilities == nullptr) return EG_INVALID_ARGUMENT;
  const edgegen::Program* program = model->module.program();
  *out_capabilities = program != nullptr ? program->capabilities() : 0;
  return program != nullptr || model->graph_session.prepared() ? EG_OK : EG_NOT_PREPARED;
}

eg_status eg_model_event_size(const eg_model* model, size_t* out_floats) {
  if (model == nullptr || out_floats == nullptr) return EG_INVALID_ARGUMENT;
  if (model->module.program() == nullptr) return EG_NOT_PREPARED;
  *out_floats = model->module.program()->event_size();
  return EG_OK;
}

eg_status eg_model_event_shape(const eg_model* model, int64_t* dims, int capacity, int* out_rank) {
  if (model == nullptr || out_rank == nullptr || capacity < 0 || (dims == nullptr && capacity > 0))
    return EG_INVALID_ARGUMENT;
  if (model->module.program() == nullptr) return EG_NOT_PREPARED;
  const edgegen::Shape& shape = model->module.program()->event_shape();
  for (int i = 0; i < shape.rank && i < capacity; ++i) dims[i] = shape.dims[i];
  *out_rank = shape.rank;
  return EG_OK;
}

eg_status eg_model_latent_size(const eg_model* model, size_t* out_floats) {
  if (model == nullptr || out_floats == nullptr) return EG_INVALID_ARGUMENT;
  if (model->module.program() == nullptr) return EG_NOT_PREPARED;
  *out_floats = model->module.program()->latent_size();
  return EG_OK;
}

static eg_status copy_tensor(eg_model* model, size_t graph, int index, bool input, void* data, size_t bytes) {
  edgegen::Session* session = session_of(model);
  if (session == nullptr) return fail(model, StatusCode::kNotPrepared, "the model is not prepared (eg_model_prepare)");
  if (graph >= session->num_graphs())
    return remember(model, Status::error(StatusCode::kInvalidArgument, "no graph %zu (the model has %zu)", graph,
                                         session->num_graphs()));
  const size_t count = input ? session->num_inputs(graph) : session->num_outputs(graph);
  if (index < 0 || static_cast<size_t>(index) >= count)
    return remember(model, Status::error(StatusCode::kInvalidArgument, "graph %zu has no %s %d", graph,
                                         input ? "input" : "output", index));
  edgegen::Tensor& tensor =
      input ? session->input(graph, static_cast<size_t>(index)) : session->output(graph, static_cast<size_t>(index));
  if (bytes != tensor.bytes())
    return remember(model, Status::error(StatusCode::kShapeMismatch, "%s '%s' has %zu bytes, not %zu",
                                         input ? "input" : "output", tensor.name, tensor.bytes(), bytes));
  if (bytes > 0) {
    if (input)
      std::memcpy(tensor.data, data, bytes);
    else
      std::memcpy(data, tensor.data, bytes);
  }
  return EG_OK;
}

static int find_tensor(eg_model* model, size_t graph, const char* name, bool input) {
  edgegen::Session* session = session_of(model);
  if (session == nullptr || graph >= session->num_graphs()) return -1;
  return input ? session->find_input(graph, name) : session->find_output(graph, name);
}

eg_status eg_model_set_input(eg_model* model, size_t graph, size_t index, const void* data, size_t bytes) {
  if (model == nullptr || (data == nullptr && bytes > 0) || index > static_cast<size_t>(INT32_MAX))
    return EG_INVALID_ARGUMENT;
  return copy_tensor(model, graph, static_cast<int>(index), true, const_cast<void*>(data), bytes);
}

eg_status eg_model_set_input_by_name(eg_model* model, size_t graph, const char* name, const void* data, size_t bytes) {
  if (model == nullptr || name == nullptr || (data == nullptr && bytes > 0)) return EG_INVALID_ARGUMENT;
  int index = find_tensor(model, graph, name, true);
  if (index < 0 && session_of(model) != nullptr)
    return remember(model, Status::error(StatusCode::kInvalidArgument, "graph %zu has no input '%s'", graph, name));
  return copy_tensor(model, graph, index, true, const_cast<void*>(data), bytes);
}

eg_status eg_model_run(eg_model* model, size_t graph) {
  if (model == nullptr) return EG_INVALID_ARGUMENT;
  edgegen::Session* session = session_of(model);
  if (session == nullptr) return fail(model, StatusCode::kNotPrepared, "the model is not prepared (eg_model_prepare)");
  if (graph >= session->num_graphs())
    return remember(model, Status::error(StatusCode::kInvalidArgument, "no graph %zu (the model has %zu)", graph,
                                         session->num_graphs()));
  if (model->carried_state.bound() && graph == model->carried_state.graph() && session == &model->graph_session)
    return remember(model, model->carried_state.run());
  return remember(model, session->run(graph));
}

eg_status eg_model_get_output(eg_model* model, size_t graph, size_t index, void* data, size_t bytes) {
  if (model == nullptr || (data == nullptr && bytes > 0) || index > static_cast<size_t>(INT32_MAX))
    return EG_INVALID_ARGUMENT;
  return copy_tensor(model, graph, static_cast<int>(index), false, data, bytes);
}

eg_status eg_model_get_output_by_name(eg_model* model, size_t graph, const char* name, void* data, size_t bytes) {
  if (model == nullptr || name == nullptr || (data == nullptr && bytes > 0)) return EG_INVALID_ARGUMENT;
  int index = find_tensor(model, graph, name, false);
  if (index < 0 && session_of(model) != nullptr)
    return remember(model, Status::error(StatusCode::kInvalidArgument, "graph %zu has no output '%s'", graph, name));
  return copy_tensor(model, graph, index, false, data, bytes);
}

eg_status eg_sampler_from_name(const char* name, int* out_sampler) {
  if (name == nullptr || out_sampler == nullptr) return EG_INVALID_ARGUMENT;
  edgegen::SamplerKind kind;
  if (!edgegen::parse_sampler(name, &kind)) return EG_INVALID_ARGUMENT;
  *out_sampler = static_cast<int>(kind);
  return EG_OK;
}

void eg_diffusion_options_init(eg_diffusion_options* options) {
  if (options == nullptr) return;
  edgegen::DiffusionOptions defaults;
  std::memset(options, 0, sizeof *options);
  options->struct_size = sizeof *options;
  options->sampler = static_cast<int>(defaults.sampler);
  options->steps = defaults.steps;
  options->spacing = static_cast<int>(defaults.spacing);
  options->karras = defaults.karras ? 1 : 0;
  options->eta = defaults.eta;
  options->guidance = defaults.guidance;
  options->resample = defaults.resample;
  options->strength = defaults.strength;
}

void eg_sampling_options_init(eg_sampling_options* options) {
  if (options == nullptr) return;
  std::memset(options, 0, sizeof *options);
  options->struct_size = sizeof *options;
  options->temperature = 1.f;
}

void eg_scoring_options_init(eg_scoring_options* options) {
  if (options == nullptr) return;
  edgegen::ScoringOptions defaults;
  std::memset(options, 0, sizeof *options);
  options->struct_size = sizeof *options;
  options->bound = static_cast<int>(defaults.bound);
  options->samples = defaults.samples;
  options->seed = defaults.seed;
}

namespace {

// sample and impute: the same checks and options, then `run` (Program::sample
// or Program::impute) on the program that offers `capability`.
eg_status run_sampling(eg_model* model, edgegen::Capability capability, const char* function,
                       Status (edgegen::Program::*run)(const edgegen::SamplingOptions&, size_t, float*),
                       const eg_sampling_options* options, size_t count, float* items) {
  if (model == nullptr) return EG_INVALID_ARGUMENT;
  edgegen::Program* program = nullptr;
  eg_status offered = program_offering(model, capability, &program);
  if (offered != EG_OK) return offered;
  if (items == nullptr && count > 0) return null_argument(model, function, "items");
  edgegen::SamplingOptions sampling;
  edgegen::DiffusionOptions diffusion;
  ProgressAdapter adapter = {nullptr, nullptr};
  Status checked = sampling_options_of(options, &sampling, &diffusion, &adapter);
  if (!checked.is_ok()) return remember(model, checked);
  return remember(model, (program->*run)(sampling, count, items));
}

}  // namespace

eg_status eg_model_sample(eg_model* model, const eg_sampling_options* options, size_t count, float* items) {
  return run_sampling(model, edgegen::Capability::kSample, "eg_model_sample", &edgegen::Program::sample, options,
                      count, items);
}

eg_status eg_model_decode(eg_model* model, const float* latents, size_t count, float* items) {
  if (model == nullptr) return EG_INVALID_ARGUMENT;
  edgegen::Program* program = nullptr;
  eg_status offered = program_offering(model, edgegen::Capability::kDecode, &program);
  if (offered != EG_OK) return offered;
  if (latents == nullptr && count > 0) return null_argument(model, "eg_model_decode", "latents");
  if (items == nullptr && count > 0) return null_argument(model, "eg_model_decode", "items");
  return remember(model, program->decode(latents, count, items));
}

eg_status eg_model_encode(eg_model* model, const float* items, size_t count, float* mean, float* logvar) {
  if (model == nullptr) return EG_INVALID_ARGUMENT;
  edgegen::Program* program = nullptr;
  eg_status offered = program_offering(model, edgegen::Capability::kEncode, &program);
  if (offered != EG_OK) return offered;
  if (items == nullptr && count > 0) return null_argument(model, "eg_model_encode", "items");
  if (mean == nullptr && count > 0) return null_argument(model, "eg_model_encode", "mean");
  return remember(model, program->encode(items, count, mean, logvar));
}

eg_status eg_model_interpolate(eg_model* model, const float* z0, const float* z1, eg_interpolation kind,
                               size_t count, float* latents, float* items) {
  if (model == nullptr) return EG_INVALID_ARGUMENT;
  edgegen::Program* program = nullptr;
  eg_status offered = program_offering(model, edgegen::Capability::kInterpolate, &program);
  if (offered != EG_OK) return offered;
  if (z0 == nullptr) return null_argument(model, "eg_model_interpolate", "z0");
  if (z1 == nullptr) return null_argument(model, "eg_model_interpolate", "z1");
  if (latents == nullptr) return null_argument(model, "eg_model_interpolate", "latents");
  if (items == nullptr) return null_argument(model, "eg_model_interpolate", "items");
  if (count < 2)
    return remember(model, Status::error(StatusCode::kInvalidArgument,
                                         "eg_model_interpolate: count is %zu; a path needs at least 2 items", count));
  if (kind != EG_INTERPOLATE_LINEAR && kind != EG_INTERPOLATE_SPHERICAL)
    return remember(model, Status::error(StatusCode::kInvalidArgument,
                                         "eg_model_interpolate: unknown interpolation %d", static_cast<int>(kind)));
  const size_t size = program->latent_size();
  for (size_t i = 0; i < count; ++i)
    edgegen::interpolate_latents(z0, z1, size, static_cast<float>(i) / static_cast<float>(count - 1),
                                 static_cast<edgegen::Interpolation>(kind), latents + i * size);
  return remember(model, program->decode(latents, count, items));
}

eg_status eg_model_score(eg_model* model, const eg_scoring_options* options, const float* items, size_t count,
                         float* log_likelihood) {
  if (model == nullptr) return EG_INVALID_ARGUMENT;
  edgegen::Program* program = nullptr;
  eg_status offered = program_offering(model, edgegen::Capability::kScore, &program);
  if (offered != EG_OK) return offered;
  if (items == nullptr && count > 0) return null_argument(model, "eg_model_score", "items");
  if (log_likelihood == nullptr && count > 0) return null_argument(model, "eg_model_score", "log_likelihood");
  edgegen::ScoringOptions scoring;
  if (options != nullptr) {
    if (options->struct_size < sizeof(eg_scoring_options))
      return remember(model, Status::error(StatusCode::kInvalidArgument,
                                           "eg_scoring_options.struct_size is %zu, less than %zu",
                                           options->struct_size, sizeof(eg_scoring_options)));
    if (options->bound != EG_BOUND_ELBO && options->bound != EG_BOUND_IWAE)
      return remember(model,
                      Status::error(StatusCode::kInvalidArgument, "unknown VAE bound %d (EG_BOUND_ELBO or EG_BOUND_IWAE)",
                                    options->bound));
    if (options->samples < 1) return fail(model, StatusCode::kInvalidArgument, "eg_scoring_options.samples is 0");
    scoring.bound = static_cast<edgegen::VaeBound>(options->bound);
    scoring.samples = options->samples;
    scoring.seed = options->seed;
  }
  return remember(model, program->score(scoring, items, count, log_likelihood));
}

eg_status eg_model_impute(eg_model* model, const eg_sampling_options* options, size_t count, float* items) {
  return run_sampling(model, edgegen::Capability::kImpute, "eg_model_impute", &edgegen::Program::impute, options,
                      count, items);
}

eg_status eg_fit_threshold(float* scores, size_t count, double fpr, double* out_threshold) {
  if (scores == nullptr || out_threshold == nullptr) return EG_INVALID_ARGUMENT;
  edgegen::Result<double> threshold = edgegen::fit_threshold(scores, count, fpr);
  if (!threshold.ok()) return to_c(threshold.status());
  *out_threshold = *threshold;
  return EG_OK;
}

void eg_generate_options_init(eg_generate_options* options) {
  if (options == nullptr) return;
  edgegen::TokenSamplingOptions defaults;
  std::memset(options, 0, sizeof *options);
  options->struct_size = sizeof *options;
  options->temperature = defaults.temperature;
  options->top_k = defaults.top_k;
  options->top_p = defaults.top_p;
  options->min_p = defaults.min_p;
  options->repetition_penalty = defaults.repetition_penalty;
  options->seed = defaults.seed;
}

namespace {

struct TokenAdapter {
  eg_token_fn fn;
  void* user;
  int32_t* out;
  size_t capacity;
  size_t count;
};

bool on_token(void* user, int32_t token, size_t position) {
  TokenAdapter* adapter = static_cast<TokenAdapter*>(user);
  if (adapter->out != nullptr && adapter->count < adapter->capacity) adapter->out[adapter->count] = token;
  ++adapter->count;
  return adapter->fn == nullptr || adapter->fn(adapter->user, token, position) != 0;
}

}  // namespace

eg_status eg_model_generate(eg_model* model, const int32_t* prompt, size_t prompt_count, size_t max_new_tokens,
                            const eg_generate_options* options, eg_token_fn on_token_fn, void* user,
                            int32_t* tokens_out, size_t* out_generated, int* out_reason) {
  if (model == nullptr) return EG_INVALID_ARGUMENT;
  edgegen::Program* program = nullptr;
  eg_status offered = program_offering(model, edgegen::Capability::kGenerate, &program);
  if (offered != EG_OK) return offered;
  if (prompt == nullptr) return null_argument(model, "eg_model_generate", "prompt");
  edgegen::TokenSamplingOptions sampling;
  if (options != nullptr) {
    if (options->struct_size < sizeof(eg_generate_options))
      return remember(model, Status::error(StatusCode::kInvalidArgument,
                                           "eg_generate_options.struct_size is %zu, less than %zu",
                                           options->struct_size, sizeof(eg_generate_options)));
    sampling.temperature = options->temperature;
    sampling.top_k = options->top_k;
    sampling.top_p = options->top_p;
    sampling.min_p = options->min_p;
    sampling.repetition_penalty = options->repetition_penalty;
    sampling.seed = options->seed;
  }
  TokenAdapter adapter = {on_token_fn, user, tokens_out, max_new_tokens, 0};
  edgegen::TokenCallback callback;
  callback.on_token = on_token;
  callback.user = &adapter;
  edgegen::GenerateResult result;
  eg_status status = remember(model, program->generate(prompt, prompt_count, max_new_tokens, sampling, callback, &result));
  if (out_generated != nullptr) *out_generated = result.generated;
  if (out_reason != nullptr) *out_reason = static_cast<int>(result.reason);
  if (status == EG_OK && result.reason == edgegen::StopReason::kCancelled)
    return fail(model, StatusCode::kCancelled, "eg_model_generate: cancelled by the token callback");
  return status;
}

eg_status eg_model_score_tokens(eg_model* model, const int32_t* tokens, size_t count, double* out_nats,
                                size_t* out_predicted) {
  if (model == nullptr) return EG_INVALID_ARGUMENT;
  edgegen::Program* program = nullptr;
  eg_status offered = program_offering(model, edgegen::Capability::kScoreTokens, &program);
  if (offered != EG_OK) return offered;
  if (tokens == nullptr && count > 0) return null_argument(model, "eg_model_score_tokens", "tokens");
  if (out_nats == nullptr) return null_argument(model, "eg_model_score_tokens", "out_nats");
  edgegen::TokenScore score;
  eg_status status = remember(model, program->score_tokens(tokens, count, &score));
  if (status != EG_OK) return status;
  *out_nats = score.nats;
  if (out_predicted != nullptr) *out_predicted = score.predicted;
  return EG_OK;
}

eg_status eg_model_audio_format(const eg_model* model, uint32_t* out_sample_rate, size_t* out_mel_channels,
                                size_t* out_hop_length) {
  if (model == nullptr) return EG_INVALID_ARGUMENT;
  const edgegen::Program* program = model->module.program();
  if (program == nullptr) return EG_NOT_PREPARED;
  if (out_sample_rate != nullptr) *out_sample_rate = program->sample_rate();
  if (out_mel_channels != nullptr) *out_mel_channels = program->mel_channels();
  if (out_hop_length != nullptr) *out_hop_length = program->hop_length();
  return EG_OK;
}

eg_status eg_model_vocode(eg_model* model, const float* mel, size_t frames, float* audio) {
  if (model == nullptr) return EG_INVALID_ARGUMENT;
  edgegen::Program* program = nullptr;
  eg_status offered = program_offering(model, edgegen::Capability::kVocode, &program);
  if (offered != EG_OK) return offered;
  if (mel == nullptr) return null_argument(model, "eg_model_vocode", "mel");
  if (audio == nullptr) return null_argument(model, "eg_model_vocode", "audio");
  return remember(model, program->vocode(mel, frames, audio));
}

}  // extern "C"
