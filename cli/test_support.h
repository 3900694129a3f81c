// Helpers shared by the CLI unit tests.
#pragma once

#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "atomic_file.h"

namespace edgegen::cli::testing {

inline std::string testdata(const std::string& name) { return std::string(EDGEGEN_CLI_TESTDATA_DIR) + "/" + name; }

// A fresh directory under /tmp, removed with its files at scope exit.
class TemporaryDirectory {
 public:
  TemporaryDirectory() {
    char pattern[] = "/tmp/edgegen_cli_test.XXXXXX";
    if (char* made = mkdtemp(pattern)) path_ = made;
  }
  ~TemporaryDirectory() {
    for (const std::string& name : entries()) unlink((path_ + "/" + name).c_str());
    rmdir(path_.c_str());
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  // Every entry except "." and "..", hidden files included.
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    if (DIR* directory = opendir(path_.c_str())) {
      while (dirent* entry = readdir(directory)) {
        std::string name = entry->d_name;
        if (name != "." && name != "..") names.push_back(name);
      }
      closedir(directory);
    }
    return names;
  }

 private:
  std::string path_;
};

}  // namespace edgegen::cli::testing
