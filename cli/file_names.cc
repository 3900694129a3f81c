#include "file_names.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "cli_error.h"

namespace edgegen::cli {
namespace {

constexpr size_t kMaxFileNameBytes = 200;  // leaves room for ".npy" and suffixes within 255

bool ends_with_ignoring_case(const std::string& text, const std::string& suffix) {
  if (text.size() < suffix.size()) return false;
  return std::equal(suffix.begin(), suffix.end(), text.end() - static_cast<std::ptrdiff_t>(suffix.size()),
                    [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b)); });
}

}  // namespace

std::string sanitize_file_name(const std::string& name) {
  std::string safe;
  for (char c : name) {
    bool allowed = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    safe += allowed ? c : '_';
  }
  if (safe.empty()) safe = "_";
  if (safe[0] == '.') safe[0] = '_';
  if (safe.size() > kMaxFileNameBytes) safe.resize(kMaxFileNameBytes);
  return safe;
}

std::vector<std::string> item_file_names(const std::string& path, size_t count) {
  if (count == 1) return {path};
  const size_t slash = path.find_last_of('/');
  const size_t dot = path.find_last_of('.');
  const bool has_extension = dot != std::string::npos && (slash == std::string::npos || dot > slash + 1);
  const std::string stem = has_extension ? path.substr(0, dot) : path;
  const std::string extension = has_extension ? path.substr(dot) : "";
  std::vector<std::string> paths;
  for (size_t i = 0; i < count; ++i) paths.push_back(stem + "_" + std::to_string(i) + extension);
  return paths;
}

std::vector<std::string> unique_file_names(const std::vector<std::string>& names) {
  // Compared lower-cased: "X" and "x" are the same file on macOS and Windows.
  auto lower = [](std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
  };
  std::set<std::string> taken;
  std::vector<std::string> result;
  for (const std::string& name : names) {
    std::string base = sanitize_file_name(name);
    std::string candidate = base;
    for (int suffix = 2; taken.count(lower(candidate)) != 0; ++suffix) candidate = base + "_" + std::to_string(suffix);
    taken.insert(lower(candidate));
    result.push_back(candidate);
  }
  return result;
}

OutputFormat output_format_of(const std::string& path, const std::string& option) {
  if (ends_with_ignoring_case(path, ".png")) return OutputFormat::kPng;
  if (ends_with_ignoring_case(path, ".npy")) return OutputFormat::kNpy;
  throw CliError(option + " " + path + ": the file name must end in .png or .npy");
}

}  // namespace edgegen::cli
