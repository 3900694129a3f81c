#include "npy.h"

#include <cstring>

#include "atomic_file.h"
#include "cli_error.h"

// Element bytes are copied as they are stored, which is correct on
// little-endian hosts only (every host edgegen targets).
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "npy.cc assumes a little-endian host");

namespace edgegen::cli {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
// NumPy refuses longer headers by default (max_header_size), for the same
// reason: a header is tiny, and a huge one is an attack or corruption.
constexpr size_t kMaxHeaderSize = 10000;
constexpr size_t kMaxRank = 64;

struct DTypeInfo {
  NpyDType dtype;
  const char* descr;
  const char* name;
  size_t item_size;
};
constexpr DTypeInfo kDTypes[] = {
    {NpyDType::kFloat32, "<f4", "float32", 4}, {NpyDType::kFloat64, "<f8", "float64", 8},
    {NpyDType::kInt32, "<i4", "int32", 4},     {NpyDType::kInt64, "<i8", "int64", 8},
    {NpyDType::kUInt8, "|u1", "uint8", 1},     {NpyDType::kInt8, "|i1", "int8", 1},
    {NpyDType::kBool, "|b1", "bool", 1},
};

const DTypeInfo& info_of(NpyDType dtype) {
  for (const DTypeInfo& info : kDTypes)
    if (info.dtype == dtype) return info;
  throw CliError("unknown npy dtype");
}

// A strict parser for the one Python literal a .npy header holds:
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& source) : text_(text), source_(source) {}

  NpyArray parse(size_t* element_count) {
    bool seen_descr = false, seen_order = false, seen_shape = false;
    std::string descr;
    NpyArray array;
    skip_spaces();
    expect('{');
    skip_spaces();
    while (peek() != '}') {
      std::string key = parse_string();
      skip_spaces();
      expect(':');
      skip_spaces();
      if (key == "descr") {
        if (seen_descr) fail("duplicate key 'descr'");
        seen_descr = true;
        if (peek() != '\'' && peek() != '"')
          fail("'descr' is not a simple dtype string (structured arrays are not supported)");
        descr = parse_string();
      } else if (key == "fortran_order") {
        if (seen_order) fail("duplicate key 'fortran_order'");
        seen_order = true;
        if (parse_bool())
          fail("Fortran-order arrays are not supported; save with np.ascontiguousarray");
      } else if (key == "shape") {
        if (seen_shape) fail("duplicate key 'shape'");
        seen_shape = true;
        array.shape = parse_shape();
      } else {
        fail("unexpected key '" + key + "' (expected descr, fortran_order, shape)");
      }
      skip_spaces();
      if (peek() == ',') {
        ++position_;
        skip_spaces();
      } else if (peek() != '}') {
        fail("expected ',' or '}' at offset " + std::to_string(position_));
      }
    }
    ++position_;
    // NumPy pads the header with spaces and ends it with a newline.
    while (position_ < text_.size()) {
      char c = text_[position_++];
      if (c != ' ' && c != '\n' && c != '\t' && c != '\r') fail("unexpected text after the header dictionary");
    }
    if (!seen_descr) fail("missing key 'descr'");
    if (!seen_order) fail("missing key 'fortran_order'");
    if (!seen_shape) fail("missing key 'shape'");
    array.dtype = dtype_from_descr(descr);

    size_t count = 1;
    for (int64_t dim : array.shape) {
      if (__builtin_mul_overflow(count, static_cast<size_t>(dim), &count))
        fail("shape " + format_npy_shape(array.shape) + " is too large");
    }
    size_t bytes;
    if (__builtin_mul_overflow(count, npy_item_size(array.dtype), &bytes))
      fail("shape " + format_npy_shape(array.shape) + " is too large");
    *element_count = count;
    return array;
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const { throw CliError(source_ + ": " + problem); }

  char peek() const {
    if (position_ >= text_.size()) fail("header ends inside the dictionary");
    return text_[position_];
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "' at offset " + std::to_string(position_) + " of the header");
    ++position_;
  }
  void skip_spaces() {
    while (position_ < text_.size() && (text_[position_] == ' ' || text_[position_] == '\t' || text_[position_] == '\n' || text_[position_] == '\r'))
      ++position_;
  }
  std::string parse_string() {
    char quote = peek();
    if (quote != '\'' && quote != '"') fail("expected a quoted key at offset " + std::to_string(position_));
    ++position_;
    std::string value;
    while (peek() != quote) {
      char c = text_[position_++];
      if (c == '\\' || c == '\n') fail("unsupported character in a header string");
      value += c;
    }
    ++position_;
    return value;
  }
  bool parse_bool() {
    if (text_.compare(position_, 4, "True") == 0) {
      position_ += 4;
      return true;
    }
    if (text_.compare(position_, 5, "False") == 0) {
      position_ += 5;
      return false;
    }
    fail("'fortran_order' must be True or False");
  }
  int64_t parse_dimension() {
    if (peek() < '0' || peek() > '9') fail("shape dimensions must be non-negative integers");
    int64_t value = 0;
    while (peek() >= '0' && peek() <= '9') {
      int digit = text_[position_++] - '0';
      if (value > (INT64_MAX - digit) / 10) fail("a shape dimension is too large");
      value = value * 10 + digit;
    }
    return value;
  }
  // A Python tuple: (), (3,), (2, 3) or (2, 3,). "(3)" is an int in Python,
  // not a tuple, so it is rejected as NumPy would.
  std::vector<int64_t> parse_shape() {
    if (peek() != '(') fail("'shape' must be a tuple");
    ++position_;
    std::vector<int64_t> shape;
    bool trailing_comma = false;
    skip_spaces();
    while (peek() != ')') {
      shape.push_back(parse_dimension());
      if (shape.size() > kMaxRank) fail("shape has more than " + std::to_string(kMaxRank) + " dimensions");
      skip_spaces();
      trailing_comma = false;
      if (peek() == ',') {
        ++position_;
        trailing_comma = true;
        skip_spaces();
      } else if (peek() != ')') {
        fail("expected ',' or ')' in 'shape'");
      }
    }
    ++position_;
    if (shape.size() == 1 && !trailing_comma) fail("'shape' must be a tuple, e.g. (3,)");
    return shape;
  }
  NpyDType dtype_from_descr(const std::string& descr) const {
    for (const DTypeInfo& info : kDTypes) {
      if (descr == info.descr) return info.dtype;
      // Byte order means nothing for one-byte types; accept '<' and '=' too.
      if (info.item_size == 1 && descr.size() == 3 && (descr[0] == '<' || descr[0] == '=') &&
          descr.compare(1, 2, info.descr + 1) == 0)
        return info.dtype;
    }
    if (!descr.empty() && descr[0] == '>')
      fail("big-endian arrays ('" + descr + "') are not supported; convert with a.astype(a.dtype.newbyteorder('<'))");
    fail("unsupported dtype '" + descr + "' (supported: <f4 <f8 <i4 <i8 |u1 |i1 |b1)");
  }

  const std::string& text_;
  const std::string& source_;
  size_t position_ = 0;
};

uint32_t read_little_endian(const uint8_t* bytes, size_t count) {
  uint32_t value = 0;
  for (size_t i = 0; i < count; ++i) value |= static_cast<uint32_t>(bytes[i]) << (8 * i);
  return value;
}

template <typename T>
void convert_elements(const uint8_t* data, size_t count, float* out) {
  for (size_t i = 0; i < count; ++i) {
    T value;
    std::memcpy(&value, data + i * sizeof(T), sizeof(T));
    out[i] = static_cast<float>(value);
  }
}

}  // namespace

const char* npy_descr(NpyDType dtype) { return info_of(dtype).descr; }
const char* npy_dtype_name(NpyDType dtype) { return info_of(dtype).name; }
size_t npy_item_size(NpyDType dtype) { return info_of(dtype).item_size; }

size_t NpyArray::num_elements() const {
  size_t count = 1;
  for (int64_t dim : shape) count *= static_cast<size_t>(dim);
  return count;
}

std::string format_npy_shape(const std::vector<int64_t>& shape) {
  std::string text = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(shape[i]);
  }
  if (shape.size() == 1) text += ",";
  return text + ")";
}

NpyArray parse_npy(const uint8_t* bytes, size_t size, const std::string& source) {
  auto fail = [&](const std::string& problem) -> void { throw CliError(source + ": " + problem); };
  if (size < kMagicSize + 2 || std::memcmp(bytes, kMagic, kMagicSize) != 0)
    fail("not a .npy file (missing the \\x93NUMPY magic)");
  uint8_t major = bytes[6], minor = bytes[7];
  if (!((major == 1 || major == 2 || major == 3) && minor == 0))
    fail("unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor) +
         " (supported: 1.0, 2.0, 3.0)");
  // Version 1.0 stores the header length in 2 bytes, later versions in 4.
  size_t length_bytes = major == 1 ? 2 : 4;
  size_t header_start = kMagicSize + 2 + length_bytes;
  if (size < header_start) fail("file ends inside the header length");
  size_t header_size = read_little_endian(bytes + kMagicSize + 2, length_bytes);
  if (header_size > kMaxHeaderSize)
    fail("header of " + std::to_string(header_size) + " bytes exceeds the " + std::to_string(kMaxHeaderSize) + "-byte limit");
  if (size - header_start < header_size)
    fail("file ends inside the header (" + std::to_string(header_size) + " header bytes declared, " +
         std::to_string(size - header_start) + " present)");
  std::string header(reinterpret_cast<const char*>(bytes + header_start), header_size);
  for (char c : header)
    if (static_cast<unsigned char>(c) >= 0x80 || c == '\0') fail("header contains a non-ASCII byte");

  size_t count = 0;
  NpyArray array = HeaderParser(header, source).parse(&count);
  size_t expected = count * npy_item_size(array.dtype);
  size_t actual = size - header_start - header_size;
  std::string what = "shape " + format_npy_shape(array.shape) + " of " + npy_dtype_name(array.dtype);
  if (actual < expected)
    fail("truncated data: " + what + " needs " + std::to_string(expected) + " bytes, the file has " + std::to_string(actual));
  if (actual > expected)
    fail(std::to_string(actual - expected) + " bytes of unexpected data after the " + std::to_string(expected) +
         " bytes of " + what);
  const uint8_t* data = bytes + header_start + header_size;
  if (array.dtype == NpyDType::kBool) {
    for (size_t i = 0; i < count; ++i)
      if (data[i] > 1) fail("bool element " + std::to_string(i) + " is neither 0 nor 1");
  }
  array.data.assign(data, data + expected);
  return array;
}

NpyArray read_npy(const std::string& path) {
  std::vector<uint8_t> bytes = read_file(path);
  return parse_npy(bytes.data(), bytes.size(), path);
}

std::vector<float> npy_to_float32(const NpyArray& array) {
  size_t count = array.num_elements();
  std::vector<float> values(count);
  const uint8_t* data = array.data.data();
  switch (array.dtype) {
    case NpyDType::kFloat32: convert_elements<float>(data, count, values.data()); break;
    case NpyDType::kFloat64: convert_elements<double>(data, count, values.data()); break;
    case NpyDType::kInt32: convert_elements<int32_t>(data, count, values.data()); break;
    case NpyDType::kInt64: convert_elements<int64_t>(data, count, values.data()); break;
    case NpyDType::kUInt8: convert_elements<uint8_t>(data, count, values.data()); break;
    case NpyDType::kInt8: convert_elements<int8_t>(data, count, values.data()); break;
    case NpyDType::kBool: convert_elements<uint8_t>(data, count, values.data()); break;
  }
  return values;
}

std::vector<uint8_t> serialize_npy(const NpyArray& array) {
  std::string header = std::string("{'descr': '") + npy_descr(array.dtype) +
                       "', 'fortran_order': False, 'shape': " + format_npy_shape(array.shape) + ", }";
  // magic (6) + version (2) + length (2) + header + padding + '\n' = k * 64.
  size_t prefix = kMagicSize + 2 + 2;
  size_t total = prefix + header.size() + 1;
  total = (total + 63) / 64 * 64;
  header.append(total - prefix - header.size() - 1, ' ');
  header += '\n';
  if (header.size() > 0xFFFF) throw CliError("npy header too long for format version 1.0");
  if (array.data.size() != array.num_elements() * npy_item_size(array.dtype))
    throw CliError("npy array data does not match its shape");

  std::vector<uint8_t> bytes(kMagic, kMagic + kMagicSize);
  bytes.push_back(1);
  bytes.push_back(0);
  bytes.push_back(static_cast<uint8_t>(header.size() & 0xFF));
  bytes.push_back(static_cast<uint8_t>(header.size() >> 8));
  bytes.insert(bytes.end(), header.begin(), header.end());
  bytes.insert(bytes.end(), array.data.begin(), array.data.end());
  return bytes;
}

void write_npy(const std::string& path, const NpyArray& array) { write_file_atomically(path, serialize_npy(array)); }

void write_npy_float32(const std::string& path, const std::vector<int64_t>& shape, const float* values) {
  NpyArray array;
  array.dtype = NpyDType::kFloat32;
  array.shape = shape;
  size_t bytes = array.num_elements() * sizeof(float);
  array.data.resize(bytes);
  if (bytes > 0) std::memcpy(array.data.data(), values, bytes);
  write_npy(path, array);
}

}  // namespace edgegen::cli
