// Batched matrix product of two activations (attention's Q K^T and A V),
// which Debian's XNNPACK (2022) can only do with constant weights.
//
// A register tile of 4 rows x 16 columns of C is accumulated over all of K,
// reading a row of 16 from B and 4 scalars of A per k. The tile is written
// with GCC's generic vectors (4 zmm with AVX-512, 8 ymm with AVX2, 16 NEON
// q registers): left to itself the vectorizer packed the 4 rows instead,
// with shuffles, at 6 GFLOP/s.
#include <cstring>

#include "backends/xnnpack/simd/simd_kernels.h"
#include "core/vector_math.h"

namespace edgegen {
namespace simd {

namespace {

constexpr size_t kTileRows = 4;
constexpr size_t kTileCols = 16;

typedef float Vector16 __attribute__((vector_size(kTileCols * sizeof(float))));

// C[rows x 16] of a full tile (rows <= 4 in the tail, same code).
template <size_t kRows>
EG_VECTOR_CLONES void tile(const float* a, const float* b, float* c, size_t k_size, size_t lda, size_t ldb,
                           size_t ldc) {
  Vector16 acc[kRows];
  for (size_t r = 0; r < kRows; ++r) acc[r] = Vector16{};
  for (size_t k = 0; k < k_size; ++k) {
    Vector16 b_row;
    std::memcpy(&b_row, b + k * ldb, sizeof b_row);  // unaligned load
    for (size_t r = 0; r < kRows; ++r) acc[r] += a[r * lda + k] * b_row;
  }
  for (size_t r = 0; r < kRows; ++r) std::memcpy(c + r * ldc, &acc[r], sizeof acc[r]);
}

// With AVX-512: 8 rows x 32 columns, 16 zmm accumulators. The 4 x 16 tile's
// 4 chains of multiply-adds left the FMA units half idle (attention's
// Q K^T ran at ~28% of the peak). Each element is the same chain as in
// `tile` (over k in order): the same bits. (Not for AVX2: 32 ymm would spill.)
constexpr size_t kWideRows = 8, kWideCols = 32;

EG_VECTOR_CLONES void tile_wide(const float* a, const float* b, float* c, size_t k_size, size_t lda, size_t ldb,
                                size_t ldc) {
  Vector16 acc[kWideRows][2];
  for (size_t r = 0; r < kWideRows; ++r) acc[r][0] = acc[r][1] = Vector16{};
  for (size_t k = 0; k < k_size; ++k) {
    Vector16 b_low, b_high;
    std::memcpy(&b_low, b + k * ldb, sizeof b_low);
    std::memcpy(&b_high, b + k * ldb + kTileCols, sizeof b_high);
    for (size_t r = 0; r < kWideRows; ++r) {
      acc[r][0] += a[r * lda + k] * b_low;
      acc[r][1] += a[r * lda + k] * b_high;
    }
  }
  for (size_t r = 0; r < kWideRows; ++r) {
    std::memcpy(c + r * ldc, &acc[r][0], sizeof acc[r][0]);
    std::memcpy(c + r * ldc + kTileCols, &acc[r][1], sizeof acc[r][1]);
  }
}

// 8 of the last columns (n % 16 >= 8; attention's A V with a head size of
// 40 or 80 has 8): the same tile at half width, instead of scalar loops.
typedef float Vector8 __attribute__((vector_size(8 * sizeof(float))));

// Rows in fours: four independent chains of multiply-adds (one row's chain
// alone waited on the FMA latency: a 4096 x 4096 x 40 A V spent a fifth of
// its time on its last 8 columns). Each element is the same chain either way.
EG_VECTOR_CLONES void tile8(const float* a, const float* b, float* c, size_t rows, size_t k_size, size_t lda,
                            size_t ldb, size_t ldc) {
  size_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    Vector8 acc[4] = {};
    for (size_t k = 0; k < k_size; ++k) {
      Vector8 b_row;
      std::memcpy(&b_row, b + k * ldb, sizeof b_row);
      for (size_t i = 0; i < 4; ++i) acc[i] += a[(r + i) * lda + k] * b_row;
    }
    for (size_t i = 0; i < 4; ++i) std::memcpy(c + (r + i) * ldc, &acc[i], sizeof acc[i]);
  }
  for (; r < rows; ++r) {
    Vector8 acc = Vector8{};
    for (size_t k = 0; k < k_size; ++k) {
      Vector8 b_row;
      std::memcpy(&b_row, b + k * ldb, sizeof b_row);
      acc += a[r * lda + k] * b_row;
    }
    std::memcpy(c + r * ldc, &acc, sizeof acc);
  }
}

// The last columns (fewer than 8 after tile8: a head size of 36 leaves 4):
// copied into a zero-padded panel of 16 columns, so the 4 x 16 tile runs
// over them, and only they are stored. A 100 x 100 x 36 A V product spent
// most of its time on its 4 last columns in the plain loops below, which
// remain for a K too long for the panel on the stack.
constexpr size_t kEdgePanelK = 512;

void edge_columns(const float* a, const float* b, float* c, size_t rows, size_t cols, size_t k_size, size_t lda,
                  size_t ldb, size_t ldc) {
  if (k_size <= kEdgePanelK) {
    float panel[kEdgePanelK * kTileCols];
    for (size_t k = 0; k < k_size; ++k) {
      float* row = panel + k * kTileCols;
      for (size_t j = 0; j < kTileCols; ++j) row[j] = j < cols ? b[k * ldb + j] : 0.f;
    }
    float out[kTileRows * kTileCols];
    for (size_t i = 0; i < rows; i += kTileRows) {
      const size_t here = rows - i < kTileRows ? rows - i : kTileRows;
      const float* ai = a + i * lda;
      if (here == 4) tile<4>(ai, panel, out, k_size, lda, kTileCols, kTileCols);
      else if (here == 3) tile<3>(ai, panel, out, k_size, lda, kTileCols, kTileCols);
      else if (here == 2) tile<2>(ai, panel, out, k_size, lda, kTileCols, kTileCols);
      else tile<1>(ai, panel, out, k_size, lda, kTileCols, kTileCols);
      for (size_t r = 0; r < here; ++r) std::memcpy(c + (i + r) * ldc, out + r * kTileCols, cols * sizeof(float));
    }
    return;
  }
  for (size_t r = 0; r < rows; ++r) {
    float* c_row = c + r * ldc;
    for (size_t j = 0; j < cols; ++j) c_row[j] = 0.f;
    for (size_t k = 0; k < k_size; ++k) {
      const float a_rk = a[r * lda + k];
      const float* b_row = b + k * ldb;
      for (size_t j = 0; j < cols; ++j) c_row[j] += a_rk * b_row[j];
    }
  }
}

void matrix(const float* a, const float* b, float* c, size_t m, size_t k, size_t n) {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool wide = __builtin_cpu_supports("avx512f");
#else
  constexpr bool wide = false;
#endif
  const size_t full_cols = n / kTileCols * kTileCols;
  size_t i = 0;
  if (wide)
    for (; i + kWideRows <= m; i += kWideRows) {
      const size_t wide_cols = n / kWideCols * kWideCols;
      for (size_t j = 0; j < wide_cols; j += kWideCols) tile_wide(a + i * k, b + j, c + i * n + j, k, k, n, n);
      for (size_t j = wide_cols; j < full_cols; j += kTileCols)
        for (size_t r = 0; r < kWideRows; r += kTileRows)
          tile<kTileRows>(a + (i + r) * k, b + j, c + (i + r) * n + j, k, k, n, n);
    }
  for (; i + kTileRows <= m; i += kTileRows)
    for (size_t j = 0; j < full_cols; j += kTileCols) tile<kTileRows>(a + i * k, b + j, c + i * n + j, k, k, n, n);
  const size_t rest = m - i;
  for (size_t j = 0; j < full_cols; j += kTileCols) {
    const float* ai = a + i * k;
    float* ci = c + i * n + j;
    if (rest == 1) tile<1>(ai, b + j, ci, k, k, n, n);
    else if (rest == 2) tile<2>(ai, b + j, ci, k, k, n, n);
    else if (rest == 3) tile<3>(ai, b + j, ci, k, k, n, n);
  }
  size_t done_cols = full_cols;
  if (n - done_cols >= 8) {
    tile8(a, b + done_cols, c + done_cols, m, k, k, n, n);
    done_cols += 8;
  }
  if (done_cols < n) edge_columns(a, b + done_cols, c + done_cols, m, n - done_cols, k, k, n, n);
}

}  // namespace

void batched_matmul(const float* a, const float* b, float* c, size_t batch, size_t m, size_t k, size_t n,
                    size_t a_batch_stride, size_t b_batch_stride) {
  for (size_t i = 0; i < batch; ++i) matrix(a + i * a_batch_stride, b + i * b_batch_stride, c + i * m * n, m, k, n);
}

}  // namespace simd
}  // namespace edgegen
