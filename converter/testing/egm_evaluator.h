// Runs one graph of a .egm file with the runtime (verified load, prepare,
// run) on host tensors. For converter tests and the ONNX sweep: uses the
// heap and throws std::runtime_error.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "edgegen/tensor.h"

namespace edgegen::converter::testing {

struct HostTensor {
  std::string name;
  DType dtype = DType::kFloat32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;
};

// Runs graph `graph_index` of `file` on `inputs` (in graph input order) and
// returns its outputs (in graph output order).
std::vector<HostTensor> run_egm_graph(const std::vector<uint8_t>& file, size_t graph_index,
                                      const std::vector<HostTensor>& inputs);

}  // namespace edgegen::converter::testing
