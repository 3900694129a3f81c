// libFuzzer: the streaming row reader of `edgegen score` (cli/row_reader.h)
// on an untrusted .csv or .npy file. The first input byte picks the file
// kind, the row width (1..16), the header and skip-bad-rows options and the
// batch size; the rest is the file. A bad file or row is a CliError.
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "cli_error.h"
#include "fuzz_files.h"
#include "row_reader.h"

using namespace edgegen::cli;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const edgegen::fuzz::FuzzDirectory directory;
  if (size < 1) return 0;
  const uint8_t control = data[0];
  const bool npy = control & 1;
  RowReaderOptions options;
  options.csv_header = control & 2;
  options.skip_bad_rows = control & 4;
  const size_t width = 1 + ((control >> 3) & 15);
  const size_t batch = 1 + (control >> 7) * 6;
  std::string path = directory.write(npy ? "rows.npy" : "rows.csv", data + 1, size - 1);
  try {
    RowReader reader(path, width, options);
    std::vector<float> rows(batch * width);
    std::vector<uint64_t> numbers(batch);
    uint64_t total = 0;
    while (size_t count = reader.read(rows.data(), batch, numbers.data())) {
      if (count > batch) {
        std::fprintf(stderr, "fuzz_rows: read more rows than asked\n");
        std::abort();
      }
      total += count;
    }
    (void)total;
  } catch (const CliError&) {
  }
  return 0;
}
