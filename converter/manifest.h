// The JSON manifest that wires ONNX graphs into a generative pipeline:
//
//   {"kind": "vae", "graphs": {"encoder": "enc.onnx", "decoder": "dec.onnx"},
//    "latent_shape": [8], "likelihood": "bernoulli",
//    "outputs": {"mean": "mean", "logvar": "logvar"}, "output_range": [0, 1]}
//   {"kind": "decoder", "graphs": {"decoder": "gen.onnx"},
//    "latent_shape": [64, 1, 1], "prior": "normal", "output_range": [-1, 1]}
//
// Graph paths are relative to the manifest's directory. Unknown keys and
// values are errors that name them.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "converter/egm_writer.h"
#include "converter/ir.h"
#include "converter/manifest_autoregressive.h"
#include "converter/manifest_energy.h"
#include "converter/manifest_flow.h"
#include "converter/manifest_token_decoder.h"
#include "converter/manifest_vocoder.h"

namespace edgegen::converter {

struct Manifest {
  std::string kind;  // "decoder" or "vae"
  // Every kind: "input_shapes" {role: {input name: [dims]}} and "dims"
  // {symbol: value}, as --input-shape and --dim (which override them).
  std::map<std::string, std::map<std::string, std::vector<int64_t>>> input_shapes;
  std::map<std::string, int64_t> dims;
  // (role, path resolved against the manifest's directory), in the order the
  // graphs are stored: vae -> encoder, decoder; decoder -> decoder.
  std::vector<std::pair<std::string, std::string>> graphs;
  std::vector<int64_t> latent_shape;
  std::string prior = "normal";
  std::vector<float> output_range;
  // decoder, vae: > 0 when each decoder output item is a waveform ("sample_rate")
  uint32_t sample_rate = 0;
  // vae only
  std::string likelihood = "bernoulli";
  std::map<std::string, std::string> outputs;  // role ("mean", "logvar") -> encoder output name
  bool output_is_logits = false;
  float gaussian_variance = 1.f;
  // flow only (see manifest_flow.h)
  FlowManifest flow;
  // autoregressive only (see manifest_autoregressive.h)
  AutoregressiveManifest autoregressive;
  // energy only (see manifest_energy.h)
  EnergyManifest energy;
  // token_decoder only (see manifest_token_decoder.h)
  TokenDecoderManifest token_decoder;
  // vocoder only (see manifest_vocoder.h)
  VocoderManifest vocoder;
  // diffusion only (parsed by manifest_diffusion.cc): graphs denoiser [+ decoder]
  struct Diffusion {
    std::map<std::string, std::string> inputs;  // "sample", "timestep", "class" -> denoiser input name
    std::string schedule = "linear";            // linear, scaled_linear, cosine, explicit
    float beta_start = 0.0001f;
    float beta_end = 0.02f;
    uint32_t train_steps = 1000;
    std::vector<float> alphas_cumprod;  // explicit schedules
    std::string prediction = "epsilon";  // epsilon, v_prediction, sample
    std::vector<int64_t> sample_shape;
    uint32_t num_classes = 0;
    int32_t null_class = -1;
    // Latent diffusion: sampled latents = encoder mean * latent_scale.
    float latent_scale = 1.f;
    // The unconditional context (tokens * dim values) and its shape, from
    // "unconditional_context" (a .npy path or nested lists); empty = none.
    std::vector<float> unconditional_context;
    std::vector<int64_t> unconditional_context_shape;
    int64_t tile_overlap = -1;  // latent pixels; -1 = a quarter of the decoder's tile
  } diffusion;
};

// Diffusion manifests (converter/manifest_diffusion.cc).
void read_diffusion_manifest(const std::string& path, const void* json_root, Manifest& manifest);
PipelineWriter make_diffusion_pipeline(const Manifest& manifest, const std::vector<IrGraph>& graphs);

// Parses and validates the manifest at `path`; throws ConversionError.
Manifest read_manifest(const std::string& path);

// The pipeline table for `manifest` over its converted `graphs` (same order
// as manifest.graphs). Checks latent_shape against the graphs' shapes and
// resolves output names to indices.
PipelineWriter make_pipeline(const Manifest& manifest, const std::vector<IrGraph>& graphs);

}  // namespace edgegen::converter
