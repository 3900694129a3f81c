#include "backends/xnnpack/recurrent_layer.h"

#include <pthreadpool.h>

#include <cstring>

#include "backends/xnnpack/xnnpack_memory.h"
#include "ops/op_params.h"

namespace edgegen {
namespace xnnpack {

namespace {

using simd::RecurrentCell;

// Input slots of the recurrent ops (kernels/recurrent.cc).
enum Slot : size_t { kX = 0, kW = 1, kR = 2, kB = 3, kLengths = 4, kInitialH = 5, kInitialC = 6, kPeepholes = 7 };

size_t projection_floats(const RecurrentLayer& l) {
  return static_cast<size_t>(l.seq * l.batch * l.dirs * l.gates * l.padded);
}

// Per direction: two h buffers, c, z and r ⊙ h.
constexpr int64_t kStateBuffers = 5;

size_t packed_floats_per_direction(const RecurrentLayer& l, bool peepholes) {
  const bool split = l.cell == RecurrentCell::kGruGates;
  size_t floats = simd::recurrent_packed_floats(l.gates, l.hidden, l.input) + static_cast<size_t>(l.gates * l.padded);
  floats += simd::recurrent_packed_floats(split ? 2 : l.gates, l.hidden, l.hidden);
  if (split) floats += simd::recurrent_packed_floats(1, l.hidden, l.hidden);
  if (peepholes) floats += static_cast<size_t>(3 * l.padded);
  if (l.cell == RecurrentCell::kGru) floats += static_cast<size_t>(l.padded);
  return floats;
}

// Whether the recurrent bias of gate g adds to the input projection: all
// but GRU's h gate with linear_before_reset = 1, which r multiplies.
bool folds_recurrent_bias(const RecurrentLayer& l, int64_t gate) { return !(l.cell == RecurrentCell::kGru && gate == 2); }

// Packs direction d's input weights, their bias (W's plus the foldable
// recurrent biases, [gates][padded]), recurrent weights, peepholes and Rb_h
// at `memory`.
void pack_direction(const OpView& v, int64_t d, float* memory, RecurrentLayer* l) {
  const int64_t G = l->gates, H = l->hidden, P = l->padded;
  l->input_packed[d] = memory;
  simd::pack_recurrent_weights(v.constant(kW) + d * G * H * l->input, G, H, l->input, memory);
  memory += simd::recurrent_packed_floats(G, H, l->input);
  l->input_bias[d] = memory;
  const float* b = v.has_input(kB) ? v.constant(kB) + d * 2 * G * H : nullptr;
  for (int64_t g = 0; g < G; ++g)
    for (int64_t j = 0; j < P; ++j)
      *memory++ = b && j < H ? b[g * H + j] + (folds_recurrent_bias(*l, g) ? b[G * H + g * H + j] : 0.f) : 0.f;
  const float* r = v.constant(kR) + d * G * H * H;
  l->packed[d] = memory;
  if (l->cell == RecurrentCell::kGruGates) {
    simd::pack_recurrent_weights(r, 2, H, H, memory);
    memory += simd::recurrent_packed_floats(2, H, H);
    l->packed_candidate[d] = memory;
    simd::pack_recurrent_weights(r + 2 * H * H, 1, H, H, memory);
    memory += simd::recurrent_packed_floats(1, H, H);
  } else {
    simd::pack_recurrent_weights(r, G, H, H, memory);
    memory += simd::recurrent_packed_floats(G, H, H);
  }
  if (l->cell == RecurrentCell::kLstm && v.has_input(kPeepholes)) {
    const float* p = v.constant(kPeepholes) + d * 3 * H;
    l->peepholes[d] = memory;
    for (int64_t g = 0; g < 3; ++g)
      for (int64_t j = 0; j < P; ++j) *memory++ = j < H ? p[g * H + j] : 0.f;
  }
  if (l->cell == RecurrentCell::kGru) {
    const float* b = v.has_input(kB) ? v.constant(kB) + d * 2 * G * H + G * H + 2 * H : nullptr;
    l->recurrent_bias[d] = memory;
    for (int64_t j = 0; j < P; ++j) *memory++ = b && j < H ? b[j] : 0.f;
  }
}

// Copies a [batch, hidden] state into a [batch, padded] buffer (zeros
// past hidden), or zeros when there is none.
void load_state(const float* from, const RecurrentLayer& l, float* to) {
  std::memset(to, 0, static_cast<size_t>(l.batch * l.padded) * sizeof(float));
  if (from == nullptr) return;
  for (int64_t b = 0; b < l.batch; ++b)
    std::memcpy(to + b * l.padded, from + b * l.hidden, static_cast<size_t>(l.hidden) * sizeof(float));
}

void store_state(const float* from, const RecurrentLayer& l, float* to) {
  for (int64_t b = 0; b < l.batch; ++b)
    std::memcpy(to + b * l.hidden, from + b * l.padded, static_cast<size_t>(l.hidden) * sizeof(float));
}

// Every step of direction d, its projections already in the scratch.
void run_direction(const RecurrentLayer& l, const KernelContext& context, int64_t d) {
  const int64_t P = l.padded, H = l.hidden, B = l.batch, G = l.gates;
  float* state = l.scratch + projection_floats(l) + d * kStateBuffers * B * P;
  float* h_prev = state;
  float* h_next = state + B * P;
  float* c = state + 2 * B * P;
  float* z = state + 3 * B * P;
  float* reset_h = state + 4 * B * P;
  auto initial = [&](size_t slot) {
    return context.has_input(slot) ? context.input(slot).data_as<const float>() + d * B * H : nullptr;
  };
  load_state(initial(kInitialH), l, h_prev);
  if (l.cell == RecurrentCell::kLstm) load_state(initial(kInitialC), l, c);

  simd::RecurrentStep s;
  s.cell = l.cell;
  s.hidden = H;
  s.padded = P;
  s.batch = B;
  s.blocks = P / simd::kRecurrentBlock;
  s.packed = l.packed[d];
  s.x_stride = l.dirs * G * P;
  s.c = c;
  s.z = z;
  s.peepholes = l.peepholes[d];
  s.recurrent_bias = l.recurrent_bias[d];
  s.clip = l.clip;
  simd::RecurrentStep candidate = s;
  candidate.cell = RecurrentCell::kGruCandidate;
  candidate.packed = l.packed_candidate[d];
  candidate.in = reset_h;

  const bool backward = l.reverse || d == 1;
  float* y = context.output(0).data_as<float>();
  const float* projections = l.scratch;
  for (int64_t step = 0; step < l.seq; ++step) {
    const int64_t t = backward ? l.seq - 1 - step : step;
    const float* x = projections + t * B * s.x_stride + d * G * P;
    s.in = s.h_prev = h_prev;
    s.x = x;
    if (l.cell == RecurrentCell::kGruGates) {
      s.h_out = reset_h;  // r ⊙ h, the left side of the candidate's product
      simd::recurrent_step(s);
      candidate.x = x + 2 * P;
      candidate.h_prev = h_prev;
      candidate.h_out = h_next;
      simd::recurrent_step(candidate);
    } else {
      s.h_out = h_next;
      simd::recurrent_step(s);
    }
    store_state(h_next, l, y + (t * l.dirs + d) * B * H);
    float* swap = h_prev;
    h_prev = h_next;
    h_next = swap;
  }
  store_state(h_prev, l, context.output(1).data_as<float>() + d * B * H);
  if (l.cell == RecurrentCell::kLstm) store_state(c, l, context.output(2).data_as<float>() + d * B * H);
}

// The projection in chunks of a few blocks of one direction, on the
// threads (every output is summed as on one thread).
constexpr int64_t kProjectionChunkBlocks = 2;

struct ProjectionTask {
  const RecurrentLayer* layer;
  const float* x;
  int64_t chunks_per_direction;
};

simd::RecurrentProjection projection_of(const RecurrentLayer& l, const float* x, int64_t d) {
  simd::RecurrentProjection p;
  p.rows = l.seq * l.batch;
  p.depth = l.input;
  p.gates = l.gates;
  p.padded = l.padded;
  p.blocks = l.padded / simd::kRecurrentBlock;
  p.packed = l.input_packed[d];
  p.in = x;
  p.in_stride = l.input;
  p.bias = l.input_bias[d];
  p.out = l.scratch + d * l.gates * l.padded;
  p.out_stride = l.dirs * l.gates * l.padded;
  return p;
}

void projection_chunk(void* argument, size_t index) {
  const ProjectionTask& task = *static_cast<const ProjectionTask*>(argument);
  const int64_t chunk = static_cast<int64_t>(index);
  simd::RecurrentProjection p = projection_of(*task.layer, task.x, chunk / task.chunks_per_direction);
  p.first_block = chunk % task.chunks_per_direction * kProjectionChunkBlocks;
  p.blocks = p.blocks - p.first_block < kProjectionChunkBlocks ? p.blocks - p.first_block : kProjectionChunkBlocks;
  simd::recurrent_projection(p);
}

void project(const RecurrentLayer& l, const float* x, pthreadpool_t pool) {
  if (pool == nullptr) {
    for (int64_t d = 0; d < l.dirs; ++d) simd::recurrent_projection(projection_of(l, x, d));
    return;
  }
  const int64_t blocks = l.padded / simd::kRecurrentBlock;
  ProjectionTask task{&l, x, (blocks + kProjectionChunkBlocks - 1) / kProjectionChunkBlocks};
  // The steps after it run on this thread alone (unless the directions
  // split): the workers sleep instead of spinning beside them.
  pthreadpool_parallelize_1d(pool, projection_chunk, &task, static_cast<size_t>(l.dirs * task.chunks_per_direction),
                             l.split_directions ? 0 : PTHREADPOOL_FLAG_YIELD_WORKERS);
}

struct DirectionTask {
  const RecurrentLayer* layer;
  const KernelContext* context;
};

void direction_task(void* argument, size_t d) {
  const DirectionTask& task = *static_cast<const DirectionTask*>(argument);
  run_direction(*task.layer, *task.context, static_cast<int64_t>(d));
}

}  // namespace

RecurrentLayer recurrent_layer_plan(const OpView& v) {
  using namespace params;
  RecurrentLayer l;
  const bool lstm = v.code() == OpCode::kLSTM, gru = v.code() == OpCode::kGRU;
  const Shape x = shape_of(v.input(kX));
  l.gates = lstm ? 4 : gru ? 3 : 1;
  l.seq = x.dims[0], l.batch = x.dims[1], l.input = x.dims[2];
  const int64_t direction = v.int_param(kRecurrentDirection);
  l.hidden = v.int_param(kRecurrentHidden);
  l.padded = simd::recurrent_padded_units(l.hidden);
  l.dirs = direction == 2 ? 2 : 1;
  l.reverse = direction == 1;
  l.clip = v.float_param(kRecurrentClip);
  const bool linear_before_reset = v.int_param(kRecurrentLinearBeforeReset) != 0;
  l.cell = lstm ? RecurrentCell::kLstm
           : gru ? (linear_before_reset ? RecurrentCell::kGru : RecurrentCell::kGruGates)
                 : RecurrentCell::kRnn;
  auto constant_f32 = [&](size_t slot) { return !v.has_input(slot) || (v.is_constant(slot) && is_f32(v.input(slot))); };
  const bool constants = v.has_input(kW) && v.has_input(kR) && constant_f32(kW) && constant_f32(kR) &&
                         constant_f32(kB) && (!lstm || constant_f32(kPeepholes));
  const bool lengths = v.int_param(kRecurrentHasLengths) != 0 || v.has_input(kLengths);
  l.fast = constants && !lengths && l.seq > 0 && l.batch > 0 && l.input > 0;
  return l;
}

size_t recurrent_layer_scratch_floats(const RecurrentLayer& l) {
  return projection_floats(l) + static_cast<size_t>(l.dirs * kStateBuffers * l.batch * l.padded);
}

Status prepare_recurrent_layer(const OpView& v, MemoryRegion* region, pthreadpool_t pool, int64_t min_parallel_macs,
                               RecurrentLayer* layer) {
  RecurrentLayer& l = *layer;
  const bool peepholes = l.cell == RecurrentCell::kLstm && v.has_input(kPeepholes);
  const size_t per_direction = packed_floats_per_direction(l, peepholes);
  float* packed = static_cast<float*>(region_allocate(region, static_cast<size_t>(l.dirs) * per_direction * sizeof(float)));
  if (region->exhausted())
    return Status::error(StatusCode::kArenaTooSmall,
                         "the arena is too small for the packed weights of %s '%s' "
                         "(Session::arena_bytes_needed tells the total)",
                         op_name(v.op.opcode()), v.op.name() ? v.op.name()->c_str() : "");
  if (packed == nullptr && !region->counting())
    return Status::error(StatusCode::kOutOfMemory, "no memory for the packed weights of %s '%s'",
                         op_name(v.op.opcode()), v.op.name() ? v.op.name()->c_str() : "");
  for (int64_t d = 0; packed != nullptr && d < l.dirs; ++d) pack_direction(v, d, packed + d * per_direction, &l);
  // Each part on the threads only when it has enough work: the workers
  // sleep during the steps, and waking them costs tens of microseconds, so
  // a keyword spotter's GRU (~1 M multiply-adds) or a streaming step stays
  // on one thread. No split changes a sum.
  const bool two_threads = pool != nullptr && pthreadpool_get_threads_count(pool) >= 2;
  const int64_t enough = 8 * min_parallel_macs;
  l.threaded_projection = two_threads && l.seq * l.batch * l.input * l.dirs * l.gates * l.hidden >= enough;
  l.split_directions = two_threads && l.dirs == 2 && l.seq * l.batch * l.gates * l.hidden * l.hidden >= enough;
  return Status::ok();
}

Status run_recurrent_layer(const RecurrentLayer& l, pthreadpool_t pool, const KernelContext& context) {
  project(l, context.input(kX).data_as<const float>(), l.threaded_projection ? pool : nullptr);
  if (l.split_directions) {
    DirectionTask task{&l, &context};
    pthreadpool_parallelize_1d(pool, direction_task, &task, 2, PTHREADPOOL_FLAG_YIELD_WORKERS);
    return Status::ok();
  }
  for (int64_t d = 0; d < l.dirs; ++d) run_direction(l, context, d);
  return Status::ok();
}

}  // namespace xnnpack
}  // namespace edgegen
