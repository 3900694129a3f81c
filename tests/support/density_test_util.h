// Helpers of the density model tests (examples/density_examples_test.cc,
// tests/flow_layers_test.cc): convert a manifest into .egm bytes and load
// them, read a committed reference .npy, compare within a relative
// tolerance. Test code: uses the heap and doctest's REQUIRE.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "converter/converter.h"
#include "edgegen/model.h"
#include "npy.h"
#include "testing/model_builder.h"

namespace edgegen::testing {

// A converted model and the aligned bytes it borrows.
struct LoadedModel {
  AlignedBytes bytes;  // the .egm file; `model` borrows it
  Model model;
};

// Converts the manifest (or .onnx) at `path` for `batch` items and loads the
// result through the verified path, as a device would.
inline void load_model(const std::string& path, int batch, LoadedModel* out) {
  converter::ConvertOptions options;
  options.batch = batch;
  std::vector<uint8_t> file = converter::convert(path, options);
  out->bytes.assign(file.data(), file.size());
  Result<Model> model = Model::from_buffer(out->bytes.data(), out->bytes.size());
  REQUIRE_MESSAGE(model.ok(), std::string(model.status().message()));
  out->model = *model;
}

// A committed .npy as float32 values (row-major).
inline std::vector<float> read_floats(const std::string& path) { return cli::npy_to_float32(cli::read_npy(path)); }

// max_i |actual_i - expected_i| / max(1, |expected_i|).
inline double max_relative_error(const std::vector<float>& actual, const std::vector<float>& expected) {
  REQUIRE(actual.size() == expected.size());
  double worst = 0;
  for (size_t i = 0; i < actual.size(); ++i)
    worst = std::max(worst, std::fabs(double(actual[i]) - expected[i]) / std::max(1.0, std::fabs(double(expected[i]))));
  return worst;
}

// max_i |actual_i - expected_i|.
inline double max_absolute_error(const std::vector<float>& actual, const std::vector<float>& expected) {
  REQUIRE(actual.size() == expected.size());
  double worst = 0;
  for (size_t i = 0; i < actual.size(); ++i) worst = std::max(worst, std::fabs(double(actual[i]) - expected[i]));
  return worst;
}

// The inverse of a flow's declared preprocessing (y = x / scale, logit with
// alpha): logit-space values l -> data units x = scale (sigmoid(l) - alpha) / (1 - 2 alpha).
inline std::vector<float> logit_to_data(const std::vector<float>& logits, double scale, double alpha) {
  std::vector<float> out(logits.size());
  for (size_t i = 0; i < logits.size(); ++i)
    out[i] = static_cast<float>(scale * (1.0 / (1.0 + std::exp(-double(logits[i]))) - alpha) / (1 - 2 * alpha));
  return out;
}

}  // namespace edgegen::testing
