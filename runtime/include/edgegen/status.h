// Status and Result<T>: how every fallible edgegen call reports failure.
//
// The runtime never throws and never aborts on bad input. A call that can
// fail returns a Status (or a Result<T> that holds a value or a Status); the
// message names the tensor, operator or field at fault. Messages live inside
// the Status itself, so reporting an error allocates nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

namespace edgegen {

// Grouped codes: the high byte says which party is at fault.
enum class StatusCode : uint32_t {
  kOk = 0,
  // The model file is malformed or inconsistent (untrusted input).
  kInvalidModel = 0x100,
  kUnsupportedVersion = 0x101,
  kUnsupportedOp = 0x102,
  // The caller passed something wrong.
  kInvalidArgument = 0x200,
  kShapeMismatch = 0x201,
  kNotPrepared = 0x202,
  // Memory.
  kArenaTooSmall = 0x300,
  kOutOfMemory = 0x301,
  // Files and devices (host side).
  kIoError = 0x400,
  kInvalidData = 0x401,  // a malformed input file, e.g. a bad .npy
  // The caller asked to stop.
  kCancelled = 0x500,
  // A bug in edgegen.
  kInternal = 0x600,
};

// A short, stable name for a code, e.g. "invalid model".
const char* status_code_name(StatusCode code);

class Status {
 public:
  static constexpr size_t kMaxMessage = 240;

  Status() : code_(StatusCode::kOk) { message_[0] = '\0'; }

  static Status ok() { return Status(); }
  // printf-style message; truncated to kMaxMessage - 1 characters.
  static Status error(StatusCode code, const char* format, ...)
#if defined(__GNUC__)
      __attribute__((format(printf, 2, 3)))
#endif
      ;

  bool is_ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  // Empty for an ok status.
  const char* message() const { return message_; }

 private:
  StatusCode code_;
  char message_[kMaxMessage];
};

// A value of type T or the Status explaining why there is none.
template <typename T>
class Result {
 public:
  Result(T&& value) : has_value_(true) { new (storage_) T(std::move(value)); }
  Result(const T& value) : has_value_(true) { new (storage_) T(value); }
  // `status` must be an error.
  Result(const Status& status) : status_(status), has_value_(false) {
    if (status_.is_ok()) status_ = Status::error(StatusCode::kInternal, "Result built from an ok status");
  }
  Result(Result&& other) : status_(other.status_), has_value_(other.has_value_) {
    if (has_value_) new (storage_) T(std::move(other.value()));
  }
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;
  Result& operator=(Result&&) = delete;
  ~Result() {
    if (has_value_) value().~T();
  }

  bool ok() const { return has_value_; }
  const Status& status() const { return status_; }
  T& value() { return *reinterpret_cast<T*>(storage_); }
  const T& value() const { return *reinterpret_cast<const T*>(storage_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }

 private:
  Status status_;
  alignas(T) unsigned char storage_[sizeof(T)];
  bool has_value_;
};

}  // namespace edgegen

// Returns the status of `expr` from the enclosing function if it failed.
#define EG_RETURN_IF_ERROR(expr)                       \
  do {                                                 \
    ::edgegen::Status eg_status_ = (expr);             \
    if (!eg_status_.is_ok()) return eg_status_;        \
  } while (0)
