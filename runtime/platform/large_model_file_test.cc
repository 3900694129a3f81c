// Model files past 2 GiB and 4 GiB (a Stable-Diffusion-sized UNet is 3.4 GB
// of float32 weights): the weight segment's 64-bit offsets must reach
// weights there through a memory-mapped file, and a file cut short before
// its weights must be refused. The files are sparse (a hole before the
// weights), so the test writes a few KB and runs in milliseconds.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "edgegen/mapped_file.h"
#include "edgegen/session.h"
#include "testing/model_builder.h"

using namespace edgegen;
using edgegen::testing::ModelBuilder;

namespace {

constexpr uint64_t kGiB = 1ull << 30;

// y = FullyConnected(x, w, b) + c: w [3, 4] at `weight_offset` in the weight
// segment, b [3] at `bias_offset`, c [3] (added after) first, at offset 0.
ModelBuilder fully_connected_model(uint64_t bias_offset, uint64_t weight_offset) {
  ModelBuilder builder;
  builder.graph("main");
  int32_t x = builder.activation("x", {1, 4});
  int32_t c = builder.constant("c", {3}, {100.f, 200.f, 300.f});
  int32_t b = builder.constant_at(bias_offset, "b", {3}, {0.5f, -1.f, 2.f});
  int32_t w = builder.constant_at(weight_offset, "w", {3, 4},
                                  {1.f, 0.f, 0.f, 0.f,    // y0 = x0
                                   1.f, 1.f, 1.f, 1.f,    // y1 = sum
                                   0.f, -2.f, 0.f, 3.f});  // y2 = -2 x1 + 3 x3
  int32_t h = builder.activation("h", {1, 3});
  int32_t y = builder.activation("y", {1, 3});
  builder.op(OpCode::kFullyConnected, {x, w, b}, {h});
  builder.op(OpCode::kAdd, {h, c}, {y});
  builder.inputs({x}).outputs({y});
  return builder;
}

struct TemporaryFile {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("edgegen_large_model_" + std::to_string(::getpid()) + ".egm")).string();
  ~TemporaryFile() { std::remove(path.c_str()); }
};

// Bytes the file occupies on disk (st_blocks), to tell a sparse file.
uint64_t disk_bytes(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0 ? static_cast<uint64_t>(info.st_blocks) * 512 : ~0ull;
}

// Maps, loads, prepares and runs `path`; checks y against the hand-computed values.
void check_runs(const std::string& path, uint64_t weight_offset) {
  Result<MappedFile> file = MappedFile::open(path.c_str());
  REQUIRE_MESSAGE(file.ok(), std::string(file.status().message()));
  Result<Model> model = Model::from_buffer(file.value().data(), file.value().size());
  REQUIRE_MESSAGE(model.ok(), std::string(model.status().message()));
  // The weight is read from where the file put it, not from a truncated offset.
  const uint8_t* base = static_cast<const uint8_t*>(file.value().data());
  uint64_t segment_offset = file.value().size() - (weight_offset + 12 * sizeof(float));
  CHECK(static_cast<const uint8_t*>(model.value().buffer_data(3)) - base == static_cast<ptrdiff_t>(segment_offset + weight_offset));
  Session session;
  Status status = session.prepare(model.value());
  REQUIRE_MESSAGE(status.is_ok(), std::string(status.message()));
  const float x[4] = {1.f, 2.f, 3.f, 4.f};
  std::memcpy(session.input(0, 0).data, x, sizeof x);
  REQUIRE(session.run(0).is_ok());
  const float* y = static_cast<const float*>(session.output(0, 0).data);
  CHECK(y[0] == doctest::Approx(1.f + 0.5f + 100.f));
  CHECK(y[1] == doctest::Approx(10.f - 1.f + 200.f));
  CHECK(y[2] == doctest::Approx(-4.f + 12.f + 2.f + 300.f));
}

}  // namespace

TEST_CASE("a model file whose weights lie past 2 GiB and past 4 GiB loads memory-mapped and runs") {
  if (sizeof(void*) < 8) {
    MESSAGE("skipped: a 32-bit process cannot map a file past 4 GiB (MappedFile refuses it; checked below)");
    return;
  }
  const uint64_t bias_offset = 2 * kGiB + 64;       // past INT32_MAX
  const uint64_t weight_offset = 4 * kGiB + 128;    // past UINT32_MAX
  TemporaryFile file;
  REQUIRE(fully_connected_model(bias_offset, weight_offset).write_file(file.path));
  CHECK(std::filesystem::file_size(file.path) > 4 * kGiB);
  if (disk_bytes(file.path) > 64 * 1024 * 1024) {
    MESSAGE("skipped: the temporary directory's file system has no sparse files");
    return;
  }
  check_runs(file.path, weight_offset);
}

TEST_CASE("a model file cut short before its weights past 4 GiB is refused, not read past its end") {
  if (sizeof(void*) < 8) return;
  const uint64_t weight_offset = 4 * kGiB + 128;
  TemporaryFile file;
  REQUIRE(fully_connected_model(64, weight_offset).write_file(file.path));
  const uint64_t full_size = std::filesystem::file_size(file.path);
  // One byte short: the last weight's last byte is missing.
  std::filesystem::resize_file(file.path, full_size - 1);
  Result<MappedFile> mapped = MappedFile::open(file.path.c_str());
  REQUIRE(mapped.ok());
  Result<Model> model = Model::from_buffer(mapped.value().data(), mapped.value().size());
  REQUIRE_FALSE(model.ok());
  CHECK(model.status().code() == StatusCode::kInvalidModel);
  CHECK_MESSAGE(std::strstr(model.status().message(), "does not fit") != nullptr, std::string(model.status().message()));
}

TEST_CASE("a buffer whose 64-bit offset points past the weight segment is refused") {
  // An offset whose low 32 bits are in range: a reader that truncated it
  // would accept the file and read the wrong bytes.
  ModelBuilder builder = fully_connected_model(64, 128);
  std::vector<uint8_t> bytes = builder.build();
  ModelBuilder::Parts parts = builder.build_parts();
  // Find Buffer 3's offset (128) in the FlatBuffer: the only ulong 128
  // followed by its size (48).
  uint64_t offset = 128, size = 48;
  size_t at = 0;
  for (size_t i = 0; i + 16 <= parts.head.size(); i += 4)
    if (std::memcmp(&bytes[i], &offset, 8) == 0 && std::memcmp(&bytes[i + 8], &size, 8) == 0) at = i;
  REQUIRE(at != 0);
  uint64_t corrupt = offset + 4 * kGiB;
  std::memcpy(&bytes[at], &corrupt, 8);
  edgegen::testing::AlignedBytes aligned(bytes);
  Result<Model> model = Model::from_buffer(aligned.data(), aligned.size());
  REQUIRE_FALSE(model.ok());
  CHECK_MESSAGE(std::strstr(model.status().message(), "lies outside") != nullptr, std::string(model.status().message()));
}
