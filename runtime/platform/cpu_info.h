// The processor the runtime runs on, from cpuinfo (when the build links it):
// what `edgegen info --cpu` prints and what the default thread count and
// the benchmark's peak estimate are based on.
#pragma once

#include <cstddef>
#include <cstdint>

namespace edgegen {

struct CpuInfo {
  bool known = false;        // false: built without cpuinfo, or it failed
  char name[64] = {};
  uint32_t logical_processors = 0;
  uint32_t cores = 0;
  uint32_t performance_cores = 0;  // cores of the fastest cluster(s)
  uint32_t l1d_bytes = 0, l2_bytes = 0, l3_bytes = 0;
  // The widest fp32 vector unit XNNPACK and our kernels use, in floats
  // (16: AVX-512, 8: AVX2/AVX, 4: SSE/NEON), and whether it has FMA.
  uint32_t vector_floats = 1;
  bool fma = false;
  char isa[160] = {};  // space-separated features, e.g. "avx2 fma avx512f avx512vnni"
};

const CpuInfo& cpu_info();

// Threads when the caller asks for 0: the number of performance cores (at least 1).
int default_thread_count();

}  // namespace edgegen
