// The table of ONNX ops the converter lowers, one rule per op type.
//
// A rule lists every attribute its function understands (over all opsets);
// the importer rejects a node carrying any other attribute before calling
// the function, and the function rejects every value it does not support.
#pragma once

#include <string>
#include <vector>

#include "converter/lowering/node_context.h"

namespace edgegen::converter {

using LowerFn = void (*)(NodeContext& node);

struct LoweringRule {
  std::string op_type;
  std::vector<std::string> attributes;
  LowerFn lower;
};

// The rule for `op_type`, or nullptr.
const LoweringRule* find_lowering(const std::string& op_type);
// Every supported op type, sorted, for error messages.
std::string supported_op_list();

// The rules of each lowering file.
void add_elementwise_lowerings(std::vector<LoweringRule>& rules);
void add_linear_lowerings(std::vector<LoweringRule>& rules);
void add_normalization_lowerings(std::vector<LoweringRule>& rules);
void add_data_movement_lowerings(std::vector<LoweringRule>& rules);
void add_pool_reduce_lowerings(std::vector<LoweringRule>& rules);
void add_resize_lowerings(std::vector<LoweringRule>& rules);
void add_constant_only_lowerings(std::vector<LoweringRule>& rules);
void add_density_lowerings(std::vector<LoweringRule>& rules);
void add_quantized_lowerings(std::vector<LoweringRule>& rules);
void add_numeric_lowerings(std::vector<LoweringRule>& rules);
void add_selection_lowerings(std::vector<LoweringRule>& rules);
void add_einsum_lowerings(std::vector<LoweringRule>& rules);
void add_recurrent_lowerings(std::vector<LoweringRule>& rules);

}  // namespace edgegen::converter
