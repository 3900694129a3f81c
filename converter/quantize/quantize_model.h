// Static post-training int8 quantization of a model's float graphs:
// calibration data (given, or generated from what the pipeline feeds each
// graph), statistics, the rewrite, and the optional quality budget.
#pragma once

#include <string>
#include <vector>

#include "converter/converter.h"
#include "converter/ir.h"
#include "converter/manifest.h"

namespace edgegen::converter {

// What quantization did, for the converter's report.
struct QuantizationReport {
  struct GraphReport {
    std::string graph;
    size_t int8_ops = 0;
    size_t float_ops = 0;  // quantizable ops kept in float32 (keep-float or the quality budget)
    std::vector<std::string> kept_float;
    std::vector<double> output_snr_db;  // per graph output, against float32 on the calibration data
  };
  std::vector<GraphReport> graphs;
  std::string calibration;  // where the calibration data came from
};

// Quantizes `graphs` in place. `manifest` is null for a bare ONNX graph.
// Throws ConversionError naming what is missing (e.g. a file of data for an
// encoder) or wrong.
QuantizationReport quantize_model(std::vector<IrGraph>& graphs, const Manifest* manifest,
                                  const ConvertOptions& options);

}  // namespace edgegen::converter
