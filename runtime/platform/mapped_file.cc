#include "edgegen/mapped_file.h"

#if defined(__unix__) || defined(__APPLE__)
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#define EDGEGEN_HAVE_MMAP 1
#endif

namespace edgegen {

MappedFile::~MappedFile() {
#if EDGEGEN_HAVE_MMAP
  if (data_ != nullptr) munmap(data_, size_);
#endif
}

MappedFile::MappedFile(MappedFile&& other) : data_(other.data_), size_(other.size_) {
  other.data_ = nullptr;
  other.size_ = 0;
}

MappedFile& MappedFile::operator=(MappedFile&& other) {
  if (this != &other) {
    this->~MappedFile();
    data_ = other.data_;
    size_ = other.size_;
    other.data_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

void MappedFile::release_pages(const void* data, size_t bytes) {
#if EDGEGEN_HAVE_MMAP
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(data) + page - 1) / page * page;
  const uintptr_t end = (reinterpret_cast<uintptr_t>(data) + bytes) / page * page;
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
#else
  (void)data;
  (void)bytes;
#endif
}

Result<MappedFile> MappedFile::open(const char* path) {
#if EDGEGEN_HAVE_MMAP
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::error(StatusCode::kIoError, "cannot open '%s': %s", path, std::strerror(errno));
  struct stat info;
  if (fstat(fd, &info) != 0) {
    int error = errno;
    ::close(fd);
    return Status::error(StatusCode::kIoError, "cannot stat '%s': %s", path, std::strerror(error));
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd);
    return Status::error(StatusCode::kIoError, "'%s' is not a regular file", path);
  }
  // A 32-bit process cannot map a file past 4 GiB (nor, in practice, past
  // its ~3 GiB of address space): refuse it by name rather than truncate.
  if (static_cast<unsigned long long>(info.st_size) > static_cast<unsigned long long>(SIZE_MAX)) {
    ::close(fd);
    return Status::error(StatusCode::kIoError, "'%s' is %llu bytes, more than this %zu-bit process can map", path,
                         static_cast<unsigned long long>(info.st_size), sizeof(void*) * 8);
  }
  MappedFile file;
  file.size_ = static_cast<size_t>(info.st_size);
  if (file.size_ > 0) {
    void* data = mmap(nullptr, file.size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (data == MAP_FAILED) {
      int error = errno;
      ::close(fd);
      return Status::error(StatusCode::kIoError, "cannot map '%s': %s", path, std::strerror(error));
    }
    file.data_ = data;
  }
  ::close(fd);
  if (file.size_ == 0) return Status::error(StatusCode::kInvalidModel, "'%s' is empty", path);
  return file;
#else
  return Status::error(StatusCode::kIoError, "memory-mapped files are not available on this platform ('%s')", path);
#endif
}

}  // namespace edgegen
