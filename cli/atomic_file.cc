#include "atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "cli_error.h"

namespace edgegen::cli {
namespace {

std::string errno_text() { return std::strerror(errno); }

// The directory part of `path` ("." when there is none) and the file name.
void split_path(const std::string& path, std::string* directory, std::string* name) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) {
    *directory = ".";
    *name = path;
  } else {
    *directory = slash == 0 ? "/" : path.substr(0, slash);
    *name = path.substr(slash + 1);
  }
}

// mkstemp creates files as 0600; outputs should get the usual 0666 & ~umask.
mode_t default_file_mode() {
  mode_t mask = umask(0);
  umask(mask);
  return 0666 & ~mask;
}

}  // namespace

AtomicFile::AtomicFile(std::string destination) : destination_(std::move(destination)) {
  std::string directory, name;
  split_path(destination_, &directory, &name);
  if (name.empty()) throw CliError(destination_ + ": output path names a directory, not a file");
  struct stat info;
  if (stat(destination_.c_str(), &info) == 0 && S_ISDIR(info.st_mode))
    throw CliError(destination_ + ": output path is a directory");
  // Hidden, so a leftover from a killed process does not look like output.
  temporary_path_ = (directory == "/" ? "" : directory) + "/." + name + ".tmp.XXXXXX";
  std::vector<char> pattern(temporary_path_.begin(), temporary_path_.end());
  pattern.push_back('\0');
  descriptor_ = mkstemp(pattern.data());
  if (descriptor_ < 0) {
    throw CliError(destination_ + ": cannot create a file in " + directory + ": " + errno_text());
  }
  temporary_path_ = pattern.data();
  fchmod(descriptor_, default_file_mode());
}

AtomicFile::~AtomicFile() {
  if (!committed_) discard();
}

void AtomicFile::write(const void* data, size_t size) {
  const char* bytes = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t written = ::write(descriptor_, bytes, size);
    if (written < 0) {
      if (errno == EINTR) continue;
      throw CliError(destination_ + ": write failed: " + errno_text());
    }
    bytes += written;
    size -= static_cast<size_t>(written);
  }
}

void AtomicFile::commit() {
  // fsync before rename: otherwise a crash can leave the new name pointing
  // at an empty file on some file systems.
  if (fsync(descriptor_) != 0) throw CliError(destination_ + ": fsync failed: " + errno_text());
  int descriptor = descriptor_;
  descriptor_ = -1;
  if (close(descriptor) != 0) throw CliError(destination_ + ": close failed: " + errno_text());
  if (rename(temporary_path_.c_str(), destination_.c_str()) != 0)
    throw CliError(destination_ + ": cannot rename the temporary file into place: " + errno_text());
  committed_ = true;
}

void AtomicFile::discard() noexcept {
  if (descriptor_ >= 0) close(descriptor_);
  descriptor_ = -1;
  if (!temporary_path_.empty()) unlink(temporary_path_.c_str());
}

void write_file_atomically(const std::string& path, const std::vector<uint8_t>& bytes) {
  AtomicFile file(path);
  file.write(bytes.data(), bytes.size());
  file.commit();
}

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream stream(path, std::ios::binary);
  if (!stream) throw CliError(path + ": cannot open: " + errno_text());
  struct stat info;
  if (stat(path.c_str(), &info) != 0) throw CliError(path + ": cannot open: " + errno_text());
  if (S_ISDIR(info.st_mode)) throw CliError(path + ": is a directory, not a file");
  std::vector<uint8_t> bytes(static_cast<size_t>(info.st_size));
  stream.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (static_cast<size_t>(stream.gcount()) != bytes.size()) throw CliError(path + ": read failed");
  return bytes;
}

}  // namespace edgegen::cli
