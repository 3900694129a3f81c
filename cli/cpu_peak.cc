#include "cpu_peak.h"

#include <chrono>
#include <cstdint>
#include <sstream>

#include <nlohmann/json.hpp>

#include "platform/cpu_info.h"

namespace edgegen::cli {
namespace {

using Clock = std::chrono::steady_clock;

// 12 independent accumulators cover FMA latency (4 cycles) x 2 ports with
// room. A macro, not a template: the body must be compiled inside each
// target-attributed function to use that ISA.
#define EG_FMA_LOOP(Vector)                                                              \
  Vector acc[12];                                                                        \
  for (int i = 0; i < 12; ++i) acc[i] = Vector{} + scale * static_cast<float>(i + 1);    \
  const Vector a = Vector{} + 0.999999f, b = Vector{} + 1e-7f;                           \
  for (long n = 0; n < iterations; ++n)                                                  \
    for (int i = 0; i < 12; ++i) acc[i] = acc[i] * a + b;                                \
  float sum = 0;                                                                         \
  for (int i = 0; i < 12; ++i) sum += acc[i][0];                                         \
  return sum;

typedef float Vec4 __attribute__((vector_size(16)));
#if defined(__x86_64__)
typedef float Vec8 __attribute__((vector_size(32)));
typedef float Vec16 __attribute__((vector_size(64)));
__attribute__((target("avx512f,fma"))) double fma_avx512(long iterations, float scale) { EG_FMA_LOOP(Vec16) }
__attribute__((target("avx2,fma"))) double fma_avx2(long iterations, float scale) { EG_FMA_LOOP(Vec8) }
#endif
double fma_baseline(long iterations, float scale) { EG_FMA_LOOP(Vec4) }

double seconds_of(double (*loop)(long, float), long iterations) {
  Clock::time_point start = Clock::now();
  volatile double sink = loop(iterations, 1.f);
  (void)sink;
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double measure_clock_ghz() {
  const long iterations = 100000000;
  uint64_t x = 1;
  Clock::time_point start = Clock::now();
  for (long i = 0; i < iterations; ++i) {
    x += static_cast<uint64_t>(i);
    asm volatile("" : "+r"(x));  // one dependent add per iteration
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return iterations / seconds / 1e9;
}

CpuPeak measure() {
  CpuPeak peak;
  double (*loop)(long, float) = fma_baseline;
  int lanes = 4;
  peak.kernel = "4-wide";
#if defined(__x86_64__)
  const CpuInfo& cpu = cpu_info();
  if (cpu.vector_floats >= 16 && cpu.fma) loop = fma_avx512, lanes = 16, peak.kernel = "avx512f fma";
  else if (cpu.vector_floats >= 8 && cpu.fma) loop = fma_avx2, lanes = 8, peak.kernel = "avx2 fma";
#elif defined(__aarch64__)
  peak.kernel = "neon fma";
#endif
  // Best of a few short runs: the machine may be shared.
  const long iterations = 2000000;
  double best = 1e30;
  for (int run = 0; run < 5; ++run) best = std::min(best, seconds_of(loop, iterations));
  peak.fp32_gflops = iterations * 12.0 * lanes * 2 / best / 1e9;
  double clock = 0;
  for (int run = 0; run < 3; ++run) clock = std::max(clock, measure_clock_ghz());
  peak.clock_ghz = clock;
  peak.flops_per_cycle = clock > 0 ? peak.fp32_gflops / clock : 0;
  return peak;
}

}  // namespace

const CpuPeak& measure_cpu_peak() {
  static const CpuPeak peak = measure();
  return peak;
}

std::string cpu_report(bool json) {
  const CpuInfo& cpu = cpu_info();
  const CpuPeak& peak = measure_cpu_peak();
  if (json) {
    nlohmann::ordered_json j;
    j["name"] = cpu.name;
    j["known"] = cpu.known;
    j["logical_processors"] = cpu.logical_processors;
    j["cores"] = cpu.cores;
    j["performance_cores"] = cpu.performance_cores;
    j["isa"] = cpu.isa;
    j["l1d_bytes"] = cpu.l1d_bytes;
    j["l2_bytes"] = cpu.l2_bytes;
    j["l3_bytes"] = cpu.l3_bytes;
    j["default_threads"] = default_thread_count();
    j["measured_clock_ghz"] = peak.clock_ghz;
    j["measured_fp32_peak_gflops_per_core"] = peak.fp32_gflops;
    j["fp32_flops_per_cycle"] = peak.flops_per_cycle;
    j["peak_kernel"] = peak.kernel;
    return j.dump(2) + "\n";
  }
  std::ostringstream out;
  out << "cpu: " << (cpu.known ? cpu.name : "unknown (built without cpuinfo)") << "\n";
  out << "  " << cpu.cores << " cores (" << cpu.performance_cores << " performance), " << cpu.logical_processors
      << " logical processors; default threads: " << default_thread_count() << "\n";
  out << "  isa: " << (cpu.isa[0] ? cpu.isa : "-") << "\n";
  out << "  caches: L1d " << cpu.l1d_bytes / 1024 << " KiB, L2 " << cpu.l2_bytes / 1024 << " KiB, L3 "
      << cpu.l3_bytes / 1024 << " KiB\n";
  char line[200];
  std::snprintf(line, sizeof line,
                "  measured: clock %.2f GHz, fp32 peak %.1f GFLOP/s per core (%s, %.0f FLOP/cycle)\n",
                peak.clock_ghz, peak.fp32_gflops, peak.kernel.c_str(), peak.flops_per_cycle);
  out << line;
  return out.str();
}

}  // namespace edgegen::cli
