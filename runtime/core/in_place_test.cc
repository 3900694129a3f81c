// In-place outputs (core/in_place.h): a Softmax's or an element-wise op's
// output planned on its input's bytes is accepted and computes the same
// values as out of place on every backend (this file runs on both, see
// edgegen_add_backend_tests); any other overlap in a file's plan is refused
// at prepare with a message.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "edgegen/session.h"
#include "testing/model_builder.h"

using namespace edgegen;
using edgegen::testing::AlignedBytes;
using edgegen::testing::ModelBuilder;

namespace {

std::vector<float> test_values(size_t count, uint32_t seed) {
  std::vector<float> values(count);
  uint32_t state = seed * 2654435761u + 1;
  for (float& value : values) {
    state = state * 1664525u + 1013904223u;
    value = static_cast<float>(static_cast<int32_t>(state >> 8) % 20000) / 1000.f - 10.f;  // [-10, 10)
  }
  return values;
}

struct RunResult {
  Status status = Status::ok();
  std::vector<std::vector<float>> outputs;
  bool output_on_input = false;  // graph 0's tensor 2 shares tensor 1's bytes
};

// Loads, prepares and runs graph 0 with test values in every input.
RunResult run(const std::vector<uint8_t>& file, uint32_t seed = 1) {
  RunResult result;
  AlignedBytes bytes(file);
  Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
  if (!model.ok()) return result.status = model.status(), result;
  Session session;
  result.status = session.prepare(*model);
  if (!result.status.is_ok()) return result;
  for (size_t k = 0; k < session.num_inputs(0); ++k) {
    Tensor& input = session.input(0, k);
    std::vector<float> values = test_values(input.bytes() / sizeof(float), seed + static_cast<uint32_t>(k));
    std::memcpy(input.data, values.data(), input.bytes());
  }
  result.status = session.run(0);
  for (size_t k = 0; k < session.num_outputs(0); ++k) {
    const Tensor& output = session.output(0, k);
    const float* data = output.data_as<const float>();
    result.outputs.emplace_back(data, data + output.bytes() / sizeof(float));
  }
  return result;
}

// x -> Neg -> h (tensor 1) -> opcode over [begin, end) -> y (tensor 2).
ModelBuilder normalize_model(OpCode opcode, std::vector<int64_t> shape, int64_t begin, int64_t end) {
  ModelBuilder builder;
  builder.graph("main");
  int32_t x = builder.activation("x", shape);
  int32_t h = builder.activation("h", shape);
  int32_t y = builder.activation("y", shape);
  builder.op(OpCode::kNeg, {x}, {h});
  builder.op(opcode, {h}, {y}, {begin, end});
  builder.inputs({x}).outputs({y});
  return builder;
}

void output_on_input(std::vector<uint64_t>& offsets, uint64_t&) { offsets[2] = offsets[1]; }
void output_just_past_input(std::vector<uint64_t>& offsets, uint64_t& arena) {
  offsets[2] = offsets[1] + 64;
  arena = std::max(arena, offsets[2] + 4096);
}

// Refused at prepare, the message naming the graph and the two tensors.
void check_rejected(const RunResult& result, const char* first, const char* second) {
  const std::string message = result.status.message();
  CHECK(result.status.code() == StatusCode::kInvalidModel);
  CHECK_MESSAGE(message.find("overlap") != std::string::npos, message);
  CHECK_MESSAGE(message.find("graph 'main'") != std::string::npos, message);
  CHECK_MESSAGE(message.find(std::string("'") + first + "' and '" + second + "'") != std::string::npos, message);
}

}  // namespace

TEST_CASE("in place: Softmax and LogSoftmax on their input's bytes give the out-of-place values") {
  struct Case {
    std::vector<int64_t> shape;
    int64_t begin, end;
  };
  // Rows of 1, odd sizes, rows longer than any vector tile, and a middle
  // axis (the reference kernel on every backend: strided rows).
  const Case cases[] = {{{1, 1}, 1, 2},      {{7, 1}, 1, 2},     {{3, 5, 17}, 2, 3}, {{2, 4099}, 1, 2},
                        {{1, 8, 4096}, 2, 3}, {{2, 3, 5, 7}, 2, 3}, {{2, 3, 5, 7}, 1, 4}};
  for (OpCode opcode : {OpCode::kSoftmax, OpCode::kLogSoftmax}) {
    for (const Case& c : cases) {
      CAPTURE(static_cast<int>(opcode));
      CAPTURE(c.shape.size());
      CAPTURE(c.shape.back());
      CAPTURE(c.begin);
      ModelBuilder builder = normalize_model(opcode, c.shape, c.begin, c.end);
      RunResult apart = run(builder.build());
      RunResult in_place = run(builder.build(output_on_input));
      REQUIRE_MESSAGE(apart.status.is_ok(), std::string(apart.status.message()));
      REQUIRE_MESSAGE(in_place.status.is_ok(), std::string(in_place.status.message()));
      REQUIRE(in_place.outputs.size() == 1);
      CHECK(in_place.outputs[0] == apart.outputs[0]);  // the same arithmetic: the same bits
      if (opcode == OpCode::kSoftmax) {
        float row_sum = 0.f;
        const int64_t row = c.shape.back();
        if (c.begin + 1 == static_cast<int64_t>(c.shape.size()))
          for (int64_t i = 0; i < row; ++i) row_sum += in_place.outputs[0][static_cast<size_t>(i)];
        if (c.begin + 1 == static_cast<int64_t>(c.shape.size())) CHECK(std::fabs(row_sum - 1.f) < 1e-4f);
      }
    }
  }
}

TEST_CASE("in place: unary element-wise ops on their input's bytes give the out-of-place values") {
  struct Unary {
    OpCode opcode;
    std::vector<int64_t> ints;
    std::vector<float> floats;
  };
  const Unary unaries[] = {{OpCode::kRelu, {}, {}},       {OpCode::kSigmoid, {}, {}},   {OpCode::kTanh, {}, {}},
                           {OpCode::kSoftplus, {}, {}},   {OpCode::kExp, {}, {}},       {OpCode::kLog, {}, {}},
                           {OpCode::kSqrt, {}, {}},       {OpCode::kAbs, {}, {}},       {OpCode::kSilu, {}, {}},
                           {OpCode::kSin, {}, {}},        {OpCode::kCos, {}, {}},       {OpCode::kErf, {}, {}},
                           {OpCode::kFloor, {}, {}},      {OpCode::kHardSwish, {}, {}}, {OpCode::kRound, {}, {}},
                           {OpCode::kGelu, {0}, {}},      {OpCode::kGelu, {1}, {}},     {OpCode::kLeakyRelu, {}, {0.1f}},
                           {OpCode::kClip, {}, {-1.f, 2.f}}, {OpCode::kElu, {}, {0.7f}},
                           {OpCode::kHardSigmoid, {}, {0.2f, 0.5f}}};
  for (const Unary& unary : unaries) {
    const OpCode opcode = unary.opcode;
    for (std::vector<int64_t> shape : {std::vector<int64_t>{1}, {7}, {3, 37}, {2, 4099}}) {
      CAPTURE(static_cast<int>(opcode));
      CAPTURE(shape.back());
      ModelBuilder builder;
      builder.graph("main");
      int32_t x = builder.activation("x", shape);
      int32_t h = builder.activation("h", shape);
      int32_t y = builder.activation("y", shape);
      builder.op(OpCode::kNeg, {x}, {h});
      builder.op(opcode, {h}, {y}, unary.ints, unary.floats);
      builder.inputs({x}).outputs({y});
      RunResult apart = run(builder.build());
      RunResult in_place = run(builder.build(output_on_input));
      REQUIRE_MESSAGE(apart.status.is_ok(), std::string(apart.status.message()));
      REQUIRE_MESSAGE(in_place.status.is_ok(), std::string(in_place.status.message()));
      REQUIRE(in_place.outputs[0].size() == apart.outputs[0].size());
      // Bits, not values: Log and Sqrt of negatives give NaN in both.
      CHECK(std::memcmp(in_place.outputs[0].data(), apart.outputs[0].data(), apart.outputs[0].size() * sizeof(float)) ==
            0);
    }
  }
}

TEST_CASE("in place: binary element-wise ops on their full-size input's bytes give the out-of-place values") {
  // h = Neg(x) (tensor 1) op c, with c a constant that broadcasts (or a
  // second full-size input), h first or second; y (tensor 2) on h.
  struct Case {
    std::vector<int64_t> shape, other;
    bool h_first;
  };
  const Case cases[] = {{{2, 3, 5, 7}, {1}, true},         {{2, 3, 5, 7}, {1, 3, 1, 1}, true},
                        {{2, 3, 5, 7}, {7}, false},        {{1, 8, 37, 37}, {1}, true},
                        {{3, 4099}, {3, 1}, false},        {{1}, {1}, true},
                        {{2, 3, 5, 7}, {2, 3, 5, 7}, false}};
  for (OpCode opcode : {OpCode::kAdd, OpCode::kSub, OpCode::kMul, OpCode::kDiv, OpCode::kMin, OpCode::kMax}) {
    for (const Case& c : cases) {
      CAPTURE(static_cast<int>(opcode));
      CAPTURE(c.shape.back());
      CAPTURE(c.other.size());
      CAPTURE(c.h_first);
      ModelBuilder builder;
      builder.graph("main");
      int32_t x = builder.activation("x", c.shape);
      int32_t h = builder.activation("h", c.shape);
      int32_t y = builder.activation("y", c.shape);
      size_t other_count = 1;
      for (int64_t d : c.other) other_count *= static_cast<size_t>(d);
      int32_t other = builder.constant("c", c.other, test_values(other_count, 9));
      builder.op(OpCode::kNeg, {x}, {h});
      builder.op(opcode, c.h_first ? std::vector<int32_t>{h, other} : std::vector<int32_t>{other, h}, {y});
      builder.inputs({x}).outputs({y});
      RunResult apart = run(builder.build());
      RunResult in_place = run(builder.build(output_on_input));
      REQUIRE_MESSAGE(apart.status.is_ok(), std::string(apart.status.message()));
      REQUIRE_MESSAGE(in_place.status.is_ok(), std::string(in_place.status.message()));
      CHECK(in_place.outputs[0] == apart.outputs[0]);
    }
  }
}

TEST_CASE("in place: a Softmax between channels-last convolutions (layout conversions) keeps its values") {
  // h is read by a convolution (the XNNPACK backend keeps it channels-last)
  // and last by the Softmax, whose output feeds another convolution: the
  // conversions before and after the Softmax must not go through each
  // other's slot when that slot is the same bytes.
  ModelBuilder builder;
  builder.graph("main");
  int32_t x = builder.activation("x", {1, 3, 6, 5});
  int32_t h = builder.activation("h", {1, 4, 6, 5});
  int32_t y = builder.activation("y", {1, 4, 6, 5});
  int32_t w1 = builder.constant("w1", {4, 3, 1, 1}, test_values(12, 3));
  int32_t w2 = builder.constant("w2", {4, 4, 3, 3}, test_values(144, 4));
  int32_t w3 = builder.constant("w3", {2, 4, 3, 3}, test_values(72, 5));
  int32_t a = builder.activation("a", {1, 4, 6, 5});
  int32_t z = builder.activation("z", {1, 2, 6, 5});
  REQUIRE(h == 1);
  REQUIRE(y == 2);
  builder.op(OpCode::kConv2d, {x, w1}, {h}, {1, 1, 1, 1, 0, 0, 0, 0, 1});
  builder.op(OpCode::kConv2d, {h, w2}, {a}, {1, 1, 1, 1, 1, 1, 1, 1, 1});
  builder.op(OpCode::kSoftmax, {h}, {y}, {3, 4});
  builder.op(OpCode::kConv2d, {y, w3}, {z}, {1, 1, 1, 1, 1, 1, 1, 1, 1});
  builder.inputs({x}).outputs({a, z});
  REQUIRE(a == 6);
  REQUIRE(z == 7);
  RunResult apart = run(builder.build());
  // y on h; a and z, which the builder's plan may have put where y now is,
  // moved past the end.
  RunResult in_place = run(builder.build([](std::vector<uint64_t>& offsets, uint64_t& arena) {
    offsets[2] = offsets[1];
    offsets[6] = arena;
    offsets[7] = arena + 512;
    arena += 768;
  }));
  REQUIRE_MESSAGE(apart.status.is_ok(), std::string(apart.status.message()));
  REQUIRE_MESSAGE(in_place.status.is_ok(), std::string(in_place.status.message()));
  CHECK(in_place.outputs == apart.outputs);
}

TEST_CASE("in place: every other overlap in a file's plan is refused at prepare, not run") {
  SUBCASE("an op that is not listed as computing in place (Identity, a copy)") {
    ModelBuilder builder;
    builder.graph("main");
    int32_t x = builder.activation("x", {4, 16});
    int32_t h = builder.activation("h", {4, 16});
    int32_t y = builder.activation("y", {4, 16});
    builder.op(OpCode::kNeg, {x}, {h});
    builder.op(OpCode::kIdentity, {h}, {y});
    builder.inputs({x}).outputs({y});
    REQUIRE(run(builder.build()).status.is_ok());
    check_rejected(run(builder.build(output_on_input)), "h", "y");
  }
  SUBCASE("a unary op on a graph input") {
    check_rejected(run(normalize_model(OpCode::kSoftmax, {4, 16}, 1, 2).build(
                       [](std::vector<uint64_t>& offsets, uint64_t&) { offsets[1] = offsets[0]; })),
                   "x", "h");
  }
  SUBCASE("a Softmax whose input a later op reads") {
    ModelBuilder builder;
    builder.graph("main");
    int32_t x = builder.activation("x", {4, 16});
    int32_t h = builder.activation("h", {4, 16});
    int32_t y = builder.activation("y", {4, 16});
    int32_t sum = builder.activation("sum", {4, 16});
    builder.op(OpCode::kNeg, {x}, {h});
    builder.op(OpCode::kSoftmax, {h}, {y}, {1, 2});
    builder.op(OpCode::kAdd, {y, h}, {sum});
    builder.inputs({x}).outputs({sum});
    check_rejected(run(builder.build(output_on_input)), "h", "y");
  }
  SUBCASE("a Softmax whose input is a graph output") {
    ModelBuilder builder = normalize_model(OpCode::kSoftmax, {4, 16}, 1, 2);
    builder.outputs({1, 2});
    check_rejected(run(builder.build(output_on_input)), "h", "y");
  }
  SUBCASE("a Softmax on a graph input") {
    ModelBuilder builder;
    builder.graph("main");
    int32_t x = builder.activation("x", {4, 16});
    int32_t y = builder.activation("y", {4, 16});
    builder.op(OpCode::kSoftmax, {x}, {y}, {1, 2});
    builder.inputs({x}).outputs({y});
    check_rejected(run(builder.build([](std::vector<uint64_t>& offsets, uint64_t&) { offsets[1] = offsets[0]; })),
                   "x", "y");
  }
  SUBCASE("a Softmax's output shifted against its input: a partial overlap") {
    check_rejected(run(normalize_model(OpCode::kSoftmax, {4, 16}, 1, 2).build(output_just_past_input)), "h", "y");
  }
}
