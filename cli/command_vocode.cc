// edgegen vocode MODEL.egm --mel MEL.npy -o SPEECH.wav|SPEECH.npy [--format pcm16|float32] [--threads N]
//
// Runs a vocoder (issue 14) over a log-mel spectrogram of any length: the
// program runs it in windows of the frames the model was converted for,
// overlapping by its context frames (edgegen/vocoder.h), and the waveform is
// written as a WAV file (16-bit PCM by default, 32-bit float on request)
// or as .npy (float32 [1, samples]).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "atomic_file.h"
#include "cli_error.h"
#include "commands.h"
#include "common_options.h"
#include "item_files.h"
#include "loaded_model.h"
#include "npy.h"
#include "wav_file.h"

namespace edgegen::cli {
namespace {

struct VocodeOptions {
  std::string model_path;
  std::string mel_path;
  std::string output_path;
  std::string format = "pcm16";
  SessionOptions runtime;
};

// At most an hour of 22 kHz audio at hop 256 (keeps a typo from asking for gigabytes).
constexpr int64_t kMaxFrames = 1 << 20;

// The mel frames [mels, frames] of a [mels, frames] or [1, mels, frames] array.
std::vector<float> read_mel(const std::string& path, size_t mels, size_t* frames) {
  NpyArray array = read_npy(path);
  std::vector<int64_t> shape = array.shape;
  if (shape.size() == 3 && shape[0] == 1) shape.erase(shape.begin());
  if (shape.size() != 2)
    throw CliError("--mel " + path + ": shape " + format_dims(array.shape) + "; expected [mels, frames] or [1, mels, frames]");
  if (shape[0] != static_cast<int64_t>(mels))
    throw CliError("--mel " + path + ": " + std::to_string(shape[0]) + " mel channels; the vocoder reads " +
                   std::to_string(mels) + " (shape " + format_dims(array.shape) + ")");
  if (shape[1] < 1 || shape[1] > kMaxFrames)
    throw CliError("--mel " + path + ": " + std::to_string(shape[1]) + " frames; expected 1 to " + std::to_string(kMaxFrames));
  *frames = static_cast<size_t>(shape[1]);
  std::vector<float> mel = npy_to_float32(array);
  for (float value : mel)
    if (!std::isfinite(value)) throw CliError("--mel " + path + ": holds a NaN or infinite value");
  return mel;
}

void run_vocode(const VocodeOptions& options) {
  const bool wav = is_wav_path(options.output_path);
  if (!wav && output_format_of(options.output_path, "-o") != OutputFormat::kNpy)
    throw CliError("-o " + options.output_path + ": a waveform is written as .wav or .npy");
  const WavFormat format = parse_wav_format(options.format);
  if (wav && !wav_support()) encode_wav(nullptr, 0, 1, format);  // throws: says how to get WAV support
  LoadedModel loaded(options.model_path, options.runtime);
  Program& program = loaded.program(Capability::kVocode);
  size_t frames = 0;
  std::vector<float> mel = read_mel(options.mel_path, program.mel_channels(), &frames);
  AtomicFile output(options.output_path);

  std::vector<float> audio(frames * program.hop_length());
  const auto start = std::chrono::steady_clock::now();
  throw_if_error(program.vocode(mel.data(), frames, audio.data()), options.model_path);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::vector<uint8_t> bytes =
      wav ? encode_wav(audio.data(), audio.size(), program.sample_rate(), format)
          : float32_npy_bytes({1, static_cast<int64_t>(audio.size())}, audio.data());
  output.write(bytes.data(), bytes.size());
  output.commit();
  const double audio_seconds = static_cast<double>(audio.size()) / program.sample_rate();
  char line[256];
  std::snprintf(line, sizeof line, "wrote %s: %zu samples (%.2f s at %u Hz%s) from %zu frames in %.1f ms, %.1fx real time\n",
                options.output_path.c_str(), audio.size(), audio_seconds, program.sample_rate(),
                wav ? (format == WavFormat::kPcm16 ? ", 16-bit PCM" : ", 32-bit float") : "", frames, seconds * 1e3,
                seconds > 0 ? audio_seconds / seconds : 0.0);
  std::cout << line;
}

}  // namespace

void add_vocode_command(CLI::App& app) {
  auto options = std::make_shared<VocodeOptions>();
  CLI::App* command = app.add_subcommand(
      "vocode", "Turn a log-mel spectrogram into a waveform with a vocoder model (kind 'vocoder').\n"
                "Any number of frames: they run in overlapping windows of the frames the model was converted for.");
  command->add_option("model", options->model_path, "Model file (.egm)")->required();
  command->add_option("--mel", options->mel_path, "MEL.npy: float [mels, frames] or [1, mels, frames]")->required();
  command->add_option("-o,--output", options->output_path, "SPEECH.wav (mono) or SPEECH.npy (float32 [1, samples])")
      ->required();
  command->add_option("--format", options->format, "WAV sample format: pcm16 (clipped to [-1, 1]) or float32")
      ->check(CLI::IsMember({"pcm16", "float32"}))
      ->capture_default_str();
  add_runtime_options(command, &options->runtime);
  command->callback([options] { run_vocode(*options); });
}

}  // namespace edgegen::cli
