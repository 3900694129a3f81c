#include "atomic_file.h"

#include <doctest/doctest.h>

#include <stdexcept>
#include <vector>

#include "cli_error.h"
#include "test_support.h"

namespace edgegen::cli {

TEST_CASE("atomic file: commit puts the complete file in place") {
  testing::TemporaryDirectory directory;
  std::string path = directory.file("out.bin");
  write_file_atomically(path, {1, 2, 3});
  CHECK(read_file(path) == std::vector<uint8_t>{1, 2, 3});
  write_file_atomically(path, {9});  // replaces an existing file
  CHECK(read_file(path) == std::vector<uint8_t>{9});
  CHECK(directory.entries() == std::vector<std::string>{"out.bin"});
}

TEST_CASE("atomic file: a failure before commit leaves no file and keeps the old one") {
  testing::TemporaryDirectory directory;
  std::string fresh = directory.file("fresh.bin");
  std::string existing = directory.file("existing.bin");
  write_file_atomically(existing, {7, 7});
  try {
    AtomicFile a(fresh);
    AtomicFile b(existing);
    a.write("partial", 7);
    b.write("partial", 7);
    CHECK(directory.entries().size() == 3);  // existing + two temporaries
    throw std::runtime_error("failure while producing the output");
  } catch (const std::runtime_error&) {
  }
  CHECK(directory.entries() == std::vector<std::string>{"existing.bin"});
  CHECK(read_file(existing) == std::vector<uint8_t>{7, 7});
}

TEST_CASE("atomic file: unwritable destinations are errors naming the path") {
  CHECK_THROWS_WITH_AS(AtomicFile("/nonexistent-dir/out.png"), doctest::Contains("/nonexistent-dir/out.png"), CliError);
  testing::TemporaryDirectory directory;
  CHECK_THROWS_WITH_AS(AtomicFile(directory.path()), doctest::Contains("is a directory"), CliError);
  CHECK_THROWS_WITH_AS(AtomicFile(directory.path() + "/"), doctest::Contains("directory"), CliError);
  CHECK_THROWS_AS(read_file(directory.path()), CliError);
}

}  // namespace edgegen::cli
