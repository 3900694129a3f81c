// The step of recurrent_step.h, written once over a small vector interface
// (`Isa`: V, kLanes, kAccumulators, kProjectionAccumulators, load, store, broadcast, splat, add, sub,
// mul, div, fma, min, max, pow2) and instantiated per variant in the file
// compiled for it.
#pragma once

#include "backends/xnnpack/simd/recurrent_step.h"

// Complete unrolling before scalar replacement, so that the accumulator
// arrays become registers.
#define EG_RECURRENT_UNROLL _Pragma("GCC unroll 16")

namespace edgegen {
namespace simd {
namespace recurrent {

constexpr int gates_of(RecurrentCell cell) {
  return cell == RecurrentCell::kLstm ? 4 : cell == RecurrentCell::kGru ? 3 : cell == RecurrentCell::kGruGates ? 2 : 1;
}

// e^x as vector_math.h's fast_exp: x = n ln2 + r, Cephes' polynomial for
// e^r, 2^n from the exponent bits (Isa::pow2 of n + 1.5 * 2^23, whose low
// mantissa bits hold n). Clamped to [-87.34, 88.72]: e^x is then a normal
// float or, at the top, inf, which the sigmoid and tanh below saturate on.
template <class Isa>
inline typename Isa::V exp(typename Isa::V x) {
  using V = typename Isa::V;
  x = Isa::min(Isa::max(x, Isa::splat(-87.33654f)), Isa::splat(88.72283f));
  const V shifted = Isa::fma(x, Isa::splat(1.44269504088896341f), Isa::splat(12582912.f));
  const V n = Isa::sub(shifted, Isa::splat(12582912.f));
  V r = Isa::fma(n, Isa::splat(-0.693359375f), x);
  r = Isa::fma(n, Isa::splat(2.12194440e-4f), r);
  V p = Isa::splat(1.9875691500e-4f);
  p = Isa::fma(p, r, Isa::splat(1.3981999507e-3f));
  p = Isa::fma(p, r, Isa::splat(8.3334519073e-3f));
  p = Isa::fma(p, r, Isa::splat(4.1665795894e-2f));
  p = Isa::fma(p, r, Isa::splat(1.6666665459e-1f));
  p = Isa::fma(p, r, Isa::splat(5.0000001201e-1f));
  p = Isa::fma(Isa::mul(p, r), r, Isa::add(r, Isa::splat(1.f)));
  return Isa::mul(p, Isa::pow2(shifted));
}

template <class Isa>
inline typename Isa::V sigmoid(typename Isa::V x) {
  const typename Isa::V one = Isa::splat(1.f);
  return Isa::div(one, Isa::add(one, exp<Isa>(Isa::sub(Isa::splat(0.f), x))));
}

template <class Isa>
inline typename Isa::V tanh(typename Isa::V x) {
  const typename Isa::V one = Isa::splat(1.f);
  return Isa::sub(one, Isa::div(Isa::splat(2.f), Isa::add(exp<Isa>(Isa::add(x, x)), one)));
}

// [-clip, clip], or (-inf, inf) without a clip.
template <class Isa>
struct Bounds {
  typename Isa::V low, high;
  explicit Bounds(float clip)
      : low(Isa::splat(clip > 0.f ? -clip : -__builtin_inff())), high(Isa::splat(clip > 0.f ? clip : __builtin_inff())) {}
  typename Isa::V operator()(typename Isa::V x) const { return Isa::min(Isa::max(x, low), high); }
};

// The state update of one vector of units starting at `unit`, batch row
// `row`, given the recurrent products of its gates.
template <class Isa, RecurrentCell kCell>
inline void update(const RecurrentStep& s, const Bounds<Isa>& bound, int64_t row, int64_t unit,
                   const typename Isa::V* sums) {
  using V = typename Isa::V;
  const int64_t p = s.padded;
  const float* x = s.x + row * s.x_stride + unit;
  float* h = s.h_out + row * p + unit;
  if (kCell == RecurrentCell::kLstm) {
    float* c = s.c + row * p + unit;
    const V c_prev = Isa::load(c);
    V gi = Isa::add(Isa::load(x), sums[0]), go = Isa::add(Isa::load(x + p), sums[1]);
    V gf = Isa::add(Isa::load(x + 2 * p), sums[2]);
    const V gc = Isa::add(Isa::load(x + 3 * p), sums[3]);
    if (s.peepholes != nullptr) {
      gi = Isa::fma(Isa::load(s.peepholes + unit), c_prev, gi);
      gf = Isa::fma(Isa::load(s.peepholes + 2 * p + unit), c_prev, gf);
    }
    const V c_new = Isa::fma(sigmoid<Isa>(bound(gf)), c_prev,
                             Isa::mul(sigmoid<Isa>(bound(gi)), tanh<Isa>(bound(gc))));
    if (s.peepholes != nullptr) go = Isa::fma(Isa::load(s.peepholes + p + unit), c_new, go);
    Isa::store(c, c_new);
    Isa::store(h, Isa::mul(sigmoid<Isa>(bound(go)), tanh<Isa>(c_new)));
  } else if (kCell == RecurrentCell::kGru) {
    const V z = sigmoid<Isa>(bound(Isa::add(Isa::load(x), sums[0])));
    const V r = sigmoid<Isa>(bound(Isa::add(Isa::load(x + p), sums[1])));
    const V reset = Isa::mul(r, Isa::add(sums[2], Isa::load(s.recurrent_bias + unit)));
    const V candidate = tanh<Isa>(bound(Isa::add(Isa::load(x + 2 * p), reset)));
    const V h_prev = Isa::load(s.h_prev + row * p + unit);
    Isa::store(h, Isa::fma(z, Isa::sub(h_prev, candidate), candidate));  // (1 - z) h~ + z h
  } else if (kCell == RecurrentCell::kGruGates) {
    Isa::store(s.z + row * p + unit, sigmoid<Isa>(bound(Isa::add(Isa::load(x), sums[0]))));
    const V r = sigmoid<Isa>(bound(Isa::add(Isa::load(x + p), sums[1])));
    Isa::store(h, Isa::mul(r, Isa::load(s.h_prev + row * p + unit)));
  } else if (kCell == RecurrentCell::kGruCandidate) {
    const V candidate = tanh<Isa>(bound(Isa::add(Isa::load(x), sums[0])));
    const V z = Isa::load(s.z + row * p + unit);
    const V h_prev = Isa::load(s.h_prev + row * p + unit);
    Isa::store(h, Isa::fma(z, Isa::sub(h_prev, candidate), candidate));
  } else {
    Isa::store(h, tanh<Isa>(bound(Isa::add(Isa::load(x), sums[0]))));
  }
}

// acc[r][b][g * kVecs + v] = sum over k < depth, in order, of in[r][k] times
// the packed weights of block b (block_floats apart), gate g, vector v.
template <class Isa, int kGates, int kRows, int kBlocks>
inline void product(const float* w, int64_t block_floats, const float* in, int64_t in_stride, int64_t depth,
                    typename Isa::V (&acc)[kRows][kBlocks][kGates * kRecurrentBlock / Isa::kLanes]) {
  using V = typename Isa::V;
  constexpr int kLanes = Isa::kLanes, kVecs = static_cast<int>(kRecurrentBlock) / kLanes;
  EG_RECURRENT_UNROLL
  for (int r = 0; r < kRows; ++r)
    EG_RECURRENT_UNROLL
    for (int b = 0; b < kBlocks; ++b)
      EG_RECURRENT_UNROLL
      for (int i = 0; i < kGates * kVecs; ++i) acc[r][b][i] = Isa::splat(0.f);
  for (int64_t k = 0; k < depth; ++k) {
    V xk[kRows];
    EG_RECURRENT_UNROLL
    for (int r = 0; r < kRows; ++r) xk[r] = Isa::broadcast(in + r * in_stride + k);
    const float* wk = w + k * kGates * kRecurrentBlock;
    EG_RECURRENT_UNROLL
    for (int b = 0; b < kBlocks; ++b)
      EG_RECURRENT_UNROLL
      for (int i = 0; i < kGates * kVecs; ++i) {
        const V weight = Isa::load(wk + b * block_floats + i * kLanes);
        EG_RECURRENT_UNROLL
        for (int r = 0; r < kRows; ++r) acc[r][b][i] = Isa::fma(xk[r], weight, acc[r][b][i]);
      }
  }
}

// kRows batch rows x kBlocks blocks of units: every gate's product over
// k = 0 .. hidden - 1 in registers, then the update of those units.
template <class Isa, RecurrentCell kCell, int kRows, int kBlocks>
inline void tile(const RecurrentStep& s, const Bounds<Isa>& bound, int64_t row, int64_t block) {
  using V = typename Isa::V;
  constexpr int kGates = gates_of(kCell), kLanes = Isa::kLanes;
  constexpr int kVecs = static_cast<int>(kRecurrentBlock) / kLanes;
  const int64_t block_floats = s.hidden * kGates * kRecurrentBlock;
  V acc[kRows][kBlocks][kGates * kVecs];
  product<Isa, kGates, kRows, kBlocks>(s.packed + block * block_floats, block_floats, s.in + row * s.padded, s.padded,
                                       s.hidden, acc);
  for (int r = 0; r < kRows; ++r)
    for (int b = 0; b < kBlocks; ++b)
      for (int v = 0; v < kVecs; ++v) {
        V sums[kGates];
        EG_RECURRENT_UNROLL
        for (int g = 0; g < kGates; ++g) sums[g] = acc[r][b][g * kVecs + v];
        update<Isa, kCell>(s, bound, row + r, (block + b) * kRecurrentBlock + v * kLanes, sums);
      }
}

// Blocks [block, end) of rows [row, row + kRows): tiles of kBlocks, the
// rest in tiles of half as many, down to one.
template <class Isa, RecurrentCell kCell, int kRows, int kBlocks>
inline void blocks(const RecurrentStep& s, const Bounds<Isa>& bound, int64_t row, int64_t block, int64_t end) {
  for (; block + kBlocks <= end; block += kBlocks) tile<Isa, kCell, kRows, kBlocks>(s, bound, row, block);
  if (kBlocks > 1 && block < end) blocks<Isa, kCell, kRows, (kBlocks > 1 ? kBlocks / 2 : 1)>(s, bound, row, block, end);
}

constexpr int tile_blocks(int budget, int per_block) {
  return budget / per_block >= 8 ? 8 : budget / per_block >= 4 ? 4 : budget / per_block >= 2 ? 2 : 1;
}

template <class Isa, RecurrentCell kCell>
void step_cell(const RecurrentStep& s) {
  constexpr int kPerBlock = gates_of(kCell) * static_cast<int>(kRecurrentBlock) / Isa::kLanes;
  // Two batch rows share each weight load when their accumulators fit.
  constexpr bool kPairs = 2 * kPerBlock <= Isa::kAccumulators;
  const Bounds<Isa> bound(s.clip);
  const int64_t end = s.first_block + s.blocks;
  int64_t row = 0;
  if (kPairs)
    for (; row + 2 <= s.batch; row += 2)
      blocks<Isa, kCell, kPairs ? 2 : 1, tile_blocks(Isa::kAccumulators, 2 * kPerBlock)>(s, bound, row, s.first_block, end);
  for (; row < s.batch; ++row)
    blocks<Isa, kCell, 1, tile_blocks(Isa::kAccumulators, kPerBlock)>(s, bound, row, s.first_block, end);
}

// Rows [row, row + kRows) of one block of a projection: the block's
// weights stay in cache while every row goes by.
template <class Isa, int kGates, int kRows>
inline void projection_tile(const RecurrentProjection& p, int64_t row, int64_t block) {
  using V = typename Isa::V;
  constexpr int kLanes = Isa::kLanes, kVecs = static_cast<int>(kRecurrentBlock) / kLanes;
  const int64_t block_floats = p.depth * kGates * kRecurrentBlock;
  V acc[kRows][1][kGates * kVecs];
  product<Isa, kGates, kRows, 1>(p.packed + block * block_floats, block_floats, p.in + row * p.in_stride, p.in_stride,
                                 p.depth, acc);
  EG_RECURRENT_UNROLL
  for (int r = 0; r < kRows; ++r)
    EG_RECURRENT_UNROLL
    for (int g = 0; g < kGates; ++g)
      EG_RECURRENT_UNROLL
      for (int v = 0; v < kVecs; ++v) {
        const int64_t column = g * p.padded + block * kRecurrentBlock + v * kLanes;
        Isa::store(p.out + (row + r) * p.out_stride + column, Isa::add(acc[r][0][g * kVecs + v], Isa::load(p.bias + column)));
      }
}

constexpr int projection_rows(int budget, int per_row) {
  return budget / per_row >= 6 ? 6 : budget / per_row >= 4 ? 4 : budget / per_row >= 2 ? 2 : 1;
}

template <class Isa, int kGates>
void project_gates(const RecurrentProjection& p) {
  constexpr int kPerRow = kGates * static_cast<int>(kRecurrentBlock) / Isa::kLanes;
  constexpr int kRows = projection_rows(Isa::kProjectionAccumulators, kPerRow);
  // The rows past the last whole tile in tiles of 4 and 2 where they fit:
  // one row per tile streams the block's weights once per row.
  constexpr int kTail4 = kRows > 4 ? 4 : 1, kTail2 = kRows > 2 ? 2 : 1;
  for (int64_t block = p.first_block; block < p.first_block + p.blocks; ++block) {
    int64_t row = 0;
    for (; row + kRows <= p.rows; row += kRows) projection_tile<Isa, kGates, kRows>(p, row, block);
    for (; row + kTail4 <= p.rows; row += kTail4) projection_tile<Isa, kGates, kTail4>(p, row, block);
    for (; row + kTail2 <= p.rows; row += kTail2) projection_tile<Isa, kGates, kTail2>(p, row, block);
    for (; row < p.rows; ++row) projection_tile<Isa, kGates, 1>(p, row, block);
  }
}

template <class Isa>
void project(const RecurrentProjection& p) {
  switch (p.gates) {
    case 4: project_gates<Isa, 4>(p); break;
    case 3: project_gates<Isa, 3>(p); break;
    case 2: project_gates<Isa, 2>(p); break;
    default: project_gates<Isa, 1>(p); break;
  }
}

template <class Isa>
void step(const RecurrentStep& s) {
  switch (s.cell) {
    case RecurrentCell::kLstm: step_cell<Isa, RecurrentCell::kLstm>(s); break;
    case RecurrentCell::kGru: step_cell<Isa, RecurrentCell::kGru>(s); break;
    case RecurrentCell::kGruGates: step_cell<Isa, RecurrentCell::kGruGates>(s); break;
    case RecurrentCell::kGruCandidate: step_cell<Isa, RecurrentCell::kGruCandidate>(s); break;
    case RecurrentCell::kRnn: step_cell<Isa, RecurrentCell::kRnn>(s); break;
  }
}

}  // namespace recurrent
}  // namespace simd
}  // namespace edgegen
