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
  bool constant = false;         // a weight (has a buffer), not an activation
  uint64_t bytes = 0;            // its data's bytes, constants only
  // Quantized tensors: one scale and zero point per tensor (axis -1) or per
  // slice along `axis`; empty for float tensors.
  std::vector<float> scales;
  std::vector<int64_t> zero_points;
  int32_t axis = -1;
};

// Bytes of constant data by element type ("float32", "int8", ...).
using BytesByDtype = std::map<std::string, uint64_t>;

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
  std::vector<TensorInfo> tensors;      // every tensor, in the graph's order
  BytesByDtype constant_bytes;          // the graph's constants by precision
  std::map<std::string, size_t> op_precisions;  // ops by their first output's dtype
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
  // The file's size with every constant stored as float32 (quantized and
  // half-precision weights widened; int32 biases are 4 bytes either way):
  // what the model would take unquantized, to compare against.
  uint64_t float32_file_bytes = 0;
  std::string backend;                // the kernels the arena figures are for ("xnnpack", "reference")
  uint64_t session_arena_bytes = 0;   // Session::arena_bytes_needed
  uint64_t widened_weight_bytes = 0;  // of it, float16 weights widened to float32 at prepare
  uint64_t pipeline_arena_bytes = 0;  // Pipeline::arena_bytes_needed; 0 if the runtime has no such pipeline
  // The arena on a CPU of each data model (edgegen/data_model.h), exact for
  // each: the host's, and with the reference kernels (a firmware's) also
  // the other (a 32-bit device's).
  struct DeviceArena {
    std::string data_model;   // "64-bit", "32-bit"
    uint64_t session = 0;     // Session::arena_bytes_needed
    uint64_t pipeline = 0;    // Pipeline::arena_bytes_needed; 0 without one
    uint64_t c_pipeline = 0;  // eg_pipeline_arena_bytes: the pipeline + the C handle; 0 without one
  };
  std::vector<DeviceArena> device_arenas;
};

// Gathers the report for a verified model, with arena sizes for the
// backend `options` resolve to (XNNPACK's packed weights are part of its
// arena; the reference kernels read weights in place, float16 ones widened
// in the arena). Throws CliError if
// the session arena cannot be sized (the model fails the runtime's
// verification).
ModelInfo describe_model(const Model& model, const SessionOptions& options = SessionOptions());

// `tensors`: list every tensor with its precision, and the scales and zero
// points of the quantized ones.
nlohmann::ordered_json model_info_json(const ModelInfo& info, bool tensors = true);
// A multi-line human-readable report; `title` heads it (usually the path).
std::string model_info_text(const ModelInfo& info, const std::string& title, bool tensors = false);
// "2 graphs, 21 ops, 98,816 weight bytes, arena 45,632 bytes".
std::string model_info_summary(const ModelInfo& info);

// 1234567 -> "1,234,567".
std::string with_thousands(uint64_t value);

}  // namespace edgegen::cli
