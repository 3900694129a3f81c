// The "flow" manifest kind: a normalizing flow's forward and inverse graphs.
//
//   {"kind": "flow", "graphs": {"forward": "f.onnx", "inverse": "i.onnx"},
//    "outputs": {"z": "z", "logdet": "logdet"}, "event_shape": [64],
//    "base": "normal", "preprocess": {"dequantize_scale": 256, "logit_alpha": 0.05}}
//
// "inverse" is optional (without it the model scores but cannot sample).
// "outputs" names the forward outputs holding z and log|det J| (defaults:
// outputs 0 and 1). "preprocess" declares what the runtime applies to data
// before the forward graph (and undoes after the inverse): x -> x / scale,
// then x -> logit(alpha + (1 - 2 alpha) x); the Jacobian of both is added to
// the score, so log-densities are in the data's own units.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

#include "converter/egm_writer.h"
#include "converter/ir.h"

namespace edgegen::converter {

struct Manifest;

struct FlowManifest {
  std::vector<int64_t> event_shape;
  std::string base = "normal";  // "normal" | "logistic"
  std::string z_output;         // forward output names; empty = by position
  std::string logdet_output;
  float dequantize_scale = 0.f;  // 0 = none
  float logit_alpha = -1.f;      // < 0 = none
};

// Fills manifest->graphs and manifest->flow from the parsed JSON `root` of
// the manifest at `path` (whose kind is "flow"). Throws ConversionError.
void read_flow_manifest(const std::string& path, const nlohmann::json& root, Manifest* manifest);

// The FlowPipeline table over the converted graphs (manifest.graphs order):
// checks that the forward graph maps [batch, event] to z of the same shape
// and a per-item log-determinant, and that the inverse maps z back.
PipelineWriter make_flow_pipeline(const Manifest& manifest, const std::vector<IrGraph>& graphs);

}  // namespace edgegen::converter
