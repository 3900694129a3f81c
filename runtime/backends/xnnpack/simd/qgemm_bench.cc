// edgegen_qgemm_bench: first the CPU's multiply-accumulate ceilings
// (mac_ceiling.h: the best int8 / float32 ratio any kernel can reach on
// it), then the throughput of each int8 GEMM variant this CPU runs
// (backends/xnnpack/simd/qgemm.h, int8 output) against XNNPACK's f32 fully
// connected operator on the same shapes, one thread, on products shaped like
// a convolutional decoder's (M = 256 pixels, K = 3 x 3 x C_in, N = C_out),
// and its last layers' (N = 1-16).
//
//   edgegen_qgemm_bench [seconds per measurement, default 0.2]
//
// GOP/s counts 2 * M * K * N operations; each figure is the best of 5
// measurements (the machine may be shared). Not a test: it checks nothing
// but that the variants agree.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "backends/xnnpack/simd/best_of_runs.h"
#include "backends/xnnpack/simd/mac_ceiling.h"
#include "backends/xnnpack/simd/qgemm.h"
#include "platform/cpu_info.h"

#if defined(EDGEGEN_WITH_XNNPACK)
#include <xnnpack.h>
#endif

using namespace edgegen;

namespace {

struct Shape {
  size_t m, k, n;
};

// 64-byte aligned bytes.
class Aligned {
 public:
  explicit Aligned(size_t bytes) : storage_(bytes + 64) {
    const auto address = reinterpret_cast<uintptr_t>(storage_.data());
    data_ = storage_.data() + ((64 - address % 64) % 64);
  }
  uint8_t* data() { return data_; }

 private:
  std::vector<uint8_t> storage_;
  uint8_t* data_;  // into storage_
};

double gops(const Shape& s, double seconds) { return 2.0 * static_cast<double>(s.m * s.k * s.n) / seconds * 1e-9; }

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 0.2;
  // Then an image's last layer (N = 1-3 channels), the N around where
  // the narrow variant stops paying (kQGemmNarrowMaxN), and the N of 16-80
  // with small K of a vocoder's or decoder's last upsampling layers.
  const Shape shapes[] = {{256, 576, 64},   {256, 1152, 128}, {256, 2304, 256}, {256, 4608, 256},
                          {256, 4608, 512}, {4096, 128, 1},   {4096, 512, 3},   {1024, 1152, 4},
                          {1024, 576, 8},   {1024, 576, 12},  {1024, 576, 16},  {4096, 64, 16},
                          {4096, 128, 32},  {1024, 256, 32},  {1024, 576, 48},  {1024, 576, 80}};

  std::vector<simd::QGemmIsa> variants;
  for (int i = 0; i < simd::kQGemmIsaCount; ++i)
    if (simd::qgemm_isa_available(static_cast<simd::QGemmIsa>(i)))
      variants.push_back(static_cast<simd::QGemmIsa>(i));

  const CpuInfo& cpu = cpu_info();
  std::printf("CPU: %s (%s)\n", cpu.known ? cpu.name : "unknown", cpu.isa);

  simd::MacCeiling ceilings[8];
  const size_t ceiling_count = simd::measure_mac_ceilings(ceilings, 8, seconds);
  if (ceiling_count > 0) {
    std::printf("\nceiling, one thread: multiply-accumulates per ns of each instruction form alone\n");
    double best_f32 = 0., best_int8 = 0.;
    for (size_t i = 0; i < ceiling_count; ++i) {
      std::printf("  %-8s %-44s %7.1f\n", ceilings[i].precision, ceilings[i].instruction, ceilings[i].macs_per_ns);
      double& best = ceilings[i].precision[0] == 'f' ? best_f32 : best_int8;
      if (ceilings[i].macs_per_ns > best) best = ceilings[i].macs_per_ns;
    }
    if (best_f32 > 0.)
      std::printf("  int8 / float32 ceiling: %.2fx (no int8 kernel on this CPU can beat float32 by more)\n",
                  best_int8 / best_f32);
    std::printf("\n");
  }
  std::printf("one thread; GOP/s = 2*M*K*N / time, best of 5; int8 variants with int8 output (fp32 requantization)\n\n");
  std::printf("%-18s %10s", "M x K x N", "f32 xnnpack");
  for (simd::QGemmIsa isa : variants) std::printf(" %12s %6s", simd::qgemm_isa_name(isa), "ratio");
  std::printf("\n");

#if defined(EDGEGEN_WITH_XNNPACK)
  if (xnn_initialize(nullptr) != xnn_status_success) {
    std::fprintf(stderr, "xnn_initialize failed\n");
    return 1;
  }
#endif

  std::mt19937 rng(1);
  std::uniform_int_distribution<int> byte(-128, 127);
  std::uniform_real_distribution<float> real(-1.f, 1.f);
  for (const Shape& s : shapes) {
    std::vector<int8_t> a(s.m * s.k), weights(s.n * s.k);  // weights [N, K]
    std::vector<int32_t> bias(s.n);
    std::vector<float> scale(s.n, 1.f / 4096.f);
    for (auto& v : a) v = static_cast<int8_t>(byte(rng));
    for (auto& v : weights) v = static_cast<int8_t>(byte(rng));
    for (auto& v : bias) v = byte(rng) * 64;
    char label[32];
    std::snprintf(label, sizeof label, "%zux%zux%zu", s.m, s.k, s.n);
    std::printf("%-18s", label);

    double f32_gops = 0.;
#if defined(EDGEGEN_WITH_XNNPACK)
    {
      std::vector<float> input(s.m * s.k), kernel(s.n * s.k), f32_bias(s.n), output(s.m * s.n);
      for (auto& v : input) v = real(rng);
      for (auto& v : kernel) v = real(rng);
      for (auto& v : f32_bias) v = real(rng);
      xnn_operator_t op = nullptr;
      if (xnn_create_fully_connected_nc_f32(s.k, s.n, s.k, s.n, kernel.data(), f32_bias.data(), -1e30f, 1e30f, 0,
                                            &op) != xnn_status_success ||
          xnn_setup_fully_connected_nc_f32(op, s.m, input.data(), output.data(), nullptr) != xnn_status_success) {
        std::fprintf(stderr, "XNNPACK's f32 fully connected operator failed\n");
        return 1;
      }
      f32_gops = gops(s, simd::best_seconds_per_call([&] { xnn_run_operator(op, nullptr); }, seconds));
      xnn_delete_operator(op);
    }
#endif
    std::printf(" %10.1f", f32_gops);

    std::vector<int8_t> first_output;
    for (simd::QGemmIsa isa : variants) {
      Aligned packed(simd::qgemm_packed_bytes(s.k, s.n, isa));
      Aligned scratch(simd::qgemm_scratch_bytes(s.k, isa));
      simd::qgemm_pack(weights.data(), simd::QGemmWeightLayout::kNK, s.k, s.n, bias.data(), 3, packed.data(), isa);
      simd::QGemmRequantization requantization;
      requantization.scale = scale.data();
      std::vector<int8_t> c(s.m * s.n);
      const double variant_gops = gops(s, simd::best_seconds_per_call(
                                              [&] {
                                                simd::qgemm_int8(packed.data(), a.data(), s.k, 0, s.m, 0, s.n,
                                                                 requantization, c.data(), s.n, scratch.data());
                                              },
                                              seconds));
      if (first_output.empty()) first_output = c;
      if (c != first_output) {
        std::fprintf(stderr, "\n%s disagrees with %s\n", simd::qgemm_isa_name(isa), simd::qgemm_isa_name(variants[0]));
        return 1;
      }
      std::printf(" %12.1f %5.2fx", variant_gops, f32_gops > 0. ? variant_gops / f32_gops : 0.);
    }
    std::printf("\n");
    std::fflush(stdout);
  }
  return 0;
}
