// libFuzzer: the .npy parser (cli/npy.h) on untrusted bytes. A bad file is a
// CliError; a good one converts to float32 and survives a write/read round
// trip unchanged.
#include <cstdio>
#include <cstdlib>

#include "cli_error.h"
#include "npy.h"

using namespace edgegen::cli;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  NpyArray array;
  try {
    array = parse_npy(data, size, "fuzz.npy");
  } catch (const CliError&) {
    return 0;
  }
  if (array.num_elements() < (1u << 20)) (void)npy_to_float32(array);
  std::vector<uint8_t> written = serialize_npy(array);
  NpyArray again = parse_npy(written.data(), written.size(), "round trip");
  if (again.dtype != array.dtype || again.shape != array.shape || again.data != array.data) {
    std::fprintf(stderr, "fuzz_npy: the array changed in a write/read round trip\n");
    std::abort();
  }
  return 0;
}
