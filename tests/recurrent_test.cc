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

#include "edgegen/carried_state.h"
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

TEST_CASE("A streaming GRU run chunk by chunk with its state carried matches PyTorch over the whole sequence") {
  const Case c{"gru_streaming", {}, {}, OpCode::kGRU, 1};
  LoadedModel loaded;
  load_model(path(c, "model.onnx"), 1, &loaded);
  const StatePair pairs[] = {{"h0", "h"}};
  Result<size_t> reserve = CarriedState::reserve_bytes_needed(loaded.model, 0, pairs, 1);
  REQUIRE(reserve.ok());
  CHECK(*reserve == 64);  // 8 floats, in one 64-byte block
  Session session;
  REQUIRE(session.prepare(loaded.model, *reserve).is_ok());
  CarriedState state;
  REQUIRE(state.bind(&session, 0, pairs, 1).is_ok());
  const std::vector<float> frames = read_floats(path(c, "x_steps.npy"));
  const std::vector<float> expected = read_floats(path(c, "p_steps.npy"));
  const std::vector<float> expected_h = read_floats(path(c, "h_final.npy"));
  Tensor& x = session.input(0, static_cast<size_t>(session.find_input(0, "x")));
  const Tensor& p = session.output(0, static_cast<size_t>(session.find_output(0, "p")));
  const size_t steps = 3;
  REQUIRE(frames.size() == steps * x.num_elements());
  auto stream = [&](std::vector<float>* probabilities) {
    probabilities->clear();
    for (size_t step = 0; step < steps; ++step) {
      std::memcpy(x.data, frames.data() + step * x.num_elements(), x.bytes());
      REQUIRE(state.run().is_ok());
      probabilities->insert(probabilities->end(), p.data_as<const float>(), p.data_as<const float>() + p.num_elements());
    }
  };
  std::vector<float> actual;
  stream(&actual);
  CHECK(max_absolute_error(actual, expected) < 2e-5);
  const float* h = static_cast<const float*>(state.state(0));
  CHECK(max_absolute_error(std::vector<float>(h, h + 8), expected_h) < 2e-5);

  // Without the carried state the second chunk starts from zeros and differs.
  std::vector<float> stateless;
  for (size_t step = 0; step < 2; ++step) {
    std::memcpy(x.data, frames.data() + step * x.num_elements(), x.bytes());
    std::memset(session.input(0, state.input_index(0)).data, 0, 8 * sizeof(float));
    REQUIRE(session.run(0).is_ok());
    stateless.insert(stateless.end(), p.data_as<const float>(), p.data_as<const float>() + p.num_elements());
  }
  CHECK(max_absolute_error(stateless, std::vector<float>(expected.begin(), expected.begin() + 8)) > 1e-3);

  // reset() starts a new stream: the same answers again.
  state.reset();
  std::vector<float> again;
  stream(&again);
  CHECK(again == actual);
}

TEST_CASE("Carried state refuses pairs that do not fit the graph, naming them") {
  const Case c{"gru_streaming", {}, {}, OpCode::kGRU, 1};
  LoadedModel loaded;
  load_model(path(c, "model.onnx"), 1, &loaded);
  auto message = [&](StatePair pair) {
    Result<size_t> result = CarriedState::reserve_bytes_needed(loaded.model, 0, &pair, 1);
    REQUIRE(!result.ok());
    return std::string(result.status().message());
  };
  CHECK(message({"nope", "h"}).find("no input 'nope'") != std::string::npos);
  CHECK(message({"h0", "nope"}).find("no output 'nope'") != std::string::npos);
  CHECK(message({"h0", "p"}).find("differ in dtype or shape") != std::string::npos);
  CHECK(message({nullptr, "h"}).find("null name") != std::string::npos);
  const StatePair twice[] = {{"h0", "h"}, {"h0", "h"}};
  CHECK(!CarriedState::reserve_bytes_needed(loaded.model, 0, twice, 2).ok());
  CHECK(!CarriedState::reserve_bytes_needed(loaded.model, 3, twice, 1).ok());

  // Binding without the reservation is refused, not overrun.
  Session session;
  REQUIRE(session.prepare(loaded.model).is_ok());
  CarriedState state;
  const StatePair pair{"h0", "h"};
  Status bound = state.bind(&session, 0, &pair, 1);
  CHECK(bound.code() == StatusCode::kArenaTooSmall);
  CHECK(state.run().code() == StatusCode::kNotPrepared);
  CHECK(state.bind(nullptr, 0, &pair, 1).code() == StatusCode::kNotPrepared);
}
