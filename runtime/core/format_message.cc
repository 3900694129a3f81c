#include "core/format_message.h"

#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>

// newlib says in <newlib.h> (included by <cstdio>) whether it was built with
// the C99 formats.
#if defined(_NEWLIB_VERSION) && !defined(_WANT_IO_C99_FORMATS)
#define EDGEGEN_PRINTF_LACKS_SIZE_MODIFIER 1
#endif

namespace edgegen {

bool replace_size_modifiers(const char* format, const char* size_modifier, char* out, size_t capacity) {
  const size_t modifier_length = std::strlen(size_modifier);
  size_t used = 0;
  auto put = [&](char c) {
    if (used + 1 >= capacity) return false;
    out[used++] = c;
    return true;
  };
  for (const char* p = format; *p != '\0';) {
    if (*p != '%') {
      if (!put(*p++)) return false;
      continue;
    }
    if (!put(*p++)) return false;  // '%'
    if (*p == '%') {
      if (!put(*p++)) return false;
      continue;
    }
    while (*p != '\0' && std::strchr("-+ #0123456789.*", *p) != nullptr)  // flags, width, precision
      if (!put(*p++)) return false;
    if (*p == 'z') {
      ++p;
      for (size_t i = 0; i < modifier_length; ++i)
        if (!put(size_modifier[i])) return false;
    }
  }
  if (capacity == 0) return false;
  out[used] = '\0';
  return true;
}

int format_message(char* out, size_t capacity, const char* format, va_list args) {
#if EDGEGEN_PRINTF_LACKS_SIZE_MODIFIER
  static_assert(SIZE_MAX == UINT_MAX || SIZE_MAX == ULONG_MAX, "size_t is neither unsigned int nor unsigned long");
  char rewritten[256];
  if (replace_size_modifiers(format, SIZE_MAX == UINT_MAX ? "" : "l", rewritten, sizeof rewritten))
    return std::vsnprintf(out, capacity, rewritten, args);
#endif
  return std::vsnprintf(out, capacity, format, args);
}

}  // namespace edgegen
