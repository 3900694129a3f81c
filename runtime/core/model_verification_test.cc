// Every model file is untrusted: each corruption here must be rejected with
// a Status (and a message), never a crash. Run under AddressSanitizer in CI.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "edgegen/random.h"
#include "edgegen/session.h"
#include "testing/model_builder.h"

using namespace edgegen;
using edgegen::testing::AlignedBytes;
using edgegen::testing::ModelBuilder;

namespace {

ModelBuilder conv_model() {
  ModelBuilder builder;
  builder.graph("main");
  int32_t x = builder.activation("x", {1, 2, 5, 5});
  int32_t w = builder.constant("w", {3, 2, 3, 3}, std::vector<float>(54, 0.1f));
  int32_t b = builder.constant("b", {3}, {0.f, 1.f, 2.f});
  int32_t h = builder.activation("h", {1, 3, 5, 5});
  int32_t y = builder.activation("y", {1, 3, 5, 5});
  builder.op(OpCode::kConv2d, {x, w, b}, {h}, {1, 1, 1, 1, 1, 1, 1, 1, 1});
  builder.op(OpCode::kSigmoid, {h}, {y});
  builder.inputs({x}).outputs({y});
  return builder;
}

// Loads and prepares; if both succeed, runs too. Returns the first failure.
Status load_prepare_run(const std::vector<uint8_t>& file) {
  AlignedBytes bytes(file);
  Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
  if (!model.ok()) return model.status();
  Session session;
  Status status = session.prepare(*model);
  if (!status.is_ok()) return status;
  for (size_t i = 0; i < session.num_graphs(); ++i) {
    for (size_t k = 0; k < session.num_inputs(i); ++k) std::memset(session.input(i, k).data, 0, session.input(i, k).bytes());
    status = session.run(i);
    if (!status.is_ok()) return status;
  }
  return Status::ok();
}

void expect_rejected(const std::vector<uint8_t>& file, StatusCode code, const char* fragment) {
  Status status = load_prepare_run(file);
  CHECK_MESSAGE(status.code() == code, "got: ", std::string(status_code_name(status.code())), " ", std::string(status.message()));
  CHECK_MESSAGE(std::strstr(status.message(), fragment) != nullptr, "message: ", std::string(status.message()));
}

}  // namespace

TEST_CASE("the reference conv model itself is valid") {
  Status status = load_prepare_run(conv_model().build());
  CHECK_MESSAGE(status.is_ok(), std::string(status.message()));
}

TEST_CASE("a file truncated at any point is rejected") {
  std::vector<uint8_t> file = conv_model().build();
  for (size_t length = 0; length < file.size(); ++length) {
    std::vector<uint8_t> truncated(file.begin(), file.begin() + static_cast<long>(length));
    Status status = load_prepare_run(truncated);
    REQUIRE_MESSAGE(!status.is_ok(), "accepted a file truncated to ", length, " of ", file.size(), " bytes");
  }
}

TEST_CASE("flipped bytes are rejected or harmless, never a crash") {
  std::vector<uint8_t> file = conv_model().build();
  size_t rejected = 0, accepted = 0;
  // Every byte of the FlatBuffer flipped in three ways, plus random flips.
  for (size_t position = 0; position < file.size(); ++position) {
    for (uint8_t mask : {0x01, 0x80, 0xFF}) {
      std::vector<uint8_t> corrupt = file;
      corrupt[position] ^= mask;
      (load_prepare_run(corrupt).is_ok() ? accepted : rejected)++;
    }
  }
  float noise[512];
  fill_uniform(99, 0, 0, noise, 512);
  for (int trial = 0; trial < 256; ++trial) {
    std::vector<uint8_t> corrupt = file;
    for (int k = 0; k < 4; ++k)
      corrupt[static_cast<size_t>(noise[2 * trial + k % 2] * file.size() + k * 7) % file.size()] ^= 0x5A;
    (load_prepare_run(corrupt).is_ok() ? accepted : rejected)++;
  }
  MESSAGE("rejected " << rejected << ", harmless " << accepted);
  CHECK(rejected > 0);
}

TEST_CASE("a wrong file identifier is named") {
  std::vector<uint8_t> file = conv_model().build();
  std::memcpy(file.data() + 4, "ONNX", 4);
  expect_rejected(file, StatusCode::kInvalidModel, "identifier");
}

TEST_CASE("out-of-range tensor indices are rejected") {
  ModelBuilder builder = conv_model();
  builder.graphs()[0].ops[1].inputs[0] = 99;
  expect_rejected(builder.build(), StatusCode::kInvalidModel, "out of range");
  ModelBuilder outputs = conv_model();
  outputs.graphs()[0].outputs[0] = -3;
  expect_rejected(outputs.build(), StatusCode::kInvalidModel, "out of range");
}

TEST_CASE("huge shapes are rejected") {
  ModelBuilder builder = conv_model();
  builder.graphs()[0].tensors[4].shape = {1 << 20, 1 << 20, 1 << 20, 3};
  expect_rejected(builder.build(), StatusCode::kInvalidModel, "too large");
  ModelBuilder negative = conv_model();
  negative.graphs()[0].tensors[4].shape = {1, 3, -5, 5};
  expect_rejected(negative.build(), StatusCode::kInvalidModel, "negative");
  ModelBuilder rank = conv_model();
  rank.graphs()[0].tensors[4].shape = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  expect_rejected(rank.build(), StatusCode::kInvalidModel, "rank");
}

TEST_CASE("an overlapping memory plan is rejected") {
  ModelBuilder builder = conv_model();
  // x, h and y: x and h are live together at step 0; put them on top of each other.
  expect_rejected(builder.build([](std::vector<uint64_t>& offsets, uint64_t&) { offsets[3] = offsets[0]; }),
                  StatusCode::kInvalidModel, "overlap");
  expect_rejected(builder.build([](std::vector<uint64_t>&, uint64_t& arena) { arena = 64; }),
                  StatusCode::kInvalidModel, "outside");
  expect_rejected(builder.build([](std::vector<uint64_t>& offsets, uint64_t&) { offsets[4] += 4; }),
                  StatusCode::kInvalidModel, "aligned");
}

TEST_CASE("declared shapes that contradict the operator are rejected") {
  ModelBuilder builder = conv_model();
  builder.graphs()[0].tensors[3].shape = {1, 3, 4, 4};
  builder.graphs()[0].tensors[4].shape = {1, 3, 4, 4};
  expect_rejected(builder.build(), StatusCode::kInvalidModel, "declares");
}

TEST_CASE("weights whose size does not match their tensor are rejected") {
  ModelBuilder builder = conv_model();
  builder.graphs()[0].tensors[2].data.resize(8);
  expect_rejected(builder.build(), StatusCode::kInvalidModel, "bytes");
}

TEST_CASE("an unknown opcode names the operator") {
  ModelBuilder builder = conv_model();
  builder.graphs()[0].ops[1].opcode = static_cast<OpCode>(9999);
  expect_rejected(builder.build(), StatusCode::kUnsupportedOp, "9999");
}

TEST_CASE("operators out of order are rejected") {
  ModelBuilder builder = conv_model();
  std::swap(builder.graphs()[0].ops[0], builder.graphs()[0].ops[1]);
  expect_rejected(builder.build(), StatusCode::kInvalidModel, "before any operator produces it");
}

TEST_CASE("a newer format version is refused") {
  ModelBuilder builder = conv_model();
  expect_rejected(builder.format_version(7).build(), StatusCode::kUnsupportedVersion, "version 7");
}

TEST_CASE("misaligned model memory is refused with advice") {
  std::vector<uint8_t> file = conv_model().build();
  std::vector<uint8_t> storage(file.size() + 65);
  uint8_t* aligned = storage.data() + (64 - reinterpret_cast<uintptr_t>(storage.data()) % 64) % 64;
  std::memcpy(aligned + 1, file.data(), file.size());
  Result<Model> model = Model::from_buffer(aligned + 1, file.size());
  CHECK(model.status().code() == StatusCode::kInvalidArgument);
  CHECK(std::strstr(model.status().message(), "aligned") != nullptr);
}
