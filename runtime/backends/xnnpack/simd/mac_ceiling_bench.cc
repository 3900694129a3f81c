// The multiply-accumulate ceiling of one core (mac_ceiling.h): loops of
// independent accumulator chains, enough of them to cover each
// instruction's latency, operands in registers, no loads. Bench only: built
// into edgegen_qgemm_bench, not into the runtime.
#include "backends/xnnpack/simd/mac_ceiling.h"

#include "backends/xnnpack/simd/best_of_runs.h"
#include "backends/xnnpack/simd/qgemm.h"

#if defined(__x86_64__) && defined(EDGEGEN_WITH_XNNPACK)
#include <cpuinfo.h>
#include <immintrin.h>
#define EDGEGEN_MAC_CEILING_X86 1
#endif

namespace edgegen {
namespace simd {

#if defined(EDGEGEN_MAC_CEILING_X86)
namespace {

constexpr int kIterations = 4096;

// Every kernel runs independent chains of kIterations instructions (or
// instruction groups) and folds them into one value that it stores, so
// that the compiler keeps all of them. Returns the products performed.
//
// The multiply-adds with an accumulator operand: 12 chains > latency (4-5
// cycles) x ports (2), so the loop runs at the instruction's throughput.
#define EDGEGEN_REPEAT12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

__attribute__((target("avx2,fma"), noinline)) double fma_ymm(float* sink) {
  __m256 a = _mm256_set1_ps(1.0001f), b = _mm256_set1_ps(0.9999f);
#define DECLARE(i) __m256 acc##i = _mm256_set1_ps(static_cast<float>(i));
  EDGEGEN_REPEAT12(DECLARE)
#undef DECLARE
  for (int i = 0; i < kIterations; ++i) {
#define STEP(i) acc##i = _mm256_fmadd_ps(a, acc##i, b);
    EDGEGEN_REPEAT12(STEP)
#undef STEP
    __asm__ volatile("" : "+x"(a), "+x"(b));  // not loop-invariant: no hoisting
  }
  __m256 total = _mm256_setzero_ps();
#define FOLD(i) total = _mm256_add_ps(total, acc##i);
  EDGEGEN_REPEAT12(FOLD)
#undef FOLD
  *sink += _mm256_cvtss_f32(total);
  return 12.0 * kIterations * 8;
}

__attribute__((target("avx512f"), noinline)) double fma_zmm(float* sink) {
  __m512 a = _mm512_set1_ps(1.0001f), b = _mm512_set1_ps(0.9999f);
#define DECLARE(i) __m512 acc##i = _mm512_set1_ps(static_cast<float>(i));
  EDGEGEN_REPEAT12(DECLARE)
#undef DECLARE
  for (int i = 0; i < kIterations; ++i) {
#define STEP(i) acc##i = _mm512_fmadd_ps(a, acc##i, b);
    EDGEGEN_REPEAT12(STEP)
#undef STEP
    __asm__ volatile("" : "+v"(a), "+v"(b));
  }
  __m512 total = _mm512_setzero_ps();
#define FOLD(i) total = _mm512_add_ps(total, acc##i);
  EDGEGEN_REPEAT12(FOLD)
#undef FOLD
  *sink += _mm512_reduce_add_ps(total);
  return 12.0 * kIterations * 16;
}

// Exact int8 on AVX2 (what qgemm_avx2.cc and XNNPACK's qs8 kernels do):
// bytes widened to int16, vpmaddwd = 16 products, vpaddd accumulates. The
// multiplies must differ between chains (identical ones would be computed
// once), so each of 6 chains multiplies its own running product (ymm1-6)
// and adds it to its own sum (ymm7-12). Assembly: GCC spills and copies
// these registers inside the loop.
__attribute__((target("avx2"), noinline)) double maddwd_ymm(float* sink) {
  int result = 0;
  __asm__ volatile(
      "vpcmpeqd %%ymm0, %%ymm0, %%ymm0\n"
      "vpsrlw $14, %%ymm0, %%ymm0\n"  // b = 3 in every int16 lane
      "vmovdqa %%ymm0, %%ymm1\n vmovdqa %%ymm0, %%ymm2\n vmovdqa %%ymm0, %%ymm3\n"
      "vmovdqa %%ymm0, %%ymm4\n vmovdqa %%ymm0, %%ymm5\n vmovdqa %%ymm0, %%ymm6\n"
      "vpxor %%ymm7, %%ymm7, %%ymm7\n vpxor %%ymm8, %%ymm8, %%ymm8\n vpxor %%ymm9, %%ymm9, %%ymm9\n"
      "vpxor %%ymm10, %%ymm10, %%ymm10\n vpxor %%ymm11, %%ymm11, %%ymm11\n vpxor %%ymm12, %%ymm12, %%ymm12\n"
      "mov %1, %%ecx\n"
      "1:\n"
      "vpmaddwd %%ymm0, %%ymm1, %%ymm1\n vpaddd %%ymm1, %%ymm7, %%ymm7\n"
      "vpmaddwd %%ymm0, %%ymm2, %%ymm2\n vpaddd %%ymm2, %%ymm8, %%ymm8\n"
      "vpmaddwd %%ymm0, %%ymm3, %%ymm3\n vpaddd %%ymm3, %%ymm9, %%ymm9\n"
      "vpmaddwd %%ymm0, %%ymm4, %%ymm4\n vpaddd %%ymm4, %%ymm10, %%ymm10\n"
      "vpmaddwd %%ymm0, %%ymm5, %%ymm5\n vpaddd %%ymm5, %%ymm11, %%ymm11\n"
      "vpmaddwd %%ymm0, %%ymm6, %%ymm6\n vpaddd %%ymm6, %%ymm12, %%ymm12\n"
      "dec %%ecx\n jnz 1b\n"
      "vpaddd %%ymm7, %%ymm8, %%ymm7\n vpaddd %%ymm9, %%ymm10, %%ymm9\n vpaddd %%ymm11, %%ymm12, %%ymm11\n"
      "vpaddd %%ymm7, %%ymm9, %%ymm7\n vpaddd %%ymm7, %%ymm11, %%ymm7\n"
      "vmovd %%xmm7, %0\n"
      "vzeroupper\n"
      : "=r"(result)
      : "i"(kIterations)
      : "ecx", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
        "xmm12", "cc");
  *sink += static_cast<float>(result);
  return 6.0 * kIterations * 16;
}

// The densest AVX2 form, which saturates its int16 pair sums (so exact
// kernels avoid it): vpmaddubsw = 32 products, vpmaddwd by ones widens
// them, vpaddd accumulates. 5 chains: x (ymm1-5) through vpmaddubsw, its
// widened copy (ymm13-14 in turn) into the sums (ymm7-11).
__attribute__((target("avx2"), noinline)) double maddubsw_ymm(float* sink) {
  int result = 0;
  __asm__ volatile(
      "vpcmpeqd %%ymm0, %%ymm0, %%ymm0\n"
      "vpsrlw $15, %%ymm0, %%ymm6\n"  // ones: 1 in every int16 lane
      "vpabsb %%ymm0, %%ymm0\n"       // b = 1 in every byte
      "vmovdqa %%ymm0, %%ymm1\n vmovdqa %%ymm0, %%ymm2\n vmovdqa %%ymm0, %%ymm3\n"
      "vmovdqa %%ymm0, %%ymm4\n vmovdqa %%ymm0, %%ymm5\n"
      "vpxor %%ymm7, %%ymm7, %%ymm7\n vpxor %%ymm8, %%ymm8, %%ymm8\n vpxor %%ymm9, %%ymm9, %%ymm9\n"
      "vpxor %%ymm10, %%ymm10, %%ymm10\n vpxor %%ymm11, %%ymm11, %%ymm11\n"
      "mov %1, %%ecx\n"
      "1:\n"
      "vpmaddubsw %%ymm0, %%ymm1, %%ymm1\n vpmaddwd %%ymm6, %%ymm1, %%ymm13\n vpaddd %%ymm13, %%ymm7, %%ymm7\n"
      "vpmaddubsw %%ymm0, %%ymm2, %%ymm2\n vpmaddwd %%ymm6, %%ymm2, %%ymm14\n vpaddd %%ymm14, %%ymm8, %%ymm8\n"
      "vpmaddubsw %%ymm0, %%ymm3, %%ymm3\n vpmaddwd %%ymm6, %%ymm3, %%ymm13\n vpaddd %%ymm13, %%ymm9, %%ymm9\n"
      "vpmaddubsw %%ymm0, %%ymm4, %%ymm4\n vpmaddwd %%ymm6, %%ymm4, %%ymm14\n vpaddd %%ymm14, %%ymm10, %%ymm10\n"
      "vpmaddubsw %%ymm0, %%ymm5, %%ymm5\n vpmaddwd %%ymm6, %%ymm5, %%ymm13\n vpaddd %%ymm13, %%ymm11, %%ymm11\n"
      "dec %%ecx\n jnz 1b\n"
      "vpaddd %%ymm7, %%ymm8, %%ymm7\n vpaddd %%ymm9, %%ymm10, %%ymm9\n vpaddd %%ymm7, %%ymm11, %%ymm7\n"
      "vpaddd %%ymm7, %%ymm9, %%ymm7\n"
      "vmovd %%xmm7, %0\n"
      "vzeroupper\n"
      : "=r"(result)
      : "i"(kIterations)
      : "ecx", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
        "xmm13", "xmm14", "cc");
  *sink += static_cast<float>(result);
  return 5.0 * kIterations * 32;
}

__attribute__((target("avx2,avxvnni"), noinline)) double dpbusd_ymm(float* sink) {
  __m256i a = _mm256_set1_epi8(3), b = _mm256_set1_epi8(-5);
#define DECLARE(i) __m256i acc##i = _mm256_set1_epi32(i);
  EDGEGEN_REPEAT12(DECLARE)
#undef DECLARE
  for (int i = 0; i < kIterations; ++i) {
#define STEP(i) acc##i = _mm256_dpbusd_avx_epi32(acc##i, a, b);
    EDGEGEN_REPEAT12(STEP)
#undef STEP
    __asm__ volatile("" : "+x"(a), "+x"(b));
  }
  __m256i total = _mm256_setzero_si256();
#define FOLD(i) total = _mm256_add_epi32(total, acc##i);
  EDGEGEN_REPEAT12(FOLD)
#undef FOLD
  *sink += static_cast<float>(_mm256_extract_epi32(total, 0));
  return 12.0 * kIterations * 32;
}

__attribute__((target("avx512f,avx512bw,avx512vnni"), noinline)) double dpbusd_zmm(float* sink) {
  __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-5);
#define DECLARE(i) __m512i acc##i = _mm512_set1_epi32(i);
  EDGEGEN_REPEAT12(DECLARE)
#undef DECLARE
  for (int i = 0; i < kIterations; ++i) {
#define STEP(i) acc##i = _mm512_dpbusd_epi32(acc##i, a, b);
    EDGEGEN_REPEAT12(STEP)
#undef STEP
    __asm__ volatile("" : "+v"(a), "+v"(b));
  }
  __m512i total = _mm512_setzero_si512();
#define FOLD(i) total = _mm512_add_epi32(total, acc##i);
  EDGEGEN_REPEAT12(FOLD)
#undef FOLD
  *sink += static_cast<float>(_mm512_reduce_add_epi32(total));
  return 12.0 * kIterations * 64;
}

#undef EDGEGEN_REPEAT12

// Best products per nanosecond: each kernel call performs the same products.
double best_rate(double (*kernel)(float*), double seconds) {
  float sink = 0.f;
  const double products = kernel(&sink);
  const double per_call = best_seconds_per_call([&] { kernel(&sink); }, seconds);
  __asm__ volatile("" : : "r"(sink));
  return products / (per_call * 1e9);
}

}  // namespace

size_t measure_mac_ceilings(MacCeiling* out, size_t capacity, double seconds) {
  if (!cpuinfo_initialize()) return 0;
  struct Form {
    bool available;
    const char* instruction;
    const char* precision;
    double (*kernel)(float*);
  };
  const bool avx512 = cpuinfo_has_x86_avx512f();
  const Form forms[] = {
      {cpuinfo_has_x86_fma3(), "vfmadd231ps ymm", "float32", fma_ymm},
      {avx512, "vfmadd231ps zmm", "float32", fma_zmm},
      {cpuinfo_has_x86_avx2(), "vpmaddwd+vpaddd ymm (exact)", "int8", maddwd_ymm},
      {cpuinfo_has_x86_avx2(), "vpmaddubsw+vpmaddwd+vpaddd ymm (saturating)", "int8", maddubsw_ymm},
      {qgemm_isa_available(QGemmIsa::kAvxVnni), "vpdpbusd ymm (AVX-VNNI)", "int8", dpbusd_ymm},
      {qgemm_isa_available(QGemmIsa::kAvx512Vnni), "vpdpbusd zmm (AVX512-VNNI)", "int8", dpbusd_zmm},
  };
  size_t count = 0;
  for (const Form& form : forms) {
    if (!form.available || count == capacity) continue;
    out[count++] = MacCeiling{form.instruction, form.precision, best_rate(form.kernel, seconds)};
  }
  return count;
}

#else

size_t measure_mac_ceilings(MacCeiling*, size_t, double) { return 0; }

#endif

}  // namespace simd
}  // namespace edgegen
