// The machine's single-core fp32 peak, measured: a loop of independent
// fused multiply-adds at the widest vector width cpuinfo reports, timed.
// The benchmark states achieved GFLOP/s as a fraction of it.
#pragma once

#include <string>

namespace edgegen::cli {

struct CpuPeak {
  double clock_ghz = 0;          // from a chain of dependent integer adds (1 per cycle)
  double fp32_gflops = 0;        // measured, one core
  double flops_per_cycle = 0;    // fp32_gflops / clock_ghz
  std::string kernel;            // which vector loop measured it
};

// Takes ~0.2 s; the result is cached for the process.
const CpuPeak& measure_cpu_peak();

// `edgegen info --cpu`: cpuinfo's description plus the measured peak.
std::string cpu_report(bool json);

}  // namespace edgegen::cli
