// edgegen info MODEL.egm [--json] [--tensors] [--cpu]; edgegen info --cpu
#include <iostream>
#include <memory>

#include "cli_error.h"
#include "commands.h"
#include "cpu_peak.h"
#include "common_options.h"
#include "loaded_model.h"
#include "model_info.h"

namespace edgegen::cli {
namespace {

struct InfoOptions {
  std::string model_path;
  bool json = false;
  bool cpu = false;
  bool tensors = false;
  SessionOptions runtime;
};

void run_info(const InfoOptions& options) {
  if (options.cpu) {
    std::cout << cpu_report(options.json);
    if (options.model_path.empty()) return;
  } else if (options.model_path.empty()) {
    throw CliError("info needs a model file (or --cpu)");
  }
  LoadedModel loaded(options.model_path, options.runtime);
  // Preparing finishes the verification (shape inference, memory plan), so
  // a corrupt file fails here rather than printing half a report.
  loaded.session();
  PipelineKind kind = loaded.model().pipeline_kind();
  if (kind == PipelineKind::kDecoder || kind == PipelineKind::kVae) loaded.pipeline("info");
  if (kind == PipelineKind::kTokenDecoder) loaded.program(Capability::kGenerate);  // checks the cache pairing
  if (kind == PipelineKind::kVocoder) loaded.program(Capability::kVocode);  // checks the mel and waveform shapes
  ModelInfo info = describe_model(loaded.model(), options.runtime);
  if (options.json)
    std::cout << model_info_json(info).dump(2) << "\n";
  else
    std::cout << model_info_text(info, options.model_path, options.tensors);
}

}  // namespace

void add_info_command(CLI::App& app) {
  auto options = std::make_shared<InfoOptions>();
  CLI::App* command = app.add_subcommand(
      "info", "Describe a model: format, pipeline, graphs (inputs, outputs, ops, parameters) and memory.\n"
              "The model is fully verified and prepared, so this also checks a file.");
  command->add_option("model", options->model_path, "Model file (.egm)");
  command->add_flag("--json", options->json,
                    "Print the report as JSON (with every tensor: precision, bytes, scales and zero points)");
  command->add_flag("--tensors", options->tensors,
                    "List every tensor: precision, shape, constant bytes, and the quantized ones' scales");
  command->add_flag("--cpu", options->cpu,
                    "Describe this machine's processor (cpuinfo: ISA, cores, caches) and measure its fp32 peak");
  add_runtime_options(command, &options->runtime);
  command->callback([options] { run_info(*options); });
}

}  // namespace edgegen::cli
