// The int8 matrix product's portable half: choosing the variant, packing the
// weights, the plain C++ variant (the oracle the others are tested against,
// and what a microcontroller runs) and the dispatch to the ISA kernels in
// qgemm_<isa>.cc. The layout of the packed weights is drawn in
// qgemm_internal.h.
#include "backends/xnnpack/simd/qgemm.h"

#include <cstring>
#include <initializer_list>

#include "backends/xnnpack/simd/qgemm_internal.h"

#if defined(EDGEGEN_WITH_XNNPACK)
#include <cpuinfo.h>
#endif
#if defined(EDGEGEN_QGEMM_X86)
#include <cpuid.h>
#endif

namespace edgegen {
namespace simd {

using qgemm::IsaLayout;
using qgemm::PackedHeader;
using qgemm::RunArgs;
using qgemm::isa_layout;
using qgemm::round_up;

namespace {

#if defined(EDGEGEN_QGEMM_X86)
// AVX-VNNI (CPUID leaf 7, sub-leaf 1, EAX bit 4): Debian's cpuinfo (2022)
// predates cpuinfo_has_x86_avxvnni(). It uses only the ymm state, whose OS
// support cpuinfo_has_x86_avx2() already checks.
bool cpuid_has_avxvnni() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) return false;
  return (eax >> 4) & 1;
}
#endif

bool detect(QGemmIsa isa) {
  switch (isa) {
    case QGemmIsa::kScalar: return true;
#if defined(EDGEGEN_QGEMM_X86)
    case QGemmIsa::kAvx2: return cpuinfo_initialize() && cpuinfo_has_x86_avx2();
    case QGemmIsa::kAvxVnni: return cpuinfo_initialize() && cpuinfo_has_x86_avx2() && cpuid_has_avxvnni();
    case QGemmIsa::kAvx512Vnni:
    case QGemmIsa::kAvx512Vnni32:
    case QGemmIsa::kAvx512Vnni16:
    case QGemmIsa::kAvx512VnniNarrow:
      return cpuinfo_initialize() && cpuinfo_has_x86_avx512f() && cpuinfo_has_x86_avx512bw() &&
             cpuinfo_has_x86_avx512vnni();
#endif
#if defined(EDGEGEN_QGEMM_ARM)
    case QGemmIsa::kNeon: return true;
#endif
#if defined(EDGEGEN_QGEMM_ARM_DOT)
    case QGemmIsa::kNeonDot: return cpuinfo_initialize() && cpuinfo_has_arm_neon_dot();
#endif
    default: return false;
  }
}

struct Availability {
  bool available[kQGemmIsaCount];
  QGemmIsa best;
};

Availability detect_all() {
  Availability result{};
  for (int i = 0; i < kQGemmIsaCount; ++i) result.available[i] = detect(static_cast<QGemmIsa>(i));
  result.best = QGemmIsa::kScalar;
  const QGemmIsa fastest_first[] = {QGemmIsa::kAvx512Vnni, QGemmIsa::kAvxVnni, QGemmIsa::kAvx2,
                                    QGemmIsa::kNeonDot, QGemmIsa::kNeon};
  for (QGemmIsa isa : fastest_first)
    if (result.available[static_cast<int>(isa)]) {
      result.best = isa;
      break;
    }
  return result;
}

const Availability& availability() {
  static const Availability value = detect_all();
  return value;
}

// The AVX512-VNNI block width for N columns: 16 for N <= 16, else 32 where
// it pads N to fewer columns than 64 does (N = 17-32, 65-96, ...), else 64.
// Measured on Zen 5 (edgegen_qgemm_bench): at N = 16 the 16-column blocks
// ran 1.4x the 32-column ones; at N = 32-48, 80 the 32-column blocks
// 1.1-1.8x the 64-column ones, which at N = 64 are as fast and read the
// panel half as often.
QGemmIsa avx512_block_for(size_t n) {
  if (n <= 16) return QGemmIsa::kAvx512Vnni16;
  return round_up(n, 32) < round_up(n, 64) ? QGemmIsa::kAvx512Vnni32 : QGemmIsa::kAvx512Vnni;
}

// The variant that packs and runs a K x N product asked for with `isa`:
// kAuto resolved, and a variant this build or CPU cannot run replaced by
// kScalar, in the sizes, the packing and the run alike.
QGemmIsa resolve(QGemmIsa isa, size_t n) {
  if (isa == QGemmIsa::kAuto) {
    isa = qgemm_best_isa();
    // A 64-column block for a few columns is mostly padding; for a handful,
    // a 16-column one is too.
    if (isa == QGemmIsa::kAvx512Vnni && n <= kQGemmNarrowMaxN && qgemm_isa_available(QGemmIsa::kAvx512VnniNarrow))
      isa = QGemmIsa::kAvx512VnniNarrow;
    else if (isa == QGemmIsa::kAvx512Vnni)
      isa = avx512_block_for(n);
  }
  return qgemm_isa_available(isa) ? isa : QGemmIsa::kScalar;
}

size_t corrections_bytes(size_t n_padded) { return round_up(n_padded * sizeof(int32_t), 64); }

// The plain C++ variant: NR = KG = 1, so column n's weights are K
// consecutive bytes. Sums are kept in uint32 so that they wrap (as the
// vector instructions do) instead of overflowing.
template <bool kInt8Output>
void run_scalar(const RunArgs& args) {
  const size_t k_size = args.header->k;
  qgemm::RequantConstants constants{};
  if (kInt8Output) constants = qgemm::requant_constants(*args.requantization);
  const size_t run_bytes = k_size / args.runs;
  for (size_t m = args.m_begin; m < args.m_end; ++m) {
    const int8_t* a_row = args.a + m * args.lda;
    for (size_t n = args.n_begin; n < args.n_end; ++n) {
      const int8_t* b_column = args.weights + n * k_size;
      uint32_t acc = static_cast<uint32_t>(args.corrections[n]);
      for (size_t run = 0; run < args.runs; ++run) {
        const int8_t* a_run = a_row + run * args.run_stride;
        const int8_t* b_run = b_column + run * run_bytes;
        for (size_t k = 0; k < run_bytes; ++k)
          acc += static_cast<uint32_t>(static_cast<int32_t>(a_run[k]) * static_cast<int32_t>(b_run[k]));
      }
      const int32_t sum = static_cast<int32_t>(acc);
      if (kInt8Output)
        static_cast<int8_t*>(args.c)[m * args.ldc + n] =
            qgemm::requantize(sum, args.requantization->scale[n], constants);
      else
        static_cast<int32_t*>(args.c)[m * args.ldc + n] = sum;
    }
  }
}

void run(const void* packed, const int8_t* a, size_t lda, size_t m_begin, size_t m_end, size_t n_begin,
         size_t n_end, void* c, size_t ldc, const QGemmRequantization* requantization, void* scratch,
         const QGemmRowRuns& runs = QGemmRowRuns{}) {
  if (m_begin >= m_end || n_begin >= n_end) return;
  const auto* header = static_cast<const PackedHeader*>(packed);
  const auto* bytes = static_cast<const uint8_t*>(packed);
  RunArgs args;
  args.header = header;
  args.corrections = reinterpret_cast<const int32_t*>(bytes + header->corrections_offset);
  args.weights = reinterpret_cast<const int8_t*>(bytes + header->weights_offset);
  args.a = a;
  args.lda = lda;
  args.m_begin = m_begin;
  args.m_end = m_end;
  args.n_begin = n_begin;
  args.n_end = n_end;
  args.c = c;
  args.ldc = ldc;
  args.requantization = requantization;
  args.scratch = scratch;
  args.runs = runs.count > 1 ? runs.count : 1;
  args.run_stride = runs.stride;
  args.in_place = runs.in_place;
  switch (static_cast<QGemmIsa>(header->isa)) {
#if defined(EDGEGEN_QGEMM_X86)
    case QGemmIsa::kAvx2: return qgemm::run_avx2(args);
    case QGemmIsa::kAvxVnni: return qgemm::run_avxvnni(args);
    case QGemmIsa::kAvx512Vnni: return qgemm::run_avx512vnni(args);
    case QGemmIsa::kAvx512Vnni32: return qgemm::run_avx512vnni32(args);
    case QGemmIsa::kAvx512Vnni16: return qgemm::run_avx512vnni16(args);
    case QGemmIsa::kAvx512VnniNarrow: return qgemm::run_avx512vnni_narrow(args);
#endif
#if defined(EDGEGEN_QGEMM_ARM)
    case QGemmIsa::kNeon: return qgemm::run_neon(args);
#endif
#if defined(EDGEGEN_QGEMM_ARM_DOT)
    case QGemmIsa::kNeonDot: return qgemm::run_neondot(args);
#endif
    default: break;
  }
  if (requantization)
    run_scalar<true>(args);
  else
    run_scalar<false>(args);
}

}  // namespace

const char* qgemm_isa_name(QGemmIsa isa) {
  switch (isa) {
    case QGemmIsa::kScalar: return "scalar";
    case QGemmIsa::kAvx2: return "avx2";
    case QGemmIsa::kAvxVnni: return "avxvnni";
    case QGemmIsa::kAvx512Vnni: return "avx512vnni";
    case QGemmIsa::kNeon: return "neon";
    case QGemmIsa::kNeonDot: return "neondot";
    case QGemmIsa::kAvx512VnniNarrow: return "avx512vnni-narrow";
    case QGemmIsa::kAvx512Vnni16: return "avx512vnni-16";
    case QGemmIsa::kAvx512Vnni32: return "avx512vnni-32";
    case QGemmIsa::kAuto: return "auto";
  }
  return "unknown";
}

bool qgemm_isa_available(QGemmIsa isa) {
  const int index = static_cast<int>(isa);
  return index >= 0 && index < kQGemmIsaCount && availability().available[index];
}

QGemmIsa qgemm_best_isa() { return availability().best; }

QGemmIsa qgemm_auto_isa(size_t n) { return resolve(QGemmIsa::kAuto, n); }

size_t qgemm_packed_bytes(size_t k, size_t n, QGemmIsa isa) {
  const IsaLayout layout = isa_layout(resolve(isa, n));
  const size_t n_padded = round_up(n, layout.n_block);
  const size_t k_padded = round_up(k, layout.k_group);
  return 64 + corrections_bytes(n_padded) + round_up(n_padded * k_padded, 64);
}

size_t qgemm_scratch_bytes(size_t k, QGemmIsa isa) {
  if (isa == QGemmIsa::kAuto) {  // the largest of the variants kAuto may pick, one N of each
    size_t largest = 0;
    for (size_t n : {size_t{1}, kQGemmNarrowMaxN + 1, size_t{17}, size_t{33}, size_t{1} << 20}) {
      const size_t bytes = qgemm_scratch_bytes(k, resolve(isa, n));
      largest = bytes > largest ? bytes : largest;
    }
    return largest;
  }
  const IsaLayout layout = isa_layout(resolve(isa, 1));
  return layout.panel_rows * qgemm::panel_row_bytes(layout, k);
}

void qgemm_pack(const int8_t* weights, QGemmWeightLayout weight_layout, size_t k, size_t n, const int32_t* bias,
                int32_t a_zero_point, void* packed, QGemmIsa isa) {
  isa = resolve(isa, n);
  const IsaLayout layout = isa_layout(isa);
  const size_t nr = layout.n_block, kg = layout.k_group;
  PackedHeader header{};
  header.magic = qgemm::kPackedMagic;
  header.isa = static_cast<uint32_t>(isa);
  header.k = k;
  header.n = n;
  header.k_padded = round_up(k, kg);
  header.n_padded = round_up(n, nr);
  header.corrections_offset = 64;
  header.weights_offset = 64 + corrections_bytes(header.n_padded);
  header.block_bytes = header.k_padded * nr;

  auto* bytes = static_cast<uint8_t*>(packed);
  std::memset(bytes, 0, qgemm_packed_bytes(k, n, isa));
  std::memcpy(bytes, &header, sizeof header);

  // Column sums, then the corrections; uint32 so that they wrap like the sums.
  auto* corrections = reinterpret_cast<int32_t*>(bytes + header.corrections_offset);
  int8_t* blocks = reinterpret_cast<int8_t*>(bytes + header.weights_offset);
  uint32_t* column_sums = reinterpret_cast<uint32_t*>(corrections);
  auto place = [&](size_t kk, size_t nn, int8_t value) {
    blocks[nn / nr * header.block_bytes + (kk / kg) * (nr * kg) + (nn % nr) * kg + kk % kg] = value;
    column_sums[nn] += static_cast<uint32_t>(static_cast<int32_t>(value));
  };
  if (weight_layout == QGemmWeightLayout::kNK) {
    for (size_t nn = 0; nn < n; ++nn)
      for (size_t kk = 0; kk < k; ++kk) place(kk, nn, weights[nn * k + kk]);
  } else {
    for (size_t kk = 0; kk < k; ++kk)
      for (size_t nn = 0; nn < n; ++nn) place(kk, nn, weights[kk * n + nn]);
  }
  // -a_zero_point * sum, and -128 * sum where the kernel adds 128 to every activation.
  const uint32_t sum_factor = static_cast<uint32_t>(-a_zero_point - (layout.unsigned_a ? 128 : 0));
  for (size_t nn = 0; nn < n; ++nn) {
    const uint32_t bias_n = bias ? static_cast<uint32_t>(bias[nn]) : 0u;
    corrections[nn] = static_cast<int32_t>(bias_n + sum_factor * column_sums[nn]);
  }
}

bool qgemm_reads_row_runs(const void* packed) { return qgemm_isa_reads_row_runs(qgemm_packed_isa(packed)); }

bool qgemm_isa_reads_row_runs(QGemmIsa isa) {
  switch (isa) {
    case QGemmIsa::kScalar:
    case QGemmIsa::kAvx2:
    case QGemmIsa::kAvxVnni:
    case QGemmIsa::kNeon:
    case QGemmIsa::kNeonDot:
    case QGemmIsa::kAvx512Vnni:
    case QGemmIsa::kAvx512Vnni16:
    case QGemmIsa::kAvx512Vnni32:
    case QGemmIsa::kAvx512VnniNarrow:
      return true;
    default:
      return false;
  }
}

bool qgemm_reads_runs_in_place(const void* packed, size_t runs) {
  const auto* header = static_cast<const PackedHeader*>(packed);
  const QGemmIsa isa = static_cast<QGemmIsa>(header->isa);
  switch (isa) {
    case QGemmIsa::kAvx512Vnni:
    case QGemmIsa::kAvx512Vnni16:
    case QGemmIsa::kAvx512Vnni32:
    case QGemmIsa::kAvxVnni:
    case QGemmIsa::kNeon:
    case QGemmIsa::kNeonDot:
      break;
    default:
      return false;  // the narrow variant's 64-byte rows, AVX2's int16 panel, plain C++ (no panel)
  }
  const size_t group = isa_layout(isa).k_group;
  return runs > 0 && header->k % runs == 0 && header->k / runs % group == 0;
}

bool qgemm_in_place_unsigned(const void* packed) { return isa_layout(qgemm_packed_isa(packed)).unsigned_a; }

QGemmIsa qgemm_packed_isa(const void* packed) {
  return static_cast<QGemmIsa>(static_cast<const PackedHeader*>(packed)->isa);
}

size_t qgemm_n_block(const void* packed) { return isa_layout(qgemm_packed_isa(packed)).n_block; }

void qgemm_int32(const void* packed, const int8_t* a, size_t lda, size_t m_begin, size_t m_end, size_t n_begin,
                 size_t n_end, int32_t* c, size_t ldc, void* scratch) {
  run(packed, a, lda, m_begin, m_end, n_begin, n_end, c, ldc, nullptr, scratch);
}

void qgemm_int8(const void* packed, const int8_t* a, size_t lda, size_t m_begin, size_t m_end, size_t n_begin,
                size_t n_end, const QGemmRequantization& requantization, int8_t* c, size_t ldc, void* scratch) {
  run(packed, a, lda, m_begin, m_end, n_begin, n_end, c, ldc, &requantization, scratch);
}

void qgemm_int8_runs(const void* packed, const int8_t* a, size_t lda, const QGemmRowRuns& runs, size_t m_begin,
                     size_t m_end, size_t n_begin, size_t n_end, const QGemmRequantization& requantization,
                     int8_t* c, size_t ldc, void* scratch) {
  run(packed, a, lda, m_begin, m_end, n_begin, n_end, c, ldc, &requantization, scratch, runs);
}

}  // namespace simd
}  // namespace edgegen
