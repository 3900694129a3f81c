#include "converter/lowering/lowering.h"

#include <algorithm>

namespace edgegen::converter {
namespace {

const std::vector<LoweringRule>& all_rules() {
  static const std::vector<LoweringRule> rules = [] {
    std::vector<LoweringRule> list;
    add_elementwise_lowerings(list);
    add_linear_lowerings(list);
    add_normalization_lowerings(list);
    add_data_movement_lowerings(list);
    add_pool_reduce_lowerings(list);
    add_resize_lowerings(list);
    add_constant_only_lowerings(list);
    add_density_lowerings(list);
    add_quantized_lowerings(list);
    add_numeric_lowerings(list);
    add_selection_lowerings(list);
    add_einsum_lowerings(list);
    add_recurrent_lowerings(list);
    std::sort(list.begin(), list.end(),
              [](const LoweringRule& a, const LoweringRule& b) { return a.op_type < b.op_type; });
    return list;
  }();
  return rules;
}

}  // namespace

const LoweringRule* find_lowering(const std::string& op_type) {
  for (const LoweringRule& rule : all_rules())
    if (rule.op_type == op_type) return &rule;
  return nullptr;
}

std::string supported_op_list() {
  std::string text;
  for (const LoweringRule& rule : all_rules()) text += (text.empty() ? "" : ", ") + rule.op_type;
  return text;
}

}  // namespace edgegen::converter
