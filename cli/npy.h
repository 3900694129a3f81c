// Reading and writing NumPy .npy files (format versions 1.0, 2.0, 3.0).
//
// A .npy file is untrusted input: the header is parsed strictly, sizes are
// checked for overflow, and the data must be exactly product(shape) *
// itemsize bytes. Every error names the file and the problem. Supported
// dtypes: little-endian float32, float64, int32, int64 and the one-byte
// uint8, int8 and bool, C order only.
// Format reference: numpy/lib/format.py.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace edgegen::cli {

enum class NpyDType { kFloat32, kFloat64, kInt32, kInt64, kUInt8, kInt8, kBool };

// "<f4", "|u1", ...: the descr NumPy writes for `dtype`.
const char* npy_descr(NpyDType dtype);
// "float32", "uint8", ...
const char* npy_dtype_name(NpyDType dtype);
size_t npy_item_size(NpyDType dtype);

struct NpyArray {
  NpyDType dtype = NpyDType::kFloat32;
  std::vector<int64_t> shape;  // () for a scalar
  std::vector<uint8_t> data;   // little-endian elements in C order

  size_t num_elements() const;
};

// Formats a shape the way NumPy prints it: "(2, 3)", "(3,)", "()".
std::string format_npy_shape(const std::vector<int64_t>& shape);

// Parses the bytes of a .npy file. `source` (usually the path) prefixes
// every error message. Throws CliError.
NpyArray parse_npy(const uint8_t* bytes, size_t size, const std::string& source);
NpyArray read_npy(const std::string& path);

// The array's elements as float32: float64 is rounded, integers and bools
// are converted by value.
std::vector<float> npy_to_float32(const NpyArray& array);

// The bytes of a version 1.0 .npy file, header padded with spaces and a
// newline to a multiple of 64 bytes as NumPy writes it.
std::vector<uint8_t> serialize_npy(const NpyArray& array);
// Writes atomically (see atomic_file.h).
void write_npy(const std::string& path, const NpyArray& array);
void write_npy_float32(const std::string& path, const std::vector<int64_t>& shape, const float* values);

}  // namespace edgegen::cli
