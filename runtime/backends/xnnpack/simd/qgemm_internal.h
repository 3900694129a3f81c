// What qgemm.cc (packing, dispatch, the plain C++ variant) shares with the
// ISA-specific kernel files qgemm_<isa>.cc.
//
// Packed weights (one buffer, 64-byte aligned):
//
//   +----------------+---------------------------+-------------------------------------------+
//   | header, 64 B   | corrections, int32 x N_p  | B: N_p / NR blocks of NR columns           |
//   |                | padded to 64 B            | block: K_p / KG groups of [NR][KG] bytes   |
//   +----------------+---------------------------+-------------------------------------------+
//
// NR (columns per block) and KG (consecutive k per column in a group) are
// the variant's: KG = 4 is one 32-bit lane of vpdpbusd / sdot, KG = 2 one of
// vpmaddwd / vpadalq_s16. N_p and K_p are N and K rounded up to NR and KG;
// the padding holds zero weights and zero corrections, so the kernels
// compute whole blocks and groups and only the stores look at N.
//
// A panel of the activations (up to MR rows) is copied to the scratch before
// the kernel runs over it, once for all the column blocks of the tile: rows
// padded to K_p (any value there is harmless against the zero weights) and
// to 64 bytes, bytes made unsigned (+128) for vpdpbusd, widened to int16 for
// vpmaddwd.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "backends/xnnpack/simd/qgemm.h"

namespace edgegen {
namespace simd {
namespace qgemm {

struct IsaLayout {
  uint32_t n_block;      // NR
  uint32_t k_group;      // KG
  uint32_t panel_rows;   // MR: activation rows per kernel call (0: no scratch)
  uint32_t a_bytes;      // bytes per activation value in the scratch panel
  bool unsigned_a;       // activations are biased by +128 (vpdpbusd's u8 x s8)
};

constexpr IsaLayout isa_layout(QGemmIsa isa) {
  switch (isa) {
    case QGemmIsa::kAvx2: return {16, 2, 4, 2, false};
    case QGemmIsa::kAvxVnni: return {16, 4, 6, 1, true};
    case QGemmIsa::kAvx512Vnni: return {64, 4, 6, 1, true};
    case QGemmIsa::kAvx512Vnni32: return {32, 4, 6, 1, true};
    case QGemmIsa::kAvx512Vnni16: return {16, 4, 6, 1, true};
    case QGemmIsa::kNeon: return {16, 2, 4, 1, false};
    case QGemmIsa::kNeonDot: return {16, 4, 4, 1, false};
    // One column per block, its K weights padded to 64 (one zmm per 64 k);
    // the panel is 16 rows, one per 32-bit lane of the reduced sums.
    case QGemmIsa::kAvx512VnniNarrow: return {1, 64, 16, 1, true};
    case QGemmIsa::kScalar:
    case QGemmIsa::kAuto:  // resolved before it gets here
      break;
  }
  return {1, 1, 0, 0, false};
}

constexpr size_t round_up(size_t value, size_t multiple) { return (value + multiple - 1) / multiple * multiple; }

constexpr uint32_t kPackedMagic = 0x47514745;  // "EGQG"

struct PackedHeader {
  uint32_t magic;
  uint32_t isa;
  uint64_t k, n;
  uint64_t k_padded, n_padded;
  uint64_t corrections_offset;  // from the start of the buffer
  uint64_t weights_offset;
  uint64_t block_bytes;  // K_p * NR
};
static_assert(sizeof(PackedHeader) <= 64, "the header has 64 bytes");

// Bytes of one scratch panel row for K: K_p values, padded to 64 bytes.
inline size_t panel_row_bytes(const IsaLayout& layout, size_t k) {
  return round_up(round_up(k, layout.k_group) * layout.a_bytes, 64);
}

// One call of a variant's kernel: a tile of the product.
struct RunArgs {
  const PackedHeader* header;
  const int32_t* corrections;  // [N_p]
  const int8_t* weights;       // the blocks
  const int8_t* a;
  size_t lda;
  size_t runs = 1, run_stride = 0;  // QGemmRowRuns (only the variants that read them)
  bool in_place = false;            // QGemmRowRuns::in_place (qgemm_reads_runs_in_place)
  size_t m_begin, m_end, n_begin, n_end;
  void* c;  // int32_t* or int8_t*
  size_t ldc;
  const QGemmRequantization* requantization;  // null: int32 output
  void* scratch;
};

// Where a tile's rows of A are for the kernels: a packed panel (one run of
// every k group), or the caller's runs read in place (QGemmRowRuns::in_place:
// run s of row r at first + r * row_bytes + s * run_stride, run_groups k
// groups each, the weights of run s from group s * run_groups on).
struct RowSource {
  const uint8_t* first;
  size_t row_bytes;
  size_t runs, run_stride, run_groups;
};

// The rows of the tile starting at row m, for a variant with `layout`:
// in place, or `panel` (packed by the caller) with `groups` k groups.
inline RowSource row_source(const RunArgs& args, const IsaLayout& layout, size_t m, const uint8_t* panel,
                            size_t row_bytes, size_t groups) {
  if (args.in_place)
    return {reinterpret_cast<const uint8_t*>(args.a + m * args.lda), args.lda, args.runs, args.run_stride,
            args.header->k / args.runs / layout.k_group};
  return {panel, row_bytes, 1, 0, groups};
}

// The variants' tile loops (qgemm_<isa>.cc); each exists only where the
// build can compile it.
#if defined(EDGEGEN_WITH_XNNPACK) && defined(__x86_64__)
#define EDGEGEN_QGEMM_X86 1
void run_avx2(const RunArgs& args);
void run_avxvnni(const RunArgs& args);
void run_avx512vnni(const RunArgs& args);
void run_avx512vnni32(const RunArgs& args);
void run_avx512vnni16(const RunArgs& args);
void run_avx512vnni_narrow(const RunArgs& args);
#endif
#if defined(__aarch64__)
#define EDGEGEN_QGEMM_ARM 1
void run_neon(const RunArgs& args);
#if defined(EDGEGEN_WITH_XNNPACK)
#define EDGEGEN_QGEMM_ARM_DOT 1
void run_neondot(const RunArgs& args);
#endif
#endif

// 1.5 * 2^23: adding it to a float of magnitude below 2^22 leaves the value
// rounded to an integer (ties to even) in the low mantissa bits.
constexpr float kMagicBias = 12582912.0f;
constexpr int32_t kMagicBiasBits = 0x4B400000;

// The requantization constants every variant uses, in the same order.
struct RequantConstants {
  float negative_slope;       // 1: no leaky ReLU
  float min_less_zero_point;  // output_min - zero_point
  float max_less_zero_point;  // output_max - zero_point
  int32_t magic_less_zero_point;  // kMagicBiasBits - zero_point
};

inline RequantConstants requant_constants(const QGemmRequantization& r) {
  return {r.negative_slope, static_cast<float>(r.output_min - r.zero_point),
          static_cast<float>(r.output_max - r.zero_point), kMagicBiasBits - r.zero_point};
}

// The reference requantization of one sum; the vector variants do these
// same float32 operations lane by lane.
inline int8_t requantize(int32_t acc, float scale, const RequantConstants& k) {
  float v = static_cast<float>(acc) * scale;
  const float leaky = v * k.negative_slope;
  v = leaky > v ? leaky : v;
  v = v < k.min_less_zero_point ? k.min_less_zero_point : v;
  v = v > k.max_less_zero_point ? k.max_less_zero_point : v;
  const float biased = v + kMagicBias;
  int32_t bits;
  std::memcpy(&bits, &biased, sizeof bits);
  return static_cast<int8_t>(bits - k.magic_less_zero_point);
}

}  // namespace qgemm
}  // namespace simd
}  // namespace edgegen
