// RowReader on untrusted .npy headers: every bad shape is a CliError that
// names the file, found quickly, with memory bounded by the header.
#include "row_reader.h"

#include <doctest/doctest.h>

#include <dirent.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "cli_error.h"
#include "test_support.h"

using namespace edgegen::cli;
using edgegen::cli::testing::TemporaryDirectory;

namespace {

// A version 1.0 .npy file with `header` as its dictionary and `data` after it.
std::string npy_file(const std::string& header, const std::string& data = "") {
  std::string dictionary = header + "\n";
  std::string file = std::string("\x93NUMPY\x01\x00", 8);
  file += static_cast<char>(dictionary.size() & 0xFF);
  file += static_cast<char>(dictionary.size() >> 8);
  return file + dictionary + data;
}

void write(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string open_error(const std::string& path, size_t width) {
  try {
    RowReader reader(path, width, RowReaderOptions{});
  } catch (const CliError& error) {
    return error.what();
  }
  return "";
}

std::string shape_header(const std::string& shape) {
  return "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
}

}  // namespace

TEST_CASE("row reader: a valid .npy header opens and reads its rows") {
  TemporaryDirectory directory;
  const std::string path = directory.file("rows.npy");
  const float values[] = {1.f, 2.f, 3.f, 4.f};
  write(path, npy_file(shape_header("(2, 2)"), std::string(reinterpret_cast<const char*>(values), sizeof values)));
  RowReader reader(path, 2, RowReaderOptions{});
  float rows[4];
  uint64_t numbers[2];
  REQUIRE(reader.read(rows, 2, numbers) == 2);
  CHECK(rows[3] == 4.f);
  CHECK(numbers[1] == 2);
}

TEST_CASE("row reader: bad .npy shapes are errors, never a hang") {
  TemporaryDirectory directory;
  const std::string path = directory.file("rows.npy");
  struct Case {
    const char* shape;
    const char* error;
  };
  const Case cases[] = {
      // strtoull made no progress on a non-digit, and the loop pushed zeros forever (fuzz_rows).
      {"(2 \n\x01)", "bad .npy shape"},
      {"(2, x)", "bad .npy shape"},
      {"(-2, 2)", "bad .npy shape"},
      {"(2, 2", "bad .npy shape"},
      {"(99999999999999999999, 2)", "too large"},
      // The product of the row dimensions wrapped around to the model's width.
      {"(1, 4294967296, 4294967296, 2)", "too large"},
      // Rows * row bytes wrapped around to less than the file holds.
      {"(2305843009213693952, 2)", "truncated .npy data"},
      {"()", "scalar has no rows"},
  };
  for (const Case& c : cases) {
    CAPTURE(std::string(c.shape));
    write(path, npy_file(shape_header(c.shape), std::string(16, '\0')));
    std::string error = open_error(path, 2);
    CHECK_MESSAGE(error.find(c.error) != std::string::npos, error);
    CHECK(error.find(path) == 0);
  }
}

TEST_CASE("row reader: a file it refuses is closed") {
  // fuzz_rows ran out of file descriptors: a constructor that threw left its FILE open.
  TemporaryDirectory directory;
  const std::string path = directory.file("rows.npy");
  write(path, npy_file(shape_header("(2, x)")));
  auto open_descriptors = [] {
    size_t count = 0;
    if (DIR* fds = opendir("/proc/self/fd")) {
      while (readdir(fds) != nullptr) ++count;
      closedir(fds);
    }
    return count;
  };
  const size_t before = open_descriptors();
  for (int i = 0; i < 100; ++i) CHECK(!open_error(path, 2).empty());
  CHECK(open_descriptors() == before);
}

// Inputs fuzz_rows found (fuzz/regressions/fuzz_rows/): the first byte is the
// fuzzer's control byte (file kind, width, options), the rest the file.
TEST_CASE("row reader: inputs found by fuzzing fail cleanly") {
  const char* const findings[] = {"npy-shape-not-a-number-hang"};
  TemporaryDirectory directory;
  for (const char* finding : findings) {
    CAPTURE(std::string(finding));
    std::ifstream in(std::string(EDGEGEN_FUZZ_REGRESSIONS_DIR) + "/fuzz_rows/" + finding, std::ios::binary);
    REQUIRE(in.good());
    std::string input((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE(input.size() > 1);
    const unsigned char control = static_cast<unsigned char>(input[0]);
    const std::string path = directory.file(control & 1 ? "rows.npy" : "rows.csv");
    write(path, input.substr(1));
    RowReaderOptions options;
    options.csv_header = control & 2;
    options.skip_bad_rows = control & 4;
    const size_t width = 1 + ((control >> 3) & 15);
    try {
      RowReader reader(path, width, options);
      std::vector<float> rows(8 * width);
      std::vector<uint64_t> numbers(8);
      while (reader.read(rows.data(), 8, numbers.data()) > 0) {
      }
    } catch (const CliError&) {
    }
  }
}

namespace {

// Every row of a CSV file (width 2) and their row numbers; the error's text instead when reading fails.
std::string read_csv(const std::string& text, bool header = false, std::vector<float>* values = nullptr,
                     std::vector<uint64_t>* numbers = nullptr) {
  TemporaryDirectory directory;
  const std::string path = directory.file("rows.csv");
  write(path, text);
  try {
    RowReader reader(path, 2, RowReaderOptions{header, false});
    float rows[8];
    uint64_t row_numbers[4];
    while (size_t count = reader.read(rows, 4, row_numbers)) {
      if (values) values->insert(values->end(), rows, rows + 2 * count);
      if (numbers) numbers->insert(numbers->end(), row_numbers, row_numbers + count);
    }
  } catch (const CliError& error) {
    return error.what();
  }
  return "";
}

}  // namespace

TEST_CASE("row reader: a CSV header line is detected when no field of the first line is a number") {
  std::vector<float> values;
  std::vector<uint64_t> numbers;
  CHECK(read_csv("x0, x1\n1,2\n3,4\n", false, &values, &numbers).empty());
  CHECK(values == std::vector<float>{1, 2, 3, 4});
  CHECK(numbers == std::vector<uint64_t>{2, 3});  // the header is row 1, as with --header

  values.clear(), numbers.clear();
  CHECK(read_csv("\"a\",\"b\"\r\n5,6\r\n", false, &values, &numbers).empty());  // quoted names, CRLF
  CHECK(values == std::vector<float>{5, 6});

  values.clear(), numbers.clear();
  CHECK(read_csv("1,2\n3,4", false, &values, &numbers).empty());  // numbers: the first line is data
  CHECK(values == std::vector<float>{1, 2, 3, 4});
  CHECK(numbers == std::vector<uint64_t>{1, 2});

  values.clear();
  CHECK(read_csv("7,8", false, &values).empty());  // one data line without a newline
  CHECK(values == std::vector<float>{7, 8});

  values.clear();
  CHECK(read_csv("x0,x1\n", false, &values).empty());  // a header alone: no rows
  CHECK(values.empty());

  values.clear();
  CHECK(read_csv("10,20\n1,2\n", true, &values).empty());  // --header skips the first line whatever it holds
  CHECK(values == std::vector<float>{1, 2});
}

TEST_CASE("row reader: a first line with a number and a typo stays a bad row, not a header") {
  CHECK(read_csv("1,oops\n3,4\n").find("row 1: value 2 'oops' is not a number") != std::string::npos);
}
