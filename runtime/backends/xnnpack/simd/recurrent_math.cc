// The arithmetic of LSTM, GRU and RNN layers, vectorized (kernels/recurrent.h):
// the driver of the reference kernel runs with these on the XNNPACK backend
// for the layers recurrent_layer.h leaves to it (sequence lengths, weights
// computed at run time); the others run on recurrent_layer.h.
//
// Nearly all the work is two products per layer: every step's input
// projection X · Wᵀ, and each step's H · Rᵀ, a matrix-vector product at
// batch 1. Both read W and R as stored ([gates * hidden, depth], rows along
// the depth), so each output is a dot product of two contiguous rows: four
// of them at a time share the loads of the left row, with 16 lanes of
// partial sums each (one zmm with AVX-512, two ymm with AVX2). The gates use
// vector_math.h's exp, sigmoid and tanh (about 1 ulp of libm's), branch-free
// so that their loops vectorize.
#include <cstring>
#include <limits>

#include "backends/xnnpack/simd/simd_kernels.h"
#include "core/vector_math.h"
#include "kernels/recurrent.h"

namespace edgegen {
namespace simd {
namespace {

typedef float Vector16 __attribute__((vector_size(16 * sizeof(float))));

inline float lane_sum(Vector16 v) {
  float sum = 0.f;
  for (int j = 0; j < 16; ++j) sum += v[j];
  return sum;
}

EG_VECTOR_CLONES void multiply_transposed(const float* a, const float* b, const float* bias, int64_t rows,
                                          int64_t columns, int64_t depth, float* out, int64_t out_stride) {
  const int64_t full = depth / 16 * 16;
  for (int64_t m = 0; m < rows; ++m) {
    const float* a_row = a + m * depth;
    float* out_row = out + m * out_stride;
    int64_t n = 0;
    for (; n + 4 <= columns; n += 4) {
      const float* b0 = b + n * depth;
      const float* b1 = b0 + depth;
      const float* b2 = b1 + depth;
      const float* b3 = b2 + depth;
      Vector16 s0 = {}, s1 = {}, s2 = {}, s3 = {};
      for (int64_t k = 0; k < full; k += 16) {
        Vector16 x, w0, w1, w2, w3;
        std::memcpy(&x, a_row + k, sizeof x);  // unaligned loads
        std::memcpy(&w0, b0 + k, sizeof w0);
        std::memcpy(&w1, b1 + k, sizeof w1);
        std::memcpy(&w2, b2 + k, sizeof w2);
        std::memcpy(&w3, b3 + k, sizeof w3);
        s0 += x * w0;
        s1 += x * w1;
        s2 += x * w2;
        s3 += x * w3;
      }
      float t0 = lane_sum(s0), t1 = lane_sum(s1), t2 = lane_sum(s2), t3 = lane_sum(s3);
      for (int64_t k = full; k < depth; ++k) {
        t0 += a_row[k] * b0[k];
        t1 += a_row[k] * b1[k];
        t2 += a_row[k] * b2[k];
        t3 += a_row[k] * b3[k];
      }
      out_row[n] = t0 + (bias ? bias[n] : 0.f);
      out_row[n + 1] = t1 + (bias ? bias[n + 1] : 0.f);
      out_row[n + 2] = t2 + (bias ? bias[n + 2] : 0.f);
      out_row[n + 3] = t3 + (bias ? bias[n + 3] : 0.f);
    }
    for (; n < columns; ++n) {
      const float* b_row = b + n * depth;
      Vector16 s = {};
      for (int64_t k = 0; k < full; k += 16) {
        Vector16 x, w;
        std::memcpy(&x, a_row + k, sizeof x);
        std::memcpy(&w, b_row + k, sizeof w);
        s += x * w;
      }
      float t = lane_sum(s);
      for (int64_t k = full; k < depth; ++k) t += a_row[k] * b_row[k];
      out_row[n] = t + (bias ? bias[n] : 0.f);
    }
  }
}

// [-clip, clip] as bounds; no clip is (-inf, inf). A select, so loops vectorize.
struct Bounds {
  float low, high;
  explicit Bounds(float clip)
      : low(clip > 0.f ? -clip : -std::numeric_limits<float>::infinity()),
        high(clip > 0.f ? clip : std::numeric_limits<float>::infinity()) {}
  float operator()(float x) const { return x < low ? low : (x > high ? high : x); }
};

template <bool kPeepholes>
EG_VECTOR_CLONES void lstm_loop(const float* px, const float* pr, const float* peep, Bounds bound, int64_t hidden,
                                float* cb, float* hb) {
  for (int64_t j = 0; j < hidden; ++j) {
    const float c_prev = cb[j];
    float gi = px[j] + pr[j], go = px[hidden + j] + pr[hidden + j];
    float gf = px[2 * hidden + j] + pr[2 * hidden + j];
    const float gc = px[3 * hidden + j] + pr[3 * hidden + j];
    if (kPeepholes) gi += peep[j] * c_prev, gf += peep[2 * hidden + j] * c_prev;
    const float c_new = fast_sigmoid(bound(gf)) * c_prev + fast_sigmoid(bound(gi)) * fast_tanh(bound(gc));
    if (kPeepholes) go += peep[hidden + j] * c_new;
    cb[j] = c_new;
    hb[j] = fast_sigmoid(bound(go)) * fast_tanh(c_new);
  }
}

void lstm_cell(const float* px, const float* pr, const float* peep, float clip, int64_t hidden, float* cb, float* hb) {
  if (peep) lstm_loop<true>(px, pr, peep, Bounds(clip), hidden, cb, hb);
  else lstm_loop<false>(px, pr, nullptr, Bounds(clip), hidden, cb, hb);
}

EG_VECTOR_CLONES void sigmoid_of_sum(const float* a, const float* b, float clip, int64_t n, float* out) {
  const Bounds bound(clip);
  for (int64_t j = 0; j < n; ++j) out[j] = fast_sigmoid(bound(a[j] + b[j]));
}

EG_VECTOR_CLONES void tanh_of_sum(const float* a, const float* scale, const float* b, float clip, int64_t n,
                                  float* out) {
  const Bounds bound(clip);
  if (scale) {
    for (int64_t j = 0; j < n; ++j) out[j] = fast_tanh(bound(a[j] + scale[j] * b[j]));
  } else {
    for (int64_t j = 0; j < n; ++j) out[j] = fast_tanh(bound(a[j] + b[j]));
  }
}

}  // namespace

const RecurrentMath kFastRecurrentMath = {multiply_transposed, lstm_cell, sigmoid_of_sum, tanh_of_sum};

}  // namespace simd
}  // namespace edgegen
