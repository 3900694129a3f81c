// LSTM, GRU and RNN end to end, against PyTorch: nn.LSTM (bidirectional,
// initial state given), a two-layer nn.GRU (linear_before_reset = 1, as
// PyTorch exports it) and a bidirectional batch_first nn.RNN, with random
// weights, exported to ONNX by tests/recurrent/make_recurrent.py, which
// also saved their inputs and outputs (no PyTorch at test time). Each is
// converted here and run on the backend that EDGEGEN_BACKEND picks (CTest
// runs the file on both).
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "edgegen/session.h"
#include "tests/support/density_test_util.h"

using namespace edgegen;
using testing::LoadedModel;
using testing::load_model;
using testing::max_absolute_error;
using testing::read_floats;

namespace {

struct Case {
  const char* name;
  std::vector<std::string> inputs, outputs;
  OpCode recurrent_op;
  size_t recurrent_count;
};

std::string path(const Case& c, const std::string& file) {
  return std::string(EDGEGEN_RECURRENT_DIR) + "/" + c.name + "/" + file;
}

}  // namespace

TEST_CASE("PyTorch's LSTM, GRU and RNN exported to ONNX match PyTorch") {
  const Case cases[] = {
      {"lstm_bidirectional", {"x", "h0", "c0"}, {"y", "h", "c"}, OpCode::kLSTM, 1},
      {"gru_two_layers", {"x"}, {"y", "h"}, OpCode::kGRU, 2},
      {"rnn_batch_first", {"x"}, {"y", "h"}, OpCode::kRNN, 1},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    LoadedModel loaded;
    load_model(path(c, "model.onnx"), 1, &loaded);
    Session session;
    Status prepared = session.prepare(loaded.model);
    REQUIRE_MESSAGE(prepared.is_ok(), std::string(prepared.message()));
    size_t recurrent = 0;
    for (size_t op = 0; op < session.num_operators(0); ++op)
      recurrent += session.operator_code(0, op) == static_cast<uint32_t>(c.recurrent_op);
    CHECK(recurrent == c.recurrent_count);
    for (const std::string& name : c.inputs) {
      const int index = session.find_input(0, name.c_str());
      REQUIRE(index >= 0);
      Tensor& input = session.input(0, static_cast<size_t>(index));
      std::vector<float> values = read_floats(path(c, name + ".npy"));
      REQUIRE(values.size() == input.num_elements());
      std::memcpy(input.data, values.data(), values.size() * sizeof(float));
    }
    REQUIRE(session.run(0).is_ok());
    for (const std::string& name : c.outputs) {
      CAPTURE(name);
      const int index = session.find_output(0, name.c_str());
      REQUIRE(index >= 0);
      const Tensor& output = session.output(0, static_cast<size_t>(index));
      const float* data = output.data_as<const float>();
      std::vector<float> actual(data, data + output.num_elements());
      std::vector<float> expected = read_floats(path(c, name + ".npy"));
      REQUIRE(actual.size() == expected.size());
      CHECK(max_absolute_error(actual, expected) < 2e-5);
    }
  }
}
