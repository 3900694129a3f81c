#include "row_reader.h"

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <sys/stat.h>

#include "cli_error.h"

namespace edgegen::cli {
namespace {

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The value of `key` in a .npy header dictionary ("'descr': '<f4'" -> "'<f4'").
std::string header_value(const std::string& header, const std::string& key) {
  size_t at = header.find("'" + key + "'");
  if (at == std::string::npos) return "";
  at = header.find(':', at);
  if (at == std::string::npos) return "";
  ++at;
  while (at < header.size() && header[at] == ' ') ++at;
  if (at < header.size() && header[at] == '(') return header.substr(at, header.find(')', at) - at + 1);
  size_t end = header.find_first_of(",}", at);
  return header.substr(at, end - at);
}

// The dimensions of a .npy shape tuple: "(N, D)", "(D,)", "()". Strict:
// only digits, spaces and commas inside the parentheses.
std::vector<uint64_t> parse_npy_dims(const std::string& shape, const std::string& path) {
  auto bad = [&]() { return CliError(path + ": bad .npy shape " + shape.substr(0, 64)); };
  if (shape.size() < 2 || shape.front() != '(' || shape.back() != ')') throw bad();
  std::vector<uint64_t> dims;
  const size_t end = shape.size() - 1;  // the ')'
  for (size_t i = 1; i < end;) {
    while (i < end && (shape[i] == ' ' || shape[i] == ',')) ++i;
    if (i == end) break;
    if (shape[i] < '0' || shape[i] > '9') throw bad();
    uint64_t dim = 0;
    for (; i < end && shape[i] >= '0' && shape[i] <= '9'; ++i) {
      const uint64_t digit = static_cast<uint64_t>(shape[i] - '0');
      if (dim > (UINT64_MAX - digit) / 10) throw CliError(path + ": .npy shape " + shape.substr(0, 64) + " is too large");
      dim = dim * 10 + digit;
    }
    if (dims.size() == 64) throw bad();  // NumPy allows 64 dimensions
    dims.push_back(dim);
  }
  return dims;
}

}  // namespace

RowReader::RowReader(const std::string& path, size_t width, RowReaderOptions options)
    : path_(path), width_(width), options_(options) {
  is_npy_ = ends_with(path, ".npy");
  if (!is_npy_ && !ends_with(path, ".csv")) throw CliError(path + ": expected a .npy or .csv file");
  file_.reset(std::fopen(path.c_str(), "rb"));
  if (file_ == nullptr) throw CliError(path + ": cannot open: " + std::strerror(errno));
  struct stat info;
  if (fstat(fileno(file_.get()), &info) == 0) file_bytes_ = static_cast<uint64_t>(info.st_size);
  if (!is_npy_) {
    if (options_.csv_header) {
      char buffer[4096];
      while (std::fgets(buffer, sizeof buffer, file_.get()) != nullptr && std::strchr(buffer, '\n') == nullptr) {
      }
      row_ = 1;
    } else if (skip_detected_header()) {
      row_ = 1;
    }
    return;
  }
  unsigned char magic[10];
  if (std::fread(magic, 1, 10, file_.get()) != 10 || std::memcmp(magic, "\x93NUMPY", 6) != 0)
    throw CliError(path + ": not a .npy file (bad magic)");
  size_t header_bytes = 0;
  size_t preamble = 10;
  if (magic[6] == 1) {
    header_bytes = magic[8] | (magic[9] << 8);
  } else if (magic[6] == 2 || magic[6] == 3) {
    unsigned char more[2];
    if (std::fread(more, 1, 2, file_.get()) != 2) throw CliError(path + ": truncated .npy header");
    header_bytes = magic[8] | (magic[9] << 8) | (more[0] << 16) | (static_cast<size_t>(more[1]) << 24);
    preamble = 12;
  } else {
    throw CliError(path + ": unsupported .npy version " + std::to_string(magic[6]));
  }
  if (header_bytes > (1u << 20)) throw CliError(path + ": .npy header too large");
  std::string header(header_bytes, '\0');
  if (std::fread(&header[0], 1, header_bytes, file_.get()) != header_bytes) throw CliError(path + ": truncated .npy header");
  std::string descr = header_value(header, "descr");
  if (header_value(header, "fortran_order").find("False") != 0)
    throw CliError(path + ": Fortran-order .npy arrays are not supported (save with C order)");
  if (descr.size() != 5 || descr[0] != '\'' || (descr[1] != '<' && descr[1] != '|') ||
      (descr[2] != 'f' && descr[2] != 'i' && descr[2] != 'u'))
    throw CliError(path + ": dtype " + descr + " is not supported (little-endian float, int or uint)");
  npy_kind_ = descr[2];
  npy_item_bytes_ = static_cast<size_t>(descr[3] - '0');
  if (!(npy_item_bytes_ == 1 || npy_item_bytes_ == 2 || npy_item_bytes_ == 4 || npy_item_bytes_ == 8) ||
      (npy_kind_ == 'f' && npy_item_bytes_ < 4))
    throw CliError(path + ": dtype " + descr + " is not supported (float32/64, int/uint 8-64)");
  std::string shape = header_value(header, "shape");  // "(N, D)" or "(D,)"
  std::vector<uint64_t> dims = parse_npy_dims(shape, path);
  uint64_t row_width = 1;
  if (dims.size() == 1) {
    npy_rows_ = 1;
    row_width = dims[0];
  } else if (dims.size() >= 2) {
    npy_rows_ = dims[0];
    for (size_t i = 1; i < dims.size(); ++i) {
      if (dims[i] != 0 && row_width > UINT64_MAX / dims[i]) throw CliError(path + ": .npy shape " + shape + " is too large");
      row_width *= dims[i];
    }
  } else {
    throw CliError(path + ": a .npy scalar has no rows");
  }
  if (row_width != width_)
    throw CliError(path + ": rows have " + std::to_string(row_width) + " values; the model needs " + std::to_string(width_));
  // width_ is the model's (small), so a row's bytes cannot overflow; the row count is the file's.
  const uint64_t data_start = preamble + header_bytes;
  const uint64_t row_bytes = static_cast<uint64_t>(width_) * npy_item_bytes_;
  if (data_start > file_bytes_ || (row_bytes > 0 && npy_rows_ > (file_bytes_ - data_start) / row_bytes))
    throw CliError(path + ": truncated .npy data (" + std::to_string(npy_rows_) + " rows declared)");
  npy_row_.resize(width_ * npy_item_bytes_);
}

RowReader::~RowReader() = default;

uint64_t RowReader::bytes_read() const {
  long at = std::ftell(file_.get());
  return at < 0 ? 0 : static_cast<uint64_t>(at);
}

void RowReader::bad_row(const std::string& why) const {
  throw CliError(path_ + ": row " + std::to_string(row_) + ": " + why +
                 " (fix the row, or pass --skip-bad-rows to skip such rows)");
}

bool RowReader::read_npy_row(float* out) {
  if (npy_rows_read_ == npy_rows_) return false;
  ++npy_rows_read_;
  row_ = npy_rows_read_;
  if (std::fread(npy_row_.data(), 1, npy_row_.size(), file_.get()) != npy_row_.size()) bad_row("truncated data");
  const uint8_t* bytes = npy_row_.data();
  for (size_t i = 0; i < width_; ++i) {
    const uint8_t* at = bytes + i * npy_item_bytes_;
    double value = 0;
    if (npy_kind_ == 'f') {
      if (npy_item_bytes_ == 4) { float v; std::memcpy(&v, at, 4); value = v; }
      else { std::memcpy(&value, at, 8); }
    } else if (npy_kind_ == 'i') {
      if (npy_item_bytes_ == 1) { int8_t v; std::memcpy(&v, at, 1); value = v; }
      else if (npy_item_bytes_ == 2) { int16_t v; std::memcpy(&v, at, 2); value = v; }
      else if (npy_item_bytes_ == 4) { int32_t v; std::memcpy(&v, at, 4); value = v; }
      else { int64_t v; std::memcpy(&v, at, 8); value = static_cast<double>(v); }
    } else {
      if (npy_item_bytes_ == 1) { value = at[0]; }
      else if (npy_item_bytes_ == 2) { uint16_t v; std::memcpy(&v, at, 2); value = v; }
      else if (npy_item_bytes_ == 4) { uint32_t v; std::memcpy(&v, at, 4); value = v; }
      else { uint64_t v; std::memcpy(&v, at, 8); value = static_cast<double>(v); }
    }
    if (!std::isfinite(value)) {
      error_ = "value " + std::to_string(i + 1) + " is " + (std::isnan(value) ? "NaN" : "infinite");
      return true;
    }
    out[i] = static_cast<float>(value);
  }
  return true;
}

bool RowReader::skip_detected_header() {
  // The first line only, and only when not one of its fields is a number:
  // a data row with a typo stays an error that names it.
  std::string line;
  int c;
  bool any = false;
  while ((c = std::fgetc(file_.get())) != EOF) {
    any = true;
    if (c == '\n') break;
    line.push_back(static_cast<char>(c));
  }
  bool any_field = false, any_number = false;
  size_t start = 0;
  for (;;) {
    size_t comma = line.find(',', start);
    std::string field = line.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    size_t first = field.find_first_not_of(" \t\r"), last = field.find_last_not_of(" \t\r");
    if (first != std::string::npos) {
      any_field = true;
      field = field.substr(first, last - first + 1);
      char* end = nullptr;
      std::strtof(field.c_str(), &end);
      if (end == field.c_str() + field.size()) any_number = true;
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (any_field && !any_number) return true;
  // Data: read_csv_row() takes this line first (no seeking back: the file may be a pipe).
  if (any) {
    first_line_ = std::move(line);
    first_line_pending_ = true;
    first_line_at_eof_ = c == EOF;
  }
  return false;
}

bool RowReader::read_csv_row(float* out) {
  for (;;) {
    line_.clear();
    int c;
    bool any = false;
    if (first_line_pending_) {
      first_line_pending_ = false;
      line_.swap(first_line_);
      any = true;
      c = first_line_at_eof_ ? EOF : '\n';
    } else {
      while ((c = std::fgetc(file_.get())) != EOF) {
        any = true;
        if (c == '\n') break;
        line_.push_back(static_cast<char>(c));
      }
    }
    if (!any) return false;
    ++row_;
    if (!line_.empty() && line_.back() == '\r') line_.pop_back();
    if (line_.find_first_not_of(" \t") == std::string::npos) {
      if (c == EOF) return false;
      continue;  // blank line
    }
    break;
  }
  const char* at = line_.c_str();
  size_t count = 0;
  for (;;) {
    while (*at == ' ' || *at == '\t') ++at;
    const char* start = at;
    char* end = nullptr;
    errno = 0;
    float value = std::strtof(start, &end);
    const char* stop = end;
    while (*stop == ' ' || *stop == '\t') ++stop;
    if (end == start || (*stop != ',' && *stop != '\0')) {
      const char* field_end = std::strchr(start, ',');
      std::string field = field_end ? std::string(start, field_end) : std::string(start);
      error_ = "value " + std::to_string(count + 1) + " '" + field.substr(0, 32) + "' is not a number";
      return true;
    }
    if (!std::isfinite(value)) {
      error_ = "value " + std::to_string(count + 1) + " is " + (std::isnan(value) ? "NaN" : "infinite or out of float range");
      return true;
    }
    if (count < width_) out[count] = value;
    ++count;
    if (*stop == '\0') break;
    at = stop + 1;
  }
  if (count != width_) error_ = "has " + std::to_string(count) + " values; the model needs " + std::to_string(width_);
  return true;
}

size_t RowReader::read(float* out, size_t max_rows, uint64_t* row_numbers) {
  size_t rows = 0;
  while (rows < max_rows) {
    error_.clear();
    bool more = is_npy_ ? read_npy_row(out + rows * width_) : read_csv_row(out + rows * width_);
    if (!more) break;
    if (!error_.empty()) {
      if (!options_.skip_bad_rows) bad_row(error_);
      ++skipped_;
      continue;
    }
    row_numbers[rows++] = row_;
  }
  return rows;
}

}  // namespace edgegen::cli
