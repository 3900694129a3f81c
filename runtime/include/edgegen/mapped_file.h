// A read-only memory-mapped file (POSIX hosts: Linux, Android, macOS).
// Devices without a file system pass model bytes to Model::from_buffer
// directly (e.g. from flash).
#pragma once

#include <cstddef>

#include "edgegen/status.h"

namespace edgegen {

class MappedFile {
 public:
  MappedFile() = default;
  ~MappedFile();
  MappedFile(MappedFile&& other);
  MappedFile& operator=(MappedFile&& other);
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  // Maps `path` read-only. kIoError names the path and the reason.
  static Result<MappedFile> open(const char* path);

  // Drops this process's pages of [data, data + bytes), a range inside a
  // read-only file mapping, rounded inward to whole pages: resident memory
  // shrinks, the bytes stay in the page cache and are read again on the
  // next access. Anywhere else (heap memory) it would zero pages: callers
  // must know the range is mapped from a file. No-op without mmap.
  static void release_pages(const void* data, size_t bytes);

  const void* data() const { return data_; }  // page-aligned
  size_t size() const { return size_; }

 private:
  void* data_ = nullptr;  // owned mapping
  size_t size_ = 0;
};

}  // namespace edgegen
