#include "edgegen/session.h"

#include <cstdlib>
#include <cstring>

#include "core/arena_allocator.h"
#include "core/memory_planner.h"
#include "edgegen_generated.h"
#include "ops/kernel.h"
#include "ops/registry.h"
#include "platform/clock.h"

namespace edgegen {

namespace {

struct OpState {
  const Kernel* kernel = nullptr;
  KernelContext context;
};

Shape shape_of(const format::Tensor& tensor) {
  Shape shape;
  shape.rank = static_cast<int>(tensor.shape()->size());
  for (int d = 0; d < shape.rank; ++d) shape.dims[d] = tensor.shape()->Get(static_cast<uint32_t>(d));
  return shape;
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
    view.dtype = static_cast<DType>(tensor->dtype());
    view.shape = shape_of(*tensor);
    // Constants have data at infer time (kernels may check indices); activations do not.
    view.data = const_cast<void*>(model.buffer_data(tensor->buffer()));
    inputs[i] = &view;
  }
  for (uint32_t i = 0; i < num_outputs; ++i) {
    const format::Tensor* tensor = tensors->Get(static_cast<uint32_t>(op.outputs()->Get(i)));
    output_storage[i] = Tensor{};
    output_storage[i].name = tensor->name()->c_str();
    outputs[i] = &output_storage[i];
  }
  KernelContext context;
  context.opcode = op.opcode();
  context.op_name = op_label(op);
  context.inputs = inputs;
  context.num_inputs = num_inputs;
  context.outputs = outputs;
  context.num_outputs = num_outputs;
  context.attributes = attributes_of(op);
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
    for (int32_t output : *op->outputs())
      if (step < buffers[output].first_use) buffers[output].first_use = step;
    for (int32_t input : *op->inputs())
      if (input >= 0 && step > buffers[input].last_use) buffers[input].last_use = step;
  }
  for (int32_t output : *graph.outputs()) buffers[output].last_use = last_step;
  for (uint32_t t = 0; t < tensors->size(); ++t) {
    if (buffers[t].first_use == INT32_MAX) buffers[t].first_use = 0;  // unused constant
    if (buffers[t].last_use < buffers[t].first_use) buffers[t].last_use = buffers[t].first_use;
  }
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
};

namespace {

// Persistent layout, shared by the sizing and the preparing pass so that the
// two can never disagree.
struct Layout {
  size_t persistent_bytes = 0;
  size_t activation_bytes = 0;  // the shared region, incl. scratch and verification scratch
};

Result<Layout> compute_layout(const Model& model, size_t reserve_bytes) {
  ArenaAllocator counter(nullptr, 0);
  size_t activation = 0;
  const size_t num_graphs = model.num_graphs();
  counter.allocate_bytes(num_graphs * 128);  // GraphState table, see prepare_impl
  for (size_t g = 0; g < num_graphs; ++g) {
    const format::Graph& graph = *model.graph(g);
    const auto* ops = graph.operators();
    counter.allocate<Tensor>(graph.tensors()->size());
    counter.allocate<OpState>(ops->size());
    size_t max_scratch = 0;
    for (uint32_t i = 0; i < ops->size(); ++i) {
      const format::Operator& op = *ops->Get(i);
      counter.allocate<const Tensor*>(op.inputs()->size());
      counter.allocate<Tensor*>(op.outputs()->size());
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
    counter.allocate<Tensor*>(graph.inputs()->size());
    counter.allocate<Tensor*>(graph.outputs()->size());
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
  return layout;
}

}  // namespace

Session::~Session() { std::free(owned_arena_); }

Result<size_t> Session::arena_bytes_needed(const Model& model, size_t reserve_bytes) {
  Result<Layout> layout = compute_layout(model, reserve_bytes);
  if (!layout.ok()) return layout.status();
  // + alignment slack: the caller's arena need not start 64-byte aligned.
  return layout->persistent_bytes + layout->activation_bytes + kArenaAlignment;
}

Status Session::prepare(const Model& model, size_t reserve_bytes) {
  Result<size_t> needed = arena_bytes_needed(model, reserve_bytes);
  if (!needed.ok()) return needed.status();
  std::free(owned_arena_);
  owned_arena_ = static_cast<uint8_t*>(std::malloc(*needed));
  if (owned_arena_ == nullptr)
    return Status::error(StatusCode::kOutOfMemory, "cannot allocate a %zu-byte arena", *needed);
  return prepare_impl(model, owned_arena_, *needed, reserve_bytes);
}

Status Session::prepare(const Model& model, void* arena, size_t arena_bytes, size_t reserve_bytes) {
  if (arena == nullptr) return Status::error(StatusCode::kInvalidArgument, "arena is null");
  return prepare_impl(model, static_cast<uint8_t*>(arena), arena_bytes, reserve_bytes);
}

Status Session::prepare_impl(const Model& model, uint8_t* arena, size_t arena_bytes, size_t reserve_bytes) {
  prepared_ = false;
  Result<Layout> layout = compute_layout(model, reserve_bytes);
  if (!layout.ok()) return layout.status();
  size_t needed = layout->persistent_bytes + layout->activation_bytes + kArenaAlignment;
  if (arena_bytes < needed)
    return Status::error(StatusCode::kArenaTooSmall, "the arena has %zu bytes but this model needs %zu", arena_bytes,
                         needed);
  uint8_t* base = reinterpret_cast<uint8_t*>(align_up(reinterpret_cast<uintptr_t>(arena), kArenaAlignment));
  ArenaAllocator persistent(base, layout->persistent_bytes);
  uint8_t* activations = base + layout->persistent_bytes;

  model_ = &model;
  num_graphs_ = model.num_graphs();
  static_assert(sizeof(GraphState) <= 128, "compute_layout reserves 128 bytes per graph");
  graphs_ = static_cast<GraphState*>(persistent.allocate_bytes(num_graphs_ * 128));
  for (size_t g = 0; g < num_graphs_; ++g) new (&graphs_[g]) GraphState();

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
    EG_RETURN_IF_ERROR(check_plan(planned, tensors->size(), graph.plan()->arena_bytes(), graph.plan()->alignment()));

    state.num_tensors = tensors->size();
    state.tensors = persistent.allocate<Tensor>(state.num_tensors);
    for (uint32_t t = 0; t < tensors->size(); ++t) {
      const format::Tensor* stored = tensors->Get(t);
      Tensor& tensor = state.tensors[t];
      tensor.name = stored->name()->c_str();
      tensor.dtype = static_cast<DType>(stored->dtype());
      tensor.shape = shape_of(*stored);
      tensor.data = stored->buffer() != 0 ? const_cast<void*>(model.buffer_data(stored->buffer()))
                                          : activations + graph.plan()->offsets()->Get(t);
    }

    state.num_ops = ops->size();
    state.ops = persistent.allocate<OpState>(state.num_ops);
    void* scratch = activations + align_up(graph.plan()->arena_bytes(), kArenaAlignment);
    for (uint32_t i = 0; i < ops->size(); ++i) {
      const format::Operator& op = *ops->Get(i);
      OpState& op_state = state.ops[i];
      op_state.kernel = find_reference_kernel(op.opcode());
      KernelContext& context = op_state.context;
      const uint32_t num_inputs = op.inputs()->size();
      const uint32_t num_outputs = op.outputs()->size();
      const Tensor** inputs = persistent.allocate<const Tensor*>(num_inputs);
      Tensor** outputs = persistent.allocate<Tensor*>(num_outputs);
      for (uint32_t k = 0; k < num_inputs; ++k) {
        int32_t index = op.inputs()->Get(k);
        inputs[k] = index >= 0 ? &state.tensors[index] : nullptr;
      }
      for (uint32_t k = 0; k < num_outputs; ++k) outputs[k] = &state.tensors[op.outputs()->Get(k)];
      context.opcode = op.opcode();
      context.op_name = op_label(op);
      context.inputs = inputs;
      context.num_inputs = num_inputs;
      context.outputs = outputs;
      context.num_outputs = num_outputs;
      context.attributes = attributes_of(op);
      // Shapes were verified by compute_layout; infer once more on the real
      // tensors to learn this op's scratch size (and so a kernel can rely on
      // infer having run on exactly the tensors eval sees).
      Tensor saved[kMaxOperatorArity];
      for (uint32_t k = 0; k < num_outputs; ++k) saved[k] = *outputs[k];
      // Save every pointer before clearing any: an op may read one tensor twice (Mul(x, x)).
      const void* input_data[kMaxOperatorArity];
      for (uint32_t k = 0; k < num_inputs; ++k) input_data[k] = inputs[k] ? inputs[k]->data : nullptr;
      for (uint32_t k = 0; k < num_inputs; ++k) {
        if (inputs[k] == nullptr) continue;
        const format::Tensor* stored = tensors->Get(static_cast<uint32_t>(op.inputs()->Get(k)));
        if (stored->buffer() == 0) const_cast<Tensor*>(inputs[k])->data = nullptr;
      }
      Status inferred = op_state.kernel->infer(context);
      for (uint32_t k = 0; k < num_inputs; ++k)
        if (inputs[k] != nullptr) const_cast<Tensor*>(inputs[k])->data = const_cast<void*>(input_data[k]);
      for (uint32_t k = 0; k < num_outputs; ++k) *outputs[k] = saved[k];
      EG_RETURN_IF_ERROR(inferred);
      context.scratch = scratch;
    }

    state.num_inputs = graph.inputs()->size();
    state.inputs = persistent.allocate<Tensor*>(state.num_inputs);
    for (size_t k = 0; k < state.num_inputs; ++k) state.inputs[k] = &state.tensors[graph.inputs()->Get(k)];
    state.num_outputs = graph.outputs()->size();
    state.outputs = persistent.allocate<Tensor*>(state.num_outputs);
    for (size_t k = 0; k < state.num_outputs; ++k) state.outputs[k] = &state.tensors[graph.outputs()->Get(k)];
  }

  reserve_begin_ = static_cast<uint8_t*>(persistent.allocate_bytes(static_cast<size_t>(align_up(reserve_bytes, kArenaAlignment))));
  reserve_end_ = reserve_begin_ + align_up(reserve_bytes, kArenaAlignment);
  if (persistent.exhausted())
    return Status::error(StatusCode::kInternal, "persistent arena layout disagrees with its size computation");
  arena_bytes_ = needed;
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
  for (size_t i = 0; i < state.num_ops; ++i) {
    const OpState& op = state.ops[i];
    EG_RETURN_IF_ERROR(op.kernel->eval(op.context));
  }
  return Status::ok();
}

Status Session::run_with_profile(size_t graph, const OpProfileCallback& callback) {
  if (!prepared_) return Status::error(StatusCode::kNotPrepared, "run() before a successful prepare()");
  if (graph >= num_graphs_)
    return Status::error(StatusCode::kInvalidArgument, "graph %zu does not exist (%zu graphs)", graph, num_graphs_);
  GraphState& state = graphs_[graph];
  for (size_t i = 0; i < state.num_ops; ++i) {
    const OpState& op = state.ops[i];
    uint64_t start = monotonic_nanoseconds();
    EG_RETURN_IF_ERROR(op.kernel->eval(op.context));
    if (callback.on_op) callback.on_op(callback.user, static_cast<int>(graph), i, monotonic_nanoseconds() - start);
  }
  return Status::ok();
}

}  // namespace edgegen
