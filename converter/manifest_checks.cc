#include "converter/manifest_checks.h"

#include "converter/converter.h"

namespace edgegen::converter {

void manifest_error(const std::string& path, const std::string& message) {
  throw ConversionError("manifest '" + path + "': " + message);
}

std::string join_names(const std::set<std::string>& names) {
  std::string list;
  for (const auto& name : names) list += (list.empty() ? "" : ", ") + name;
  return list;
}

void check_manifest_keys(const std::string& path, const nlohmann::json& object, const std::string& where,
                         const std::set<std::string>& allowed) {
  for (const auto& item : object.items())
    if (!allowed.count(item.key()))
      manifest_error(path, "unknown key '" + item.key() + "'" + where + " (allowed: " + join_names(allowed) + ")");
}

int64_t shape_product(const std::vector<int64_t>& shape, size_t from) {
  int64_t count = 1;
  for (size_t i = from; i < shape.size(); ++i) count *= shape[i];
  return count;
}

std::vector<int64_t> without_batch(const std::vector<int64_t>& shape) {
  return shape.empty() ? shape : std::vector<int64_t>(shape.begin() + 1, shape.end());
}

}  // namespace edgegen::converter
