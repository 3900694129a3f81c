// The checks every manifest reader shares (manifest.cc and each kind's
// manifest_<kind>.cc): one error format naming the file, one unknown-key
// check that lists what is allowed, and the small shape helpers.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace edgegen::converter {

// Throws ConversionError "manifest '<path>': <message>".
[[noreturn]] void manifest_error(const std::string& path, const std::string& message);

// "a, b, c": the names in set order.
std::string join_names(const std::set<std::string>& names);

// Fails with "unknown key 'k'<where> (allowed: ...)" on a key of `object`
// that is not in `allowed` (a typo must not be silently ignored).
void check_manifest_keys(const std::string& path, const nlohmann::json& object, const std::string& where,
                         const std::set<std::string>& allowed);

// The product of shape[from ..] (1 for an empty range).
int64_t shape_product(const std::vector<int64_t>& shape, size_t from = 0);

// The shape without its first (batch) dimension.
std::vector<int64_t> without_batch(const std::vector<int64_t>& shape);

}  // namespace edgegen::converter
