// WAV files of mono waveforms through libsndfile (Debian's libsndfile1-dev),
// a dependency of this host tool only, never of the runtime library.
//
// Without libsndfile at build time (EDGEGEN_WITH_SNDFILE=0, e.g. a
// cross-built tool) every call throws a CliError that says how to get WAV
// support; wav_support() says so beforehand.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace edgegen::cli {

enum class WavFormat {
  kPcm16,    // 16-bit signed PCM; samples outside [-1, 1] are clipped
  kFloat32,  // 32-bit IEEE float, samples as they are
};
// "pcm16" or "float32"; throws CliError naming the choices otherwise.
WavFormat parse_wav_format(const std::string& name);

// True when this build writes and reads WAV files.
bool wav_support();

// The bytes of a mono WAV file of `count` samples at `sample_rate` Hz.
std::vector<uint8_t> encode_wav(const float* samples, size_t count, uint32_t sample_rate, WavFormat format);
// Writes atomically (see atomic_file.h): a failure leaves no partial file.
void write_wav(const std::string& path, const float* samples, size_t count, uint32_t sample_rate, WavFormat format);

struct Wav {
  uint32_t sample_rate = 0;
  int channels = 0;
  bool is_float = false;       // stored as 32-bit float (else integer PCM)
  std::vector<float> samples;  // interleaved, as libsndfile reads them: PCM scaled to [-1, 1)
};
// Decodes a WAV (untrusted input; at most 2^28 samples). `source` prefixes errors.
Wav decode_wav(const uint8_t* bytes, size_t size, const std::string& source);
Wav read_wav(const std::string& path);

// True when `path` ends in ".wav" (any case).
bool is_wav_path(const std::string& path);

}  // namespace edgegen::cli
