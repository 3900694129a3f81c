#include "edgegen/status.h"

#include <cstdarg>
#include <cstdio>

#include "core/format_message.h"

namespace edgegen {

const char* status_code_name(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidModel: return "invalid model";
    case StatusCode::kUnsupportedVersion: return "unsupported format version";
    case StatusCode::kUnsupportedOp: return "unsupported operator";
    case StatusCode::kInvalidArgument: return "invalid argument";
    case StatusCode::kShapeMismatch: return "shape mismatch";
    case StatusCode::kNotPrepared: return "not prepared";
    case StatusCode::kArenaTooSmall: return "arena too small";
    case StatusCode::kOutOfMemory: return "out of memory";
    case StatusCode::kIoError: return "I/O error";
    case StatusCode::kInvalidData: return "invalid data";
    case StatusCode::kCancelled: return "cancelled";
    case StatusCode::kInternal: return "internal error";
  }
  return "unknown status";
}

Status Status::error(StatusCode code, const char* format, ...) {
  Status status;
  status.code_ = code;
  va_list args;
  va_start(args, format);
  format_message(status.message_, kMaxMessage, format, args);
  va_end(args);
  return status;
}

}  // namespace edgegen
