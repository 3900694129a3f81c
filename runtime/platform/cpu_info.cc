#include "platform/cpu_info.h"

#include <cstdio>
#include <cstring>

#if defined(EDGEGEN_WITH_XNNPACK)
#include <cpuinfo.h>
#endif

namespace edgegen {

namespace {

void append(char* buffer, size_t capacity, const char* feature) {
  size_t used = std::strlen(buffer);
  std::snprintf(buffer + used, capacity - used, "%s%s", used ? " " : "", feature);
}

CpuInfo detect() {
  CpuInfo info;
#if defined(EDGEGEN_WITH_XNNPACK)
  if (!cpuinfo_initialize()) return info;
  info.known = true;
  if (const cpuinfo_package* package = cpuinfo_get_package(0))
    std::snprintf(info.name, sizeof info.name, "%s", package->name);
  info.logical_processors = cpuinfo_get_processors_count();
  info.cores = cpuinfo_get_cores_count();
  // Performance cores: the clusters of the most capable microarchitecture.
  // On big.LITTLE parts cpuinfo lists clusters by descending performance
  // when it can tell; frequencies break ties where the kernel reports them.
  uint64_t best_frequency = 0;
  for (uint32_t c = 0; c < cpuinfo_get_clusters_count(); ++c)
    if (cpuinfo_get_cluster(c)->frequency > best_frequency) best_frequency = cpuinfo_get_cluster(c)->frequency;
  for (uint32_t c = 0; c < cpuinfo_get_clusters_count(); ++c)
    if (best_frequency == 0 || cpuinfo_get_cluster(c)->frequency == best_frequency)
      info.performance_cores += cpuinfo_get_cluster(c)->core_count;
  if (info.performance_cores == 0) info.performance_cores = info.cores;
  if (cpuinfo_get_l1d_caches_count()) info.l1d_bytes = cpuinfo_get_l1d_cache(0)->size;
  if (cpuinfo_get_l2_caches_count()) info.l2_bytes = cpuinfo_get_l2_cache(0)->size;
  if (cpuinfo_get_l3_caches_count()) info.l3_bytes = cpuinfo_get_l3_cache(0)->size;
#if defined(__x86_64__) || defined(__i386__)
  const struct {
    bool present;
    const char* name;
  } features[] = {
      {cpuinfo_has_x86_sse4_2(), "sse4_2"},       {cpuinfo_has_x86_avx(), "avx"},
      {cpuinfo_has_x86_avx2(), "avx2"},           {cpuinfo_has_x86_fma3(), "fma"},
      {cpuinfo_has_x86_f16c(), "f16c"},           {cpuinfo_has_x86_avx512f(), "avx512f"},
      {cpuinfo_has_x86_avx512bw(), "avx512bw"},   {cpuinfo_has_x86_avx512vnni(), "avx512vnni"},
  };
  for (const auto& feature : features)
    if (feature.present) append(info.isa, sizeof info.isa, feature.name);
  info.vector_floats = cpuinfo_has_x86_avx512f() ? 16 : (cpuinfo_has_x86_avx() ? 8 : 4);
  info.fma = cpuinfo_has_x86_fma3();
#elif defined(__aarch64__) || defined(__arm__)
  const struct {
    bool present;
    const char* name;
  } features[] = {
      {cpuinfo_has_arm_neon(), "neon"},
      {cpuinfo_has_arm_neon_fma(), "neon-fma"},
      {cpuinfo_has_arm_neon_fp16_arith(), "fp16arith"},
      {cpuinfo_has_arm_neon_dot(), "dotprod"},
      {cpuinfo_has_arm_sve(), "sve"},
  };
  for (const auto& feature : features)
    if (feature.present) append(info.isa, sizeof info.isa, feature.name);
  info.vector_floats = cpuinfo_has_arm_neon() ? 4 : 1;
  info.fma = cpuinfo_has_arm_neon_fma();
#endif
#endif
  return info;
}

}  // namespace

const CpuInfo& cpu_info() {
  static const CpuInfo info = detect();
  return info;
}

int default_thread_count() {
  const CpuInfo& info = cpu_info();
  return info.performance_cores > 0 ? static_cast<int>(info.performance_cores) : 1;
}

}  // namespace edgegen
