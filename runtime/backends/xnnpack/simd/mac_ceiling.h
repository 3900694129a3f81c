// The multiply-accumulate ceiling of one core: how many float32 and int8
// products per second the CPU's best vector instructions retire when
// nothing but them runs (independent accumulator chains, operands in
// registers). No GEMM can beat it; its int8 / float32 ratio bounds the
// speed-up int8 can give over float32 on a compute-bound model on this CPU
// (bench only: edgegen_qgemm_bench prints it above its GEMM figures).
#pragma once

#include <cstddef>

namespace edgegen {
namespace simd {

struct MacCeiling {
  const char* instruction;  // e.g. "vfmadd231ps ymm"
  const char* precision;    // "float32" or "int8"
  double macs_per_ns;       // products (multiply + add) per nanosecond, one thread
};

// Measures every instruction form this CPU has (x86: FMA on ymm/zmm, AVX2
// vpmaddwd, vpmaddubsw + vpmaddwd, AVX-VNNI / AVX512-VNNI vpdpbusd) for
// about `seconds` each, best of 5; writes at most `capacity` entries and
// returns how many. 0 on CPUs without the x86 forms (nothing is measured).
size_t measure_mac_ceilings(MacCeiling* out, size_t capacity, double seconds);

}  // namespace simd
}  // namespace edgegen
