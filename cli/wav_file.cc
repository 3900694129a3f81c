#include "wav_file.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "atomic_file.h"
#include "cli_error.h"

#if EDGEGEN_WITH_SNDFILE
#include <sndfile.h>
#endif

namespace edgegen::cli {

WavFormat parse_wav_format(const std::string& name) {
  if (name == "pcm16") return WavFormat::kPcm16;
  if (name == "float32") return WavFormat::kFloat32;
  throw CliError("unknown WAV format '" + name + "' (expected pcm16 or float32)");
}

bool is_wav_path(const std::string& path) {
  if (path.size() < 4) return false;
  std::string tail = path.substr(path.size() - 4);
  std::transform(tail.begin(), tail.end(), tail.begin(), [](unsigned char c) { return std::tolower(c); });
  return tail == ".wav";
}

#if EDGEGEN_WITH_SNDFILE

namespace {

constexpr sf_count_t kMaxSamples = sf_count_t{1} << 28;

// libsndfile's virtual I/O over a byte vector: writes grow it, reads stay in it.
struct MemoryFile {
  std::vector<uint8_t>* bytes = nullptr;  // borrowed
  const uint8_t* data = nullptr;          // borrowed (reading)
  sf_count_t size = 0;
  sf_count_t position = 0;
};

sf_count_t memory_length(void* user) {
  auto* file = static_cast<MemoryFile*>(user);
  return file->bytes ? static_cast<sf_count_t>(file->bytes->size()) : file->size;
}

sf_count_t memory_seek(sf_count_t offset, int whence, void* user) {
  auto* file = static_cast<MemoryFile*>(user);
  sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? file->position : memory_length(user);
  sf_count_t target = base + offset;
  if (target < 0) return -1;
  file->position = target;
  return target;
}

sf_count_t memory_read(void* destination, sf_count_t count, void* user) {
  auto* file = static_cast<MemoryFile*>(user);
  const sf_count_t length = memory_length(user);
  const uint8_t* data = file->bytes ? file->bytes->data() : file->data;
  if (file->position >= length || count <= 0) return 0;
  const sf_count_t n = std::min(count, length - file->position);
  std::memcpy(destination, data + file->position, static_cast<size_t>(n));
  file->position += n;
  return n;
}

sf_count_t memory_write(const void* source, sf_count_t count, void* user) {
  auto* file = static_cast<MemoryFile*>(user);
  if (file->bytes == nullptr || count < 0) return 0;
  const size_t end = static_cast<size_t>(file->position + count);
  if (file->bytes->size() < end) file->bytes->resize(end);
  std::memcpy(file->bytes->data() + file->position, source, static_cast<size_t>(count));
  file->position += count;
  return count;
}

sf_count_t memory_tell(void* user) { return static_cast<MemoryFile*>(user)->position; }

SF_VIRTUAL_IO memory_io() {
  SF_VIRTUAL_IO io;
  io.get_filelen = memory_length;
  io.seek = memory_seek;
  io.read = memory_read;
  io.write = memory_write;
  io.tell = memory_tell;
  return io;
}

}  // namespace

bool wav_support() { return true; }

std::vector<uint8_t> encode_wav(const float* samples, size_t count, uint32_t sample_rate, WavFormat format) {
  if (sample_rate == 0) throw CliError("WAV encoding: the sample rate is 0");
  std::vector<uint8_t> bytes;
  MemoryFile file;
  file.bytes = &bytes;
  SF_VIRTUAL_IO io = memory_io();
  SF_INFO info = {};
  info.samplerate = static_cast<int>(sample_rate);
  info.channels = 1;
  info.format = SF_FORMAT_WAV | (format == WavFormat::kPcm16 ? SF_FORMAT_PCM_16 : SF_FORMAT_FLOAT);
  SNDFILE* sound = sf_open_virtual(&io, SFM_WRITE, &info, &file);
  if (sound == nullptr) throw CliError(std::string("WAV encoding: ") + sf_strerror(nullptr));
  // Out-of-range floats saturate instead of wrapping around in 16 bits.
  sf_command(sound, SFC_SET_CLIPPING, nullptr, SF_TRUE);
  const sf_count_t written = sf_write_float(sound, samples, static_cast<sf_count_t>(count));
  const std::string error = sf_strerror(sound);
  sf_close(sound);  // writes the final header sizes
  if (written != static_cast<sf_count_t>(count)) throw CliError("WAV encoding: " + error);
  return bytes;
}

void write_wav(const std::string& path, const float* samples, size_t count, uint32_t sample_rate, WavFormat format) {
  write_file_atomically(path, encode_wav(samples, count, sample_rate, format));
}

Wav decode_wav(const uint8_t* bytes, size_t size, const std::string& source) {
  MemoryFile file;
  file.data = bytes;
  file.size = static_cast<sf_count_t>(size);
  SF_VIRTUAL_IO io = memory_io();
  SF_INFO info = {};
  SNDFILE* sound = sf_open_virtual(&io, SFM_READ, &info, &file);
  if (sound == nullptr) throw CliError(source + ": not a readable sound file: " + sf_strerror(nullptr));
  Wav wav;
  wav.sample_rate = static_cast<uint32_t>(info.samplerate);
  wav.channels = info.channels;
  const int subtype = info.format & SF_FORMAT_SUBMASK;
  wav.is_float = subtype == SF_FORMAT_FLOAT || subtype == SF_FORMAT_DOUBLE;
  if (info.channels < 1 || info.frames < 0 || info.frames > kMaxSamples / info.channels) {
    sf_close(sound);
    throw CliError(source + ": " + std::to_string(info.channels) + " channels of " + std::to_string(info.frames) +
                   " frames is not a sound this tool reads (at most 2^28 samples)");
  }
  wav.samples.resize(static_cast<size_t>(info.frames * info.channels));
  const sf_count_t read = sf_readf_float(sound, wav.samples.data(), info.frames);
  sf_close(sound);
  if (read != info.frames) throw CliError(source + ": truncated sound data");
  return wav;
}

#else  // no libsndfile

namespace {
[[noreturn]] void no_wav() {
  throw CliError("this edgegen was built without libsndfile, so it cannot write or read WAV files; install "
                 "libsndfile1-dev and rebuild (or write .npy)");
}
}  // namespace

bool wav_support() { return false; }
std::vector<uint8_t> encode_wav(const float*, size_t, uint32_t, WavFormat) { no_wav(); }
void write_wav(const std::string&, const float*, size_t, uint32_t, WavFormat) { no_wav(); }
Wav decode_wav(const uint8_t*, size_t, const std::string&) { no_wav(); }

#endif

Wav read_wav(const std::string& path) {
  std::vector<uint8_t> bytes = read_file(path);
  return decode_wav(bytes.data(), bytes.size(), path);
}

}  // namespace edgegen::cli
