// Weight streaming (SessionOptions::stream_weights_min_bytes): large layers'
// operators are created, their weights packed into one shared buffer, just
// before they run. The results must be the bits of the session that packs
// everything at prepare, with no heap allocation while running, in a
// smaller arena, and (from a mapped file whose used pages are released)
// the same on every run.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "backends/xnnpack/simd/recurrent_step.h"
#include "edgegen/mapped_file.h"
#include "edgegen/random.h"
#include "edgegen/session.h"
#include "testing/allocation_counter.h"
#include "testing/model_builder.h"
#include "testing/random_values.h"

using namespace edgegen;
using edgegen::testing::AlignedBytes;
using edgegen::testing::ModelBuilder;
using edgegen::testing::random_values;

namespace {

// A UNet's layer kinds in small: 3x3 conv + SiLU, 1x1 conv, flatten, fully
// connected, and a MatMul with a constant right-hand side.
ModelBuilder layers_model() {
  ModelBuilder b;
  b.graph("main");
  int32_t x = b.activation("x", {1, 8, 8, 8});
  int32_t w1 = b.constant("w1", {16, 8, 3, 3}, random_values(16 * 8 * 9, 1, 0.2f));
  int32_t b1 = b.constant("b1", {16}, random_values(16, 2, 0.1f));
  int32_t h1 = b.activation("h1", {1, 16, 8, 8});
  b.op(OpCode::kConv2d, {x, w1, b1}, {h1}, {1, 1, 1, 1, 1, 1, 1, 1, 1}, {}, ActivationKind::kSilu);
  int32_t w2 = b.constant("w2", {4, 16, 1, 1}, random_values(4 * 16, 3, 0.3f));
  int32_t h2 = b.activation("h2", {1, 4, 8, 8});
  b.op(OpCode::kConv2d, {h1, w2}, {h2}, {1, 1, 1, 1, 0, 0, 0, 0, 1});
  int32_t flat = b.activation("flat", {1, 256});
  b.op(OpCode::kReshape, {h2}, {flat}, {1, 256});
  int32_t w3 = b.constant("w3", {32, 256}, random_values(32 * 256, 4, 0.1f));
  int32_t b3 = b.constant("b3", {32}, random_values(32, 5, 0.1f));
  int32_t h3 = b.activation("h3", {1, 32});
  b.op(OpCode::kFullyConnected, {flat, w3, b3}, {h3});
  int32_t w4 = b.constant("w4", {32, 24}, random_values(32 * 24, 6, 0.2f));
  int32_t y = b.activation("y", {1, 24});
  b.op(OpCode::kMatMul, {h3, w4}, {y});
  b.inputs({x}).outputs({y});
  return b;
}

struct Run {
  std::vector<uint8_t> arena;
  Session session;
  std::vector<float> output;
};

// Prepares in an exact arena, runs twice (checking no allocation), keeps y.
void prepare_and_run(const Model& model, const SessionOptions& options, Run* run) {
  Result<size_t> needed = Session::arena_bytes_needed(model, 0, options);
  REQUIRE_MESSAGE(needed.ok(), std::string(needed.status().message()));
  run->arena.assign(*needed, 0xA5);
  Status prepared = run->session.prepare(model, run->arena.data(), run->arena.size(), 0, options);
  REQUIRE_MESSAGE(prepared.is_ok(), std::string(prepared.message()));
  const std::vector<float> x = random_values(8 * 8 * 8, 9, 1.f);
  std::vector<float> first;
  size_t allocations = 0;
  for (int repeat = 0; repeat < 2; ++repeat) {
    std::memcpy(run->session.input(0, 0).data, x.data(), x.size() * sizeof(float));
    Status ran;
    {
      edgegen::testing::AllocationScope scope;
      ran = run->session.run(0);
      allocations += scope.count();
    }
    REQUIRE_MESSAGE(ran.is_ok(), std::string(ran.message()));
    const Tensor& y = run->session.output(0, 0);
    std::vector<float> values(y.data_as<float>(), y.data_as<float>() + y.num_elements());
    if (repeat == 0) first = values;
    else CHECK(std::memcmp(first.data(), values.data(), values.size() * sizeof(float)) == 0);
  }
  CHECK(allocations == 0);
  run->output = first;
}

SessionOptions xnnpack_options(size_t stream_min_bytes) {
  SessionOptions options;
  options.backend = Backend::kXnnpack;
  options.threads = 2;
  options.stream_weights_min_bytes = stream_min_bytes;
  return options;
}

}  // namespace

TEST_CASE("weight streaming computes the packed-at-prepare session's bits in a smaller arena, allocating nothing") {
  if (!Session::resolve_backend(xnnpack_options(0)).ok()) return;
  AlignedBytes bytes(layers_model().build());
  Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
  REQUIRE(model.ok());
  Run packed, streamed;
  prepare_and_run(*model, xnnpack_options(0), &packed);
  // Every weight of 1 KiB or more streamed: w1 (4.5 KiB), w3 (32 KiB), w4 (3 KiB); w2 stays packed.
  prepare_and_run(*model, xnnpack_options(1024), &streamed);
  REQUIRE(packed.output.size() == streamed.output.size());
  CHECK(std::memcmp(packed.output.data(), streamed.output.data(), packed.output.size() * sizeof(float)) == 0);
  CHECK(streamed.arena.size() < packed.arena.size());
  for (size_t op : {0u, 3u, 4u}) CHECK(std::strcmp(streamed.session.operator_executor(0, op), "reference") != 0);
}

TEST_CASE("weight streaming from a mapped file releases the used weight pages and reads them again next run") {
  if (!Session::resolve_backend(xnnpack_options(0)).ok()) return;
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("edgegen_weight_streaming_" + std::to_string(::getpid()) + ".egm")).string();
  REQUIRE(layers_model().write_file(path));
  Result<MappedFile> file = MappedFile::open(path.c_str());
  std::remove(path.c_str());  // the mapping keeps the bytes
  REQUIRE(file.ok());
  Result<Model> model = Model::from_buffer(file.value().data(), file.value().size());
  REQUIRE(model.ok());
  Run packed, streamed;
  prepare_and_run(*model, xnnpack_options(0), &packed);
  SessionOptions options = xnnpack_options(1);  // every weight streamed
  options.release_weight_pages = true;
  prepare_and_run(*model, options, &streamed);
  CHECK(std::memcmp(packed.output.data(), streamed.output.data(), packed.output.size() * sizeof(float)) == 0);
}

TEST_CASE("a convolution that would run on the packed GEMM is streamed by XNNPACK instead of packed at prepare") {
  if (!Session::resolve_backend(xnnpack_options(0)).ok()) return;
  ModelBuilder b;
  b.graph("main");
  int32_t x = b.activation("x", {1, 64, 2, 4});  // prepare_and_run's 512 inputs
  int32_t w = b.constant("w", {64, 64, 3, 3}, random_values(64 * 64 * 9, 7, 0.05f));  // 144 KiB
  int32_t y = b.activation("y", {1, 64, 2, 4});
  b.op(OpCode::kConv2d, {x, w}, {y}, {1, 1, 1, 1, 1, 1, 1, 1, 1});
  b.inputs({x}).outputs({y});
  AlignedBytes bytes(b.build());
  Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
  REQUIRE(model.ok());
  Run packed, streamed;
  prepare_and_run(*model, xnnpack_options(0), &packed);
  prepare_and_run(*model, xnnpack_options(1024), &streamed);
  CHECK(std::string(packed.session.operator_executor(0, 0)) ==
        (simd::has_recurrent_step_avx512() ? "packed" : "xnnpack"));
  CHECK(std::string(streamed.session.operator_executor(0, 0)) == "xnnpack");
  REQUIRE(packed.output.size() == streamed.output.size());
  float worst = 0.f;
  for (size_t i = 0; i < packed.output.size(); ++i)
    worst = std::max(worst, std::abs(packed.output[i] - streamed.output[i]));
  CHECK(worst < 1e-4f);
}
