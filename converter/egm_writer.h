// Serializes planned IrGraphs to the bytes of a .egm file:
//
//   [ FlatBuffer (root Model) | pad to 64 | weight segment ]
//
// Every constant's bytes go to the weight segment, 64-byte aligned, stored
// once however many tensors (in any graph) hold identical data.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "converter/converter.h"
#include "converter/ir.h"
#include "converter/memory_plan.h"
#include "edgegen_generated.h"

namespace edgegen::converter {

// Version 1, or 2 for a file with float16 constants (edgegen/model.h): a
// runtime that cannot widen them refuses the file by its version instead of
// failing on the first operator that reads one.
constexpr uint32_t kFormatVersion = 1;
constexpr uint32_t kFormatVersionFloat16Weights = 2;
// Version 3 for a file with persistent state (Graph.state; a token
// decoder's KV cache), which an older runtime would plan as scratch.
constexpr uint32_t kFormatVersionState = 3;
constexpr const char* kProducer = "edgegen-converter 0.1";
constexpr uint64_t kSegmentAlignment = 64;

// Builds the Model.pipeline table in the caller's FlatBufferBuilder.
struct PipelineWriter {
  format::PipelineSpec type = format::PipelineSpec::GraphsOnly;
  std::function<flatbuffers::Offset<void>(flatbuffers::FlatBufferBuilder&)> build;
  // Per graph (the manifest's order; may be empty): the persistent state
  // pairs the pipeline declares, set on the graphs before memory planning.
  std::vector<std::vector<std::pair<int, int>>> state_pairs = {};
};

// `plans` has one entry per graph. `batch` is recorded in Model.batch.
// Sends the file's bytes to `sink` in order (the weights straight from the
// graphs' constants, never gathered in one buffer: a model of several GB is
// written with no second copy in memory) and returns the file's size.
uint64_t write_egm(const std::vector<IrGraph>& graphs, const std::vector<GraphPlan>& plans,
                   const PipelineWriter& pipeline, uint32_t batch, const ByteSink& sink);

// The same file as one vector (small models, tests).
std::vector<uint8_t> write_egm(const std::vector<IrGraph>& graphs, const std::vector<GraphPlan>& plans,
                               const PipelineWriter& pipeline, uint32_t batch);

}  // namespace edgegen::converter
