#include "npy.h"

#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "atomic_file.h"
#include "cli_error.h"
#include "test_support.h"

namespace edgegen::cli {
namespace {

using testing::testdata;

std::vector<float> floats_of(const NpyArray& array) { return npy_to_float32(array); }

// A .npy file with the given version, raw header text (padding included
// as given) and data bytes.
std::vector<uint8_t> make_npy(int major, const std::string& header, size_t data_bytes) {
  std::vector<uint8_t> bytes = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<uint8_t>(major), 0};
  size_t length = header.size();
  size_t length_bytes = major == 1 ? 2 : 4;
  for (size_t i = 0; i < length_bytes; ++i) bytes.push_back(static_cast<uint8_t>(length >> (8 * i)));
  bytes.insert(bytes.end(), header.begin(), header.end());
  bytes.insert(bytes.end(), data_bytes, 0);
  return bytes;
}

std::vector<uint8_t> make_npy(const std::string& dictionary, size_t data_bytes) {
  return make_npy(1, dictionary + "\n", data_bytes);
}

// The message parse_npy throws for `bytes`, or "" if it accepts them.
std::string rejection(const std::vector<uint8_t>& bytes) {
  try {
    parse_npy(bytes.data(), bytes.size(), "bad.npy");
  } catch (const CliError& error) {
    return error.what();
  }
  return "";
}

void check_rejected(const std::vector<uint8_t>& bytes, const std::string& expected_part) {
  std::string message = rejection(bytes);
  CAPTURE(message);
  CHECK(message.rfind("bad.npy: ", 0) == 0);
  CHECK(message.find(expected_part) != std::string::npos);
}

const std::string kGoodDict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";

}  // namespace

TEST_CASE("npy: reads every supported dtype written by NumPy") {
  NpyArray f4 = read_npy(testdata("float32_2x3.npy"));
  CHECK(f4.dtype == NpyDType::kFloat32);
  CHECK(f4.shape == std::vector<int64_t>{2, 3});
  CHECK(floats_of(f4) == std::vector<float>{0, 0.5f, 1, 1.5f, 2, 2.5f});

  NpyArray f8 = read_npy(testdata("float64_3.npy"));
  CHECK(f8.dtype == NpyDType::kFloat64);
  CHECK(floats_of(f8) == std::vector<float>{0.5f, -1.25f, 3.0f});

  NpyArray scalar = read_npy(testdata("int64_scalar.npy"));
  CHECK(scalar.dtype == NpyDType::kInt64);
  CHECK(scalar.shape.empty());
  CHECK(scalar.num_elements() == 1);
  CHECK(floats_of(scalar) == std::vector<float>{7});

  CHECK(floats_of(read_npy(testdata("int32_2x2.npy"))) == std::vector<float>{1, -2, 3, -4});
  CHECK(floats_of(read_npy(testdata("uint8_2x2.npy"))) == std::vector<float>{0, 255, 128, 7});
  CHECK(floats_of(read_npy(testdata("int8_3.npy"))) == std::vector<float>{-128, 0, 127});
  NpyArray flags = read_npy(testdata("bool_4.npy"));
  CHECK(flags.dtype == NpyDType::kBool);
  CHECK(floats_of(flags) == std::vector<float>{1, 0, 1, 1});

  NpyArray empty = read_npy(testdata("float32_empty_0x3.npy"));
  CHECK(empty.shape == std::vector<int64_t>{0, 3});
  CHECK(empty.num_elements() == 0);
}

TEST_CASE("npy: reads format versions 2.0 and 3.0") {
  for (const char* name : {"float32_2x3_v2.npy", "float32_2x3_v3.npy"}) {
    CAPTURE(name);
    NpyArray array = read_npy(testdata(name));
    CHECK(array.shape == std::vector<int64_t>{2, 3});
    CHECK(floats_of(array) == std::vector<float>{0, 0.5f, 1, 1.5f, 2, 2.5f});
  }
}

TEST_CASE("npy: writes byte for byte what NumPy writes") {
  for (const char* name : {"float32_2x3.npy", "float64_3.npy", "int64_scalar.npy", "int32_2x2.npy", "uint8_2x2.npy",
                           "int8_3.npy", "bool_4.npy", "float32_empty_0x3.npy"}) {
    CAPTURE(name);
    std::vector<uint8_t> numpy_bytes = read_file(testdata(name));
    NpyArray array = parse_npy(numpy_bytes.data(), numpy_bytes.size(), name);
    CHECK(serialize_npy(array) == numpy_bytes);
  }
}

TEST_CASE("npy: header is padded to 64 bytes and ends with a newline") {
  for (size_t rank = 0; rank <= 8; ++rank) {
    NpyArray array;
    array.shape.assign(rank, 1);
    array.data.resize(4);
    std::vector<uint8_t> bytes = serialize_npy(array);
    size_t header_end = bytes.size() - 4;
    CHECK(header_end % 64 == 0);
    CHECK(bytes[header_end - 1] == '\n');
  }
}

TEST_CASE("npy: write then read round-trips shape and values, atomically") {
  testing::TemporaryDirectory directory;
  std::vector<float> values = {1.5f, -2.f, 3.25f, 0.f, 1e-30f, -1e30f};
  write_npy_float32(directory.file("out.npy"), {3, 1, 2}, values.data());
  NpyArray array = read_npy(directory.file("out.npy"));
  CHECK(array.shape == std::vector<int64_t>{3, 1, 2});
  CHECK(floats_of(array) == values);
  CHECK(directory.entries() == std::vector<std::string>{"out.npy"});  // no temporary left behind
}

TEST_CASE("npy: accepts header variations NumPy and other writers produce") {
  CHECK(rejection(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}", 24)).empty());
  CHECK(rejection(make_npy("{\"shape\": (2,3,), \"fortran_order\": False, \"descr\": \"<f4\"}", 24)).empty());
  CHECK(rejection(make_npy("{ 'descr' : '<f4' , 'fortran_order' : False , 'shape' : ( 6 , ) , }   ", 24)).empty());
  CHECK(rejection(make_npy(2, kGoodDict + "      \n", 24)).empty());
  CHECK(rejection(make_npy("{'descr': '<u1', 'fortran_order': False, 'shape': (3,), }", 3)).empty());
}

TEST_CASE("npy: rejects malformed files with a message naming the file and the problem") {
  SUBCASE("not a .npy file") {
    check_rejected({}, "not a .npy file");
    check_rejected({'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0}, "not a .npy file");
  }
  SUBCASE("versions") {
    std::vector<uint8_t> bytes = make_npy(kGoodDict, 24);
    bytes[6] = 4;
    check_rejected(bytes, "unsupported .npy format version 4.0");
    bytes[6] = 1;
    bytes[7] = 1;
    check_rejected(bytes, "unsupported .npy format version 1.1");
  }
  SUBCASE("header length and truncation inside the header") {
    std::vector<uint8_t> bytes = make_npy(kGoodDict, 0);
    check_rejected(std::vector<uint8_t>(bytes.begin(), bytes.begin() + 9), "ends inside the header length");
    check_rejected(std::vector<uint8_t>(bytes.begin(), bytes.begin() + 30), "file ends inside the header");
    check_rejected(make_npy(2, std::string(20000, ' '), 0), "exceeds the 10000-byte limit");
  }
  SUBCASE("dictionary syntax") {
    check_rejected(make_npy("['descr', '<f4']", 0), "expected '{'");
    check_rejected(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)", 24), "ends inside the dictionary");
    check_rejected(make_npy("{'descr': '<f4', 'fortran_order': False 'shape': (2, 3)}", 24), "expected ',' or '}'");
    check_rejected(make_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), ", 24), "ends inside");
    check_rejected(make_npy(kGoodDict + " x", 24), "unexpected text after");
    check_rejected(make_npy("{descr: '<f4', 'fortran_order': False, 'shape': (2, 3), }", 24), "expected a quoted key");
    check_rejected(make_npy("{'descr': '<f\\x34', 'fortran_order': False, 'shape': (2, 3), }", 24), "unsupported character");
    check_rejected(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\xe9", 24), "non-ASCII");
  }
  SUBCASE("keys") {
    check_rejected(make_npy("{'descr': '<f4', 'shape': (2, 3), }", 24), "missing key 'fortran_order'");
    check_rejected(make_npy("{'fortran_order': False, 'shape': (2, 3), }", 24), "missing key 'descr'");
    check_rejected(make_npy("{'descr': '<f4', 'fortran_order': False, }", 24), "missing key 'shape'");
    check_rejected(make_npy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 24),
                   "duplicate key 'descr'");
    check_rejected(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'extra': 1, }", 24),
                   "unexpected key 'extra'");
  }
  SUBCASE("dtypes") {
    check_rejected(make_npy("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", 24), "big-endian");
    check_rejected(make_npy("{'descr': '<c8', 'fortran_order': False, 'shape': (2, 3), }", 48), "unsupported dtype '<c8'");
    check_rejected(make_npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", 8), "structured");
    check_rejected(read_file(testdata("float16_unsupported.npy")), "unsupported dtype '<f2'");
    check_rejected(read_file(testdata("big_endian.npy")), "big-endian");
  }
  SUBCASE("fortran order") {
    check_rejected(read_file(testdata("fortran_order.npy")),
                   "Fortran-order arrays are not supported; save with np.ascontiguousarray");
    check_rejected(make_npy("{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3), }", 24), "must be True or False");
  }
  SUBCASE("shapes") {
    auto with_shape = [](const std::string& shape) {
      return make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }", 0);
    };
    check_rejected(with_shape("[2, 3]"), "'shape' must be a tuple");
    check_rejected(with_shape("(3)"), "'shape' must be a tuple, e.g. (3,)");
    check_rejected(with_shape("(-1,)"), "non-negative integers");
    check_rejected(with_shape("(2.0,)"), "expected ',' or ')'");
    check_rejected(with_shape("(2 3)"), "expected ',' or ')'");
    check_rejected(with_shape("(99999999999999999999,)"), "too large");
    check_rejected(with_shape("(4294967296, 4294967296, 16)"), "too large");
    check_rejected(with_shape("(4611686018427387904,)"), "too large");  // 2^62 * 4 bytes overflows
    std::string deep = "(";
    for (int i = 0; i < 65; ++i) deep += "1, ";
    check_rejected(with_shape(deep + ")"), "more than 64 dimensions");
  }
  SUBCASE("data size") {
    check_rejected(make_npy(kGoodDict, 23), "truncated data: shape (2, 3) of float32 needs 24 bytes, the file has 23");
    check_rejected(make_npy(kGoodDict, 0), "needs 24 bytes, the file has 0");
    check_rejected(make_npy(kGoodDict, 25), "1 bytes of unexpected data after the 24 bytes");
  }
  SUBCASE("bool values") {
    std::vector<uint8_t> bytes = make_npy("{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", 2);
    bytes.back() = 2;
    check_rejected(bytes, "bool element 1 is neither 0 nor 1");
  }
}

TEST_CASE("npy: every truncation of a valid file is rejected") {
  std::vector<uint8_t> bytes = read_file(testdata("float32_2x3.npy"));
  for (size_t size = 0; size < bytes.size(); ++size) {
    CAPTURE(size);
    CHECK_THROWS_AS(parse_npy(bytes.data(), size, "cut.npy"), CliError);
  }
}

TEST_CASE("npy: a missing file is an error naming the path") {
  CHECK_THROWS_WITH_AS(read_npy("/nonexistent/x.npy"), doctest::Contains("/nonexistent/x.npy"), CliError);
}

}  // namespace edgegen::cli
