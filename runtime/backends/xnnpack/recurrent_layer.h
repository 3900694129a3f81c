// LSTM, GRU and RNN layers (ONNX semantics, kernels/recurrent.cc) on the
// XNNPACK backend, the way fast engines run them:
//
//  1. The input projection of every time step and both directions, X · Wᵀ
//     + biases, is one product over [seq * batch, input] before the loop
//     (simd/recurrent_step.h's recurrent_projection: W packed at prepare as
//     R is, the recurrent biases that add to it folded into its bias, every
//     row through one block of W before the next, so W is read once).
//  2. Each step is simd/recurrent_step.h: h · Rᵀ on R packed at prepare,
//     register-tiled, fused with the gates and the state update.
//  3. Bidirectional layers run their two directions on two threads when
//     the session has them and the layer is large enough; the directions
//     are independent, so the bits are those of one thread.
//
// Layers with sequence lengths (constant or computed) or non-constant
// weights keep the reference driver (kernels/recurrent.h) with the
// vectorized arithmetic of simd/recurrent_math.cc.
//
// Memory: per direction the packed W and its bias, the packed R (all its
// gates; GRU with linear_before_reset = 0 as z, r and h apart), the padded
// peepholes and GRU's Rb_h live in the backend region. Scratch
// (from the plan's op scratch, reserved by build_graph): the projections
// [seq * batch, dirs * gates * padded], then per direction two h buffers,
// c, z and r ⊙ h, each [batch, padded].
#pragma once

#include <cstddef>
#include <cstdint>

#include "backends/xnnpack/op_view.h"
#include "backends/xnnpack/simd/recurrent_step.h"

typedef struct pthreadpool* pthreadpool_t;

namespace edgegen {
namespace xnnpack {

class MemoryRegion;

struct RecurrentLayer {
  bool fast = false;  // false: the reference driver with vectorized arithmetic
  simd::RecurrentCell cell = simd::RecurrentCell::kRnn;  // kGruGates: linear_before_reset = 0
  int gates = 1;
  int64_t seq = 0, batch = 0, input = 0, hidden = 0, padded = 0, dirs = 1;
  bool reverse = false;  // one direction, run backwards
  float clip = 0.f;
  // Backend region, per direction (null where the cell has none).
  const float* input_packed[2] = {};      // W, every gate
  const float* input_bias[2] = {};        // [gates][padded]
  const float* packed[2] = {};            // R, every gate (kGruGates: z and r)
  const float* packed_candidate[2] = {};  // kGruGates: h
  const float* peepholes[2] = {};         // [3][padded]
  const float* recurrent_bias[2] = {};    // kGru: Rb_h [padded] (zeros without B)
  float* scratch = nullptr;               // scratch_floats(layer)
  bool split_directions = false;          // a thread per direction
  bool threaded_projection = false;       // the projection on the session's threads
};

// Whether `v` takes the fast path; fills `layer`'s sizes either way.
RecurrentLayer recurrent_layer_plan(const OpView& v);

// Scratch floats of a fast layer.
size_t recurrent_layer_scratch_floats(const RecurrentLayer& layer);

// Packs W, R (and biases, peepholes) into `region`; in counting mode
// (region counting) only records the bytes. `pool`: the session's threads
// or null; whether each part uses them is decided here from its size and
// `min_parallel_macs`.
Status prepare_recurrent_layer(const OpView& v, MemoryRegion* region, pthreadpool_t pool, int64_t min_parallel_macs,
                               RecurrentLayer* layer);

// Runs the layer: the projection, then the steps. Reads X, initial_h and
// initial_c, writes Y, Y_h and Y_c of `context`.
Status run_recurrent_layer(const RecurrentLayer& layer, pthreadpool_t pool, const KernelContext& context);

}  // namespace xnnpack
}  // namespace edgegen
