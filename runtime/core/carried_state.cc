#include "edgegen/carried_state.h"

#include <cstring>

#include "edgegen_generated.h"

namespace edgegen {
namespace {

constexpr size_t kStateAlignment = 64;

size_t align_up(size_t value) { return (value + kStateAlignment - 1) / kStateAlignment * kStateAlignment; }

// The graph input (or output) called `name`: its position and tensor, or -1.
int find_endpoint(const format::Graph& graph, const char* name, bool input, const format::Tensor** tensor) {
  const auto* endpoints = input ? graph.inputs() : graph.outputs();
  for (uint32_t i = 0; i < endpoints->size(); ++i) {
    const format::Tensor* candidate = graph.tensors()->Get(static_cast<uint32_t>(endpoints->Get(i)));
    if (std::strcmp(candidate->name()->c_str(), name) == 0) {
      *tensor = candidate;
      return static_cast<int>(i);
    }
  }
  return -1;
}

uint64_t stored_bytes(const format::Tensor& tensor) {
  uint64_t elements = 1;
  for (int64_t dim : *tensor.shape()) elements *= static_cast<uint64_t>(dim);
  return elements * dtype_size(static_cast<DType>(tensor.dtype()));
}

bool same_shape(const format::Tensor& a, const format::Tensor& b) {
  if (a.shape()->size() != b.shape()->size()) return false;
  for (uint32_t i = 0; i < a.shape()->size(); ++i)
    if (a.shape()->Get(i) != b.shape()->Get(i)) return false;
  return true;
}

// Checks every pair against the stored graph (before any session exists)
// and returns the state bytes they need in all.
Result<size_t> check_pairs(const Model& model, size_t graph_index, const StatePair* pairs, size_t count) {
  if (graph_index >= model.num_graphs())
    return Status::error(StatusCode::kInvalidArgument, "carried state: graph %zu does not exist (%zu graphs)",
                         graph_index, model.num_graphs());
  if (count == 0 || pairs == nullptr)
    return Status::error(StatusCode::kInvalidArgument, "carried state: no state pairs given");
  if (count > CarriedState::kMaxPairs)
    return Status::error(StatusCode::kInvalidArgument, "carried state: %zu pairs; at most %zu are supported", count,
                         CarriedState::kMaxPairs);
  const format::Graph& graph = *model.graph(graph_index);
  const char* graph_name = graph.name()->c_str();
  size_t total = 0;
  for (size_t i = 0; i < count; ++i) {
    const StatePair& pair = pairs[i];
    if (pair.input == nullptr || pair.output == nullptr)
      return Status::error(StatusCode::kInvalidArgument, "carried state: pair %zu has a null name", i);
    const format::Tensor* input = nullptr;
    const format::Tensor* output = nullptr;
    if (find_endpoint(graph, pair.input, true, &input) < 0)
      return Status::error(StatusCode::kInvalidArgument, "carried state: graph '%s' has no input '%s'", graph_name,
                           pair.input);
    if (find_endpoint(graph, pair.output, false, &output) < 0)
      return Status::error(StatusCode::kInvalidArgument, "carried state: graph '%s' has no output '%s'", graph_name,
                           pair.output);
    if (input->dtype() != output->dtype() || !same_shape(*input, *output))
      return Status::error(StatusCode::kShapeMismatch,
                           "carried state: input '%s' and output '%s' of graph '%s' differ in dtype or shape",
                           pair.input, pair.output, graph_name);
    for (size_t j = 0; j < i; ++j)
      if (std::strcmp(pairs[j].input, pair.input) == 0 || std::strcmp(pairs[j].output, pair.output) == 0)
        return Status::error(StatusCode::kInvalidArgument, "carried state: '%s' or '%s' is in two pairs",
                             pair.input, pair.output);
    total += align_up(static_cast<size_t>(stored_bytes(*input)));
  }
  return total;
}

}  // namespace

Result<size_t> CarriedState::reserve_bytes_needed(const Model& model, size_t graph, const StatePair* pairs,
                                                  size_t count) {
  return check_pairs(model, graph, pairs, count);
}

Status CarriedState::bind(Session* session, size_t graph, const StatePair* pairs, size_t count) {
  session_ = nullptr;
  count_ = 0;
  if (session == nullptr || !session->prepared())
    return Status::error(StatusCode::kNotPrepared, "carried state: bind() needs a prepared session");
  Result<size_t> needed = check_pairs(session->model(), graph, pairs, count);
  if (!needed.ok()) return needed.status();
  for (size_t i = 0; i < count; ++i) {
    Pair& pair = pairs_[i];
    pair.input = static_cast<size_t>(session->find_input(graph, pairs[i].input));
    pair.output = static_cast<size_t>(session->find_output(graph, pairs[i].output));
    pair.bytes = session->input(graph, pair.input).bytes();
    // Reserved one by one: the reservation hands out 64-byte aligned
    // blocks, which is what reserve_bytes_needed counted.
    pair.stored = session->reserve(pair.bytes);
    if (pair.stored == nullptr)
      return Status::error(StatusCode::kArenaTooSmall,
                           "carried state: the session's reservation cannot hold the state (%zu bytes needed; "
                           "prepare with reserve_bytes from CarriedState::reserve_bytes_needed)",
                           *needed);
  }
  session_ = session;
  graph_ = graph;
  count_ = count;
  reset();
  return Status::ok();
}

Status CarriedState::run() {
  if (session_ == nullptr) return Status::error(StatusCode::kNotPrepared, "carried state: run() before bind()");
  for (size_t i = 0; i < count_; ++i)
    std::memcpy(session_->input(graph_, pairs_[i].input).data, pairs_[i].stored, pairs_[i].bytes);
  EG_RETURN_IF_ERROR(session_->run(graph_));
  for (size_t i = 0; i < count_; ++i)
    std::memcpy(pairs_[i].stored, session_->output(graph_, pairs_[i].output).data, pairs_[i].bytes);
  return Status::ok();
}

void CarriedState::reset() {
  for (size_t i = 0; i < count_; ++i) std::memset(pairs_[i].stored, 0, pairs_[i].bytes);
}

}  // namespace edgegen
