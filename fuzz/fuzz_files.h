// For fuzzed parsers that read a path: a private temporary directory (in
// /dev/shm when there is one: no disk writes per input) that every input is
// written to, removed at exit.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace edgegen::fuzz {

class FuzzDirectory {
 public:
  FuzzDirectory() {
    std::string pattern = std::string(std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp") +
                          "/edgegen-fuzz-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    path_ = pattern;
  }
  ~FuzzDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  FuzzDirectory(const FuzzDirectory&) = delete;
  FuzzDirectory& operator=(const FuzzDirectory&) = delete;

  const std::string& path() const { return path_; }

  // Writes `size` bytes to `name` in the directory; returns its path.
  std::string write(const std::string& name, const uint8_t* data, size_t size) const {
    std::string file = path_ + "/" + name;
    std::FILE* out = std::fopen(file.c_str(), "wb");
    if (out == nullptr || (size > 0 && std::fwrite(data, 1, size, out) != size) || std::fclose(out) != 0) {
      std::perror(file.c_str());
      std::abort();
    }
    return file;
  }

 private:
  std::string path_;
};

}  // namespace edgegen::fuzz
