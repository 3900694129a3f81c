// edgegen convert INPUT.onnx|MANIFEST.json -o OUT.egm [--batch N]
#include <cstring>
#include <iostream>
#include <memory>
#include <vector>

#include "atomic_file.h"
#include "cli_error.h"
#include "commands.h"
#include "converter/converter.h"
#include "edgegen/model.h"
#include "model_info.h"

namespace edgegen::cli {
namespace {

struct ConvertCommandOptions {
  std::string input_path;
  std::string output_path;
  int batch = 1;
  bool no_fold_batchnorm = false;
  bool no_fuse_activations = false;
};

// Model::from_buffer wants kModelAlignment-aligned bytes, as a mapped file
// is; a std::vector's are not necessarily, so copy into aligned storage.
struct AlignedBytes {
  explicit AlignedBytes(const std::vector<uint8_t>& bytes)
      : storage((bytes.size() + kModelAlignment - 1) / kModelAlignment + 1) {
    std::memcpy(storage.data(), bytes.data(), bytes.size());
  }
  struct alignas(kModelAlignment) Block {
    uint8_t bytes[kModelAlignment];
  };
  std::vector<Block> storage;
  const void* data() const { return storage.data(); }
};

void run_convert(const ConvertCommandOptions& options) {
  converter::ConvertOptions convert_options;
  convert_options.batch = options.batch;
  convert_options.fold_batchnorm = !options.no_fold_batchnorm;
  convert_options.fuse_activations = !options.no_fuse_activations;
  // Opened first so a bad output path fails before the conversion work.
  AtomicFile output(options.output_path);
  std::vector<uint8_t> bytes = converter::convert(options.input_path, convert_options);

  // Load what the converter produced as the runtime will: a file the
  // runtime rejects is a converter bug and is not written.
  AlignedBytes aligned(bytes);
  Result<Model> model = Model::from_buffer(aligned.data(), bytes.size());
  throw_if_error(model.status(), "the converter produced a model the runtime rejects (a converter bug)");
  ModelInfo info;
  try {
    info = describe_model(model.value());
  } catch (const CliError& error) {
    throw CliError(std::string("the converter produced a model the runtime rejects (a converter bug): ") + error.what());
  }

  output.write(bytes.data(), bytes.size());
  output.commit();
  std::cout << "wrote " << options.output_path << ": " << info.pipeline_kind << " pipeline, " << model_info_summary(info)
            << ", " << with_thousands(bytes.size()) << " bytes in all\n";
}

}  // namespace

void add_convert_command(CLI::App& app) {
  auto options = std::make_shared<ConvertCommandOptions>();
  CLI::App* command = app.add_subcommand(
      "convert",
      "Convert an ONNX model, or a JSON manifest naming several ONNX graphs and the pipeline they form, to .egm");
  command->add_option("input", options->input_path, "INPUT.onnx or MANIFEST.json")->required();
  command->add_option("-o,--output", options->output_path, "Output model file (.egm)")->required();
  command->add_option("--batch", options->batch, "Batch size to convert for (every graph's batch dimension)")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  command->add_flag("--no-fold-batchnorm", options->no_fold_batchnorm,
                    "Keep BatchNorm operators instead of folding them into the Conv, ConvTranspose or Gemm before them");
  command->add_flag("--no-fuse-activations", options->no_fuse_activations,
                    "Keep activations as separate operators instead of fusing them into their producers");
  command->callback([options] { run_convert(*options); });
}

}  // namespace edgegen::cli
