// The "energy" manifest kind: a score network s(x[, sigma]) = grad log p
// sampled by annealed Langevin dynamics, and optionally an energy graph
// E(x) used as an anomaly score.
//
//   {"kind": "energy", "graphs": {"score": "s.onnx", "energy": "e.onnx"},
//    "event_shape": [2], "noise_levels": [1.0, 0.5, 0.1], "step_size": 2e-5,
//    "steps_per_level": 100, "sigma_input": "sigma"}
//
// "energy" is optional; "sigma_input" names the score graph's noise-level
// input of a noise-conditional network (omit it for a single input).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

#include "converter/egm_writer.h"
#include "converter/ir.h"

namespace edgegen::converter {

struct Manifest;

struct EnergyManifest {
  std::vector<int64_t> event_shape;
  std::vector<float> noise_levels;
  float step_size = 2e-5f;
  uint32_t steps_per_level = 100;
  std::string sigma_input;
};

void read_energy_manifest(const std::string& path, const nlohmann::json& root, Manifest* manifest);
PipelineWriter make_energy_pipeline(const Manifest& manifest, const std::vector<IrGraph>& graphs);

}  // namespace edgegen::converter
