// Streaming rows of numbers from a .npy or .csv file, a bounded batch at a
// time: memory does not grow with the file (a 10-million-row CSV is read in
// the same memory as a 10-row one).
//
// .npy: a 2-D (or 1-D = one row) little-endian float32/float64/int C-order
//       array; rows are read straight from the file.
// .csv: one row per line, comma-separated numbers; blank lines are skipped;
//       a header line is skipped with `csv_header`, and without it when
//       the first line has no field that is a number (as pandas and Dask
//       take "x0,x1,..." for a header); it counts as row 1 either way.
// A bad row (wrong width, a non-number, NaN or infinity) is a CliError that
// names the row (1-based, as an editor shows lines), unless skip_bad_rows
// is set: then it is counted and skipped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace edgegen::cli {

struct RowReaderOptions {
  bool csv_header = false;
  bool skip_bad_rows = false;
};

class RowReader {
 public:
  // Opens `path` and reads its header. `width` = numbers per row the model
  // needs. Throws CliError naming the path.
  RowReader(const std::string& path, size_t width, RowReaderOptions options);
  ~RowReader();
  RowReader(const RowReader&) = delete;
  RowReader& operator=(const RowReader&) = delete;

  // Reads up to `max_rows` good rows into `out` (max_rows * width floats) and
  // their 1-based row numbers into `row_numbers`; returns how many (0 at the end).
  size_t read(float* out, size_t max_rows, uint64_t* row_numbers);

  uint64_t skipped_rows() const { return skipped_; }
  // Bytes consumed and the file's size, for a progress bar.
  uint64_t bytes_read() const;
  uint64_t file_bytes() const { return file_bytes_; }

 private:
  // Reads the first line; true when it is a header (no field is a number),
  // else keeps it for read_csv_row().
  bool skip_detected_header();
  bool read_csv_row(float* out);  // false at the end of the file
  bool read_npy_row(float* out);
  [[noreturn]] void bad_row(const std::string& why) const;

  std::string path_;
  size_t width_;
  RowReaderOptions options_;
  struct FileCloser {
    void operator()(std::FILE* file) const { std::fclose(file); }
  };
  // Owned; a member, so that it is closed also when the constructor throws.
  std::unique_ptr<std::FILE, FileCloser> file_;
  uint64_t file_bytes_ = 0;
  bool is_npy_ = false;
  // npy layout
  char npy_kind_ = 'f';        // 'f' float, 'i' signed, 'u' unsigned
  size_t npy_item_bytes_ = 4;
  uint64_t npy_rows_ = 0;
  uint64_t npy_rows_read_ = 0;
  std::vector<uint8_t> npy_row_;
  // csv state
  std::string line_;
  uint64_t row_ = 0;           // 1-based number of the row being read
  uint64_t skipped_ = 0;
  std::string error_;          // why the current row is bad
  std::string first_line_;     // the first line, read by skip_detected_header() and not a header
  bool first_line_pending_ = false;
  bool first_line_at_eof_ = false;  // the first line had no newline
};

}  // namespace edgegen::cli
