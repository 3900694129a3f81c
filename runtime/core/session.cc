#include "edgegen/session.h"

#include <stdlib.h>  // ::aligned_alloc: newlib's <cstdlib> has no std::aligned_alloc

#include <cstdlib>
#include <cstring>

#include "core/arena_allocator.h"
#include "core/control_flow.h"
#include "core/in_place.h"
#include "core/memory_planner.h"
#include "core/op_state.h"
#include "core/split_trial.h"
#include "core/widened_weights.h"
#include "edgegen_generated.h"
#include "ops/kernel.h"
#include "ops/registry.h"
#include "platform/clock.h"
#include "platform/cpu_info.h"

#if defined(EDGEGEN_WITH_XNNPACK)
#include <pthreadpool.h>

#include "backends/xnnpack/xnnpack_backend.h"
#include "backends/xnnpack/xnnpack_memory.h"
#endif

namespace edgegen {

namespace {

Shape shape_of(const format::Tensor& tensor) {
  Shape shape;
  shape.rank = static_cast<int>(tensor.shape()->size());
  for (int d = 0; d < shape.rank; ++d) shape.dims[d] = tensor.shape()->Get(static_cast<uint32_t>(d));
  return shape;
}

// The tensor's quantization, borrowed from the model (verified at load).
Quantization quantization_of(const format::Tensor& tensor) {
  Quantization quant;
  if (const format::Quantization* stored = tensor.quantization()) {
    quant.scales = stored->scale()->data();
    quant.zero_points = stored->zero_point()->data();
    quant.count = stored->scale()->size();
    quant.axis = static_cast<int16_t>(stored->axis());  // verified: below the rank
    quant.shared_zero_point = stored->zero_point()->size() == 1 && quant.count > 1;
  }
  return quant;
}

uint64_t tensor_bytes(const format::Tensor& tensor) {
  return static_cast<uint64_t>(shape_of(tensor).num_elements()) * dtype_size(static_cast<DType>(tensor.dtype()));
}

FusedActivation activation_of(const format::Operator& op) {
  FusedActivation activation;
  if (const format::FusedActivation* fused = op.activation()) {
    activation.kind = static_cast<ActivationKind>(fused->kind());
    activation.param0 = fused->param0();
    activation.param1 = fused->param1();
  }
  return activation;
}

OpAttributes attributes_of(const format::Operator& op) {
  static_assert(sizeof(int64_t) == 8 && sizeof(float) == 4, "attributes are stored as int64 and float32");
  OpAttributes attributes;
  if (op.int_params()) {
    attributes.ints = op.int_params()->data();
    attributes.num_ints = op.int_params()->size();
  }
  if (op.float_params()) {
    attributes.floats = op.float_params()->data();
    attributes.num_floats = op.float_params()->size();
  }
  attributes.activation = activation_of(op);
  return attributes;
}

const char* op_label(const format::Operator& op) { return op.name() ? op.name()->c_str() : ""; }

// The kernel context of `op` over operand views the caller owns (sized for
// the op): the one place a context is filled, for the shape checks and for
// the prepared session alike.
KernelContext kernel_context_of(const format::Operator& op, const Tensor** inputs, Tensor** outputs) {
  KernelContext context;
  context.opcode = op.opcode();
  context.op_name = op_label(op);
  context.inputs = inputs;
  context.num_inputs = op.inputs()->size();
  context.outputs = outputs;
  context.num_outputs = op.outputs()->size();
  context.attributes = attributes_of(op);
  return context;
}

// Runs the kernel's infer on the stored input shapes and compares what it
// derives with the stored output shapes. `inputs`/`outputs` are views the
// caller owns, sized for the operator.
Status infer_and_compare(const Model& model, const format::Graph& graph, const format::Operator& op,
                         Tensor* input_storage, const Tensor** inputs, Tensor* output_storage, Tensor** outputs,
                         size_t* scratch_bytes) {
  const auto* tensors = graph.tensors();
  const uint32_t num_inputs = op.inputs()->size();
  const uint32_t num_outputs = op.outputs()->size();
  for (uint32_t i = 0; i < num_inputs; ++i) {
    int32_t index = op.inputs()->Get(i);
    if (index < 0) {
      inputs[i] = nullptr;
      continue;
    }
    const format::Tensor* tensor = tensors->Get(static_cast<uint32_t>(index));
    Tensor& view = input_storage[i];
    view.name = tensor->name()->c_str();
    view.dtype = runtime_dtype(*tensor);
    view.shape = shape_of(*tensor);
    view.quant = quantization_of(*tensor);
    // Constants have data at infer time (kernels may check indices); activations do not.
    // A widened float16 constant is not widened yet: its stored bytes mark it constant
    // (no infer reads float weights; only integer indices are checked here).
    view.data = const_cast<void*>(model.buffer_data(tensor->buffer()));
    inputs[i] = &view;
  }
  for (uint32_t i = 0; i < num_outputs; ++i) {
    const format::Tensor* tensor = tensors->Get(static_cast<uint32_t>(op.outputs()->Get(i)));
    output_storage[i] = Tensor{};
    output_storage[i].name = tensor->name()->c_str();
    // Quantized kernels read their output's scale and zero point: the model
    // declares them, infer derives only dtype and shape.
    output_storage[i].quant = quantization_of(*tensor);
    outputs[i] = &output_storage[i];
  }
  KernelContext context = kernel_context_of(op, inputs, outputs);
  const Kernel* kernel = find_reference_kernel(op.opcode());
  EG_RETURN_IF_ERROR(kernel->infer(context));
  for (uint32_t i = 0; i < num_outputs; ++i) {
    const format::Tensor* stored = tensors->Get(static_cast<uint32_t>(op.outputs()->Get(i)));
    Shape stored_shape = shape_of(*stored);
    if (output_storage[i].shape != stored_shape || output_storage[i].dtype != static_cast<DType>(stored->dtype())) {
      char derived[128], declared[128];
      return Status::error(StatusCode::kInvalidModel,
                           "graph '%s': %s '%s' produces %s %s for '%s', but the model declares %s %s",
                           graph.name()->c_str(), op_name(op.opcode()), op_label(op),
                           dtype_name(output_storage[i].dtype), format_shape(output_storage[i].shape, derived, sizeof derived),
                           stored->name()->c_str(), dtype_name(static_cast<DType>(stored->dtype())),
                           format_shape(stored_shape, declared, sizeof declared));
    }
  }
  *scratch_bytes = context.scratch_bytes;
  return Status::ok();
}

// Lifetimes of every tensor of a graph (constants get size 0), by the rule
// the converter plans with: see runtime/core/memory_planner.h.
void compute_lifetimes(const format::Graph& graph, PlannedBuffer* buffers) {
  const auto* tensors = graph.tensors();
  const auto* ops = graph.operators();
  const int32_t num_ops = static_cast<int32_t>(ops->size());
  const int32_t last_step = num_ops > 0 ? num_ops - 1 : 0;
  for (uint32_t t = 0; t < tensors->size(); ++t) {
    const format::Tensor* tensor = tensors->Get(t);
    buffers[t].size = tensor->buffer() == 0 ? tensor_bytes(*tensor) : 0;
    buffers[t].first_use = INT32_MAX;
    buffers[t].last_use = -1;
    buffers[t].offset = graph.plan()->offsets()->Get(t);
  }
  for (int32_t input : *graph.inputs()) buffers[input].first_use = 0;
  for (int32_t step = 0; step < num_ops; ++step) {
    const format::Operator* op = ops->Get(static_cast<uint32_t>(step));
    // An If's output has a writer in each branch: it lives from the first
    // writer to the last reader or writer (core/control_flow.h).
    for (int32_t output : *op->outputs()) {
      if (step < buffers[output].first_use) buffers[output].first_use = step;
      if (step > buffers[output].last_use) buffers[output].last_use = step;
    }
    for (int32_t input : *op->inputs())
      if (input >= 0 && step > buffers[input].last_use) buffers[input].last_use = step;
  }
  for (int32_t output : *graph.outputs()) buffers[output].last_use = last_step;
  // Persistent state (Graph.state, verified at load): the input lives for
  // the whole graph and holds its output too, which takes no bytes of its own.
  if (const auto* state = graph.state())
    for (uint32_t i = 0; i + 1 < state->size(); i += 2) {
      buffers[state->Get(i)].first_use = 0;
      buffers[state->Get(i)].last_use = last_step;
      buffers[state->Get(i + 1)].size = 0;
    }
  for (uint32_t t = 0; t < tensors->size(); ++t) {
    if (buffers[t].first_use == INT32_MAX) buffers[t].first_use = 0;  // unused constant
    if (buffers[t].last_use < buffers[t].first_use) buffers[t].last_use = buffers[t].first_use;
  }
}

// Each state output is planned on its input (the same offset): the operator
// producing it updates the input in place.
Status check_state_placement(const format::Graph& graph) {
  const auto* state = graph.state();
  if (state == nullptr) return Status::ok();
  const auto* offsets = graph.plan()->offsets();
  for (uint32_t i = 0; i + 1 < state->size(); i += 2)
    if (offsets->Get(static_cast<uint32_t>(state->Get(i))) != offsets->Get(static_cast<uint32_t>(state->Get(i + 1))))
      return Status::error(StatusCode::kInvalidModel,
                           "graph '%s': memory plan: state output '%s' is not placed on its input '%s'",
                           graph.name()->c_str(), graph.tensors()->Get(static_cast<uint32_t>(state->Get(i + 1)))->name()->c_str(),
                           graph.tensors()->Get(static_cast<uint32_t>(state->Get(i)))->name()->c_str());
  return Status::ok();
}

inline Status run_op(const OpState& op, bool serial) {
#if defined(EDGEGEN_WITH_XNNPACK)
  if (op.accelerated != nullptr) return xnnpack::run(op, serial);
#else
  (void)serial;
#endif
  return op.kernel->eval(op.context);
}

// Upper bound on the inputs or outputs of one operator during the load-time
// dry run (which has no arena yet and keeps its views on the stack).
constexpr uint32_t kMaxOperatorArity = 32;

}  // namespace

struct Session::GraphState {
  const format::Graph* graph = nullptr;
  Tensor* tensors = nullptr;
  size_t num_tensors = 0;
  OpState* ops = nullptr;
  size_t num_ops = 0;
  Tensor** inputs = nullptr;
  size_t num_inputs = 0;
  Tensor** outputs = nullptr;
  size_t num_outputs = 0;
  SplitTrial split;  // threads: split ops or run all on the caller (measured)
};

namespace {

// Persistent layout, shared by the sizing and the preparing pass so that the
// two can never disagree.
struct Layout {
  size_t persistent_bytes = 0;
  size_t backend_bytes = 0;     // XNNPACK's packed weights and operators
  size_t activation_bytes = 0;  // the shared region, incl. scratch and verification scratch
  size_t total() const { return persistent_bytes + backend_bytes + activation_bytes; }
};

#if defined(EDGEGEN_WITH_XNNPACK)
// XNNPACK reads up to this many bytes past an operand (XNN_EXTRA_BYTES).
constexpr size_t kOverreadSlack = 64;
#endif

// kAuto can be pinned from outside with EDGEGEN_BACKEND=reference|xnnpack
// (how the test suite runs every test on both backends, and a switch for
// users chasing a numerical difference). No environment on bare metal.
Backend auto_backend_override() {
#if defined(__linux__) || defined(__APPLE__)
  if (const char* value = std::getenv("EDGEGEN_BACKEND")) {
    if (std::strcmp(value, "reference") == 0) return Backend::kReference;
    if (std::strcmp(value, "xnnpack") == 0) return Backend::kXnnpack;
  }
#endif
  return Backend::kAuto;
}

Result<Backend> resolve_backend(SessionOptions options) {
  if (options.backend == Backend::kAuto) options.backend = auto_backend_override();
  if (options.backend == Backend::kReference) return Backend::kReference;
#if defined(EDGEGEN_WITH_XNNPACK)
  if (xnnpack::initialize()) return Backend::kXnnpack;
  if (options.backend == Backend::kXnnpack)
    return Status::error(StatusCode::kUnsupportedOp, "XNNPACK does not support this CPU");
  return Backend::kReference;
#else
  if (options.backend == Backend::kXnnpack)
    return Status::error(StatusCode::kUnsupportedOp, "this build of edgegen has no XNNPACK backend");
  return Backend::kReference;
#endif
}

// data_model: the sizes of the tables on the CPU the arena is for (the
// host, or a 32-bit device sized by the host tool).
// measure_backend: also measure XNNPACK's region (creates and packs every
// operator once). prepare does not need it: the region takes what the
// arena has left after the rest, and running out of it is kArenaTooSmall.
Result<Layout> compute_layout(const Model& model, size_t reserve_bytes, Backend backend, bool measure_backend,
                              const DataModel& data_model, const SessionOptions& options) {
  (void)options;  // the XNNPACK backend's weight streaming
  ArenaAllocator counter(nullptr, 0);
#if defined(EDGEGEN_WITH_XNNPACK)
  xnnpack::MemoryRegion backend_region(nullptr, 0);
  xnnpack::SharedWeights shared_weights;
  xnnpack::ReorderBuffer reorder;
#endif
  size_t activation = 0;
  const size_t num_graphs = model.num_graphs();
  counter.allocate_bytes(num_graphs * 128);  // GraphState table, see prepare_impl
  const size_t widened_bytes = WidenedWeights::bytes_needed(model, data_model.pointer_bytes);
  counter.allocate_bytes(widened_bytes);  // float16 constants widened, see prepare_placed
#if defined(EDGEGEN_WITH_XNNPACK)
  WidenedWeights widened;
  // Measuring XNNPACK's region packs every weight once, so float16 weights
  // need their float32 values; measuring uses the heap transiently anyway.
  struct FreeOnExit {
    void* memory = nullptr;
    ~FreeOnExit() { std::free(memory); }
  } measuring_copy;
  if (backend == Backend::kXnnpack && measure_backend && widened_bytes > 0) {
    // + slack: XNNPACK may read a little past an operand (in the arena, the rest follows).
    measuring_copy.memory = ::aligned_alloc(kArenaAlignment, widened_bytes + kOverreadSlack);
    if (measuring_copy.memory == nullptr)
      return Status::error(StatusCode::kOutOfMemory, "no memory to widen the float16 weights (%zu bytes)", widened_bytes);
    widened.widen(model, static_cast<uint8_t*>(measuring_copy.memory));
  }
#endif
  for (size_t g = 0; g < num_graphs; ++g) {
    const format::Graph& graph = *model.graph(g);
    const auto* ops = graph.operators();
    counter.allocate_bytes(graph.tensors()->size() * data_model.tensor_bytes, data_model.tensor_align);
    counter.allocate_bytes(ops->size() * data_model.op_state_bytes, data_model.op_state_align);
    size_t max_scratch = 0;
    for (uint32_t i = 0; i < ops->size(); ++i) {
      const format::Operator& op = *ops->Get(i);
      counter.allocate_bytes(op.inputs()->size() * data_model.pointer_bytes, data_model.pointer_bytes);
      counter.allocate_bytes(op.outputs()->size() * data_model.pointer_bytes, data_model.pointer_bytes);
      if (op.inputs()->size() > kMaxOperatorArity || op.outputs()->size() > kMaxOperatorArity)
        return Status::error(StatusCode::kUnsupportedOp,
                             "graph '%s': %s '%s' has %u inputs and %u outputs; at most %u each are supported",
                             graph.name()->c_str(), op_name(op.opcode()), op_label(op), op.inputs()->size(),
                             op.outputs()->size(), kMaxOperatorArity);
      Tensor input_storage[kMaxOperatorArity];
      const Tensor* inputs[kMaxOperatorArity];
      Tensor output_storage[kMaxOperatorArity];
      Tensor* outputs[kMaxOperatorArity];
      size_t scratch = 0;
      EG_RETURN_IF_ERROR(
          infer_and_compare(model, graph, op, input_storage, inputs, output_storage, outputs, &scratch));
      if (scratch > max_scratch) max_scratch = scratch;
    }
    counter.allocate_bytes(graph.inputs()->size() * data_model.pointer_bytes, data_model.pointer_bytes);
    counter.allocate_bytes(graph.outputs()->size() * data_model.pointer_bytes, data_model.pointer_bytes);
    max_scratch = static_cast<size_t>(align_up(max_scratch, kArenaAlignment));
#if defined(EDGEGEN_WITH_XNNPACK)
    if (backend == Backend::kXnnpack) {
      xnnpack::GraphBuild build;
      build.model = &model;
      build.graph = &graph;
      build.persistent = &counter;
      build.region = &backend_region;
      build.scratch_offset = max_scratch;
      build.measure_region = measure_backend;
      build.shared = &shared_weights;
      build.reorder = &reorder;
      build.widened = &widened;
      build.stream_weights_min_bytes = options.stream_weights_min_bytes;
      build.release_weight_pages = options.release_weight_pages;
      Result<size_t> backend_scratch = xnnpack::build_graph(build);
      if (!backend_scratch.ok()) return backend_scratch.status();
      max_scratch += static_cast<size_t>(align_up(*backend_scratch, kArenaAlignment)) + kOverreadSlack;
    }
#endif
    uint64_t plan_bytes = graph.plan()->arena_bytes();
    if (plan_bytes > (uint64_t{1} << 46))
      return Status::error(StatusCode::kInvalidModel, "graph '%s': memory plan of %llu bytes is implausible",
                           graph.name()->c_str(), static_cast<unsigned long long>(plan_bytes));
    size_t needed = static_cast<size_t>(align_up(plan_bytes, kArenaAlignment)) +
                    static_cast<size_t>(align_up(max_scratch, kArenaAlignment));
    size_t verification = graph.tensors()->size() * sizeof(PlannedBuffer);
    if (verification > needed) needed = verification;
    if (needed > activation) activation = needed;
  }
  counter.allocate_bytes(static_cast<size_t>(align_up(reserve_bytes, kArenaAlignment)));
  Layout layout;
  layout.persistent_bytes = static_cast<size_t>(align_up(counter.used(), kArenaAlignment));
  layout.activation_bytes = static_cast<size_t>(align_up(activation, kArenaAlignment));
#if defined(EDGEGEN_WITH_XNNPACK)
  layout.backend_bytes = backend_region.used();  // exact: it is the last part of the arena
#endif
  return layout;
}

}  // namespace

const char* backend_name(Backend backend) {
  switch (backend) {
    case Backend::kAuto: return "auto";
    case Backend::kReference: return "reference";
    case Backend::kXnnpack: return "xnnpack";
  }
  return "?";
}

Session::~Session() {
  release_backend();
  std::free(owned_arena_);
}

// XNNPACK's operators are not deleted: every byte they own is in the arena
// (see xnnpack_memory.h), so they go with it, and releasing never reads an
// arena the caller may already have freed.
void Session::release_backend() {
#if defined(EDGEGEN_WITH_XNNPACK)
  if (threadpool_ != nullptr) pthreadpool_destroy(static_cast<pthreadpool_t>(threadpool_));
  xnnpack::MemoryRegion::free_blocks(owned_backend_blocks_);
#endif
  owned_backend_blocks_ = nullptr;
  threadpool_ = nullptr;
  graphs_ = nullptr;
  num_graphs_ = 0;
}

Result<Backend> Session::resolve_backend(const SessionOptions& options) { return edgegen::resolve_backend(options); }

Result<size_t> Session::arena_bytes_needed(const Model& model, size_t reserve_bytes, const SessionOptions& options) {
  return arena_bytes_needed(model, reserve_bytes, options, kHostDataModel);
}

Result<size_t> Session::arena_bytes_needed(const Model& model, size_t reserve_bytes, const SessionOptions& options,
                                           const DataModel& data_model) {
  Result<Backend> backend = resolve_backend(options);
  if (!backend.ok()) return backend.status();
  // XNNPACK's part is what this CPU's kernels pack; another CPU's is unknown here.
  if (*backend != Backend::kReference && !same_data_model(data_model, kHostDataModel))
    return Status::error(StatusCode::kInvalidArgument,
                         "the arena of a %s CPU can be computed here for the reference backend only",
                         data_model.name);
  Result<Layout> layout = compute_layout(model, reserve_bytes, *backend, true, data_model, options);
  if (!layout.ok()) return layout.status();
  // + alignment slack: the caller's arena need not start 64-byte aligned.
  return layout->total() + kArenaAlignment;
}

Status Session::prepare(const Model& model, size_t reserve_bytes, const SessionOptions& options) {
  // Without measuring XNNPACK's part, which goes to heap blocks of its own.
  Result<Backend> backend = resolve_backend(options);
  if (!backend.ok()) return backend.status();
  Result<Layout> layout = compute_layout(model, reserve_bytes, *backend, false, kHostDataModel, options);
  if (!layout.ok()) return layout.status();
  const size_t needed = layout->total() + kArenaAlignment;
  prepared_ = false;
  release_backend();
  std::free(owned_arena_);
  owned_arena_ = static_cast<uint8_t*>(std::malloc(needed));
  if (owned_arena_ == nullptr)
    return Status::error(StatusCode::kOutOfMemory, "cannot allocate a %zu-byte arena", needed);
  return prepare_impl(model, owned_arena_, needed, reserve_bytes, options, true);
}

Status Session::prepare(const Model& model, void* arena, size_t arena_bytes, size_t reserve_bytes,
                        const SessionOptions& options) {
  if (arena == nullptr) return Status::error(StatusCode::kInvalidArgument, "arena is null");
  return prepare_impl(model, static_cast<uint8_t*>(arena), arena_bytes, reserve_bytes, options, false);
}

Status Session::prepare_impl(const Model& model, uint8_t* arena, size_t arena_bytes, size_t reserve_bytes,
                             const SessionOptions& options, bool backend_on_heap) {
  Status status = prepare_placed(model, arena, arena_bytes, reserve_bytes, options, backend_on_heap);
  // A failed prepare leaves nothing behind that points into the arena.
  if (!status.is_ok()) release_backend();
  return status;
}

namespace {

#if defined(EDGEGEN_WITH_XNNPACK)
// XNNPACK's worker threads, asleep until the first run; null on failure.
pthreadpool_t start_worker_threads(int threads) {
  pthreadpool_t pool = pthreadpool_create(static_cast<size_t>(threads));
  // New workers spin for a while waiting for work; an empty task with
  // YIELD_WORKERS puts them to sleep instead, so that they do not take
  // the cores prepare packs weights on.
  if (pool != nullptr)
    pthreadpool_parallelize_1d(pool, [](void*, size_t) {}, nullptr, static_cast<size_t>(threads),
                               PTHREADPOOL_FLAG_YIELD_WORKERS);
  return pool;
}
#endif

// The graph's tensors: constants point at the model's bytes (or their
// widened copies), activations at their planned offsets.
Tensor* bind_tensors(const Model& model, const format::Graph& graph, const WidenedWeights& widened,
                     uint8_t* activations, ArenaAllocator* persistent) {
  const auto* stored_tensors = graph.tensors();
  Tensor* tensors = persistent->allocate<Tensor>(stored_tensors->size());
  for (uint32_t t = 0; t < stored_tensors->size(); ++t) {
    const format::Tensor* stored = stored_tensors->Get(t);
    Tensor& tensor = tensors[t];
    tensor.name = stored->name()->c_str();
    tensor.dtype = runtime_dtype(*stored);
    tensor.shape = shape_of(*stored);
    tensor.quant = quantization_of(*stored);
    tensor.data = stored->buffer() != 0 ? const_cast<void*>(widened.data(model, stored->buffer()))
                                        : activations + graph.plan()->offsets()->Get(t);
  }
  return tensors;
}

// Each op's reference kernel and context over the session's tensors; infer
// runs once more on them to learn the op's scratch (and so that a kernel
// can rely on infer having run on exactly the tensors eval sees). Returns
// the largest scratch of the graph's ops.
Result<size_t> bind_operators(const format::Graph& graph, Tensor* tensors, void* scratch, ArenaAllocator* persistent,
                              OpState* ops) {
  const auto* stored_ops = graph.operators();
  size_t max_scratch = 0;
  for (uint32_t i = 0; i < stored_ops->size(); ++i) {
    const format::Operator& op = *stored_ops->Get(i);
    OpState& op_state = ops[i];
    op_state.kernel = find_reference_kernel(op.opcode());
    const uint32_t num_inputs = op.inputs()->size();
    const uint32_t num_outputs = op.outputs()->size();
    const Tensor** inputs = persistent->allocate<const Tensor*>(num_inputs);
    Tensor** outputs = persistent->allocate<Tensor*>(num_outputs);
    for (uint32_t k = 0; k < num_inputs; ++k) {
      int32_t index = op.inputs()->Get(k);
      inputs[k] = index >= 0 ? &tensors[index] : nullptr;
    }
    for (uint32_t k = 0; k < num_outputs; ++k) outputs[k] = &tensors[op.outputs()->Get(k)];
    KernelContext& context = op_state.context = kernel_context_of(op, inputs, outputs);
    // Infer sees activations without data (as at load) and must not change
    // the tensors: outputs and data pointers are restored afterwards.
    Tensor saved[kMaxOperatorArity];
    for (uint32_t k = 0; k < num_outputs; ++k) saved[k] = *outputs[k];
    // Save every pointer before clearing any: an op may read one tensor twice (Mul(x, x)).
    const void* input_data[kMaxOperatorArity];
    for (uint32_t k = 0; k < num_inputs; ++k) input_data[k] = inputs[k] ? inputs[k]->data : nullptr;
    for (uint32_t k = 0; k < num_inputs; ++k) {
      if (inputs[k] == nullptr) continue;
      const format::Tensor* stored = graph.tensors()->Get(static_cast<uint32_t>(op.inputs()->Get(k)));
      if (stored->buffer() == 0) const_cast<Tensor*>(inputs[k])->data = nullptr;
    }
    Status inferred = op_state.kernel->infer(context);
    for (uint32_t k = 0; k < num_inputs; ++k)
      if (inputs[k] != nullptr) const_cast<Tensor*>(inputs[k])->data = const_cast<void*>(input_data[k]);
    for (uint32_t k = 0; k < num_outputs; ++k) *outputs[k] = saved[k];
    EG_RETURN_IF_ERROR(inferred);
    context.scratch = scratch;
    if (context.scratch_bytes > max_scratch) max_scratch = context.scratch_bytes;
  }
  return max_scratch;
}

// The tensors a graph's inputs or outputs name, in order.
Tensor** bind_endpoints(const flatbuffers::Vector<int32_t>& indices, Tensor* tensors, ArenaAllocator* persistent) {
  Tensor** endpoints = persistent->allocate<Tensor*>(indices.size());
  for (uint32_t k = 0; k < indices.size(); ++k) endpoints[k] = &tensors[indices.Get(k)];
  return endpoints;
}

}  // namespace

Status Session::prepare_placed(const Model& model, uint8_t* arena, size_t arena_bytes, size_t reserve_bytes,
                               const SessionOptions& options, bool backend_on_heap) {
  prepared_ = false;
  release_backend();
  Result<Backend> backend = resolve_backend(options);
  if (!backend.ok()) return backend.status();
  backend_ = *backend;
  threads_ = 1;
  Result<Layout> layout = compute_layout(model, reserve_bytes, backend_, false, kHostDataModel, options);
  if (!layout.ok()) return layout.status();
  size_t needed = layout->total() + kArenaAlignment;
  if (arena_bytes < needed)
    return Status::error(StatusCode::kArenaTooSmall, "the arena has %zu bytes but this model needs %zu", arena_bytes,
                         needed);

  uint8_t* base = reinterpret_cast<uint8_t*>(align_up(reinterpret_cast<uintptr_t>(arena), kArenaAlignment));
  ArenaAllocator persistent(base, layout->persistent_bytes);
  uint8_t* activations = base + layout->persistent_bytes;
#if defined(EDGEGEN_WITH_XNNPACK)
  // XNNPACK's region: what the arena has beyond the rest (the same whatever
  // the arena's alignment, so one byte less than arena_bytes_needed fails).
  xnnpack::MemoryRegion arena_region(activations + layout->activation_bytes,
                                     backend_ == Backend::kXnnpack ? arena_bytes - needed : 0);
  xnnpack::MemoryRegion heap_region{xnnpack::MemoryRegion::HeapBlocks{}};
  xnnpack::MemoryRegion& backend_region = backend_on_heap ? heap_region : arena_region;
  xnnpack::SharedWeights shared_weights;
  xnnpack::ReorderBuffer reorder;
  if (backend_ == Backend::kXnnpack) {
    threads_ = options.threads > 0 ? options.threads : default_thread_count();
    if (threads_ > 1) {
      threadpool_ = start_worker_threads(threads_);
      if (threadpool_ == nullptr)
        return Status::error(StatusCode::kOutOfMemory, "cannot start %d worker threads", threads_);
    }
  }
#endif

  model_ = &model;
  num_graphs_ = model.num_graphs();
  static_assert(sizeof(GraphState) <= 128, "compute_layout reserves 128 bytes per graph");
  graphs_ = static_cast<GraphState*>(persistent.allocate_bytes(num_graphs_ * 128));
  for (size_t g = 0; g < num_graphs_; ++g) new (&graphs_[g]) GraphState();
  // Float16 constants widened to float32 once, before any tensor refers to
  // them; afterwards the tensors hold the pointers, so `widened` can go.
  WidenedWeights widened;
  if (uint8_t* memory = static_cast<uint8_t*>(persistent.allocate_bytes(WidenedWeights::bytes_needed(model))))
    widened.widen(model, memory);

  for (size_t g = 0; g < num_graphs_; ++g) {
    GraphState& state = graphs_[g];
    const format::Graph& graph = *model.graph(g);
    state.graph = &graph;
    const auto* tensors = graph.tensors();
    const auto* ops = graph.operators();

    // The memory plan, checked with verification scratch in the (not yet
    // used) activation region.
    PlannedBuffer* planned = reinterpret_cast<PlannedBuffer*>(activations);
    compute_lifetimes(graph, planned);
    end_inputs_of_in_place_ops(graph, planned);
    PlanOverlap overlap;
    Status plan_status =
        check_plan(planned, tensors->size(), graph.plan()->arena_bytes(), graph.plan()->alignment(), &overlap);
    if (!plan_status.is_ok() && overlap.first != SIZE_MAX)
      return Status::error(StatusCode::kInvalidModel,
                           "graph '%s': memory plan: '%s' and '%s' are live at the same time but overlap in the arena "
                           "(only a Softmax or element-wise op may write on an input no later op reads)",
                           graph.name()->c_str(), tensors->Get(static_cast<uint32_t>(overlap.first))->name()->c_str(),
                           tensors->Get(static_cast<uint32_t>(overlap.second))->name()->c_str());
    if (!plan_status.is_ok())
      return Status::error(plan_status.code(), "graph '%s': %s", graph.name()->c_str(), plan_status.message());
    EG_RETURN_IF_ERROR(check_state_placement(graph));

    state.num_tensors = tensors->size();
    state.tensors = bind_tensors(model, graph, widened, activations, &persistent);
    state.num_ops = ops->size();
    state.ops = persistent.allocate<OpState>(state.num_ops);
    void* scratch = activations + align_up(graph.plan()->arena_bytes(), kArenaAlignment);
    Result<size_t> max_scratch = bind_operators(graph, state.tensors, scratch, &persistent, state.ops);
    if (!max_scratch.ok()) return max_scratch.status();
    state.num_inputs = graph.inputs()->size();
    state.inputs = bind_endpoints(*graph.inputs(), state.tensors, &persistent);
    state.num_outputs = graph.outputs()->size();
    state.outputs = bind_endpoints(*graph.outputs(), state.tensors, &persistent);
#if defined(EDGEGEN_WITH_XNNPACK)
    if (backend_ == Backend::kXnnpack) {
      xnnpack::GraphBuild build;
      build.model = &model;
      build.graph = &graph;
      build.threadpool = static_cast<pthreadpool_t>(threadpool_);
      build.persistent = &persistent;
      build.region = &backend_region;
      build.ops = state.ops;
      build.tensors = state.tensors;
      build.scratch = static_cast<uint8_t*>(scratch);
      build.scratch_offset = static_cast<size_t>(align_up(*max_scratch, kArenaAlignment));
      build.shared = &shared_weights;
      build.reorder = &reorder;
      build.widened = &widened;
      build.stream_weights_min_bytes = options.stream_weights_min_bytes;
      build.release_weight_pages = options.release_weight_pages;
      Result<size_t> built = xnnpack::build_graph(build);
      if (!built.ok()) return built.status();
      bool splits = false;
      for (size_t i = 0; i < state.num_ops; ++i) splits = splits || xnnpack::splits_work(state.ops[i]);
      state.split.enable(splits && options.adapt_thread_split);
    }
#endif
  }

  reserve_begin_ = static_cast<uint8_t*>(persistent.allocate_bytes(static_cast<size_t>(align_up(reserve_bytes, kArenaAlignment))));
  reserve_end_ = reserve_begin_ + align_up(reserve_bytes, kArenaAlignment);
  if (persistent.exhausted())
    return Status::error(StatusCode::kInternal, "persistent arena layout disagrees with its size computation");
  arena_bytes_ = needed;
  activation_bytes_ = layout->activation_bytes;
  backend_bytes_ = 0;
#if defined(EDGEGEN_WITH_XNNPACK)
  backend_bytes_ = backend_region.used();
  arena_bytes_ += backend_bytes_;
  owned_backend_blocks_ = heap_region.release_blocks();
#else
  (void)backend_on_heap;
#endif
  prepared_ = true;
  return Status::ok();
}

void* Session::reserve(size_t bytes) {
  size_t rounded = static_cast<size_t>(align_up(bytes, kArenaAlignment));
  if (reserve_begin_ == nullptr || static_cast<size_t>(reserve_end_ - reserve_begin_) < rounded) return nullptr;
  void* memory = reserve_begin_;
  reserve_begin_ += rounded;
  return memory;
}

int Session::find_graph(const char* name) const { return model_ ? model_->find_graph(name) : -1; }

size_t Session::num_inputs(size_t graph) const { return graphs_[graph].num_inputs; }
size_t Session::num_outputs(size_t graph) const { return graphs_[graph].num_outputs; }
Tensor& Session::input(size_t graph, size_t index) { return *graphs_[graph].inputs[index]; }
Tensor& Session::output(size_t graph, size_t index) { return *graphs_[graph].outputs[index]; }

int Session::find_input(size_t graph, const char* name) const {
  const GraphState& state = graphs_[graph];
  for (size_t i = 0; i < state.num_inputs; ++i)
    if (std::strcmp(state.inputs[i]->name, name) == 0) return static_cast<int>(i);
  return -1;
}

int Session::find_output(size_t graph, const char* name) const {
  const GraphState& state = graphs_[graph];
  for (size_t i = 0; i < state.num_outputs; ++i)
    if (std::strcmp(state.outputs[i]->name, name) == 0) return static_cast<int>(i);
  return -1;
}

size_t Session::num_operators(size_t graph) const { return graphs_[graph].num_ops; }

bool Session::runs_on_calling_thread(size_t graph) const {
  return threads_ <= 1 || (!graphs_[graph].split.deciding() && graphs_[graph].split.next_serial());
}

const char* Session::operator_executor(size_t graph, size_t op_index) const {
#if defined(EDGEGEN_WITH_XNNPACK)
  return xnnpack::executor_name(graphs_[graph].ops[op_index]);
#else
  (void)graph, (void)op_index;
  return "reference";
#endif
}

int Session::operator_conversions(size_t graph, size_t op_index) const {
#if defined(EDGEGEN_WITH_XNNPACK)
  return xnnpack::num_conversions(graphs_[graph].ops[op_index]);
#else
  (void)graph, (void)op_index;
  return 0;
#endif
}
size_t Session::operator_num_outputs(size_t graph, size_t op_index) const {
  return graphs_[graph].ops[op_index].context.num_outputs;
}
const Tensor& Session::operator_output(size_t graph, size_t op_index, size_t k) const {
  return graphs_[graph].ops[op_index].context.output(k);
}
uint32_t Session::operator_code(size_t graph, size_t op_index) const {
  return graphs_[graph].ops[op_index].context.opcode;
}
const char* Session::operator_name(size_t graph, size_t op_index) const {
  return graphs_[graph].ops[op_index].context.op_name;
}

Status Session::run(size_t graph) {
  if (!prepared_) return Status::error(StatusCode::kNotPrepared, "run() before a successful prepare()");
  if (graph >= num_graphs_)
    return Status::error(StatusCode::kInvalidArgument, "graph %zu does not exist (%zu graphs)", graph, num_graphs_);
  GraphState& state = graphs_[graph];
  const bool serial = state.split.next_serial();
  const uint64_t start = state.split.deciding() ? monotonic_nanoseconds() : 0;
  for (size_t i = 0; i < state.num_ops;) {
    const OpState& op = state.ops[i];
    if (is_control_op(op.context.opcode)) {
      i = next_after_control(op, i);
      continue;
    }
    EG_RETURN_IF_ERROR(run_op(op, serial));
    ++i;
  }
  if (state.split.deciding()) state.split.record(monotonic_nanoseconds() - start);
  return Status::ok();
}

OpState* Session::graph_ops(size_t graph, size_t* count) const {
  *count = graphs_[graph].num_ops;
  return graphs_[graph].ops;
}

Status Session::run_with_profile(size_t graph, const OpProfileCallback& callback) {
  if (!prepared_) return Status::error(StatusCode::kNotPrepared, "run() before a successful prepare()");
  if (graph >= num_graphs_)
    return Status::error(StatusCode::kInvalidArgument, "graph %zu does not exist (%zu graphs)", graph, num_graphs_);
  GraphState& state = graphs_[graph];
  // Operators of a branch not taken are not run and not reported.
  const bool serial = state.split.next_serial();
  const uint64_t run_start = state.split.deciding() ? monotonic_nanoseconds() : 0;
  for (size_t i = 0; i < state.num_ops;) {
    const OpState& op = state.ops[i];
    if (is_control_op(op.context.opcode)) {
      i = next_after_control(op, i);
      continue;
    }
    uint64_t start = monotonic_nanoseconds();
    EG_RETURN_IF_ERROR(run_op(op, serial));
    if (callback.on_op) callback.on_op(callback.user, static_cast<int>(graph), i, monotonic_nanoseconds() - start);
    ++i;
  }
  if (state.split.deciding()) state.split.record(monotonic_nanoseconds() - run_start);
  return Status::ok();
}

}  // namespace edgegen
