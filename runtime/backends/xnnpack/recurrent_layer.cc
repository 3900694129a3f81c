#include "backends/xnnpack/recurrent_layer.h"

#include <pthreadpool.h>
#include <xnnpack.h>

#include <cstring>
#include <limits>

#include "backends/xnnpack/shared_weights.h"
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
  size_t floats = simd::recurrent_packed_floats(split ? 2 : l.gates, l.hidden, l.hidden);
  if (split) floats += simd::recurrent_packed_floats(1, l.hidden, l.hidden);
  if (peepholes) floats += static_cast<size_t>(3 * l.padded);
  if (l.cell == RecurrentCell::kGru) floats += static_cast<size_t>(l.padded);
  return floats;
}

// Whether the recurrent bias of gate g adds to the input projection: all
// but GRU's h gate with linear_before_reset = 1, which r multiplies.
bool folds_recurrent_bias(const RecurrentLayer& l, int64_t gate) { return !(l.cell == RecurrentCell::kGru && gate == 2); }

// The projection's weights [dirs * gates * padded, input] (zero rows past
// hidden) and bias (W's bias plus the foldable recurrent biases).
void pad_projection(const OpView& v, const RecurrentLayer& l, float* w, float* bias) {
  const float* w_in = v.constant(kW);
  const float* b_in = v.has_input(kB) ? v.constant(kB) : nullptr;
  const int64_t G = l.gates, H = l.hidden, P = l.padded;
  for (int64_t d = 0; d < l.dirs; ++d)
    for (int64_t g = 0; g < G; ++g)
      for (int64_t j = 0; j < P; ++j) {
        const int64_t row = (d * G + g) * P + j, source = (d * G + g) * H + j;
        float* out = w + row * l.input;
        if (j >= H) {
          std::memset(out, 0, static_cast<size_t>(l.input) * sizeof(float));
          bias[row] = 0.f;
          continue;
        }
        std::memcpy(out, w_in + source * l.input, static_cast<size_t>(l.input) * sizeof(float));
        const float* wb = b_in ? b_in + d * 2 * G * H : nullptr;
        bias[row] = wb ? wb[g * H + j] + (folds_recurrent_bias(l, g) ? wb[G * H + g * H + j] : 0.f) : 0.f;
      }
}

// Packs direction d's recurrent weights, peepholes and Rb_h at `memory`.
void pack_direction(const OpView& v, int64_t d, float* memory, RecurrentLayer* l) {
  const int64_t G = l->gates, H = l->hidden, P = l->padded;
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

Status prepare_recurrent_layer(const OpView& v, MemoryRegion* region, ReorderBuffer* reorder, const float* x,
                               pthreadpool_t pool, int64_t min_parallel_macs, RecurrentLayer* layer,
                               xnn_operator_t* projection) {
  RecurrentLayer& l = *layer;
  const char* name = v.op.name() ? v.op.name()->c_str() : "";
  const bool peepholes = l.cell == RecurrentCell::kLstm && v.has_input(kPeepholes);
  const size_t per_direction = packed_floats_per_direction(l, peepholes);
  float* packed = static_cast<float*>(region_allocate(region, static_cast<size_t>(l.dirs) * per_direction * sizeof(float)));
  if (region->exhausted())
    return Status::error(StatusCode::kArenaTooSmall,
                         "the arena is too small for the packed recurrent weights of %s '%s' "
                         "(Session::arena_bytes_needed tells the total)", op_name(v.op.opcode()), name);
  if (packed == nullptr && !region->counting())
    return Status::error(StatusCode::kOutOfMemory, "no memory for the packed weights of %s '%s'",
                         op_name(v.op.opcode()), name);
  for (int64_t d = 0; packed != nullptr && d < l.dirs; ++d) pack_direction(v, d, packed + d * per_direction, &l);

  const size_t outputs = static_cast<size_t>(l.dirs * l.gates * l.padded);
  float* weights = reorder->floats(outputs * static_cast<size_t>(l.input) + outputs);
  if (weights == nullptr) return Status::error(StatusCode::kOutOfMemory, "no memory to pad the weights of '%s'", name);
  float* bias = weights + outputs * static_cast<size_t>(l.input);
  pad_projection(v, l, weights, bias);
  const size_t rows = static_cast<size_t>(l.seq * l.batch), input = static_cast<size_t>(l.input);
  const float inf = std::numeric_limits<float>::infinity();
  // Both parts on the threads only when each has enough work (a streaming
  // step of a small GRU has too little); the split never changes a sum.
  l.threaded_projection = pool != nullptr && static_cast<int64_t>(rows * input * outputs) >= min_parallel_macs;
  l.split_directions = pool != nullptr && l.dirs == 2 && pthreadpool_get_threads_count(pool) >= 2 &&
                       l.seq * l.batch * l.gates * l.hidden * l.hidden >= min_parallel_macs;
  ActiveRegion active(region);
  // The steps after the projection run on this thread alone: the workers
  // sleep when it is done instead of spinning beside them.
  xnn_status status = xnn_create_fully_connected_nc_f32(input, outputs, input, outputs, weights, bias, -inf, inf,
                                                        XNN_FLAG_YIELD_WORKERS, projection);
  if (status == xnn_status_success)
    status = xnn_setup_fully_connected_nc_f32(*projection, rows, x, l.scratch, l.threaded_projection ? pool : nullptr);
  if (region->exhausted())
    return Status::error(StatusCode::kArenaTooSmall,
                         "the arena is too small for the packed input weights of %s '%s' "
                         "(Session::arena_bytes_needed tells the total)", op_name(v.op.opcode()), name);
  if (status != xnn_status_success)
    return Status::error(StatusCode::kUnsupportedOp, "XNNPACK cannot run the input projection of %s '%s' (status %d)",
                         op_name(v.op.opcode()), name, static_cast<int>(status));
  return Status::ok();
}

Status run_recurrent_layer(const RecurrentLayer& l, xnn_operator_t projection, pthreadpool_t pool,
                           const KernelContext& context) {
  if (xnn_run_operator(projection, l.threaded_projection ? pool : nullptr) != xnn_status_success)
    return Status::error(StatusCode::kInternal, "XNNPACK failed to run the input projection of %s '%s'",
                         op_name(context.opcode), context.op_name);
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
