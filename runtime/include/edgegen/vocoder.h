// Neural vocoders (issue 14): a graph from conditioning frames (log-mel
// spectrogram frames [b, mels, frames]) to a waveform ([b, 1, frames * hop]
// or [b, frames * hop]), as HiFi-GAN, MelGAN and the decoders of VITS and
// Glow-TTS are exported.
//
// The graph is converted for a fixed number of frames W (the arena is
// fixed); vocode() runs a sequence of any length T in windows of W frames.
// An output frame depends on the C = context_frames input frames on each
// side of it (the receptive field), so each window keeps only the frames at
// least C away from its edges, unless that edge is the sequence's own edge:
//
//   mel     |0 ..................................................... T|
//   window 0 [0 ............ W)                       kept: [0, W - C)
//   window 1           [W - 2C ............ 2W - 2C)   kept: [W - C, 2W - 3C)
//   ...
//   last                              [T - W ............ T)  kept: [.., T)
//
// Every kept sample then saw exactly the input frames the whole sequence
// would have given it, so the result equals the vocoder converted for T
// frames, up to float rounding (tested within 1e-5). A sequence shorter than
// W is padded after its end with pad_value (a frame of silence); only then
// do its last C frames differ from a graph of exactly T frames.
//
// Windows run batch() at a time; no heap allocation after prepare.
#pragma once

#include <cstddef>
#include <cstdint>

#include "edgegen/program.h"

namespace edgegen {

// One window of vocode(): the graph reads frames [start, start + W) of the
// sequence and the frames [keep_begin, keep_end) of its output are kept.
struct VocoderWindow {
  size_t start = 0;
  size_t keep_begin = 0;
  size_t keep_end = 0;
};

// Window `index` for a sequence of `frames` frames through a graph of
// `window_frames` frames with `context_frames` each side (window_frames >
// 2 * context_frames). Windows 0, 1, ... keep consecutive ranges that cover
// [0, frames); the last one's keep_end is `frames`.
VocoderWindow vocoder_window(size_t index, size_t frames, size_t window_frames, size_t context_frames);
// How many windows cover `frames` frames (at least 1).
size_t vocoder_window_count(size_t frames, size_t window_frames, size_t context_frames);

class VocoderPipeline : public Program {
 public:
  VocoderPipeline() = default;

  static Result<size_t> arena_bytes_needed(const Model& model, const SessionOptions& options = SessionOptions());
  // Fails with kInvalidArgument when the model is not a vocoder, and with
  // kInvalidModel when its graph does not map [b, mels, W] to W * hop_length
  // samples per item, or W <= 2 * context_frames.
  Status prepare(const Model& model, void* arena, size_t arena_bytes, const SessionOptions& options = SessionOptions());
  Status prepare(const Model& model, const SessionOptions& options = SessionOptions());

  PipelineKind kind() const override { return PipelineKind::kVocoder; }
  uint32_t capabilities() const override;  // vocode
  Session& session() override { return session_; }
  size_t batch() const override { return batch_; }
  // One window's waveform: the graph output without its batch dimension.
  const Shape& event_shape() const override { return event_shape_; }

  uint32_t sample_rate() const override { return sample_rate_; }
  size_t hop_length() const override { return hop_length_; }
  size_t mel_channels() const override { return mels_; }
  // Frames the graph reads per run (W) and the context each side (C).
  size_t window_frames() const { return window_frames_; }
  size_t context_frames() const { return context_frames_; }
  float pad_value() const { return pad_value_; }

  // The waveform of `frames` frames of `mel` ([mel_channels, frames],
  // row-major) into `audio` (frames * hop_length floats). kInvalidArgument
  // for frames == 0 or null pointers; nothing is written on failure of the
  // arguments. A graph run's failure is returned as it is.
  Status vocode(const float* mel, size_t frames, float* audio) override;

 private:
  Status configure(const Model& model);
  // Copies window `window` of the sequence into batch slot `slot` of the input.
  void load_window(const float* mel, size_t frames, const VocoderWindow& window, size_t slot);

  Session session_;
  size_t graph_ = 0;
  Tensor* input_ = nullptr;   // borrowed (session): [batch, mels, W]
  Tensor* output_ = nullptr;  // borrowed (session): batch * W * hop floats
  size_t batch_ = 1;
  size_t mels_ = 0;
  size_t window_frames_ = 0;
  size_t context_frames_ = 0;
  size_t hop_length_ = 0;
  uint32_t sample_rate_ = 0;
  float pad_value_ = 0.f;
  Shape event_shape_;
};

}  // namespace edgegen
