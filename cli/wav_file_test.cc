#include "wav_file.h"

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "cli_error.h"

namespace edgegen::cli {

TEST_CASE("WAV: pcm16 and float32 files read back through libsndfile") {
  if (!wav_support()) {
    CHECK_THROWS_WITH_AS(encode_wav(nullptr, 0, 8000, WavFormat::kPcm16), doctest::Contains("libsndfile"), CliError);
    return;
  }
  std::vector<float> samples(1000);
  for (size_t i = 0; i < samples.size(); ++i) samples[i] = 0.9f * std::sin(0.05f * static_cast<float>(i));
  samples[10] = 1.7f;   // clipped in pcm16, kept in float32
  samples[11] = -3.f;

  const std::vector<uint8_t> pcm = encode_wav(samples.data(), samples.size(), 22050, WavFormat::kPcm16);
  CHECK(std::string(pcm.begin(), pcm.begin() + 4) == "RIFF");
  CHECK(pcm.size() == 44 + 2 * samples.size());  // the canonical 44-byte header, 2 bytes a sample
  const Wav read = decode_wav(pcm.data(), pcm.size(), "pcm.wav");
  CHECK(read.sample_rate == 22050);
  CHECK(read.channels == 1);
  CHECK(!read.is_float);
  REQUIRE(read.samples.size() == samples.size());
  double worst = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    const double expected = std::fmax(-1.0, std::fmin(1.0, static_cast<double>(samples[i])));
    worst = std::fmax(worst, std::fabs(read.samples[i] - expected));
  }
  CHECK(worst <= 1.0 / 32768 + 1e-9);  // one quantization step; clipped, never wrapped around

  const std::vector<uint8_t> floats = encode_wav(samples.data(), samples.size(), 16000, WavFormat::kFloat32);
  const Wav exact = decode_wav(floats.data(), floats.size(), "float.wav");
  CHECK(exact.is_float);
  CHECK(exact.sample_rate == 16000);
  CHECK(exact.samples == samples);
}

TEST_CASE("WAV: bad bytes and names are refused with the source named") {
  CHECK(parse_wav_format("pcm16") == WavFormat::kPcm16);
  CHECK(parse_wav_format("float32") == WavFormat::kFloat32);
  CHECK_THROWS_WITH_AS(parse_wav_format("pcm8"), "unknown WAV format 'pcm8' (expected pcm16 or float32)", CliError);
  CHECK(is_wav_path("a/speech.WAV"));
  CHECK(!is_wav_path("speech.wav.npy"));
  CHECK(!is_wav_path("wav"));
  if (!wav_support()) return;
  const std::string junk = "RIFF\x10\x00\x00\x00WAVEjunkjunkjunk";
  CHECK_THROWS_WITH_AS(decode_wav(reinterpret_cast<const uint8_t*>(junk.data()), junk.size(), "junk.wav"),
                       doctest::Contains("junk.wav: "), CliError);
  std::vector<float> one(4, 0.f);
  std::vector<uint8_t> bytes = encode_wav(one.data(), one.size(), 8000, WavFormat::kPcm16);
  bytes.resize(30);  // the header cut short
  CHECK_THROWS_AS(decode_wav(bytes.data(), bytes.size(), "cut.wav"), CliError);
  CHECK_THROWS_AS(encode_wav(one.data(), one.size(), 0, WavFormat::kPcm16), CliError);
}

}  // namespace edgegen::cli
