// Writing output files so that a failure never leaves a half-written file.
//
// Bytes go to a temporary file in the destination's directory (so the final
// rename stays on one file system and is atomic); commit() flushes it to
// disk and renames it over the destination. Destroying an uncommitted
// AtomicFile removes the temporary file, so an exception anywhere between
// open and commit leaves the destination untouched.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace edgegen::cli {

class AtomicFile {
 public:
  // Creates the temporary file next to `destination`. Throws CliError
  // naming the path when the directory is missing or not writable.
  explicit AtomicFile(std::string destination);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t size);
  // Flushes, closes and renames the temporary file into place.
  void commit();

  const std::string& destination() const { return destination_; }
  // Where the bytes are until commit() (e.g. to map and check them first).
  const std::string& temporary_path() const { return temporary_path_; }

 private:
  void discard() noexcept;

  std::string destination_;
  std::string temporary_path_;
  int descriptor_ = -1;  // owned
  bool committed_ = false;
};

// Writes `bytes` to `path` through an AtomicFile.
void write_file_atomically(const std::string& path, const std::vector<uint8_t>& bytes);

// Reads a whole file; throws CliError naming the path on failure.
std::vector<uint8_t> read_file(const std::string& path);

}  // namespace edgegen::cli
