// vsnprintf for status messages, also on C libraries without C99's size_t
// length modifier.
//
// newlib as many toolchains build it (Debian's arm-none-eabi among them)
// lacks %zu: it prints "zu" without consuming the argument, so every later
// conversion reads the wrong argument (a following %s reads a number as a
// pointer). There, format_message first rewrites each %z to the modifier of
// the type size_t is; elsewhere it is plain vsnprintf.
#pragma once

#include <cstdarg>
#include <cstddef>

namespace edgegen {

// Like std::vsnprintf(out, capacity, format, args).
int format_message(char* out, size_t capacity, const char* format, va_list args);

// Copies `format` to `out` with every 'z' length modifier replaced by
// `size_modifier` ("" for unsigned int, "l" for unsigned long). Returns false
// (and leaves `out` unspecified) if the result does not fit in `capacity`.
bool replace_size_modifiers(const char* format, const char* size_modifier, char* out, size_t capacity);

}  // namespace edgegen
