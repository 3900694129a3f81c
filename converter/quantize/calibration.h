// Calibration: runs the float graphs on calibration data in the runtime
// (reference kernels, the file's own layout) and records what every float
// activation holds: its range and, when asked, a histogram over that range.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "converter/ir.h"
#include "edgegen/session.h"

namespace edgegen::converter {

// One run of one graph: a value per element of each graph input, in the
// graph's input order (integer inputs such as timesteps are given as floats
// and converted).
struct CalibrationBatch {
  std::vector<std::vector<float>> inputs;
};

// The batches of every graph, by graph index; a graph with no batches is not
// calibrated (and not quantized).
using CalibrationPlan = std::vector<std::vector<CalibrationBatch>>;

struct TensorStatistics {
  bool seen = false;
  float min = 0.f, max = 0.f;
  uint64_t count = 0;
  // Histogram over [min, max] (second pass), kHistogramBins bins.
  std::vector<uint64_t> histogram;
};
constexpr int kHistogramBins = 2048;

// Statistics of every tensor of every graph (by graph and tensor index).
using GraphStatistics = std::vector<std::vector<TensorStatistics>>;

// Runs every batch through its graph. With `histograms`, runs them twice:
// once for the ranges, once to fill the histograms over those ranges.
// Throws ConversionError when a batch does not fit its graph.
GraphStatistics collect_statistics(const std::vector<IrGraph>& graphs, const CalibrationPlan& plan, uint32_t batch,
                                   bool histograms);

// Runs the graphs (float or quantized) on the plan's batches and returns
// every graph output's values, concatenated over batches (by graph, then
// output): what the quality budget compares.
std::vector<std::vector<std::vector<float>>> run_outputs(const std::vector<IrGraph>& graphs,
                                                         const CalibrationPlan& plan, uint32_t batch);

// One float graph, prepared once on the reference kernels and run batch by
// batch: what a calibration that must follow the model's own outputs (a
// diffusion sampler's trajectory) steps with.
class GraphRunner {
 public:
  // `backend`: the reference kernels by default (exact, the oracle); a
  // caller that needs only the outputs of many runs (the diffusion
  // trajectories) takes kAuto, the fast kernels.
  GraphRunner(const IrGraph& graph, uint32_t batch, Backend backend = Backend::kReference);
  ~GraphRunner();
  GraphRunner(const GraphRunner&) = delete;
  GraphRunner& operator=(const GraphRunner&) = delete;

  // The graph's float outputs for one batch (by output index; a non-float
  // output is empty). Throws ConversionError when the batch does not fit.
  std::vector<std::vector<float>> run(const CalibrationBatch& batch);

 private:
  class Loaded;
  const IrGraph& graph_;
  std::unique_ptr<Loaded> loaded_;
};

}  // namespace edgegen::converter
