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

#include "backends/xnnpack/simd/narrow_conv2d.h"
#include "backends/xnnpack/simd/recurrent_step.h"
#include "core/prepacked_weights.h"
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
  const std::vector<float> x = random_values(run->session.input(0, 0).num_elements(), 9, 1.f);
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

namespace {

// Two Conv2d + SiLU, 64 -> out_channels -> out_channels over a side x side
// image.
AlignedBytes two_convolutions(int64_t out_channels, int64_t side, uint64_t seed) {
  ModelBuilder b;
  b.graph("main");
  const int32_t input = b.activation("x", {1, 64, side, side});
  int32_t x = input;
  for (int layer = 0; layer < 2; ++layer) {
    const int64_t in_channels = layer == 0 ? 64 : out_channels;
    const std::string n = std::to_string(layer);
    int32_t w = b.constant("w" + n, {out_channels, in_channels, 3, 3},
                           random_values(out_channels * in_channels * 9, seed + 2 * layer, 0.05f));
    int32_t bias = b.constant("b" + n, {out_channels}, random_values(out_channels, seed + 2 * layer + 1, 0.1f));
    int32_t y = b.activation("y" + n, {1, out_channels, side, side});
    b.op(OpCode::kConv2d, {x, w, bias}, {y}, {1, 1, 1, 1, 1, 1, 1, 1, 1}, {}, ActivationKind::kSilu);
    x = y;
  }
  b.inputs({input}).outputs({x});
  return AlignedBytes(b.build());
}

// Our own convolutions (packed_conv, narrow_conv) pack a streamed layer's
// weights into the stream buffer before each run with the code that packs
// them at prepare: the same executor, the same bits, and no packed copy
// kept (the arena holds one layer's, not every layer's).
void check_streamed_like_packed(AlignedBytes&& bytes, const char* executor) {
  Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
  REQUIRE(model.ok());
  Run packed, streamed;
  prepare_and_run(*model, xnnpack_options(0), &packed);
  prepare_and_run(*model, xnnpack_options(1024), &streamed);
  for (size_t op : {0u, 1u}) {
    CHECK(std::string(packed.session.operator_executor(0, op)) == executor);
    CHECK(std::string(streamed.session.operator_executor(0, op)) == executor);
  }
  REQUIRE(packed.output.size() == streamed.output.size());
  CHECK(std::memcmp(packed.output.data(), streamed.output.data(), packed.output.size() * sizeof(float)) == 0);
  // One buffer for both layers' packing. (Where XNNPACK runs them, as on
  // ARM, a streamed layer needs its reordered weights beside its packed
  // ones, which two small layers do not repay.)
  if (std::string(executor) != "xnnpack") CHECK(streamed.arena.size() < packed.arena.size());
}

}  // namespace

TEST_CASE("a streamed convolution on the packed GEMM is packed before each run, with the packed session's bits") {
  if (!Session::resolve_backend(xnnpack_options(0)).ok()) return;
  // 4x4 positions: too few for narrow_conv; 64 x 576 floats: packed_conv's.
  check_streamed_like_packed(two_convolutions(64, 4, 7), simd::has_recurrent_step_avx512() ? "packed" : "xnnpack");
  // Four blocks of 16 units per gate, each packed on its own task.
  check_streamed_like_packed(two_convolutions(256, 4, 17), simd::has_recurrent_step_avx512() ? "packed" : "xnnpack");
}

TEST_CASE("a streamed narrow convolution is packed before each run, with the packed session's bits") {
  if (!Session::resolve_backend(xnnpack_options(0)).ok()) return;
  // 16x16 positions, 128 output channels: two blocks of 64 (a UNet's 3x3 convs in small).
  const bool narrow = simd::has_narrow_conv2d_avx512();
  check_streamed_like_packed(two_convolutions(128, 16, 27), narrow ? "narrow" : "xnnpack");
  // 24 output channels: one block of 48 lanes (input-channel pairs), bias padded.
  check_streamed_like_packed(two_convolutions(24, 16, 37), narrow ? "narrow" : "xnnpack");
}

namespace {

Status append_bytes(void* user, const void* data, size_t bytes) {
  auto* file = static_cast<std::vector<uint8_t>*>(user);
  file->insert(file->end(), static_cast<const uint8_t*>(data), static_cast<const uint8_t*>(data) + bytes);
  return Status::ok();
}

std::vector<uint8_t> prepacked_file(Session& session) {
  std::vector<uint8_t> file;
  Status written = session.write_prepacked_weights(Session::ByteWriter{append_bytes, &file});
  REQUIRE_MESSAGE(written.is_ok(), std::string(written.message()));
  return file;
}

std::vector<float> run_once(Session& session) {
  const std::vector<float> x = random_values(session.input(0, 0).num_elements(), 9, 1.f);
  std::memcpy(session.input(0, 0).data, x.data(), x.size() * sizeof(float));
  Status ran;
  {
    edgegen::testing::AllocationScope scope;
    ran = session.run(0);
    CHECK(scope.count() == 0);
  }
  REQUIRE_MESSAGE(ran.is_ok(), std::string(ran.message()));
  const Tensor& y = session.output(0, 0);
  return std::vector<float>(y.data_as<float>(), y.data_as<float>() + y.num_elements());
}

// Pre-packed weights (Session::write_prepacked_weights / use_prepacked_weights):
// a file written by one streaming session, read by another, gives the bits
// of the session that packs at prepare; a file of other weights, layers or
// size is refused by name and leaves the session repacking.
void check_prepacked(AlignedBytes&& bytes, AlignedBytes&& other_weights, bool own_kernels) {
  Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
  Result<Model> other = Model::from_buffer(other_weights.data(), other_weights.size());
  REQUIRE(model.ok());
  REQUIRE(other.ok());
  Run packed, writer, reader;
  prepare_and_run(*model, xnnpack_options(0), &packed);
  prepare_and_run(*model, xnnpack_options(1024), &writer);
  const std::vector<uint8_t> file = prepacked_file(writer.session);
  PrepackedHeader header;
  REQUIRE(file.size() >= sizeof header);
  std::memcpy(&header, file.data(), sizeof header);
  CHECK(header.file_bytes == file.size());
  CHECK(header.entries == (own_kernels ? 2u : 0u));
  AlignedBytes aligned(file);

  prepare_and_run(*model, xnnpack_options(1024), &reader);
  Status used = reader.session.use_prepacked_weights(aligned.data(), aligned.size());
  REQUIRE_MESSAGE(used.is_ok(), std::string(used.message()));
  std::vector<float> y = run_once(reader.session);
  CHECK(std::memcmp(packed.output.data(), y.data(), y.size() * sizeof(float)) == 0);
  // The writer packed through its stream buffer and still runs as before.
  y = run_once(writer.session);
  CHECK(std::memcmp(packed.output.data(), y.data(), y.size() * sizeof(float)) == 0);
  if (!own_kernels) return;

  // The runs read the file: a changed packed weight changes the output.
  std::vector<uint8_t> edited = file;
  PrepackedEntry first;
  std::memcpy(&first, file.data() + sizeof header, sizeof first);
  float weight;
  std::memcpy(&weight, edited.data() + first.offset, sizeof weight);
  weight += 1.f;
  std::memcpy(edited.data() + first.offset, &weight, sizeof weight);
  AlignedBytes edited_aligned(edited);
  REQUIRE(reader.session.use_prepacked_weights(edited_aligned.data(), edited_aligned.size()).is_ok());
  y = run_once(reader.session);
  CHECK(std::memcmp(packed.output.data(), y.data(), y.size() * sizeof(float)) != 0);

  // Refused: cut short, not such a file, other weights, other layers.
  CHECK_MESSAGE(std::string(reader.session.use_prepacked_weights(aligned.data(), aligned.size() - 4096).message())
                    .find("cut short") != std::string::npos, "a truncated file");
  std::vector<uint8_t> bad = file;
  bad[0] = 'X';
  AlignedBytes bad_magic(bad);
  CHECK(std::string(reader.session.use_prepacked_weights(bad_magic.data(), bad_magic.size()).message())
            .find("bad magic") != std::string::npos);
  Run changed;
  prepare_and_run(*other, xnnpack_options(1024), &changed);
  Status refused = changed.session.use_prepacked_weights(aligned.data(), aligned.size());
  CHECK(refused.code() == StatusCode::kInvalidArgument);
  CHECK_MESSAGE(std::string(refused.message()).find("weights of layer 0") != std::string::npos,
                std::string(refused.message()));
  y = run_once(changed.session);  // still repacking its own weights
  CHECK(std::memcmp(changed.output.data(), y.data(), y.size() * sizeof(float)) == 0);
  Run unstreamed;
  prepare_and_run(*model, xnnpack_options(0), &unstreamed);
  refused = unstreamed.session.use_prepacked_weights(aligned.data(), aligned.size());
  CHECK_MESSAGE(std::string(refused.message()).find("streams 0") != std::string::npos, std::string(refused.message()));
  CHECK(unstreamed.session.use_prepacked_weights(nullptr, 0).code() == StatusCode::kInvalidArgument);
}

}  // namespace

TEST_CASE("pre-packed weights: written by one streaming session, read by another with the packed session's bits") {
  if (!Session::resolve_backend(xnnpack_options(0)).ok()) return;
  check_prepacked(two_convolutions(128, 16, 27), two_convolutions(128, 16, 28), simd::has_narrow_conv2d_avx512());
  check_prepacked(two_convolutions(64, 4, 7), two_convolutions(64, 4, 8), simd::has_recurrent_step_avx512());
}
