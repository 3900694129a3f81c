#include <doctest/doctest.h>

#include <cstdarg>
#include <cstddef>
#include <string>

#include "core/format_message.h"

using namespace edgegen;

namespace {
std::string replaced(const char* format, const char* modifier, size_t capacity = 256) {
  char out[256];
  if (!replace_size_modifiers(format, modifier, out, capacity)) return "<does not fit>";
  return out;
}

std::string formatted(const char* format, ...) {
  char out[64];
  va_list args;
  va_start(args, format);
  format_message(out, sizeof out, format, args);
  va_end(args);
  return out;
}
}  // namespace

TEST_CASE("replace_size_modifiers: rewrites %z only, keeps flags, width and %%") {
  CHECK(replaced("has %zu inputs, expected %zu", "") == "has %u inputs, expected %u");
  CHECK(replaced("has %zu inputs, expected %zu", "l") == "has %lu inputs, expected %lu");
  CHECK(replaced("%-8zd|%08zx|%.3zu", "l") == "%-8ld|%08lx|%.3lu");
  CHECK(replaced("100%% of %zu, size %s, z%llu", "") == "100%% of %u, size %s, z%llu");
  CHECK(replaced("", "") == "");
  CHECK(replaced("trailing %", "") == "trailing %");
}

TEST_CASE("replace_size_modifiers: reports a result that does not fit") {
  CHECK(replaced("abc", "", 4) == "abc");
  CHECK(replaced("abcd", "", 4) == "<does not fit>");
  CHECK(replaced("%zu", "l", 4) == "%lu");
  CHECK(replaced("%zu", "ll", 4) == "<does not fit>");
}

TEST_CASE("format_message formats like vsnprintf, %zu included") {
  CHECK(formatted("input %zu '%s' of %zu", size_t{2}, "x", size_t{40000}) == "input 2 'x' of 40000");
  CHECK(formatted("%lld/%u", -5ll, 7u) == "-5/7");
}
