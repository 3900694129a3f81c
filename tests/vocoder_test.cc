// Vocoders (issue 14): the window schedule vocode() runs long inputs in, and
// examples/vocoder (a trained MelGAN/HiFi-GAN-style generator, 80 mels, hop
// 256) against PyTorch's reference waveform and against itself converted for
// the whole length. Both backends (CTest).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "edgegen/module.h"
#include "edgegen/vocoder.h"
#include "testing/allocation_counter.h"
#include "tests/support/density_test_util.h"

using namespace edgegen;
using testing::LoadedModel;
using testing::read_floats;

namespace {

std::string file(const std::string& name) { return std::string(EDGEGEN_VOCODER_DIR) + "/" + name; }

// The example converted for `batch` windows per run of `frames` frames (0:
// the manifest's own).
void load_vocoder(int batch, int64_t frames, LoadedModel* out) {
  converter::ConvertOptions options;
  options.batch = batch;
  if (frames > 0) options.dims["frames"] = frames;
  std::vector<uint8_t> bytes = converter::convert(file("manifest.json"), options);
  out->bytes.assign(bytes.data(), bytes.size());
  Result<Model> model = Model::from_buffer(out->bytes.data(), out->bytes.size());
  REQUIRE_MESSAGE(model.ok(), std::string(model.status().message()));
  out->model = *model;
}

std::vector<float> vocode(VocoderPipeline& vocoder, const std::vector<float>& mel, size_t frames) {
  std::vector<float> audio(frames * vocoder.hop_length(), std::nanf(""));
  Status status = vocoder.vocode(mel.data(), frames, audio.data());
  REQUIRE_MESSAGE(status.is_ok(), std::string(status.message()));
  return audio;
}

size_t count_ops(const Model& model, OpCode opcode) { return testing::count_ops(model, 0, opcode); }

// The first `frames` frames of a [mels, total] mel.
std::vector<float> first_frames(const std::vector<float>& mel, size_t mels, size_t total, size_t frames) {
  std::vector<float> out;
  for (size_t m = 0; m < mels; ++m) out.insert(out.end(), mel.begin() + m * total, mel.begin() + m * total + frames);
  return out;
}

}  // namespace

TEST_CASE("vocoder windows cover the sequence once, each kept frame at least context frames from a cut") {
  for (size_t window : {9, 16, 17, 64}) {
    for (size_t context : {0, 1, 3, 4}) {
      if (window <= 2 * context) continue;
      for (size_t frames = 1; frames <= 300; ++frames) {
        CAPTURE(window);
        CAPTURE(context);
        CAPTURE(frames);
        const size_t count = vocoder_window_count(frames, window, context);
        size_t covered = 0;
        for (size_t k = 0; k < count; ++k) {
          const VocoderWindow w = vocoder_window(k, frames, window, context);
          REQUIRE(w.keep_begin == covered);  // consecutive, no gap, no overlap
          REQUIRE(w.keep_end > w.keep_begin);
          REQUIRE(w.keep_begin >= w.start);
          if (frames >= window) REQUIRE(w.start + window <= frames);  // reads only real frames
          // A cut edge (not the sequence's own) is at least `context` away.
          if (w.start > 0) REQUIRE(w.keep_begin - w.start >= context);
          if (w.start + window < frames) REQUIRE(w.start + window - w.keep_end >= context);
          covered = w.keep_end;
        }
        REQUIRE(covered == frames);
      }
    }
  }
  // Overlap is all the cost: 1000 frames in windows of 64 with context 6.
  CHECK(vocoder_window_count(1000, 64, 6) == 19);
  CHECK(vocoder_window_count(64, 64, 6) == 1);
  CHECK(vocoder_window_count(65, 64, 6) == 2);
}

TEST_CASE("examples/vocoder: chunked vocode equals PyTorch's waveform and the graph converted for the whole length") {
  const std::vector<float> mel = read_floats(file("reference/mel.npy"));
  const std::vector<float> expected = read_floats(file("reference/audio.npy"));
  LoadedModel loaded;
  load_vocoder(1, 0, &loaded);
  VocoderPipeline vocoder;
  REQUIRE(vocoder.prepare(loaded.model).is_ok());
  CHECK(vocoder.sample_rate() == 22050);
  CHECK(vocoder.hop_length() == 256);
  REQUIRE(vocoder.mel_channels() == 80);
  CHECK(vocoder.can(Capability::kVocode));
  CHECK(!vocoder.can(Capability::kSample));
  const size_t mels = vocoder.mel_channels();
  const size_t frames = mel.size() / mels;
  REQUIRE(frames * mels == mel.size());
  REQUIRE(frames > 3 * vocoder.window_frames());  // several windows and seams
  REQUIRE(expected.size() == frames * 256);

  std::vector<float> chunked;
  size_t allocations = 0;
  {
    std::vector<float> audio(frames * 256);
    testing::AllocationScope counter;
    REQUIRE(vocoder.vocode(mel.data(), frames, audio.data()).is_ok());
    allocations = counter.count();
    chunked = audio;
  }
  CHECK(allocations == 0);
  const double vs_torch = testing::max_absolute_error(chunked, expected);
  MESSAGE("chunked vs PyTorch: max |difference| " << vs_torch);
  CHECK(vs_torch < 1e-4);

  // The same graph converted for all the frames at once: one run, no seams.
  LoadedModel whole;
  load_vocoder(1, static_cast<int64_t>(frames), &whole);
  VocoderPipeline unchunked;
  REQUIRE(unchunked.prepare(whole.model).is_ok());
  REQUIRE(unchunked.window_frames() == frames);
  const std::vector<float> reference = vocode(unchunked, mel, frames);
  const double vs_whole = testing::max_absolute_error(chunked, reference);
  MESSAGE("chunked vs unchunked: max |difference| " << vs_whole);
  CHECK(vs_whole < 1e-5);

  // Lengths that end just after a window, and one window exactly.
  for (size_t length : {vocoder.window_frames(), vocoder.window_frames() + 1, 2 * vocoder.window_frames() - 7}) {
    CAPTURE(length);
    LoadedModel exact;
    load_vocoder(1, static_cast<int64_t>(length), &exact);
    VocoderPipeline one_run;
    REQUIRE(one_run.prepare(exact.model).is_ok());
    const std::vector<float> part = first_frames(mel, mels, frames, length);
    CHECK(testing::max_absolute_error(vocode(vocoder, part, length), vocode(one_run, part, length)) < 1e-5);
  }
}

TEST_CASE("examples/vocoder: windows batched three per run give the same waveform; short inputs are padded") {
  const std::vector<float> mel = read_floats(file("reference/mel.npy"));
  LoadedModel single, batched;
  load_vocoder(1, 0, &single);
  load_vocoder(3, 0, &batched);
  VocoderPipeline one, three;
  REQUIRE(one.prepare(single.model).is_ok());
  Status prepared = three.prepare(batched.model);
  REQUIRE_MESSAGE(prepared.is_ok(), std::string(prepared.message()));
  CHECK(three.batch() == 3);
  const size_t mels = one.mel_channels(), frames = mel.size() / mels;
  // 7 windows: two full runs of three and a last run of one (two idle slots).
  const std::vector<float> a = vocode(one, mel, frames);
  const std::vector<float> b = vocode(three, mel, frames);
  CHECK(testing::max_absolute_error(a, b) < 1e-6);

  // Shorter than a window: padded with silence after the end. Frames at
  // least context frames before the end saw only real frames, so they equal
  // those of any longer input that starts with the same frames.
  const size_t length = 20, longer = 40, context = one.context_frames();
  REQUIRE(length > context);
  const std::vector<float> padded = vocode(one, first_frames(mel, mels, frames, length), length);
  const std::vector<float> extended = vocode(one, first_frames(mel, mels, frames, longer), longer);
  const std::vector<float> head(padded.begin(), padded.begin() + (length - context) * 256);
  const std::vector<float> extended_head(extended.begin(), extended.begin() + (length - context) * 256);
  CHECK(testing::max_absolute_error(head, extended_head) < 1e-6);
  for (float sample : padded) REQUIRE(std::isfinite(sample));
}

TEST_CASE("vocoder: bad calls are refused with a message, and other kinds cannot vocode") {
  LoadedModel loaded;
  load_vocoder(1, 0, &loaded);
  VocoderPipeline vocoder;
  std::vector<float> mel(80 * 10, -5.f), audio(10 * 256);
  Status before = vocoder.vocode(mel.data(), 10, audio.data());
  CHECK(before.code() == StatusCode::kNotPrepared);
  REQUIRE(vocoder.prepare(loaded.model).is_ok());
  CHECK(vocoder.vocode(nullptr, 10, audio.data()).code() == StatusCode::kInvalidArgument);
  CHECK(vocoder.vocode(mel.data(), 10, nullptr).code() == StatusCode::kInvalidArgument);
  Status empty = vocoder.vocode(mel.data(), 0, audio.data());
  CHECK(empty.code() == StatusCode::kInvalidArgument);
  CHECK(std::string(empty.message()).find("frames") != std::string::npos);

  // Through Module, as a caller that does not know the kind.
  Module module;
  REQUIRE(module.load(loaded.bytes.data(), loaded.bytes.size()).is_ok());
  REQUIRE(module.prepare(SessionOptions(), Capability::kVocode).is_ok());
  Program& program = *module.program();
  CHECK(program.kind() == PipelineKind::kVocoder);
  CHECK(program.sample_rate() == 22050);
  CHECK(program.mel_channels() == 80);
  CHECK(program.hop_length() == 256);
  CHECK(program.vocode(mel.data(), 10, audio.data()).is_ok());
  Status sample = program.sample(SamplingOptions(), 1, audio.data());
  CHECK(sample.code() == StatusCode::kUnsupportedOp);
  CHECK(std::string(sample.message()) == "a 'vocoder' pipeline cannot sample");
  CHECK(std::string(pipeline_kind_name(PipelineKind::kVocoder)) == "vocoder");
  CHECK(std::string(capability_name(Capability::kVocode)) == "vocode");

  // A vocoder model is not a token decoder, and a decoder cannot vocode.
  VocoderPipeline wrong;
  LoadedModel gan;
  testing::load_model(std::string(EDGEGEN_EXAMPLES_DIR) + "/digits_gan/manifest.json", 1, &gan);
  Status refused = wrong.prepare(gan.model);
  CHECK(refused.code() == StatusCode::kInvalidArgument);
  CHECK(std::string(refused.message()) == "this model is a 'decoder' pipeline, not a vocoder");
}

TEST_CASE("examples/vocoder in int8: its leaky ReLUs run inside the int8 convolutions, close to float32") {
  // Calibration: the reference sentence cut into the graph's 64-frame windows.
  const std::vector<float> mel = read_floats(file("reference/mel.npy"));
  const size_t mels = 80, frames = mel.size() / mels, window = 64, windows = frames / window;
  REQUIRE(windows >= 4);
  converter::CalibrationArray calibration;
  calibration.shape = {static_cast<int64_t>(windows), static_cast<int64_t>(mels), static_cast<int64_t>(window)};
  for (size_t w = 0; w < windows; ++w)
    for (size_t m = 0; m < mels; ++m)
      calibration.values.insert(calibration.values.end(), mel.begin() + m * frames + w * window,
                                mel.begin() + m * frames + (w + 1) * window);
  converter::ConvertOptions options;
  options.quantize.int8 = true;
  options.quantize.inputs["mel"] = calibration;
  LoadedModel int8_loaded, float_loaded;
  const std::vector<uint8_t> bytes = converter::convert(file("manifest.json"), options);
  int8_loaded.bytes.assign(bytes.data(), bytes.size());
  Result<Model> model = Model::from_buffer(int8_loaded.bytes.data(), int8_loaded.bytes.size());
  REQUIRE_MESSAGE(model.ok(), std::string(model.status().message()));
  int8_loaded.model = *model;
  load_vocoder(1, 0, &float_loaded);
  // The leaky ReLUs the float graph fused into a convolution (after each
  // dilated conv of the residual units) stay fused in int8: none comes back
  // as a float op between a dequantize and a quantize. Those after a
  // residual Add are float ops in both (the Add is float).
  const size_t float_leaky = count_ops(float_loaded.model, OpCode::kLeakyRelu);
  CHECK(float_leaky < 18);  // some were fused
  CHECK(count_ops(int8_loaded.model, OpCode::kLeakyRelu) == float_leaky);
  CHECK(count_ops(int8_loaded.model, OpCode::kConv2d) + count_ops(int8_loaded.model, OpCode::kConvTranspose2d) ==
        count_ops(float_loaded.model, OpCode::kConv2d) + count_ops(float_loaded.model, OpCode::kConvTranspose2d));

  VocoderPipeline int8_vocoder, float_vocoder;
  REQUIRE(int8_vocoder.prepare(int8_loaded.model).is_ok());
  REQUIRE(float_vocoder.prepare(float_loaded.model).is_ok());
  const std::vector<float> got = vocode(int8_vocoder, mel, frames);
  const std::vector<float> want = vocode(float_vocoder, mel, frames);
  double error = 0, signal = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    error += (got[i] - want[i]) * (got[i] - want[i]);
    signal += want[i] * want[i];
  }
  const double snr_db = 10 * std::log10(signal / error);
  MESSAGE("int8 vs float32 waveform: SNR " << snr_db << " dB");
  CHECK(snr_db > 20);
}
