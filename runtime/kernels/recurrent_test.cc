// LSTM, GRU, RNN kernels on one hidden unit, checked against the ONNX
// equations written out by hand: directions, biases, initial states,
// peepholes, GRU's linear_before_reset both ways, clip, and per-item
// sequence lengths. (PyTorch's layers, end to end: tests/recurrent_test.cc.)
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "testing/kernel_runner.h"

namespace edgegen {
namespace {

using testing::KernelRunner;

float sigmoid(float x) { return 1.f / (1.f + std::exp(-x)); }

void check_close(const std::vector<float>& actual, const std::vector<float>& expected) {
  REQUIRE(actual.size() == expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    CAPTURE(i);
    CHECK(actual[i] == doctest::Approx(expected[i]).epsilon(1e-5));
  }
}

TEST_CASE("RNN: forward, reverse and bidirectional over two steps") {
  // x = [1, 2] (seq 2, batch 1, input 1); W = 0.5, R = 1, Wb = 0.1, Rb = 0.
  const float h1 = std::tanh(0.6f), h2 = std::tanh(1.1f + h1);
  const float r1 = std::tanh(1.1f), r0 = std::tanh(0.6f + r1);  // reverse: step 2 first
  KernelRunner forward(OpCode::kRNN);
  forward.input({2, 1, 1}, {1, 2}).input({1, 1, 1}, {0.5f}).input({1, 1, 1}, {1}).input({1, 2}, {0.1f, 0})
      .ints({0, 1, 0, 0}).floats({0}).num_outputs(2);
  REQUIRE(forward.run().is_ok());
  CHECK(forward.output_shape(0) == std::vector<int64_t>{2, 1, 1, 1});
  check_close(forward.output_values(0), {h1, h2});
  check_close(forward.output_values(1), {h2});
  KernelRunner both(OpCode::kRNN);
  both.input({2, 1, 1}, {1, 2}).input({2, 1, 1}, {0.5f, 0.5f}).input({2, 1, 1}, {1, 1})
      .input({2, 2}, {0.1f, 0, 0.1f, 0}).ints({2, 1, 0, 0}).floats({0}).num_outputs(2);
  REQUIRE(both.run().is_ok());
  check_close(both.output_values(0), {h1, r0, h2, r1});  // [seq, dirs, batch, hidden]
  check_close(both.output_values(1), {h2, r0});
}

TEST_CASE("RNN: sequence lengths stop each batch item early, Y is 0 after, reverse starts at its last step") {
  // batch 2 with lengths {2, 1}; W = 1, R = 0.5, no bias, initial_h = 0.
  for (int64_t direction : {0, 1}) {
    CAPTURE(direction);
    KernelRunner runner(OpCode::kRNN);
    runner.input({2, 2, 1}, {0.3f, -0.2f, 0.7f, 9.f}).input({1, 1, 1}, {1}).input({1, 1, 1}, {0.5f}).absent_input()
        .absent_input().absent_input().ints({direction, 1, 0, 1, 2, 1}).floats({0}).num_outputs(2);
    REQUIRE(runner.run().is_ok());
    const float item1 = std::tanh(-0.2f);  // one step, whichever direction
    if (direction == 0) {
      const float a = std::tanh(0.3f), b = std::tanh(0.7f + 0.5f * a);
      check_close(runner.output_values(0), {a, item1, b, 0});
      check_close(runner.output_values(1), {b, item1});
    } else {
      const float b = std::tanh(0.7f), a = std::tanh(0.3f + 0.5f * b);
      check_close(runner.output_values(0), {a, item1, b, 0});
      check_close(runner.output_values(1), {a, item1});
    }
  }
}

TEST_CASE("RNN: sequence lengths computed at run time act as constant ones; out-of-range ones are clamped") {
  const std::vector<float> x = {0.3f, -0.2f, 0.5f, 0.7f, 9.f, -0.4f};  // [2, 3, 1]
  KernelRunner constant(OpCode::kRNN);
  constant.input({2, 3, 1}, x).input({1, 1, 1}, {1}).input({1, 1, 1}, {0.5f}).absent_input().absent_input()
      .absent_input().ints({1, 1, 0, 1, 2, 1, 0}).floats({0}).num_outputs(2);
  REQUIRE(constant.run().is_ok());
  KernelRunner run_time(OpCode::kRNN);
  run_time.input({2, 3, 1}, x).input({1, 1, 1}, {1}).input({1, 1, 1}, {0.5f}).absent_input()
      .input_i32({3}, {99, 1, -3}, false).ints({1, 1, 0, 0}).floats({0}).num_outputs(2);
  REQUIRE(run_time.run().is_ok());
  check_close(run_time.output_values(0), constant.output_values(0));
  check_close(run_time.output_values(1), constant.output_values(1));
  CHECK(run_time.output_values(0)[2] == 0.f);  // item 2 has length 0: Y is 0, Y_h the initial 0
  KernelRunner wrong(OpCode::kRNN);
  wrong.input({2, 3, 1}, x).input({1, 1, 1}, {1}).input({1, 1, 1}, {0.5f}).absent_input()
      .input({3}, {2, 1, 0}).ints({1, 1, 0, 0}).floats({0}).num_outputs(2);
  CHECK(!wrong.infer().is_ok());
}

TEST_CASE("GRU: one step, linear_before_reset 0 and 1, initial_h and clip") {
  // W = [wz, wr, wh], R = [rz, rr, rh], B = [Wb_z, Wb_r, Wb_h, Rb_z, Rb_r, Rb_h].
  const float x = 0.8f, h0 = -0.4f;
  const float wz = 0.5f, wr = -1.f, wh = 2.f, rz = 0.3f, rr = 0.7f, rh = -1.5f;
  const float bwz = 0.1f, bwr = 0.2f, bwh = -0.3f, brz = 0.05f, brr = -0.1f, brh = 0.4f;
  const float z = sigmoid(x * wz + h0 * rz + bwz + brz), r = sigmoid(x * wr + h0 * rr + bwr + brr);
  for (int64_t lbr : {0, 1}) {
    CAPTURE(lbr);
    const float candidate = lbr ? std::tanh(x * wh + r * (h0 * rh + brh) + bwh) : std::tanh(x * wh + (r * h0) * rh + brh + bwh);
    const float h = (1 - z) * candidate + z * h0;
    KernelRunner runner(OpCode::kGRU);
    runner.input({1, 1, 1}, {x}).input({1, 3, 1}, {wz, wr, wh}).input({1, 3, 1}, {rz, rr, rh})
        .input({1, 6}, {bwz, bwr, bwh, brz, brr, brh}).absent_input().input({1, 1, 1}, {h0})
        .ints({0, 1, lbr, 0}).floats({0}).num_outputs(2);
    REQUIRE(runner.run().is_ok());
    check_close(runner.output_values(0), {h});
    check_close(runner.output_values(1), {h});
  }
  // clip 0.1 bounds every pre-activation
  KernelRunner clipped(OpCode::kGRU);
  clipped.input({1, 1, 1}, {5.f}).input({1, 3, 1}, {1, 1, 1}).input({1, 3, 1}, {0, 0, 0})
      .ints({0, 1, 0, 0}).floats({0.1f}).num_outputs(2);
  REQUIRE(clipped.run().is_ok());
  check_close(clipped.output_values(1), {(1 - sigmoid(0.1f)) * std::tanh(0.1f)});
}

TEST_CASE("GRU, LSTM: a batch of two over three steps is each item run alone (both linear_before_reset)") {
  // Hidden 2, input 1: the recurrent products of the batch share one matrix
  // product whose rows must land on each item's gates.
  const std::vector<float> x = {0.5f, -1.f, 0.3f, 0.8f, -0.7f, 0.2f};  // [3, 2, 1]
  for (OpCode op : {OpCode::kGRU, OpCode::kLSTM}) {
    const int64_t gates = op == OpCode::kGRU ? 3 : 4;
    std::vector<float> w(static_cast<size_t>(gates * 2)), r(static_cast<size_t>(gates * 4));
    for (size_t i = 0; i < w.size(); ++i) w[i] = 0.3f * static_cast<float>(i % 5) - 0.5f;
    for (size_t i = 0; i < r.size(); ++i) r[i] = 0.25f * static_cast<float>(i % 7) - 0.7f;
    for (int64_t lbr : {0, 1}) {
      if (op == OpCode::kLSTM && lbr == 1) continue;
      CAPTURE(lbr);
      const size_t outputs = op == OpCode::kGRU ? 2 : 3;
      KernelRunner both(op);
      both.input({3, 2, 1}, x).input({1, gates * 2, 1}, w).input({1, gates * 2, 2}, r).ints({0, 2, lbr, 0})
          .floats({0}).num_outputs(outputs);
      REQUIRE(both.run().is_ok());
      const std::vector<float> y = both.output_values(0);  // [3, 1, 2, 2]
      for (size_t item = 0; item < 2; ++item) {
        KernelRunner alone(op);
        alone.input({3, 1, 1}, {x[item], x[2 + item], x[4 + item]}).input({1, gates * 2, 1}, w)
            .input({1, gates * 2, 2}, r).ints({0, 2, lbr, 0}).floats({0}).num_outputs(outputs);
        REQUIRE(alone.run().is_ok());
        const std::vector<float> y_alone = alone.output_values(0);  // [3, 1, 1, 2]
        for (size_t t = 0; t < 3; ++t)
          check_close({y[t * 4 + item * 2], y[t * 4 + item * 2 + 1]}, {y_alone[t * 2], y_alone[t * 2 + 1]});
      }
    }
  }
}

TEST_CASE("LSTM: one step with initial state and peepholes; Y_c is the cell") {
  const float x = 0.6f, h0 = 0.2f, c0 = -0.5f;
  const float w[4] = {0.5f, -0.3f, 0.8f, 1.2f}, r[4] = {0.1f, 0.4f, -0.6f, 0.9f};  // i, o, f, c
  const float p[3] = {0.3f, -0.2f, 0.5f};  // i, o, f
  const float i = sigmoid(x * w[0] + h0 * r[0] + p[0] * c0), f = sigmoid(x * w[2] + h0 * r[2] + p[2] * c0);
  const float c = f * c0 + i * std::tanh(x * w[3] + h0 * r[3]);
  const float o = sigmoid(x * w[1] + h0 * r[1] + p[1] * c);
  const float h = o * std::tanh(c);
  KernelRunner runner(OpCode::kLSTM);
  runner.input({1, 1, 1}, {x}).input({1, 4, 1}, {w[0], w[1], w[2], w[3]}).input({1, 4, 1}, {r[0], r[1], r[2], r[3]})
      .absent_input().absent_input().input({1, 1, 1}, {h0}).input({1, 1, 1}, {c0}).input({1, 3}, {p[0], p[1], p[2]})
      .ints({0, 1, 0, 0}).floats({0}).num_outputs(3);
  REQUIRE(runner.run().is_ok());
  check_close(runner.output_values(0), {h});
  check_close(runner.output_values(1), {h});
  check_close(runner.output_values(2), {c});
}

TEST_CASE("LSTM, GRU, RNN refuse wrong weight shapes, lengths and directions at infer") {
  KernelRunner weights(OpCode::kLSTM);
  weights.input({1, 1, 2}, {1, 2}).input({1, 3, 2}, std::vector<float>(6)).input({1, 4, 1}, std::vector<float>(4))
      .ints({0, 1, 0, 0}).floats({0}).num_outputs(3);
  CHECK(!weights.infer().is_ok());
  KernelRunner lengths(OpCode::kRNN);
  lengths.input({2, 1, 1}, {1, 2}).input({1, 1, 1}, {1}).input({1, 1, 1}, {1}).ints({0, 1, 0, 1, 3}).floats({0})
      .num_outputs(2);
  CHECK(!lengths.infer().is_ok());
  KernelRunner direction(OpCode::kGRU);
  direction.input({1, 1, 1}, {1}).input({1, 3, 1}, {1, 1, 1}).input({1, 3, 1}, {1, 1, 1}).ints({3, 1, 0, 0})
      .floats({0}).num_outputs(2);
  CHECK(!direction.infer().is_ok());
}

}  // namespace
}  // namespace edgegen
