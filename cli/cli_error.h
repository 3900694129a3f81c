// How the command-line tool reports failures: every problem becomes a
// CliError whose message main() prints as "edgegen: error: <message>".
// (The CLI is a host tool, so exceptions are fine here, unlike the runtime.)
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

#include "edgegen/status.h"

namespace edgegen::cli {

class CliError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws CliError("<context>: <status message>") when `status` is an error.
// An empty context gives the runtime's message alone.
inline void throw_if_error(const Status& status, const std::string& context = "") {
  if (status.is_ok()) return;
  std::string message = status.message();
  if (message.empty()) message = status_code_name(status.code());
  throw CliError(context.empty() ? message : context + ": " + message);
}

// Unwraps a Result<T>, throwing like throw_if_error.
template <typename T>
T take_value(Result<T>&& result, const std::string& context = "") {
  throw_if_error(result.status(), context);
  return std::move(result.value());
}

}  // namespace edgegen::cli
