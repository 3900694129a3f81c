// libFuzzer: a JSON manifest (converter/manifest.h) as a user hands it to
// `edgegen convert`. read_manifest either throws ConversionError or returns
// a manifest; then, when every graph it names is one of the small example
// graphs copied next to it, the whole conversion runs (make_pipeline checks
// the manifest's values against the graphs), and the file it produces must
// load in the runtime.
//
// Graph paths elsewhere (other files, devices such as /dev/stdin) are not
// followed: the converter reads what the user names, so that is a property
// of the manifest's author, not a parser bug.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <cstring>
#include <set>

#include "converter/converter.h"
#include "converter/manifest.h"
#include "edgegen/model.h"
#include "fuzz_files.h"

using namespace edgegen;
using namespace edgegen::converter;

namespace {

// Small graphs a manifest may name, copied into the fuzzing directory.
const char* const kGraphs[][2] = {
    {"examples/energy_gaussian/score.onnx", "score.onnx"},
    {"examples/energy_gaussian/energy.onnx", "energy.onnx"},
    {"examples/anomaly_tabular/made.onnx", "made.onnx"},
    {"tests/flow_layers/glow/forward.onnx", "forward.onnx"},
    {"tests/flow_layers/glow/inverse.onnx", "inverse.onnx"},
    {"fuzz/seeds/graphs/tiny_encoder.onnx", "tiny_encoder.onnx"},
    {"fuzz/seeds/graphs/tiny_decoder.onnx", "tiny_decoder.onnx"},
    {"tests/token_decoder/scatter_mha/step.onnx", "step.onnx"},
    {"tests/token_decoder/scatter_mha/prefill.onnx", "prefill.onnx"},
    {"examples/vocoder/vocoder.onnx", "vocoder.onnx"},
    {"tests/vocoder/wave_decoder.onnx", "wave_decoder.onnx"},
};

const fuzz::FuzzDirectory& directory() {
  static const fuzz::FuzzDirectory instance;
  return instance;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  for (const auto& graph : kGraphs)
    std::filesystem::copy_file(std::string(EDGEGEN_SOURCE_DIR) + "/" + graph[0], directory().path() + "/" + graph[1],
                               std::filesystem::copy_options::overwrite_existing);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = directory().write("manifest.json", data, size);
  Manifest manifest;
  try {
    manifest = read_manifest(path);
  } catch (const ConversionError&) {
    return 0;
  }
  static const std::set<std::string> known = [] {
    std::set<std::string> names;
    for (const auto& graph : kGraphs) names.insert(directory().path() + "/" + graph[1]);
    return names;
  }();
  for (const auto& [role, graph_path] : manifest.graphs)
    if (known.count(std::filesystem::path(graph_path).lexically_normal().string()) == 0) return 0;
  std::vector<uint8_t> model;
  try {
    model = convert(path, ConvertOptions{});
  } catch (const ConversionError&) {
    return 0;
  }
  // The converter's output is trusted by nobody, but it must be what the
  // runtime accepts.
  void* bytes = nullptr;
  if (posix_memalign(&bytes, kModelAlignment, model.size()) != 0) return 0;
  std::memcpy(bytes, model.data(), model.size());
  Result<Model> loaded = Model::from_buffer(bytes, model.size());
  if (!loaded.ok()) {
    std::fprintf(stderr, "fuzz_manifest: the converter wrote a model the runtime refuses: %s\n",
                 loaded.status().message());
    std::abort();
  }
  std::free(bytes);
  return 0;
}
