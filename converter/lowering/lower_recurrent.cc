// LSTM, GRU, RNN (issue 12) onto the recurrent kernels: the ONNX default
// activations only (LSTM sigmoid/tanh/tanh, GRU sigmoid/tanh, RNN tanh),
// sequence_lens constant (then attributes, dropped when every length is the
// full sequence) or computed at run time (then an input of the kernel),
// layout 1 by transposes around a layout-0 kernel.
#include "converter/constant_data.h"
#include "converter/lowering/lowering.h"

namespace edgegen::converter {
namespace {

template <OpCode kOp>
void lower_recurrent(NodeContext& node) {
  const bool lstm = kOp == OpCode::kLSTM, gru = kOp == OpCode::kGRU;
  const int gates = lstm ? 4 : gru ? 3 : 1;
  const std::string direction_name = node.attribute_string("direction", "forward");
  int64_t direction = 0;
  if (direction_name == "forward") direction = 0;
  else if (direction_name == "reverse") direction = 1;
  else if (direction_name == "bidirectional") direction = 2;
  else node.unsupported_attribute("direction", direction_name, "forward, reverse, bidirectional");
  const int64_t dirs = direction == 2 ? 2 : 1;

  std::vector<std::string> defaults = lstm ? std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"}
                                      : gru ? std::vector<std::string>{"Sigmoid", "Tanh"}
                                            : std::vector<std::string>{"Tanh"};
  if (const onnx::AttributeProto* activations = node.find_attribute("activations")) {
    std::vector<std::string> expected;
    for (int64_t d = 0; d < dirs; ++d) expected.insert(expected.end(), defaults.begin(), defaults.end());
    std::vector<std::string> given(activations->strings().begin(), activations->strings().end());
    if (given != expected)
      node.fail("only the default activations are supported (" + [&] {
        std::string text;
        for (const std::string& name : expected) text += (text.empty() ? "" : ", ") + name;
        return text;
      }() + ")");
  }
  if (node.has_attribute("activation_alpha") || node.has_attribute("activation_beta"))
    node.fail("activation_alpha / activation_beta are not supported (the default activations take none)");
  if (node.attribute_int("input_forget", 0) != 0) node.fail("attribute 'input_forget' = 1 is not supported");
  const float clip = node.attribute_float("clip", 0.f);
  if (!(clip >= 0.f)) node.fail("attribute 'clip' must be positive");
  const int64_t linear_before_reset = gru ? node.attribute_int("linear_before_reset", 0) : 0;
  if (linear_before_reset != 0 && linear_before_reset != 1) node.fail("linear_before_reset must be 0 or 1");
  const int64_t layout = node.attribute_int("layout", 0);
  if (layout != 0 && layout != 1) node.fail("attribute 'layout' must be 0 or 1");

  for (size_t i : {size_t{0}, size_t{1}, size_t{2}})
    if (node.input_tensor(i).dtype != DType::kFloat32 || node.input_rank(i) != 3)
      node.fail("input " + std::to_string(i) + " must be a float32 tensor of rank 3");
  const std::vector<int64_t> r_shape = node.input_shape(2);
  const int64_t hidden = node.attribute_int("hidden_size", r_shape[2]);
  if (r_shape[0] != dirs || r_shape[1] != gates * hidden || r_shape[2] != hidden)
    node.fail("R has shape [" + join(r_shape) + "], expected [" + std::to_string(dirs) + ", " +
              std::to_string(gates * hidden) + ", " + std::to_string(hidden) + "]");

  int x = node.input(0);
  if (layout == 1) x = node.emit(OpCode::kTranspose, {x}, {1, 0, 2});
  const int64_t seq = node.builder().tensor(x).shape[0], batch = node.builder().tensor(x).shape[1];
  auto state_input = [&](size_t index) {
    int id = node.optional_input(index);
    if (id >= 0 && layout == 1) id = node.emit(OpCode::kTranspose, {id}, {1, 0, 2});
    return id;
  };
  const bool run_time_lengths = node.has_input(4) && !node.input_is_constant(4);
  std::vector<int> inputs = {x, node.input(1), node.input(2), node.optional_input(3),
                             run_time_lengths ? node.input(4) : -1, state_input(5)};
  if (lstm) inputs.push_back(state_input(6)), inputs.push_back(node.optional_input(7));

  std::vector<int64_t> ints = {direction, hidden, linear_before_reset, 0};
  if (run_time_lengths) {
    const IrTensor& lengths = node.input_tensor(4);
    if ((lengths.dtype != DType::kInt32 && lengths.dtype != DType::kInt64) || lengths.shape != std::vector<int64_t>{batch})
      node.fail("sequence_lens must be int32 or int64 [" + std::to_string(batch) + "]");
  } else if (node.has_input(4)) {
    std::vector<int64_t> lengths = read_int64s(node.input_tensor(4));
    if (static_cast<int64_t>(lengths.size()) != batch) node.fail("sequence_lens must hold one length per batch item");
    bool full = true;
    for (int64_t length : lengths) {
      if (length < 0 || length > seq) node.fail("sequence length " + std::to_string(length) + " is outside [0, " +
                                                std::to_string(seq) + "]");
      full = full && length == seq;
    }
    if (!full) {
      ints[3] = 1;
      ints.insert(ints.end(), lengths.begin(), lengths.end());
    }
  }
  std::vector<int> outputs = node.emit_multi(kOp, inputs, lstm ? 3 : 2, ints, {clip});
  for (size_t i = 0; i < outputs.size() && i < node.num_outputs(); ++i) {
    if (node.output_name(i).empty()) continue;
    int id = outputs[i];
    if (layout == 1) id = node.emit(OpCode::kTranspose, {id}, i == 0 ? std::vector<int64_t>{2, 0, 1, 3} : std::vector<int64_t>{1, 0, 2});
    node.bind_output(i, id);
  }
}

}  // namespace

void add_recurrent_lowerings(std::vector<LoweringRule>& rules) {
  const std::vector<std::string> common = {"activation_alpha", "activation_beta", "activations", "clip",
                                           "direction", "hidden_size", "layout"};
  std::vector<std::string> lstm = common, gru = common;
  lstm.push_back("input_forget");
  gru.push_back("linear_before_reset");
  rules.push_back({"LSTM", lstm, lower_recurrent<OpCode::kLSTM>});
  rules.push_back({"GRU", gru, lower_recurrent<OpCode::kGRU>});
  rules.push_back({"RNN", common, lower_recurrent<OpCode::kRNN>});
}

}  // namespace edgegen::converter
