// libFuzzer: an ONNX file through the whole converter (protobuf parse,
// import with shape inference and constant folding, passes, memory plan,
// .egm writer), as `edgegen convert model.onnx` runs it. Every problem must
// be a ConversionError; a model it writes must load in the runtime.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "converter/converter.h"
#include "edgegen/model.h"
#include "fuzz_files.h"

using namespace edgegen;
using namespace edgegen::converter;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const fuzz::FuzzDirectory directory;
  const std::string path = directory.write("model.onnx", data, size);
  std::vector<uint8_t> model;
  try {
    model = convert(path, ConvertOptions{});
  } catch (const ConversionError&) {
    return 0;
  }
  void* bytes = nullptr;
  if (posix_memalign(&bytes, kModelAlignment, model.size()) != 0) return 0;
  std::memcpy(bytes, model.data(), model.size());
  Result<Model> loaded = Model::from_buffer(bytes, model.size());
  if (!loaded.ok()) {
    std::fprintf(stderr, "fuzz_onnx: the converter wrote a model the runtime refuses: %s\n",
                 loaded.status().message());
    std::abort();
  }
  std::free(bytes);
  return 0;
}
