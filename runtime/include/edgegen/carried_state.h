// CarriedState: runs one graph of a Session call after call, feeding each
// state output back into its state input (streaming models: a recurrent
// layer's h and c, a voice-activity detector's context, a causal
// convolution's past frames).
//
// Graph inputs and outputs live in the shared activation region, which the
// next run reuses, so the state is kept in the session's reservation:
// before each run it is copied into the state inputs, after it the state
// outputs are copied back. Both copies are of the state only (typically a
// few KB), and nothing is allocated.
//
//   size_t reserve = *CarriedState::reserve_bytes_needed(model, graph, pairs, 2);
//   session.prepare(model, arena, bytes, reserve);   // arena_bytes_needed(model, reserve)
//   CarriedState state;
//   state.bind(&session, graph, pairs, 2);           // state starts at zero
//   for (each chunk) { write the other inputs; state.run(); read the outputs; }
//   state.reset();                                   // a new stream
//
// A token decoder's cache does not need this: its graph updates the cache in
// place (Graph.state in the file), so it survives runs by itself.
#pragma once

#include <cstddef>
#include <cstdint>

#include "edgegen/model.h"
#include "edgegen/session.h"
#include "edgegen/status.h"

namespace edgegen {

// A state input of the graph and the output that holds its next value
// (same dtype and shape), by their ONNX names.
struct StatePair {
  const char* input = nullptr;
  const char* output = nullptr;
};

class CarriedState {
 public:
  static constexpr size_t kMaxPairs = 32;

  // Bytes bind() takes from the session's reservation for these pairs;
  // fails naming the pair when a name is unknown or the two do not match.
  static Result<size_t> reserve_bytes_needed(const Model& model, size_t graph, const StatePair* pairs, size_t count);

  // After session->prepare(..., reserve_bytes >= reserve_bytes_needed(...)).
  // `session` is borrowed and must outlive this object. Zeroes the state.
  Status bind(Session* session, size_t graph, const StatePair* pairs, size_t count);

  bool bound() const { return session_ != nullptr; }
  size_t graph() const { return graph_; }
  size_t num_pairs() const { return count_; }
  // The graph input / output index of pair i.
  size_t input_index(size_t i) const { return pairs_[i].input; }
  size_t output_index(size_t i) const { return pairs_[i].output; }
  // The state pair i holds now (what the next run reads); its bytes are the input's.
  void* state(size_t i) const { return pairs_[i].stored; }

  // The state inputs get the stored state, the graph runs, and the stored
  // state becomes the state outputs. On failure the stored state is kept.
  Status run();
  // Every state back to zero (a new stream).
  void reset();

 private:
  struct Pair {
    size_t input = 0;
    size_t output = 0;
    size_t bytes = 0;
    void* stored = nullptr;  // borrowed: the session's reservation
  };
  Session* session_ = nullptr;  // borrowed
  size_t graph_ = 0;
  size_t count_ = 0;
  Pair pairs_[kMaxPairs];
};

}  // namespace edgegen
