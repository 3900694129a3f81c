// edgegen convert on a build without the converter (a Raspberry Pi build,
// cross-compiled: the converter needs protobuf and ONNX, which stay on the
// host). The command is still there, so that `edgegen convert ...` on the
// device says where to convert instead of "unknown subcommand"; it takes any
// arguments and fails with that message.
#include <string>

#include "cli_error.h"
#include "commands.h"

namespace edgegen::cli {

const char kConverterUnavailable[] =
    "this edgegen (built for " EDGEGEN_TARGET_PROCESSOR
    ") has no converter: convert the model on the host with `edgegen convert MODEL.onnx|MANIFEST.json -o "
    "MODEL.egm` and copy MODEL.egm here (an .egm file runs on every edgegen build)";

void add_convert_command(CLI::App& app) {
  CLI::App* command = app.add_subcommand(
      "convert", "Not in this build (the converter runs on the host): convert there, copy the .egm here");
  command->allow_extras();
  command->callback([] { throw CliError(kConverterUnavailable); });
}

}  // namespace edgegen::cli
