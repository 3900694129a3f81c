// edgegen: the command-line tool. Converts ONNX models to .egm files,
// describes them, and runs them: sampling, encoding, reconstruction,
// interpolation, or any graph on .npy inputs; and measures them (bench).
//
// Exit codes: 0 success, 1 error (one line "edgegen: error: ..." on stderr),
// 2 usage error (reported by CLI11 with a pointer to --help).
#include <cstdio>
#include <exception>
#include <string>

#include <CLI/CLI.hpp>

#include "cli_error.h"
#include "commands.h"

namespace {

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

std::string usage_failure_message(const CLI::App* /*app*/, const CLI::Error& error) {
  return "edgegen: error: " + std::string(error.what()) + "\nRun with --help for more information.\n";
}

// Error messages can quote names from an untrusted model file; control
// characters (terminal escape sequences) are shown as \xNN instead.
std::string printable(const std::string& message) {
  std::string text;
  for (char c : message) {
    unsigned char byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      text += escaped;
    } else {
      text += c;
    }
  }
  return text;
}

}  // namespace

// A build without the converter (cross-compiled for a device) says so first.
#if EDGEGEN_WITH_CONVERTER
#define EDGEGEN_CONVERTER_NOTE ""
#else
#define EDGEGEN_CONVERTER_NOTE                                                                        \
  "This build (for " EDGEGEN_TARGET_PROCESSOR ") runs .egm files but has no converter: convert ONNX " \
  "models with edgegen on the host and copy the .egm files here.\n"
#endif

int main(int argc, char** argv) {
  CLI::App app("edgegen " EDGEGEN_VERSION
               " - run generative models (VAE, GAN) converted to .egm files.\n" EDGEGEN_CONVERTER_NOTE
               "Typical use:\n"
               "  edgegen convert examples/digits_vae/manifest.json -o vae.egm\n"
               "  edgegen info vae.egm\n"
               "  edgegen sample vae.egm -n 16 --seed 1 -o samples.png\n"
               "  edgegen bench vae.egm --profile\n"
               "  edgegen generate lm.egm --prompt \"Once upon\" -n 200 --temperature 0.8 --seed 1\n"
               "  edgegen vocode vocoder.egm --mel mel.npy -o speech.wav",
               "edgegen");
  app.set_version_flag("--version", "edgegen " EDGEGEN_VERSION);
  app.require_subcommand(1);
  app.failure_message(usage_failure_message);
  edgegen::cli::add_convert_command(app);
  edgegen::cli::add_info_command(app);
  edgegen::cli::add_run_command(app);
  edgegen::cli::add_sample_command(app);
  edgegen::cli::add_encode_command(app);
  edgegen::cli::add_reconstruct_command(app);
  edgegen::cli::add_interpolate_command(app);
  edgegen::cli::add_bench_command(app);
  edgegen::cli::add_score_command(app);
  edgegen::cli::add_impute_command(app);
  edgegen::cli::add_inpaint_command(app);
  edgegen::cli::add_generate_command(app);
  edgegen::cli::add_vocode_command(app);
  edgegen::cli::add_img2img_command(app);

  try {
    app.parse(argc, argv);  // runs the chosen command's callback
  } catch (const CLI::ParseError& error) {
    int code = app.exit(error);  // prints help, version or the usage error
    return code == 0 ? 0 : kExitUsage;
  } catch (const std::exception& error) {
    // CliError, the converter's ConversionError, bad_alloc...
    std::fprintf(stderr, "edgegen: error: %s\n", printable(error.what()).c_str());
    return kExitError;
  }
  return 0;
}
