// The edgegen converter: ONNX models (and JSON manifests that wire several
// ONNX graphs into a generative pipeline) to the bytes of one .egm file.
//
// A host-side library: it uses the C++ standard library freely and reports
// every problem by throwing ConversionError. It never writes files; the
// caller (the `edgegen` command-line tool) writes the returned bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace edgegen::converter {

// Samples of one graph input for calibration: [N, ...item shape], row-major.
struct CalibrationArray {
  std::vector<int64_t> shape;
  std::vector<float> values;
};

// Static post-training quantization (converter/quantize/): int8 weights,
// symmetric per output channel; int8 activations, asymmetric per tensor,
// with ranges measured by running the float graphs on calibration data.
struct QuantizeOptions {
  bool int8 = false;
  // How an activation's range is chosen from what calibration saw:
  // "minmax" (all of it), "percentile" (clip the tails beyond `percentile`),
  // "entropy" (the clipping that minimizes the KL divergence, TensorRT's).
  std::string method = "minmax";
  double percentile = 99.99;
  // Calibration samples to use; 0: all of a file, or 256 generated ones.
  int samples = 0;
  // Calibration data by graph input name (or "data" for the data a
  // pipeline's encoder / flow / autoregressive graph reads, or "*" for the
  // one input of a single-input graph). Empty: generated from the pipeline
  // where it can be (decoder and VAE-decoder latents from the prior,
  // diffusion denoiser inputs over the whole schedule).
  std::map<std::string, CalibrationArray> inputs;
  // Token decoders: a text the float step graph is run on, token by token,
  // to record what the step and prefill graphs see (quantize/token_decoder_calibration.h).
  std::string calibration_text;
  // Operators (ONNX node names) or tensors to keep in float32.
  std::vector<std::string> keep_float;
  // > 0: keep the layers that hurt the outputs most in float32 until every
  // graph output's signal-to-noise ratio against float32 is at least this
  // many dB on the calibration data.
  double quality_budget_db = 0;
  // Seed of generated calibration data (deterministic: the same file twice).
  uint64_t seed = 0x5eed;
};

struct ConvertOptions {
  // Symbolic batch dimensions (the first dimension of a graph input) are
  // fixed to this value, unless `dims` or `input_shapes` fix them.
  int batch = 1;
  // The shapes of graph inputs, by their exact ONNX names: every dimension,
  // agreeing with those the model fixes. For models with symbolic
  // dimensions; every shape computation of the graph then folds at convert
  // time. A name that is no graph input is an error.
  std::map<std::string, std::vector<int64_t>> input_shapes;
  // Values of named symbolic dimensions (ONNX dim_param) wherever they
  // appear in a graph input. A symbol no input has is an error.
  std::map<std::string, int64_t> dims;
  // A diffusion pipeline's decoder converted for latent tiles of
  // tile x tile pixels (its input [batch, C, tile, tile]) instead of the
  // whole sample: the runtime decodes tile by tile, blending the overlap,
  // and the arena holds one tile's activations. 0: as the manifest says.
  int64_t decoder_tile = 0;
  // Latent pixels neighbouring tiles share (overrides the manifest's
  // "tile_overlap"); -1: the manifest's, else a quarter of the tile.
  int64_t tile_overlap = -1;
  // Fold an inference BatchNormalization into the Conv / ConvTranspose /
  // Gemm that produces its input.
  bool fold_batchnorm = true;
  // Fuse a following Relu / LeakyRelu / Clip / Sigmoid / Tanh / SiLU into the
  // operator that produces its input.
  bool fuse_activations = true;
  QuantizeOptions quantize;
  // Store float32 constants of at least 1024 elements (weights) as float16,
  // rounded to nearest even; the runtime widens them to float32 at prepare
  // (converter/quantize/fp16_weights.h). With int8 quantization: the
  // constants that stay float32 (layers kept in float, float ops).
  bool float16_weights = false;
};

// Everything the converter rejects: unsupported ops, attributes or values,
// malformed models and manifests. The message names the node (name or
// index), the op type, the attribute and what is supported.
struct ConversionError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Converts `input_path` to the bytes of a .egm file.
//   *.onnx — one graph named "main", pipeline GraphsOnly.
//   *.json — a manifest (kinds "decoder" and "vae"); graph paths in it are
//            relative to the manifest's directory.
// Throws ConversionError on anything unsupported or malformed.
// `notes` (optional) receives lines worth showing the user, e.g. what
// quantization did and the output SNR it measured.
std::vector<uint8_t> convert(const std::string& input_path, const ConvertOptions& options,
                             std::vector<std::string>* notes = nullptr);

// Receives a file's bytes in order; may throw to abandon the file.
using ByteSink = std::function<void(const void* data, size_t size)>;

// The same conversion, streamed: the file's bytes go to `sink` in order,
// the weights straight from the converted graphs, so a model of several GB
// is never held twice. Returns the file's size.
uint64_t convert(const std::string& input_path, const ConvertOptions& options, const ByteSink& sink,
                 std::vector<std::string>* notes = nullptr);

}  // namespace edgegen::converter
