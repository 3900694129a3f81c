// The "autoregressive" manifest kind: one graph whose single pass gives every
// conditional p(x_d | x_<d) (MADE, PixelCNN), in the natural order of the
// flattened event.
//
//   {"kind": "autoregressive", "graphs": {"conditionals": "made.onnx"},
//    "event_shape": [64], "distribution": "bernoulli" | "categorical" | "gaussian",
//    "categories": 17}
//
// The graph maps x [batch, event...] to, per item: D logits (bernoulli),
// D x categories logits (categorical, category last) or 2 x D values
// (gaussian: D means, then D log standard deviations).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

#include "converter/egm_writer.h"
#include "converter/ir.h"

namespace edgegen::converter {

struct Manifest;

struct AutoregressiveManifest {
  std::vector<int64_t> event_shape;
  std::string distribution = "bernoulli";
  uint32_t categories = 0;
};

// Fills manifest->graphs and manifest->autoregressive. Throws ConversionError.
void read_autoregressive_manifest(const std::string& path, const nlohmann::json& root, Manifest* manifest);

// The AutoregressivePipeline table; checks the graph's input and output sizes.
PipelineWriter make_autoregressive_pipeline(const Manifest& manifest, const std::vector<IrGraph>& graphs);

}  // namespace edgegen::converter
