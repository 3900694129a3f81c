// LSTM, GRU, RNN (ONNX semantics, layout 0): X [seq, batch, input], W [dirs,
// gates * hidden, input], R [dirs, gates * hidden, hidden], then optional B
// [dirs, 2 * gates * hidden] (W's bias then R's), initial_h [dirs, batch,
// hidden], and for LSTM initial_c [dirs, batch, hidden] and peepholes P
// [dirs, 3 * hidden]. Outputs Y [seq, dirs, batch, hidden], Y_h [dirs,
// batch, hidden] and (LSTM) Y_c [dirs, batch, hidden]. Gate orders are
// ONNX's: LSTM i, o, f, c; GRU z, r, h; RNN one gate. Activations are ONNX's
// defaults (sigmoid for gates, tanh for the cell and hidden state).
//
// ints {direction, hidden_size, linear_before_reset (GRU; 0 otherwise),
// has_sequence_lens, then batch lengths if has_sequence_lens}; floats {clip}
// (0 = none; bounds the activations' inputs to [-clip, clip]).
// Directions: 0 forward, 1 reverse, 2 bidirectional. Sequence lengths may
// instead be input 4 (int32/int64 [batch], computed at run time; values are
// clamped to [0, seq]). With sequence lengths,
// batch item b runs steps [0, len_b) (reversed for the backward direction),
// its Y is 0 beyond them and Y_h / Y_c hold its state after its last step.
//
// Per direction, X · Wᵀ for every time step is one matrix product into
// scratch (the input projection does not depend on the recurrence), then
// each step adds H · Rᵀ and applies the gates.
// Scratch: [seq * batch, gates * hidden] projections, [batch, gates *
// hidden] recurrent products, h and c [batch, hidden], and GRU's r ⊙ h.
#include "kernels/recurrent.h"

#include <cmath>
#include <cstring>

#include "kernels/kernel_util.h"
#include "ops/op_params.h"

namespace edgegen {
namespace {

using namespace params;

struct Cell {
  int gates;        // 4 LSTM, 3 GRU, 1 RNN
  size_t inputs;    // the most inputs the op takes
  size_t outputs;
};

Cell cell_of(uint32_t opcode) {
  if (opcode == static_cast<uint32_t>(OpCode::kLSTM)) return {4, 8, 3};
  if (opcode == static_cast<uint32_t>(OpCode::kGRU)) return {3, 6, 2};
  return {1, 6, 2};
}

// Input slots. Sequence lengths are ints when constant, else input 4.
enum Slot : size_t { kX = 0, kW = 1, kR = 2, kB = 3, kLengths = 4, kInitialH = 5, kInitialC = 6, kPeepholes = 7 };

Status check_float_shape(const KernelContext& context, size_t index, int rank, const int64_t* dims, const char* what) {
  const Tensor& t = context.input(index);
  if (t.dtype != DType::kFloat32)
    return op_error(context, StatusCode::kUnsupportedOp, "%s '%s' is %s, expected float32", what, t.name,
                    dtype_name(t.dtype));
  bool same = t.shape.rank == rank;
  for (int d = 0; same && d < rank; ++d) same = t.shape.dims[d] == dims[d];
  if (!same) {
    char got[96];
    return op_error(context, StatusCode::kInvalidModel, "%s '%s' has shape %s, expected rank %d [%lld, %lld%s", what,
                    t.name, format_shape(t.shape, got, sizeof got), rank, static_cast<long long>(dims[0]),
                    static_cast<long long>(dims[1]), rank == 3 ? ", ...]" : "]");
  }
  return Status::ok();
}

Status recurrent_infer(KernelContext& context) {
  const Cell cell = cell_of(context.opcode);
  EG_RETURN_IF_ERROR(check_arity(context, 3, cell.inputs, cell.outputs));
  EG_RETURN_IF_ERROR(check_activation(context, false));
  if (context.attributes.num_ints < kRecurrentLengths || context.attributes.num_floats != 1)
    return op_error(context, StatusCode::kInvalidModel, "expected ints {direction, hidden, linear_before_reset, "
                                                        "has_sequence_lens, lengths...} and floats {clip}");
  const Tensor& x = context.input(kX);
  if (x.dtype != DType::kFloat32 || x.shape.rank != 3)
    return op_error(context, StatusCode::kInvalidModel, "X '%s' must be float32 [seq, batch, input]", x.name);
  const int64_t direction = context.int_param(kRecurrentDirection), hidden = context.int_param(kRecurrentHidden);
  const int64_t seq = x.shape.dims[0], batch = x.shape.dims[1], input = x.shape.dims[2];
  if (direction < 0 || direction > 2)
    return op_error(context, StatusCode::kInvalidModel, "direction %lld is not 0, 1 or 2",
                    static_cast<long long>(direction));
  if (hidden < 1 || hidden > (int64_t{1} << 24))
    return op_error(context, StatusCode::kInvalidModel, "hidden_size %lld is out of range",
                    static_cast<long long>(hidden));
  const int64_t lbr = context.int_param(kRecurrentLinearBeforeReset), has_lens = context.int_param(kRecurrentHasLengths);
  if (lbr != 0 && lbr != 1) return op_error(context, StatusCode::kInvalidModel, "linear_before_reset must be 0 or 1");
  if (has_lens != 0 && has_lens != 1)
    return op_error(context, StatusCode::kInvalidModel, "has_sequence_lens must be 0 or 1");
  if (context.attributes.num_ints != static_cast<size_t>(kRecurrentLengths + (has_lens ? batch : 0)))
    return op_error(context, StatusCode::kInvalidModel, "expected %lld sequence lengths",
                    static_cast<long long>(has_lens ? batch : 0));
  for (int64_t b = 0; has_lens && b < batch; ++b) {
    const int64_t length = context.int_param(kRecurrentLengths + static_cast<size_t>(b));
    if (length < 0 || length > seq)
      return op_error(context, StatusCode::kInvalidModel, "sequence length %lld of batch item %lld is outside [0, %lld]",
                      static_cast<long long>(length), static_cast<long long>(b), static_cast<long long>(seq));
  }
  if (context.has_input(kLengths)) {
    const Tensor& lengths = context.input(kLengths);
    if ((lengths.dtype != DType::kInt32 && lengths.dtype != DType::kInt64) || lengths.shape.rank != 1 ||
        lengths.shape.dims[0] != batch)
      return op_error(context, StatusCode::kInvalidModel, "sequence_lens '%s' must be int32 or int64 [%lld]",
                      lengths.name, static_cast<long long>(batch));
    if (has_lens)
      return op_error(context, StatusCode::kInvalidModel, "sequence lengths given both as ints and as input 4");
  }
  const float clip = context.float_param(kRecurrentClip);
  if (!(clip >= 0.f)) return op_error(context, StatusCode::kInvalidModel, "clip must be >= 0");
  const int64_t dirs = direction == 2 ? 2 : 1, gate_rows = cell.gates * hidden;
  const int64_t w_dims[] = {dirs, gate_rows, input}, r_dims[] = {dirs, gate_rows, hidden};
  const int64_t b_dims[] = {dirs, 2 * gate_rows}, state_dims[] = {dirs, batch, hidden}, p_dims[] = {dirs, 3 * hidden};
  EG_RETURN_IF_ERROR(check_float_shape(context, kW, 3, w_dims, "W"));
  EG_RETURN_IF_ERROR(check_float_shape(context, kR, 3, r_dims, "R"));
  if (context.has_input(kB)) EG_RETURN_IF_ERROR(check_float_shape(context, kB, 2, b_dims, "B"));
  if (context.has_input(kInitialH)) EG_RETURN_IF_ERROR(check_float_shape(context, kInitialH, 3, state_dims, "initial_h"));
  if (context.has_input(kInitialC)) EG_RETURN_IF_ERROR(check_float_shape(context, kInitialC, 3, state_dims, "initial_c"));
  if (context.has_input(kPeepholes)) EG_RETURN_IF_ERROR(check_float_shape(context, kPeepholes, 2, p_dims, "P"));
  Shape y;
  y.rank = 4;
  y.dims[0] = seq, y.dims[1] = dirs, y.dims[2] = batch, y.dims[3] = hidden;
  Shape state;
  state.rank = 3;
  state.dims[0] = dirs, state.dims[1] = batch, state.dims[2] = hidden;
  EG_RETURN_IF_ERROR(set_output(context, 0, DType::kFloat32, y));
  for (size_t i = 1; i < cell.outputs; ++i) EG_RETURN_IF_ERROR(set_output(context, i, DType::kFloat32, state));
  const size_t floats = static_cast<size_t>(seq * batch * gate_rows + batch * gate_rows + 3 * batch * hidden);
  context.scratch_bytes = floats * sizeof(float);
  return Status::ok();
}

// out[m, n] = sum_k a[m, k] * b[n, k] (+ bias[n]), both operands row-major
// along k so that every inner loop is contiguous.
void exact_multiply_transposed(const float* a, const float* b, const float* bias, int64_t rows, int64_t columns,
                               int64_t depth, float* out, int64_t out_stride) {
  for (int64_t m = 0; m < rows; ++m) {
    const float* a_row = a + m * depth;
    float* out_row = out + m * out_stride;
    for (int64_t n = 0; n < columns; ++n) {
      const float* b_row = b + n * depth;
      // 16 independent partial sums, so that the compiler vectorizes the
      // loop without reassociating a sum (portable flags: SSE2 / NEON).
      float lanes[16] = {};
      int64_t k = 0;
      for (; k + 16 <= depth; k += 16)
        for (int j = 0; j < 16; ++j) lanes[j] += a_row[k + j] * b_row[k + j];
      float tail = 0.f;
      for (; k < depth; ++k) tail += a_row[k] * b_row[k];
      float sum = tail;
      for (int j = 0; j < 16; ++j) sum += lanes[j];
      out_row[n] = sum + (bias ? bias[n] : 0.f);
    }
  }
}

inline float clipped(float x, float clip) { return clip > 0.f ? (x < -clip ? -clip : (x > clip ? clip : x)) : x; }
inline float sigmoid(float x) {
  if (x >= 0.f) return 1.f / (1.f + std::exp(-x));
  const float e = std::exp(x);
  return e / (1.f + e);
}

void exact_lstm_cell(const float* px, const float* pr, const float* peep, float clip, int64_t hidden, float* cb,
                     float* hb) {
  for (int64_t j = 0; j < hidden; ++j) {
    const float c_prev = cb[j];
    float gi = px[j] + pr[j], go = px[hidden + j] + pr[hidden + j];
    float gf = px[2 * hidden + j] + pr[2 * hidden + j], gc = px[3 * hidden + j] + pr[3 * hidden + j];
    if (peep) gi += peep[j] * c_prev, gf += peep[2 * hidden + j] * c_prev;
    const float i_gate = sigmoid(clipped(gi, clip)), f_gate = sigmoid(clipped(gf, clip));
    const float candidate = std::tanh(clipped(gc, clip));
    const float c_new = f_gate * c_prev + i_gate * candidate;
    if (peep) go += peep[hidden + j] * c_new;
    const float o_gate = sigmoid(clipped(go, clip));
    cb[j] = c_new;
    hb[j] = o_gate * std::tanh(c_new);
  }
}

void exact_sigmoid_of_sum(const float* a, const float* b, float clip, int64_t n, float* out) {
  for (int64_t j = 0; j < n; ++j) out[j] = sigmoid(clipped(a[j] + b[j], clip));
}

void exact_tanh_of_sum(const float* a, const float* scale, const float* b, float clip, int64_t n, float* out) {
  for (int64_t j = 0; j < n; ++j) out[j] = std::tanh(clipped(a[j] + (scale ? scale[j] : 1.f) * b[j], clip));
}

// Batch item b's length from a run-time sequence_lens tensor, clamped to
// [0, seq] (ONNX leaves other values undefined; they must not read out of bounds).
int64_t clamped_length(const Tensor& lengths, int64_t b, int64_t seq) {
  const int64_t value = lengths.dtype == DType::kInt32 ? lengths.data_as<const int32_t>()[b]
                                                       : lengths.data_as<const int64_t>()[b];
  return value < 0 ? 0 : (value > seq ? seq : value);
}

Status recurrent_eval(const KernelContext& context) { return run_recurrent(context, kExactRecurrentMath); }

}  // namespace

const RecurrentMath kExactRecurrentMath = {exact_multiply_transposed, exact_lstm_cell, exact_sigmoid_of_sum,
                                           exact_tanh_of_sum};

Status run_recurrent(const KernelContext& context, const RecurrentMath& math) {
  const Cell cell = cell_of(context.opcode);
  const bool lstm = cell.gates == 4, gru = cell.gates == 3;
  const Tensor& x = context.input(kX);
  const int64_t direction = context.int_param(kRecurrentDirection), hidden = context.int_param(kRecurrentHidden);
  const bool linear_before_reset = context.int_param(kRecurrentLinearBeforeReset) != 0;
  const bool has_lens = context.int_param(kRecurrentHasLengths) != 0;
  const float clip = context.float_param(kRecurrentClip);
  const int64_t seq = x.shape.dims[0], batch = x.shape.dims[1], input = x.shape.dims[2];
  const int64_t dirs = direction == 2 ? 2 : 1, gate_rows = cell.gates * hidden;
  float* projections = static_cast<float*>(context.scratch);
  float* recurrent = projections + seq * batch * gate_rows;
  float* h = recurrent + batch * gate_rows;
  float* c = h + batch * hidden;
  float* reset_h = c + batch * hidden;  // GRU: r ⊙ h; LSTM/RNN: unused
  float* y = context.output(0).data_as<float>();
  const Tensor* run_time_lengths = context.has_input(kLengths) ? &context.input(kLengths) : nullptr;
  if (has_lens || run_time_lengths) std::memset(y, 0, context.output(0).bytes());
  for (int64_t dir = 0; dir < dirs; ++dir) {
    const bool backward = direction == 1 || dir == 1;
    const float* w = context.input(kW).data_as<const float>() + dir * gate_rows * input;
    const float* r = context.input(kR).data_as<const float>() + dir * gate_rows * hidden;
    const float* w_bias = context.has_input(kB) ? context.input(kB).data_as<const float>() + dir * 2 * gate_rows : nullptr;
    const float* r_bias = w_bias ? w_bias + gate_rows : nullptr;
    const float* peep = context.has_input(kPeepholes) ? context.input(kPeepholes).data_as<const float>() + dir * 3 * hidden
                                                      : nullptr;
    const size_t state_bytes = static_cast<size_t>(batch * hidden) * sizeof(float);
    if (context.has_input(kInitialH)) std::memcpy(h, context.input(kInitialH).data_as<const float>() + dir * batch * hidden, state_bytes);
    else std::memset(h, 0, state_bytes);
    if (lstm && context.has_input(kInitialC))
      std::memcpy(c, context.input(kInitialC).data_as<const float>() + dir * batch * hidden, state_bytes);
    else std::memset(c, 0, state_bytes);
    // Every time step's input projection at once, with W's bias.
    math.multiply_transposed(x.data_as<const float>(), w, w_bias, seq * batch, gate_rows, input, projections,
                             gate_rows);
    for (int64_t step = 0; step < seq; ++step) {
      // GRU with linear_before_reset = 0 multiplies R_h after the reset gate:
      // the first product covers z and r only.
      const int64_t early_rows = gru && !linear_before_reset ? 2 * hidden : gate_rows;
      math.multiply_transposed(h, r, r_bias, batch, early_rows, hidden, recurrent, gate_rows);
      for (int64_t b = 0; b < batch; ++b) {
        int64_t length = seq;
        if (has_lens) length = context.int_param(kRecurrentLengths + static_cast<size_t>(b));
        if (run_time_lengths) length = clamped_length(*run_time_lengths, b, seq);
        if (step >= length) continue;
        const int64_t t = backward ? length - 1 - step : step;
        const float* px = projections + (t * batch + b) * gate_rows;
        float* pr = recurrent + b * gate_rows;
        float* hb = h + b * hidden;
        float* cb = c + b * hidden;
        float* yb = y + ((t * dirs + dir) * batch + b) * hidden;
        if (lstm) {
          math.lstm_cell(px, pr, peep, clip, hidden, cb, hb);
        } else if (gru) {
          float* z = pr;  // z then r in place, h's pre-activation after
          math.sigmoid_of_sum(px, pr, clip, 2 * hidden, z);
          const float* reset = z + hidden;
          if (linear_before_reset) {
            math.tanh_of_sum(px + 2 * hidden, reset, pr + 2 * hidden, clip, hidden, pr + 2 * hidden);
          } else {
            float* rh = reset_h + b * hidden;
            for (int64_t j = 0; j < hidden; ++j) rh[j] = reset[j] * hb[j];
            // (r ⊙ h) · R_hᵀ + Rb_h for this batch item.
            math.multiply_transposed(rh, r + 2 * hidden * hidden, r_bias ? r_bias + 2 * hidden : nullptr, 1, hidden,
                                     hidden, pr + 2 * hidden, hidden);
            math.tanh_of_sum(px + 2 * hidden, nullptr, pr + 2 * hidden, clip, hidden, pr + 2 * hidden);
          }
          for (int64_t j = 0; j < hidden; ++j) hb[j] = (1.f - z[j]) * pr[2 * hidden + j] + z[j] * hb[j];
        } else {
          math.tanh_of_sum(px, nullptr, pr, clip, hidden, hb);
        }
        std::memcpy(yb, hb, static_cast<size_t>(hidden) * sizeof(float));
      }
    }
    std::memcpy(context.output(1).data_as<float>() + dir * batch * hidden, h, state_bytes);
    if (lstm) std::memcpy(context.output(2).data_as<float>() + dir * batch * hidden, c, state_bytes);
  }
  return Status::ok();
}

extern const Kernel kLSTMKernel = {recurrent_infer, recurrent_eval};
extern const Kernel kGRUKernel = {recurrent_infer, recurrent_eval};
extern const Kernel kRNNKernel = {recurrent_infer, recurrent_eval};

}  // namespace edgegen
