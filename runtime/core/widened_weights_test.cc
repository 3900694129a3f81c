// Float16 constants (`convert --weights fp16`): widened to float32 at
// prepare, in the arena. A model with float16 weights must compute exactly
// what the float32 model whose weights were rounded to float16 computes, on
// every backend, with the arena size that arena_bytes_needed reports.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/widened_weights.h"
#include "edgegen/random.h"
#include "edgegen/session.h"
#include "kernels/kernel_util.h"
#include "testing/allocation_counter.h"
#include "testing/model_builder.h"
#include "testing/random_values.h"

using namespace edgegen;
using edgegen::testing::AlignedBytes;
using edgegen::testing::ModelBuilder;
using edgegen::testing::random_values;

namespace {

std::vector<uint16_t> to_halves(const std::vector<float>& values) {
  std::vector<uint16_t> halves;
  for (float v : values) halves.push_back(float_to_half(v));
  return halves;
}

std::vector<float> rounded(const std::vector<float>& values) {
  std::vector<float> result;
  for (float v : values) result.push_back(half_to_float(float_to_half(v)));
  return result;
}

// conv (3x3, 8 -> 16 channels, bias) -> ConvTranspose (stride 2, 16 -> 4)
// -> Reshape -> FullyConnected twice over the same weight (one buffer, two
// readers: XNNPACK packs it once) -> tanh. `half` stores every weight and
// bias as float16; otherwise float32 values already rounded to float16.
ModelBuilder model(bool half) {
  const std::vector<float> conv_w = random_values(16 * 8 * 9, 1, 0.2f), conv_b = random_values(16, 2, 0.5f);
  const std::vector<float> deconv_w = random_values(16 * 4 * 16, 3, 0.2f);
  const std::vector<float> fc_w = random_values(12 * 12, 4, 0.3f), fc_b = random_values(12, 5, 0.1f);
  ModelBuilder b;
  b.graph("main");
  auto constant = [&](const char* name, std::vector<int64_t> shape, const std::vector<float>& values) {
    if (half) return b.constant_of(name, std::move(shape), DType::kFloat16, to_halves(values));
    return b.constant(name, std::move(shape), rounded(values));
  };
  int32_t x = b.activation("x", {1, 8, 6, 6});
  int32_t w1 = constant("conv.w", {16, 8, 3, 3}, conv_w);
  int32_t b1 = constant("conv.b", {16}, conv_b);
  int32_t h1 = b.activation("h1", {1, 16, 6, 6});
  b.op(OpCode::kConv2d, {x, w1, b1}, {h1}, {1, 1, 1, 1, 1, 1, 1, 1, 1}, {}, ActivationKind::kRelu);
  int32_t w2 = constant("deconv.w", {16, 4, 4, 4}, deconv_w);
  int32_t h2 = b.activation("h2", {1, 4, 12, 12});
  b.op(OpCode::kConvTranspose2d, {h1, w2}, {h2}, {2, 2, 1, 1, 1, 1, 1, 1, 1, 0, 0});
  int32_t rows = b.activation("rows", {48, 12});
  b.op(OpCode::kReshape, {h2}, {rows}, {48, 12});
  int32_t w3 = constant("fc.w", {12, 12}, fc_w);
  int32_t b3 = constant("fc.b", {12}, fc_b);
  int32_t h3 = b.activation("h3", {48, 12});
  b.op(OpCode::kFullyConnected, {rows, w3, b3}, {h3}, {}, {}, ActivationKind::kTanh);
  int32_t y = b.activation("y", {48, 12});
  b.op(OpCode::kFullyConnected, {h3, w3, b3}, {y}, {}, {}, ActivationKind::kTanh);
  b.inputs({x}).outputs({y});
  if (half) b.format_version(2);
  return b;
}

struct Run {
  std::vector<float> output;
  size_t arena_bytes = 0;
  int fast_ops = 0;  // ops not on the reference kernels
};

// Prepares in an arena of exactly arena_bytes_needed (one byte less must be
// refused), runs twice without a heap allocation, returns the output.
Run prepare_and_run(const Model& model, Backend backend, int threads) {
  SessionOptions options;
  options.backend = backend;
  options.threads = threads;
  Result<size_t> needed = Session::arena_bytes_needed(model, 0, options);
  REQUIRE_MESSAGE(needed.ok(), std::string(needed.status().message()));
  // Garbage, not zeros: the widened weights must be written, not assumed.
  std::vector<uint8_t> arena(*needed);
  for (size_t i = 0; i < arena.size(); ++i) arena[i] = static_cast<uint8_t>(i * 37 + 11);
  {
    Session too_small;
    Status refused = too_small.prepare(model, arena.data(), *needed - 1, 0, options);
    CHECK(refused.code() == StatusCode::kArenaTooSmall);
  }
  Session session;
  Status prepared = session.prepare(model, arena.data(), arena.size(), 0, options);
  REQUIRE_MESSAGE(prepared.is_ok(), std::string(prepared.message()));
  const std::vector<float> x = random_values(8 * 36, 9, 1.f);
  size_t allocations = 0;
  {
    edgegen::testing::AllocationScope scope;
    for (int pass = 0; pass < 2; ++pass) {
      std::memcpy(session.input(0, 0).data, x.data(), x.size() * sizeof(float));
      REQUIRE(session.run(0).is_ok());
    }
    allocations = scope.count();
  }
  CHECK(allocations == 0);
  const Tensor& y = session.output(0, 0);
  Run run;
  run.output.assign(y.data_as<float>(), y.data_as<float>() + y.num_elements());
  run.arena_bytes = *needed;
  for (size_t op = 0; op < session.num_operators(0); ++op)
    if (std::strcmp(session.operator_executor(0, op), "reference") != 0) ++run.fast_ops;
  return run;
}

std::vector<Backend> backends() {
  std::vector<Backend> list = {Backend::kReference};
#if defined(EDGEGEN_WITH_XNNPACK)
  SessionOptions xnnpack;
  xnnpack.backend = Backend::kXnnpack;
  if (Session::resolve_backend(xnnpack).ok()) list.push_back(Backend::kXnnpack);
#endif
  return list;
}

}  // namespace

TEST_CASE("float16 weights compute exactly what float32 weights rounded to float16 compute, on every backend") {
  AlignedBytes half_bytes(model(true).build()), float_bytes(model(false).build());
  Result<Model> half = Model::from_buffer(half_bytes.data(), half_bytes.size());
  REQUIRE_MESSAGE(half.ok(), std::string(half.status().message()));
  Result<Model> single = Model::from_buffer(float_bytes.data(), float_bytes.size());
  REQUIRE(single.ok());
  CHECK(half->weight_bytes() * 2 <= single->weight_bytes() + 64 * 8);
  for (Backend backend : backends()) {
    for (int threads : {1, 2}) {
      if (backend == Backend::kReference && threads == 2) continue;
      CAPTURE(backend_name(backend));
      CAPTURE(threads);
      const Run want = prepare_and_run(*single, backend, threads);
      const Run got = prepare_and_run(*half, backend, threads);
      REQUIRE(want.output.size() == got.output.size());
      CHECK(std::memcmp(want.output.data(), got.output.data(), want.output.size() * sizeof(float)) == 0);
      // Float16 weights take the same fast paths (conv, deconv GEMM, shared fully connected).
      CHECK(got.fast_ops == want.fast_ops);
      if (backend != Backend::kReference) CHECK(got.fast_ops >= 4);
      // The widened copies are in the arena: the float16 model's arena is
      // larger by at least their float32 size.
      // (On XNNPACK the float32 model copies a bias that ends the file: a few bytes.)
      CHECK(got.arena_bytes + 256 >= want.arena_bytes + WidenedWeights::bytes_needed(*half));
      if (backend == Backend::kReference) CHECK(got.arena_bytes == want.arena_bytes + WidenedWeights::bytes_needed(*half));
    }
  }
}

TEST_CASE("the widened region: one table entry per buffer and one float32 copy per float16 buffer") {
  AlignedBytes bytes(model(true).build());
  Result<Model> half = Model::from_buffer(bytes.data(), bytes.size());
  REQUIRE(half.ok());
  // Buffers: conv.w 1152, conv.b 16, deconv.w 1024, fc.w 144, fc.b 12 (+ the null buffer
  // 0): a table of 6 pointers, then each float16 buffer as floats, 64-aligned.
  const size_t expected = 64 + 1152 * 4 + 64 + 1024 * 4 + 576 + 64;
  CHECK(WidenedWeights::bytes_needed(*half) == expected);
  AlignedBytes floats(model(false).build());
  Result<Model> single = Model::from_buffer(floats.data(), floats.size());
  REQUIRE(single.ok());
  CHECK(WidenedWeights::bytes_needed(*single) == 0);

  std::vector<uint8_t> region(expected + 64);
  uint8_t* memory = region.data() + (64 - reinterpret_cast<uintptr_t>(region.data()) % 64) % 64;
  WidenedWeights widened;
  const format::Graph& graph = *half->graph(0);
  const format::Tensor& conv_w = *graph.tensors()->Get(1);
  const format::Tensor& x = *graph.tensors()->Get(0);
  CHECK(is_widened_constant(conv_w));
  CHECK(runtime_dtype(conv_w) == DType::kFloat32);
  CHECK_FALSE(is_widened_constant(x));
  // Before widening, the stored bytes; after, float32 values in the region.
  CHECK(widened.data(*half, conv_w.buffer()) == half->buffer_data(conv_w.buffer()));
  widened.widen(*half, memory);
  const float* values = static_cast<const float*>(widened.data(*half, conv_w.buffer()));
  CHECK(reinterpret_cast<const uint8_t*>(values) == memory + 64);
  const uint16_t* stored = static_cast<const uint16_t*>(half->buffer_data(conv_w.buffer()));
  for (size_t i = 0; i < 1152; ++i) CHECK(values[i] == half_to_float(stored[i]));
  CHECK(widened.data(*half, 0) == nullptr);
}

TEST_CASE("a float16 activation stays float16: only constants are widened") {
  ModelBuilder b;
  b.graph("main");
  int32_t x = b.activation("x", {4});
  int32_t h = b.activation("h", {4}, DType::kFloat16);
  int32_t y = b.activation("y", {4});
  b.op(OpCode::kCast, {x}, {h}, {static_cast<int64_t>(DType::kFloat16)});
  b.op(OpCode::kCast, {h}, {y}, {static_cast<int64_t>(DType::kFloat32)});
  b.inputs({x}).outputs({y});
  AlignedBytes bytes(b.build());
  Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
  REQUIRE(model.ok());
  Session session;
  REQUIRE(session.prepare(*model).is_ok());
  const float x_values[] = {1.f, 1.0009765625f + 0.0001f, 65504.f, -0.5f};
  std::memcpy(session.input(0, 0).data, x_values, sizeof x_values);
  REQUIRE(session.run(0).is_ok());
  CHECK(session.operator_output(0, 0, 0).dtype == DType::kFloat16);
  CHECK(session.output(0, 0).data_as<float>()[1] == 1.0009765625f);
}
