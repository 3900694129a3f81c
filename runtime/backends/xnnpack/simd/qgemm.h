// Integer matrix products for int8 quantized operators: C = (A - a_zp) x B
// + bias, with int8 activations A, symmetric int8 weights B and int32
// accumulation, written as int32 or requantized to int8.
//
// Debian's XNNPACK (2022) has no VNNI kernels and only per-tensor weight
// scales in its quantized fully connected operator, so these are our own.
// One variant is picked at run time from what the CPU has (cpuinfo, when the
// build links it):
//
//   x86-64   AVX512-VNNI (512-bit vpdpbusd, blocks of 64, 32 or 16 columns;
//            for N <= 12 a variant with the rows, not the columns, in the
//            vector lanes), AVX-VNNI (256-bit
//            vpdpbusd), AVX2 (int8 widened to int16, vpmaddwd), plain C++
//   AArch64  dot product (sdot), NEON (vmull_s8 + vpadalq_s16), plain C++
//   others   plain C++ (the oracle, and the firmware path)
//
// Every variant computes exactly the same bits: the accumulation is exact
// integer arithmetic, and the requantization is the same float32 operations
// in the same order (no fused multiply-add).
//
// How a caller uses it (a fully connected or convolution operator):
//
//   prepare:  packed = arena bytes  qgemm_packed_bytes(K, N), 64-byte aligned
//             scratch = arena bytes qgemm_scratch_bytes(K) per thread
//             qgemm_pack(weights, layout, K, N, bias, a_zero_point, packed)
//   run:      qgemm_int8(packed, A, lda, m0, m1, n0, n1, requantization, C, ldc, scratch)
//             on as many tiles [m0, m1) x [n0, n1) as there are threads.
//
// The variant is chosen when packing (the packed bytes record it), so the
// run functions need no ISA argument and cannot mix variants.
#pragma once

#include <cstddef>
#include <cstdint>

namespace edgegen {
namespace simd {

// The kernel variants. Tests pass a variant explicitly to check each one
// against kScalar; everything else leaves the default, kAuto.
enum class QGemmIsa : uint8_t {
  kScalar = 0,      // plain C++, every target
  kAvx2 = 1,        // x86-64 AVX2
  kAvxVnni = 2,     // x86-64 AVX-VNNI (256-bit vpdpbusd), blocks of 16 columns
  kAvx512Vnni = 3,  // x86-64 AVX-512 F/BW + VNNI, blocks of 64 columns
  kNeon = 4,        // AArch64 Advanced SIMD
  kNeonDot = 5,     // AArch64 dot product (armv8.2-a+dotprod)
  // x86-64 AVX-512 F/BW + VNNI for few columns (an image's last layer): one
  // column at a time, 16 rows' dot products over K reduced into one vector.
  kAvx512VnniNarrow = 6,
  // kAvx512Vnni with blocks of 16 and 32 columns (1 and 2 zmm per row), for
  // products whose N a 64-column block would mostly pad (N = 16, 32, 48, ...).
  kAvx512Vnni16 = 7,
  kAvx512Vnni32 = 8,
  // The fastest available variant for the product's N: qgemm_best_isa(),
  // except, where qgemm_best_isa() is kAvx512Vnni, kAvx512VnniNarrow for
  // N <= kQGemmNarrowMaxN, and otherwise the block width of 16, 32 or 64
  // columns that pads N least (qgemm.cc).
  kAuto = 0xFF,
};
constexpr int kQGemmIsaCount = 9;  // the variants, kAuto excluded

// The largest N for which kAuto picks kAvx512VnniNarrow.
// (One thread, Zen 5: at N = 12 it was 1.2-3x AVX-VNNI's 16-column blocks
// over K = 128-2304, at N = 16 0.85-1.5x; at N = 1-3, 5-6x.)
constexpr size_t kQGemmNarrowMaxN = 12;

// "scalar", "avx2", "avxvnni", "avx512vnni", "neon", "neondot",
// "avx512vnni-narrow", "avx512vnni-16", "avx512vnni-32", "auto".
const char* qgemm_isa_name(QGemmIsa isa);

// Whether this build and this CPU can run `isa` (false for kAuto). kScalar
// always; NEON always on AArch64 (it is the baseline there); the others
// only when the build has cpuinfo (EDGEGEN_WITH_XNNPACK) and it reports the
// features. Packing for a variant that is not available packs for kScalar.
bool qgemm_isa_available(QGemmIsa isa);

// The fastest available variant for large products, decided once.
QGemmIsa qgemm_best_isa();

// The variant kAuto packs a product of N columns for on this CPU.
QGemmIsa qgemm_auto_isa(size_t n);

// How the weights are stored in the caller's array.
enum class QGemmWeightLayout : uint8_t {
  kNK = 0,  // [N, K]: row n holds output column n (ONNX Gemm transB=1, our FullyConnected)
  kKN = 1,  // [K, N]: row k holds input k's weight for every output column
};

// Bytes of the packed weights for a K x N product (a multiple of 64).
// K, N >= 1; `isa` as given to qgemm_pack.
size_t qgemm_packed_bytes(size_t k, size_t n, QGemmIsa isa = QGemmIsa::kAuto);

// Bytes of scratch one call of qgemm_int32/qgemm_int8 needs, whatever its
// tile (0 for kScalar; for kAuto, enough for any N). Each thread running
// tiles at the same time needs its own.
size_t qgemm_scratch_bytes(size_t k, QGemmIsa isa = QGemmIsa::kAuto);

// Packs B (K x N int8, symmetric: zero point 0) for `isa` into `packed`
// (qgemm_packed_bytes(k, n, isa) bytes, 64-byte aligned, caller-owned; it
// must outlive every run that reads it). The variant is recorded in the
// packed bytes: the runs use it. Also stores per column the int32
// correction bias[n] - a_zero_point * sum_k B[k, n] (and the VNNI variants'
// -128 * sum_k B[k, n]), so runs only add it.
//   weights       K * N values in `layout`, read only during this call
//   bias          N values, or null for none
//   a_zero_point  the activations' zero point, -128..127
// Called once at prepare; it does not allocate.
void qgemm_pack(const int8_t* weights, QGemmWeightLayout layout, size_t k, size_t n, const int32_t* bias,
                int32_t a_zero_point, void* packed, QGemmIsa isa = QGemmIsa::kAuto);

// The variant `packed` was made for (never kAuto), and its column block: tiles whose
// n_begin and n_end are multiples of it (or n_end == N) compute no column
// twice. Any other boundaries are correct, only slower.
QGemmIsa qgemm_packed_isa(const void* packed);
size_t qgemm_n_block(const void* packed);

// int32 output, exactly:
//   c[m * ldc + n] = sum_k (a[m * lda + k] - a_zero_point) * B[k, n] + bias[n]
// for m in [m_begin, m_end), n in [n_begin, n_end); nothing else of c is
// written. `a` and `c` point at row 0 (column 0), not at the tile. Every
// variant computes the sum modulo 2^32, so the result is exact whenever
// it fits int32 (the products alone always do for K <= 65793).
//   packed   from qgemm_pack
//   scratch  qgemm_scratch_bytes(K, isa) bytes, 64-byte aligned (may be null for kScalar)
// Does not allocate; the tiles of one product may run concurrently.
void qgemm_int32(const void* packed, const int8_t* a, size_t lda, size_t m_begin, size_t m_end, size_t n_begin,
                 size_t n_end, int32_t* c, size_t ldc, void* scratch);

// Requantization of an int32 sum to int8 (XNNPACK's "fp32" requantization):
//   v = (float)acc * scale[n]                       float32 multiply
//   v = min(max(v, output_min - zero_point), output_max - zero_point)
//   c = round_to_nearest_even(v) + zero_point
// (rounding in the default floating-point rounding mode).
struct QGemmRequantization {
  const float* scale = nullptr;  // N finite values, s_a * s_b[n] / s_c; borrowed
  int32_t zero_point = 0;        // output zero point, -128..127
  int32_t output_min = -128;     // qmin, qmax: -128 <= qmin <= qmax <= 127; a fused
  int32_t output_max = 127;      // ReLU or Clip narrows them
  float negative_slope = 1.f;    // a fused leaky ReLU's alpha, in [0, 1]: max(v, alpha * v) before the clamp
};

// int8 output: as qgemm_int32, then requantized column by column.
void qgemm_int8(const void* packed, const int8_t* a, size_t lda, size_t m_begin, size_t m_end, size_t n_begin,
                size_t n_end, const QGemmRequantization& requantization, int8_t* c, size_t ldc, void* scratch);

// A's rows in pieces: row m is `count` runs of K / count bytes, run s at
// a + m * lda + s * stride (count divides K). A 2-D convolution's window
// read in place from a padded channels-last image is one run per kernel
// row, `stride` one image row apart: no im2col copy.
struct QGemmRowRuns {
  size_t count = 1;
  size_t stride = 0;
  // Read the runs where they are, with no panel copy: only where
  // qgemm_reads_runs_in_place(). The variants whose kernel multiplies
  // unsigned bytes (qgemm_in_place_unsigned) then need A stored +128
  // (a ^ 0x80, the caller's padded image); the others take it as it is.
  bool in_place = false;
};

// Whether the variant `packed` was made for takes rows in runs: every
// variant does (its panel copy gathers the runs); kAuto is no variant.
bool qgemm_reads_row_runs(const void* packed);
bool qgemm_isa_reads_row_runs(QGemmIsa isa);  // the same, for a variant (kAuto: false)

// Whether the variant `packed` was made for reads runs of K / `runs` bytes
// in place (QGemmRowRuns::in_place): the AVX512-VNNI column blocks, AVX-VNNI,
// NEON and NEON dot product, for runs of whole k groups (4 bytes; NEON 2).
bool qgemm_reads_runs_in_place(const void* packed, size_t runs);
// Whether those in-place runs must be stored +128 (the x86 VNNI variants).
bool qgemm_in_place_unsigned(const void* packed);

// qgemm_int8 with A's rows in runs; only where qgemm_reads_row_runs(packed).
void qgemm_int8_runs(const void* packed, const int8_t* a, size_t lda, const QGemmRowRuns& runs, size_t m_begin,
                     size_t m_end, size_t n_begin, size_t n_end, const QGemmRequantization& requantization,
                     int8_t* c, size_t ldc, void* scratch);

}  // namespace simd
}  // namespace edgegen
