// The edgegen converter: ONNX models (and JSON manifests that wire several
// ONNX graphs into a generative pipeline) to the bytes of one .egm file.
//
// A host-side library: it uses the C++ standard library freely and reports
// every problem by throwing ConversionError. It never writes files; the
// caller (the `edgegen` command-line tool) writes the returned bytes.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace edgegen::converter {

struct ConvertOptions {
  // Symbolic batch dimensions (the first dimension of a graph input) are
  // fixed to this value. Any other symbolic dimension is an error.
  int batch = 1;
  // Fold an inference BatchNormalization into the Conv / ConvTranspose /
  // Gemm that produces its input.
  bool fold_batchnorm = true;
  // Fuse a following Relu / LeakyRelu / Clip / Sigmoid / Tanh / SiLU into the
  // operator that produces its input.
  bool fuse_activations = true;
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
std::vector<uint8_t> convert(const std::string& input_path, const ConvertOptions& options);

}  // namespace edgegen::converter
