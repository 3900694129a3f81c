// If, Else and EndIf in a hand-built model: the session runs the branch the
// condition picks, and every corruption of the markers is refused at load
// (or prepare) with a message, never a crash.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "edgegen/session.h"
#include "testing/model_builder.h"

using namespace edgegen;
using edgegen::testing::AlignedBytes;
using edgegen::testing::ModelBuilder;

namespace {

// y = cond ? Relu(x) : Neg(x), as the converter lays an If out:
//   0 If(cond; 1, 2)  1 Relu(x) -> y  2 Else(; 4)  3 Neg(x) -> y  4 EndIf
struct BranchModel {
  std::vector<int64_t> if_ints{1, 2};
  std::vector<int64_t> else_ints{4};
  std::vector<int64_t> cond_shape{1};
  bool drop_end_if = false;
  bool orphan_else = false;

  ModelBuilder build() const {
    ModelBuilder builder;
    builder.graph("main");
    int32_t x = builder.activation("x", {4});
    int32_t cond = builder.activation("cond", cond_shape, DType::kBool);
    int32_t y = builder.activation("y", {4});
    if (orphan_else) {
      builder.op(OpCode::kRelu, {x}, {y});
      builder.op(OpCode::kElse, {}, {}, else_ints);
      builder.op(OpCode::kEndIf, {}, {});
    } else {
      builder.op(OpCode::kIf, {cond}, {}, if_ints);
      builder.op(OpCode::kRelu, {x}, {y});
      builder.op(OpCode::kElse, {}, {}, else_ints);
      builder.op(OpCode::kNeg, {x}, {y});
      if (!drop_end_if) builder.op(OpCode::kEndIf, {}, {});
    }
    builder.inputs({x, cond}).outputs({y});
    return builder;
  }
};

// The load or prepare error of `spec`, "" when both succeed.
std::string load_error(const BranchModel& spec) {
  AlignedBytes bytes(spec.build().build());
  Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
  if (!model.ok()) return model.status().message();
  Session session;
  Status prepared = session.prepare(*model);
  return prepared.is_ok() ? "" : prepared.message();
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("If/Else/EndIf: the session runs the branch the condition picks") {
  AlignedBytes bytes(BranchModel().build().build());
  Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
  REQUIRE_MESSAGE(model.ok(), std::string(model.status().message()));
  Session session;
  Status prepared = session.prepare(*model);
  REQUIRE_MESSAGE(prepared.is_ok(), std::string(prepared.message()));
  const float x[4] = {-2.f, -0.5f, 0.5f, 3.f};
  for (bool condition : {true, false}) {
    CAPTURE(condition);
    float* in = session.input(0, 0).data_as<float>();
    for (int i = 0; i < 4; ++i) in[i] = x[i];
    session.input(0, 1).data_as<uint8_t>()[0] = condition ? 1 : 0;
    REQUIRE(session.run(0).is_ok());
    const float* y = session.output(0, 0).data_as<const float>();
    for (int i = 0; i < 4; ++i) CHECK(y[i] == (condition ? (x[i] > 0.f ? x[i] : 0.f) : -x[i]));
  }
  // Profiled runs report only the operators that ran: If's first branch, one op.
  int reported = 0;
  OpProfileCallback callback;
  callback.user = &reported;
  callback.on_op = [](void* user, int, size_t, uint64_t) { ++*static_cast<int*>(user); };
  session.input(0, 1).data_as<uint8_t>()[0] = 1;
  REQUIRE(session.run_with_profile(0, callback).is_ok());
  CHECK(reported == 1);
}

TEST_CASE("If/Else/EndIf: corrupt markers are refused with a message") {
  BranchModel wrong_else;
  wrong_else.if_ints = {1, 3};
  CHECK(contains(load_error(wrong_else), "names the wrong operator as its Else; its Else is operator 2"));
  BranchModel wrong_end;
  wrong_end.else_ints = {9};
  CHECK(contains(load_error(wrong_end), "names the wrong operator as its EndIf; its EndIf is operator 4"));
  BranchModel backward;
  backward.else_ints = {0};
  CHECK(contains(load_error(backward), "names the wrong operator as its EndIf"));
  BranchModel no_end;
  no_end.drop_end_if = true;
  CHECK(contains(load_error(no_end), "has no EndIf"));
  BranchModel orphan;
  orphan.orphan_else = true;
  CHECK(contains(load_error(orphan), "does not belong to an If"));
  BranchModel short_params;
  short_params.if_ints = {1};
  CHECK(contains(load_error(short_params), "needs int_params"));
  BranchModel first_when;
  first_when.if_ints = {7, 2};
  CHECK(contains(load_error(first_when), "int_params[0] is 7"));
  BranchModel wide_condition;
  wide_condition.cond_shape = {2};
  CHECK(contains(load_error(wide_condition), "has 2 elements, expected 1"));
}
