#include "converter/quantize/fp16_weights.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <set>
#include <utility>

#include "converter/converter.h"
#include "kernels/kernel_util.h"

namespace edgegen::converter {

uint16_t float16_weight(float value, const std::string& where) {
  // float_to_half is the runtime's own (Cast uses it): round to nearest even,
  // subnormals, overflow to infinity, NaN kept quiet.
  const uint16_t half = float_to_half(value);
  if (std::isfinite(value) && (half & 0x7fffu) == 0x7c00u) {
    char number[32];
    std::snprintf(number, sizeof number, "%g", static_cast<double>(value));
    throw ConversionError("--weights fp16: " + where + " holds " + number +
                          ", beyond float16's largest finite value 65504; convert without --weights fp16");
  }
  return half;
}

Float16WeightsReport store_float16_weights(std::vector<IrGraph>& graphs) {
  Float16WeightsReport report;
  // The file stores identical constants once (a flow's forward and inverse
  // graphs share their weights): count them once too, by size and hash.
  std::set<std::pair<size_t, uint64_t>> counted;
  auto first_time = [&counted](const std::vector<uint8_t>& data) {
    uint64_t hash = 1469598103934665603ull;
    for (uint8_t byte : data) hash = (hash ^ byte) * 1099511628211ull;
    return counted.insert({data.size(), hash}).second;
  };
  for (IrGraph& graph : graphs) {
    for (IrTensor& tensor : graph.tensors) {
      if (!tensor.is_constant || tensor.dtype != DType::kFloat32) continue;
      const int64_t elements = tensor.num_elements();
      const bool counts = first_time(tensor.data);
      if (elements < kMinFloat16Elements) {
        report.kept_float32 += counts;
        continue;
      }
      std::vector<uint8_t> halves(static_cast<size_t>(elements) * sizeof(uint16_t));
      for (int64_t i = 0; i < elements; ++i) {
        float value;
        std::memcpy(&value, tensor.data.data() + i * sizeof(float), sizeof value);
        const uint16_t half = float16_weight(value, "graph '" + graph.name + "': constant '" + tensor.name + "'");
        std::memcpy(halves.data() + i * sizeof(uint16_t), &half, sizeof half);
        if (std::isnormal(value) && std::fabs(value) >= 6.103515625e-05f) {  // float16's normal range
          const double error = std::fabs(static_cast<double>(half_to_float(half)) - value) / std::fabs(value);
          if (error > report.max_relative_error) report.max_relative_error = error;
        }
      }
      if (counts) {
        report.float32_bytes += tensor.data.size();
        report.float16_bytes += halves.size();
        ++report.converted;
      }
      tensor.dtype = DType::kFloat16;
      tensor.data = std::move(halves);
    }
  }
  return report;
}

}  // namespace edgegen::converter
