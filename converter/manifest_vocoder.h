// The "vocoder" manifest kind (issue 14): a graph from conditioning frames
// (log-mel [b, mels, frames]) to a waveform ([b, 1, frames * hop_length] or
// [b, frames * hop_length]).
//
//   {"kind": "vocoder", "graphs": {"vocoder": "v.onnx"}, "sample_rate": 22050,
//    "hop_length": 256, "context_frames": 6, "pad_value": -11.51,
//    "dims": {"frames": 128}}
//
// The graph is converted for a fixed number of frames (a symbolic frames
// axis is given by "dims" or --dim). "context_frames" is the receptive field
// in frames on each side (how far an output frame looks); long inputs run in
// windows that overlap by that much (see runtime/include/edgegen/vocoder.h).
// "pad_value" (default log(1e-5), HiFi-GAN's floor) is a frame of silence.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "converter/egm_writer.h"
#include "converter/ir.h"

namespace edgegen::converter {

struct Manifest;

struct VocoderManifest {
  uint32_t sample_rate = 0;
  uint32_t hop_length = 0;
  uint32_t context_frames = 0;
  float pad_value = -11.512925f;
};

void read_vocoder_manifest(const std::string& path, const nlohmann::json& root, Manifest* manifest);
PipelineWriter make_vocoder_pipeline(const Manifest& manifest, const std::vector<IrGraph>& graphs);

}  // namespace edgegen::converter
