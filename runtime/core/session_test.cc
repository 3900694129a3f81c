#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "edgegen/pipeline.h"
#include "edgegen/session.h"
#include "testing/allocation_counter.h"
#include "testing/model_builder.h"

using namespace edgegen;
using edgegen::testing::AlignedBytes;
using edgegen::testing::AllocationScope;
using edgegen::testing::ModelBuilder;

namespace {

// y = relu(x W^T + b) + x2, with x [2, 4], W [3, 4], x2 [2, 3].
ModelBuilder small_mlp() {
  ModelBuilder builder;
  builder.graph("main");
  int32_t x = builder.activation("x", {2, 4});
  int32_t w = builder.constant("w", {3, 4}, {1, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1, -1});
  int32_t b = builder.constant("b", {3}, {0.5f, -10.f, 0.f});
  int32_t h = builder.activation("h", {2, 3});
  int32_t r = builder.activation("r", {2, 3});
  int32_t x2 = builder.activation("x2", {2, 3});
  int32_t y = builder.activation("y", {2, 3});
  builder.op(OpCode::kFullyConnected, {x, w, b}, {h});
  builder.op(OpCode::kRelu, {h}, {r});
  builder.op(OpCode::kAdd, {r, x2}, {y});
  builder.inputs({x, x2}).outputs({y});
  return builder;
}

void set_inputs(Session& session) {
  const float x[] = {1, 2, 3, 4, -1, -2, -3, -4};
  const float x2[] = {100, 200, 300, 400, 500, 600};
  std::memcpy(session.input(0, 0).data, x, sizeof x);
  std::memcpy(session.input(0, 1).data, x2, sizeof x2);
}

}  // namespace

TEST_CASE("a small graph loads, prepares in a caller arena and computes the right values") {
  AlignedBytes bytes(small_mlp().build());
  Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
  REQUIRE_MESSAGE(model.ok(), std::string(model.status().message()));
  Result<size_t> needed = Session::arena_bytes_needed(*model);
  REQUIRE(needed.ok());
  std::vector<uint8_t> arena(*needed);
  Session session;
  REQUIRE_MESSAGE(session.prepare(*model, arena.data(), arena.size()).is_ok(), "prepare");
  set_inputs(session);
  REQUIRE(session.run(0).is_ok());
  const float* y = session.output(0, 0).data_as<float>();
  // Row 0: h = [1.5, -8, 2] -> relu [1.5, 0, 2]; row 1: h = [-0.5, -12, -2] -> 0.
  const float expected[] = {101.5f, 200.f, 302.f, 400.f, 500.f, 600.f};
  for (int i = 0; i < 6; ++i) CHECK(y[i] == doctest::Approx(expected[i]));
  CHECK(std::strcmp(session.output(0, 0).name, "y") == 0);
  CHECK(session.find_input(0, "x2") == 1);
}

TEST_CASE("prepare reports exactly the bytes it needs and rejects one byte less") {
  AlignedBytes bytes(small_mlp().build());
  Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
  REQUIRE(model.ok());
  size_t needed = *Session::arena_bytes_needed(*model);
  std::vector<uint8_t> arena(needed);
  Session too_small;
  Status status = too_small.prepare(*model, arena.data(), needed - 1);
  CHECK(status.code() == StatusCode::kArenaTooSmall);
  CHECK(std::strstr(status.message(), "needs") != nullptr);
  CHECK(too_small.run(0).code() == StatusCode::kNotPrepared);
  Session exact;
  CHECK(exact.prepare(*model, arena.data(), needed).is_ok());
  // Also from a misaligned start inside the same buffer size + slack.
  std::vector<uint8_t> shifted(needed + 1);
  Session misaligned;
  CHECK(misaligned.prepare(*model, shifted.data() + 1, needed).is_ok());
}

TEST_CASE("the arena of a CPU of the other data model counts its tables, for the reference kernels only") {
  AlignedBytes bytes(small_mlp().build());
  Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
  REQUIRE(model.ok());
  SessionOptions reference;
  reference.backend = Backend::kReference;
  const size_t host = *Session::arena_bytes_needed(*model, 0, reference);
  CHECK(*Session::arena_bytes_needed(*model, 0, reference, kHostDataModel) == host);
  const DataModel& other = kHostDataModel.pointer_bytes == 8 ? kDataModel32 : kDataModel64;
  Result<size_t> there = Session::arena_bytes_needed(*model, 0, reference, other);
  REQUIRE(there.ok());
  // 7 tensors and 3 operators: 16 bytes less per tensor and 60 per operator on 32 bits.
  if (other.pointer_bytes == 4) CHECK(*there < host);
  else CHECK(*there > host);
  SessionOptions xnnpack;
  xnnpack.backend = Backend::kXnnpack;
  if (Session::resolve_backend(xnnpack).ok()) {
    Result<size_t> refused = Session::arena_bytes_needed(*model, 0, xnnpack, other);
    CHECK(refused.status().code() == StatusCode::kInvalidArgument);
    CHECK(std::strstr(refused.status().message(), "reference backend only") != nullptr);
  }
}

TEST_CASE("running a prepared graph makes no heap allocation") {
  AlignedBytes bytes(small_mlp().build());
  Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
  REQUIRE(model.ok());
  Session session;
  REQUIRE(session.prepare(*model).is_ok());
  set_inputs(session);
  if (!edgegen::testing::counts_malloc()) MESSAGE("malloc is not counted in this build (sanitizer); operator new is");
  AllocationScope scope;
  for (int i = 0; i < 10; ++i) REQUIRE(session.run(0).is_ok());
  CHECK(scope.count() == 0);
}

TEST_CASE("a decoder pipeline samples reproducibly without heap allocation") {
  // decoder: z [2, 3] -> tanh(z W^T) [2, 2]
  ModelBuilder builder;
  builder.graph("decoder");
  int32_t z = builder.activation("z", {2, 3});
  int32_t w = builder.constant("w", {2, 3}, {1, 0, 0, 0, 1, 1});
  int32_t h = builder.activation("h", {2, 2});
  int32_t x = builder.activation("x", {2, 2});
  builder.op(OpCode::kFullyConnected, {z, w, -1}, {h});
  builder.op(OpCode::kTanh, {h}, {x});
  builder.inputs({z}).outputs({x}).decoder_pipeline({3}, -1, 1).batch(2);
  AlignedBytes bytes(builder.build());
  Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
  REQUIRE_MESSAGE(model.ok(), std::string(model.status().message()));
  Pipeline pipeline;
  REQUIRE_MESSAGE(pipeline.prepare(*model).is_ok(), "prepare");
  CHECK(pipeline.latent_size() == 3);
  CHECK(pipeline.item_size() == 2);
  CHECK(pipeline.output_low() == -1.f);

  float items[5 * 2], latents[5 * 3], again[5 * 2];
  {
    AllocationScope scope;
    REQUIRE(pipeline.sample(7, 1.f, 5, items, latents).is_ok());  // 3 runs, the last one partial
    REQUIRE(pipeline.sample(7, 1.f, 5, again, nullptr).is_ok());
    CHECK(scope.count() == 0);
  }
  CHECK(std::memcmp(items, again, sizeof items) == 0);
  float drawn[5 * 3];
  pipeline.draw_latents(7, 1.f, 5, drawn);
  CHECK(std::memcmp(drawn, latents, sizeof drawn) == 0);
  for (int i = 0; i < 5; ++i) {
    CHECK(items[2 * i] == doctest::Approx(std::tanh(latents[3 * i])));
    CHECK(items[2 * i + 1] == doctest::Approx(std::tanh(latents[3 * i + 1] + latents[3 * i + 2])));
  }
  float decoded[5 * 2];
  REQUIRE(pipeline.decode(latents, 5, decoded).is_ok());
  CHECK(std::memcmp(decoded, items, sizeof items) == 0);
  CHECK(pipeline.encode(items, 1, latents, nullptr).code() == StatusCode::kUnsupportedOp);
}

TEST_CASE("latent interpolation: linear endpoints and spherical norm") {
  const float z0[] = {1, 0, 0}, z1[] = {0, 1, 0};
  float out[3];
  interpolate_latents(z0, z1, 3, 0.f, Interpolation::kSpherical, out);
  CHECK(out[0] == doctest::Approx(1));
  interpolate_latents(z0, z1, 3, 1.f, Interpolation::kLinear, out);
  CHECK(out[1] == doctest::Approx(1));
  interpolate_latents(z0, z1, 3, 0.5f, Interpolation::kSpherical, out);
  CHECK(out[0] == doctest::Approx(std::sqrt(0.5)));  // stays on the unit circle
  CHECK(out[1] == doctest::Approx(std::sqrt(0.5)));
  interpolate_latents(z0, z1, 3, 0.5f, Interpolation::kLinear, out);
  CHECK(out[0] == doctest::Approx(0.5));
  interpolate_latents(z0, z0, 3, 0.5f, Interpolation::kSpherical, out);  // parallel: no NaN
  CHECK(out[0] == doctest::Approx(1));
}

TEST_CASE("an operator may read the same tensor twice") {
  ModelBuilder builder;
  builder.graph("main");
  int32_t x = builder.activation("x", {3});
  int32_t y = builder.activation("y", {3});
  builder.op(OpCode::kMul, {x, x}, {y});
  builder.inputs({x}).outputs({y});
  AlignedBytes bytes(builder.build());
  Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
  REQUIRE(model.ok());
  Session session;
  REQUIRE(session.prepare(*model).is_ok());
  const float x_values[] = {1, -2, 3};
  std::memcpy(session.input(0, 0).data, x_values, sizeof x_values);
  REQUIRE(session.run(0).is_ok());
  CHECK(session.output(0, 0).data_as<float>()[1] == 4.f);
}
