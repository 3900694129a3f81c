#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "edgegen/edgegen.h"
#include "testing/allocation_counter.h"
#include "testing/model_builder.h"

using namespace edgegen;
using edgegen::testing::AlignedBytes;

namespace {
AlignedBytes decoder_model() {
  edgegen::testing::ModelBuilder builder;
  builder.graph("decoder");
  int32_t z = builder.activation("z", {1, 2});
  int32_t w = builder.constant("w", {4, 2}, {1, 0, 0, 1, 1, 1, 1, -1});
  int32_t h = builder.activation("h", {1, 4});
  int32_t x = builder.activation("x", {1, 1, 2, 2});
  builder.op(OpCode::kFullyConnected, {z, w, -1}, {h});
  builder.op(OpCode::kReshape, {h}, {x}, {1, 1, 2, 2});
  builder.inputs({z}).outputs({x}).decoder_pipeline({2}, -3, 3);
  return AlignedBytes(builder.build());
}
}  // namespace

TEST_CASE("C API: a static arena, sampling, and no heap use at all (reference backend)") {
  AlignedBytes model = decoder_model();
  size_t needed = 0;
  REQUIRE(eg_pipeline_arena_bytes(model.data(), model.size(), &needed) == EG_OK);
  static unsigned char arena[1 << 16];
  REQUIRE(needed <= sizeof arena);
  char error[256] = "";
  eg_pipeline_options options = {sizeof options, arena, sizeof arena, error, sizeof error, EG_BACKEND_REFERENCE, 1};
  eg_pipeline* pipeline = nullptr;
  float items[3 * 4], latents[3 * 2];
  eg_status created, sampled;
  size_t allocations;
  {
    // No doctest macros inside: they may allocate.
    edgegen::testing::AllocationScope scope;
    created = eg_pipeline_create(model.data(), model.size(), &options, &pipeline);
    sampled = created == EG_OK ? eg_pipeline_sample(pipeline, 3, 1.f, 3, items, latents) : created;
    eg_pipeline_destroy(pipeline);
    allocations = scope.count();
  }
  REQUIRE_MESSAGE(created == EG_OK, std::string(error));
  REQUIRE(sampled == EG_OK);
  CHECK(allocations == 0);
  for (int i = 0; i < 3; ++i) {
    CHECK(items[4 * i + 2] == doctest::Approx(latents[2 * i] + latents[2 * i + 1]));
    CHECK(items[4 * i + 3] == doctest::Approx(latents[2 * i] - latents[2 * i + 1]));
  }
}

TEST_CASE("C API: every backend samples the same items, and sampling never allocates") {
  AlignedBytes model = decoder_model();
  float reference[3 * 4] = {}, items[3 * 4] = {};
  for (int backend : {EG_BACKEND_REFERENCE, EG_BACKEND_AUTO, EG_BACKEND_XNNPACK}) {
    CAPTURE(backend);
    char error[256] = "";
    eg_pipeline_options options = {sizeof options, nullptr, 0, error, sizeof error, backend, 2};
    eg_pipeline* pipeline = nullptr;
    eg_status created = eg_pipeline_create(model.data(), model.size(), &options, &pipeline);
#if !defined(EDGEGEN_WITH_XNNPACK)
    if (backend == EG_BACKEND_XNNPACK) {
      CHECK(created == EG_UNSUPPORTED_OP);
      continue;
    }
#endif
    REQUIRE_MESSAGE(created == EG_OK, std::string(error));
    size_t allocations;
    eg_status sampled;
    {
      edgegen::testing::AllocationScope scope;
      sampled = eg_pipeline_sample(pipeline, 3, 1.f, 3, items, nullptr);
      allocations = scope.count();
    }
    eg_pipeline_destroy(pipeline);
    REQUIRE(sampled == EG_OK);
    CHECK(allocations == 0);
    if (backend == EG_BACKEND_REFERENCE) std::memcpy(reference, items, sizeof items);
    for (int i = 0; i < 12; ++i) CHECK(items[i] == doctest::Approx(reference[i]).epsilon(1e-5));
  }
  eg_pipeline_options bad = {sizeof bad, nullptr, 0, nullptr, 0, 7, 0};
  eg_pipeline* pipeline = nullptr;
  CHECK(eg_pipeline_create(model.data(), model.size(), &bad, &pipeline) == EG_INVALID_ARGUMENT);
}

TEST_CASE("C API: shapes, ranges and errors") {
  AlignedBytes model = decoder_model();
  eg_pipeline* pipeline = nullptr;
  REQUIRE(eg_pipeline_create(model.data(), model.size(), nullptr, &pipeline) == EG_OK);
  CHECK(eg_pipeline_latent_size(pipeline) == 2);
  CHECK(eg_pipeline_item_size(pipeline) == 4);
  int64_t dims[4];
  REQUIRE(eg_pipeline_item_shape(pipeline, dims, 4) == 3);
  CHECK(dims[0] == 1);
  CHECK(dims[2] == 2);
  float low, high;
  eg_pipeline_output_range(pipeline, &low, &high);
  CHECK(low == -3.f);
  float mean[2];
  const float item[4] = {};
  CHECK(eg_pipeline_encode(pipeline, item, 1, mean, nullptr) == EG_UNSUPPORTED_OP);
  CHECK(std::strstr(eg_pipeline_last_error(pipeline), "cannot encode") != nullptr);
  eg_pipeline_destroy(pipeline);

  unsigned char small[256];
  char error[256] = "";
  eg_pipeline_options options = {sizeof options, small, sizeof small, error, sizeof error};
  CHECK(eg_pipeline_create(model.data(), model.size(), &options, &pipeline) == EG_ARENA_TOO_SMALL);
  CHECK(pipeline == nullptr);
  CHECK(std::strstr(error, "needs") != nullptr);

  std::vector<uint8_t> garbage(model.data(), model.data() + model.size());
  garbage[5] ^= 0xFF;
  AlignedBytes corrupt(garbage);
  CHECK(eg_pipeline_create(corrupt.data(), corrupt.size(), &options, &pipeline) == EG_INVALID_MODEL);
  CHECK(std::string(eg_status_name(EG_INVALID_MODEL)) == "invalid model");
}
