// The committed example models, converted and run by edgegen, must give what
// PyTorch gave (examples/*/reference/*.npy, written by each train.py).
//
// Tolerance: max |edgegen - torch| <= 1e-4 absolute on outputs in [-1, 1]
// or [0, 1], and 1e-4 relative beyond: float32 sums in another order differ
// by a few ulps per layer, far below this; a wrong kernel is far above.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "converter/converter.h"
#include "edgegen/model.h"
#include "edgegen/pipeline.h"
#include "npy.h"
#include "testing/allocation_counter.h"
#include "testing/model_builder.h"

using namespace edgegen;

namespace {

const std::string kExamples = EDGEGEN_EXAMPLES_DIR;

struct LoadedExample {
  testing::AlignedBytes bytes;  // the .egm file; `model` borrows it
  Model model;
};

// Converts a manifest in memory and loads the result as the runtime would.
Status load(const std::string& manifest, int batch, LoadedExample* out) {
  converter::ConvertOptions options;
  options.batch = batch;
  std::vector<uint8_t> file = converter::convert(kExamples + "/" + manifest, options);
  out->bytes.assign(file.data(), file.size());
  Result<Model> model = Model::from_buffer(out->bytes.data(), out->bytes.size());
  if (!model.ok()) return model.status();
  out->model = *model;
  return Status::ok();
}

std::vector<float> reference(const std::string& path) { return cli::npy_to_float32(cli::read_npy(kExamples + "/" + path)); }

void expect_close(const std::vector<float>& actual, const std::vector<float>& expected, const char* what) {
  REQUIRE(actual.size() == expected.size());
  double worst = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    double error = std::fabs(double(actual[i]) - expected[i]) / std::max(1.0, std::fabs(double(expected[i])));
    worst = std::max(worst, error);
  }
  MESSAGE(std::string(what) << ": max error " << worst);
  CHECK(worst <= 1e-4);
}

}  // namespace

TEST_CASE("digits GAN: generator output matches PyTorch, at batch 1 and batch 4") {
  for (int batch : {1, 4}) {
    LoadedExample example;
    Status loaded = load("digits_gan/manifest.json", batch, &example);
    REQUIRE_MESSAGE(loaded.is_ok(), std::string(loaded.message()));
    Pipeline pipeline;
    Status prepared = pipeline.prepare(example.model);
    REQUIRE_MESSAGE(prepared.is_ok(), std::string(prepared.message()));
    CHECK(pipeline.latent_size() == 64);
    CHECK(pipeline.item_size() == 16 * 16);
    std::vector<float> z = reference("digits_gan/reference/z.npy");
    std::vector<float> expected = reference("digits_gan/reference/image.npy");
    const size_t count = z.size() / 64;
    std::vector<float> images(count * 256);
    size_t allocations;
    Status decoded;
    {
      testing::AllocationScope scope;
      decoded = pipeline.decode(z.data(), count, images.data());
      allocations = scope.count();
    }
    REQUIRE_MESSAGE(decoded.is_ok(), std::string(decoded.message()));
    CHECK(allocations == 0);
    expect_close(images, expected, batch == 1 ? "gan batch 1" : "gan batch 4");
  }
}

TEST_CASE("digits VAE: encoder and decoder match PyTorch") {
  LoadedExample example;
  Status loaded = load("digits_vae/manifest.json", 1, &example);
  REQUIRE_MESSAGE(loaded.is_ok(), std::string(loaded.message()));
  CHECK(example.model.pipeline_kind() == PipelineKind::kVae);
  Pipeline pipeline;
  Status prepared = pipeline.prepare(example.model);
  REQUIRE_MESSAGE(prepared.is_ok(), std::string(prepared.message()));
  REQUIRE(pipeline.latent_size() == 8);

  std::vector<float> x = reference("digits_vae/reference/x.npy");
  const size_t count = x.size() / pipeline.item_size();
  std::vector<float> mean(count * 8), logvar(count * 8);
  size_t allocations;
  Status encoded, decoded;
  std::vector<float> z = reference("digits_vae/reference/z.npy");
  std::vector<float> x_hat(z.size() / 8 * pipeline.item_size());
  {
    testing::AllocationScope scope;
    encoded = pipeline.encode(x.data(), count, mean.data(), logvar.data());
    decoded = pipeline.decode(z.data(), z.size() / 8, x_hat.data());
    allocations = scope.count();
  }
  REQUIRE_MESSAGE(encoded.is_ok(), std::string(encoded.message()));
  REQUIRE_MESSAGE(decoded.is_ok(), std::string(decoded.message()));
  CHECK(allocations == 0);
  expect_close(mean, reference("digits_vae/reference/mean.npy"), "vae mean");
  expect_close(logvar, reference("digits_vae/reference/logvar.npy"), "vae logvar");
  expect_close(x_hat, reference("digits_vae/reference/x_hat.npy"), "vae decoder");
}

TEST_CASE("sampling the example models is reproducible and stays in the output range") {
  LoadedExample example;
  REQUIRE(load("digits_gan/manifest.json", 1, &example).is_ok());
  Pipeline pipeline;
  REQUIRE(pipeline.prepare(example.model).is_ok());
  std::vector<float> a(8 * 256), b(8 * 256);
  REQUIRE(pipeline.sample(11, 1.f, 8, a.data()).is_ok());
  REQUIRE(pipeline.sample(11, 1.f, 8, b.data()).is_ok());
  CHECK(a == b);
  for (float v : a) {
    REQUIRE(v >= -1.f);
    REQUIRE(v <= 1.f);
  }
  REQUIRE(pipeline.sample(12, 1.f, 8, b.data()).is_ok());
  CHECK(a != b);
}
