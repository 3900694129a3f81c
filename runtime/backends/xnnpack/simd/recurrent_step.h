// One time step of an LSTM, GRU or RNN layer (backends/xnnpack/recurrent_layer.h
// drives it): the recurrent product h · Rᵀ on packed weights, fused with the
// gates' nonlinearities and the state update.
//
// Hidden units go in blocks of 16. R's rows are packed per block as
// [block][k][gate][16]: at each k one broadcast of h[k] multiplies the
// contiguous 16 weights of every gate of the block, so a register tile of a
// few blocks x all their gates accumulates from one stream per block, and
// once the tile's products are done its units' gates are all in registers:
// the step's activations, c and h are computed before the next tile.
//
// Each product is the sum over k in order, one fused multiply-add at a
// time, from 0: the same bits whichever tile, block range or batch-row
// group an output falls in, so splitting a step's blocks between threads
// (or a layer's directions) does not change a bit. Variants: AVX-512 and
// AVX2 + FMA (picked at run time), NEON on AArch64, plain C++ elsewhere.
// The activations use vector_math.h's exp (Cephes' polynomial, ~1 ulp):
// sigmoid(x) = 1 / (1 + e^-x), tanh(x) = 1 - 2 / (e^2x + 1).
#pragma once

#include <cstddef>
#include <cstdint>

namespace edgegen {
namespace simd {

constexpr int64_t kRecurrentBlock = 16;

// Units rounded up to whole blocks: the stride of every per-unit buffer.
inline int64_t recurrent_padded_units(int64_t hidden) {
  return (hidden + kRecurrentBlock - 1) / kRecurrentBlock * kRecurrentBlock;
}

// Floats of `gates` gates of `hidden` units packed over rows of `depth`.
inline size_t recurrent_packed_floats(int64_t gates, int64_t hidden, int64_t depth) {
  return static_cast<size_t>(recurrent_padded_units(hidden) * depth * gates);
}

// Packs `gates` consecutive gates of R (row g * hidden + j is gate g's unit
// j, `depth` long) as [block][k][gate][16], zeros for units past hidden.
void pack_recurrent_weights(const float* r, int64_t gates, int64_t hidden, int64_t depth, float* packed);

enum class RecurrentCell : uint8_t {
  kLstm,          // gates i, o, f, c (ONNX's order); c updated in place
  kGru,           // z, r, h, linear_before_reset = 1: h~ = tanh(x_h + r ⊙ (h · R_hᵀ + Rb_h))
  kGruGates,      // linear_before_reset = 0, first half: z (to `z`) and r ⊙ h (to `h_out`)
  kGruCandidate,  // second half: h~ = tanh(x_h + (r ⊙ h) · R_hᵀ), with `z` and `h_prev`
  kRnn,           // h = tanh(x + h · Rᵀ)
};

// Buffers are per batch row, `padded` floats apart (recurrent_padded_units).
struct RecurrentStep {
  RecurrentCell cell = RecurrentCell::kRnn;
  int64_t hidden = 0, padded = 0, batch = 0;
  int64_t first_block = 0, blocks = 0;  // the units [16 first_block, 16 (first_block + blocks))
  const float* packed = nullptr;  // pack_recurrent_weights of this cell's gates, depth = hidden
  const float* in = nullptr;      // the product's left side: h, or r ⊙ h for kGruCandidate
  // Gate g's pre-activation from the input (projection and biases) of row b
  // at x + b * x_stride + g * padded (kGruCandidate: gate h's only).
  const float* x = nullptr;
  int64_t x_stride = 0;
  const float* h_prev = nullptr;  // GRU: the state before this step
  float* h_out = nullptr;         // the new state (kGruGates: r ⊙ h_prev)
  float* c = nullptr;             // LSTM: the cell state, updated in place
  float* z = nullptr;             // kGruGates writes it, kGruCandidate reads it
  const float* peepholes = nullptr;       // LSTM, or null: [3][padded] i, o, f
  const float* recurrent_bias = nullptr;  // kGru: Rb_h [padded]
  float clip = 0.f;               // > 0: pre-activations bounded to [-clip, clip]
};

// The input projection of every step: out[row][g * padded + j] = bias[g *
// padded + j] + sum over k < depth of in[row][k] * W[g * hidden + j][k],
// for the units of blocks [first_block, first_block + blocks), W packed by
// pack_recurrent_weights(W, gates, hidden, depth). Block by block, every
// row of a block before the next, so that the block's weights are read
// from memory once (a GEMM that streams all of W per few rows, as
// XNNPACK's fully connected does, is bound by memory once W outgrows the
// cache: a bidirectional LSTM 256's is 2-4 MB). Sums in k order from 0.
struct RecurrentProjection {
  int64_t rows = 0, depth = 0, gates = 1, padded = 0;
  int64_t first_block = 0, blocks = 0;
  const float* packed = nullptr;
  const float* in = nullptr;  // row r at in + r * in_stride
  int64_t in_stride = 0;
  const float* bias = nullptr;  // [gates][padded]
  float* out = nullptr;         // row r at out + r * out_stride
  int64_t out_stride = 0;
};

// The variants this CPU runs.
void recurrent_step(const RecurrentStep& step);
void recurrent_projection(const RecurrentProjection& projection);

// The variants, for the tests. has_recurrent_step_*(): this CPU can run it.
void recurrent_step_portable(const RecurrentStep& step);
void recurrent_projection_portable(const RecurrentProjection& projection);
bool has_recurrent_step_avx2();
void recurrent_step_avx2(const RecurrentStep& step);
void recurrent_projection_avx2(const RecurrentProjection& projection);
bool has_recurrent_step_avx512();
void recurrent_step_avx512(const RecurrentStep& step);
void recurrent_projection_avx512(const RecurrentProjection& projection);

}  // namespace simd
}  // namespace edgegen
