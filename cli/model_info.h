// What `edgegen info` reports about a model, gathered once and printed as
// text or JSON (and summarized in one line by `edgegen convert`).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "edgegen/model.h"
#include "edgegen/session.h"

namespace edgegen::cli {

struct TensorInfo {
  std::string name;
  std::string dtype;  // "float32", ...
  std::vector<int64_t> shape;
};

struct GraphInfo {
  std::string name;
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
  size_t num_operators = 0;
  std::map<std::string, size_t> op_counts;          // by op name
  std::map<std::string, size_t> fused_activations;  // by activation name
  uint64_t parameter_count = 0;  // elements of constant float tensors
  uint64_t weight_bytes = 0;     // bytes of the distinct buffers the graph uses
  uint64_t plan_arena_bytes = 0;        // from the file's MemoryPlan
  uint64_t plan_lower_bound_bytes = 0;  // largest total of simultaneously live tensors
};

struct ModelInfo {
  uint64_t file_bytes = 0;
  uint32_t format_version = 0;
  std::string producer;
  uint32_t batch = 1;
  std::string pipeline_kind;       // "vae", "decoder", ...
  nlohmann::ordered_json pipeline;  // the pipeline's fields, graph indices resolved to names
  std::vector<GraphInfo> graphs;
  uint64_t weight_bytes = 0;
  std::string backend;                // the kernels the arena figures are for ("xnnpack", "reference")
  uint64_t session_arena_bytes = 0;   // Session::arena_bytes_needed
  uint64_t pipeline_arena_bytes = 0;  // Pipeline::arena_bytes_needed; 0 if the runtime has no such pipeline
};

// Gathers the report for a verified model, with arena sizes for the
// backend `options` resolve to (XNNPACK's packed weights are part of its
// arena; the reference kernels read weights in place). Throws CliError if
// the session arena cannot be sized (the model fails the runtime's
// verification).
ModelInfo describe_model(const Model& model, const SessionOptions& options = SessionOptions());

nlohmann::ordered_json model_info_json(const ModelInfo& info);
// A multi-line human-readable report; `title` heads it (usually the path).
std::string model_info_text(const ModelInfo& info, const std::string& title);
// "2 graphs, 21 ops, 98,816 weight bytes, arena 45,632 bytes".
std::string model_info_summary(const ModelInfo& info);

// 1234567 -> "1,234,567".
std::string with_thousands(uint64_t value);

}  // namespace edgegen::cli
