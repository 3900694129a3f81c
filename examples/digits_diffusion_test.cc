// The digits diffusion example through the whole path: manifest -> converter
// -> verified .egm -> DiffusionPipeline in an arena. The denoiser must give
// what PyTorch gave (examples/digits_diffusion/reference/*.npy), sampling
// must allocate nothing, and results must not depend on the batch.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "converter/converter.h"
#include "edgegen/diffusion.h"
#include "edgegen/model.h"
#include "npy.h"
#include "testing/allocation_counter.h"
#include "testing/model_builder.h"

using namespace edgegen;

namespace {

const std::string kExample = std::string(EDGEGEN_EXAMPLES_DIR) + "/digits_diffusion";

struct Loaded {
  testing::AlignedBytes bytes;
  Model model;
};

void load(int batch, Loaded* out) {
  converter::ConvertOptions options;
  options.batch = batch;
  std::vector<uint8_t> file = converter::convert(kExample + "/manifest.json", options);
  out->bytes.assign(file.data(), file.size());
  Result<Model> model = Model::from_buffer(out->bytes.data(), out->bytes.size());
  REQUIRE_MESSAGE(model.ok(), std::string(model.status().message()));
  out->model = *model;
}

std::vector<float> reference(const std::string& name) {
  return cli::npy_to_float32(cli::read_npy(kExample + "/reference/" + name));
}

// Writes `text` as a manifest in the temporary directory (UNET stands for
// the example's unet.onnx, by absolute path) and converts it.
std::string conversion_error(std::string text) {
  const std::string unet = "UNET";
  text.replace(text.find(unet), unet.size(), kExample + "/unet.onnx");
  std::string path = (std::filesystem::temp_directory_path() /
                      ("edgegen_diffusion_manifest_" + std::to_string(std::rand()) + ".json")).string();
  {
    std::ofstream file(path);
    file << text;
  }
  std::string message;
  try {
    converter::convert(path, converter::ConvertOptions{});
  } catch (const converter::ConversionError& error) {
    message = error.what();
  }
  std::filesystem::remove(path);
  return message;
}

}  // namespace

TEST_CASE("digits diffusion: the converted UNet matches PyTorch") {
  Loaded loaded;
  load(4, &loaded);
  Session session;
  Status prepared = session.prepare(loaded.model);
  REQUIRE_MESSAGE(prepared.is_ok(), std::string(prepared.message()));
  const size_t graph = 0;
  std::vector<float> x = reference("x_t.npy"), t = reference("t.npy"), y = reference("y.npy");
  std::vector<float> expected = reference("eps.npy");
  float* x_in = session.input(graph, static_cast<size_t>(session.find_input(graph, "x_t"))).data_as<float>();
  std::copy(x.begin(), x.end(), x_in);
  Tensor& t_in = session.input(graph, static_cast<size_t>(session.find_input(graph, "t")));
  Tensor& y_in = session.input(graph, static_cast<size_t>(session.find_input(graph, "y")));
  REQUIRE(t_in.dtype == DType::kFloat32);
  REQUIRE(y_in.dtype == DType::kInt64);
  for (size_t i = 0; i < 4; ++i) {
    t_in.data_as<float>()[i] = t[i];
    y_in.data_as<int64_t>()[i] = static_cast<int64_t>(y[i]);
  }
  REQUIRE(session.run(graph).is_ok());
  const float* eps = session.output(graph, 0).data_as<float>();
  double worst = 0;
  for (size_t i = 0; i < expected.size(); ++i)
    worst = std::fmax(worst, std::fabs(eps[i] - expected[i]) / std::fmax(1.0, std::fabs(expected[i])));
  MESSAGE("denoiser max error vs PyTorch " << worst);
  CHECK(worst <= 1e-4);
}

TEST_CASE("digits diffusion: sampling allocates nothing and does not depend on the batch") {
  Loaded batch4, batch1;
  load(4, &batch4);
  load(1, &batch1);
  DiffusionPipeline wide, narrow;
  REQUIRE(wide.prepare(batch4.model).is_ok());
  REQUIRE(narrow.prepare(batch1.model).is_ok());
  REQUIRE(wide.sample_size() == 256);
  CHECK(wide.num_classes() == 10);
  CHECK(wide.null_class() == 10);

  DiffusionOptions options;
  options.sampler = SamplerKind::kDpmpp2m;
  options.steps = 3;
  options.guidance = 2.f;
  options.seed = 5;
  const int32_t labels[3] = {7, 1, -1};
  std::vector<float> a(3 * 256), b(3 * 256);
  size_t allocations = 0;
  Status status;
  {
    testing::AllocationScope scope;
    status = wide.sample(options, 3, labels, a.data());
    allocations = scope.count();
  }
  REQUIRE_MESSAGE(status.is_ok(), std::string(status.message()));
  CHECK(allocations == 0);
  REQUIRE(narrow.sample(options, 3, labels, b.data()).is_ok());
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::fmax(worst, std::fabs(a[i] - b[i]));
  CHECK(worst <= 1e-4);

  // In-painting with RePaint resampling and an ancestral sampler: still no allocation,
  // and the known pixels come back exactly.
  std::vector<float> known(3 * 256), mask(3 * 256);
  for (size_t i = 0; i < known.size(); ++i) {
    known[i] = (i % 7) / 7.f * 2 - 1;
    mask[i] = (i % 256) < 128 ? 1.f : 0.f;
  }
  options.sampler = SamplerKind::kEulerAncestral;
  options.known = known.data();
  options.mask = mask.data();
  options.resample = 2;
  {
    testing::AllocationScope scope;
    status = wide.sample(options, 3, labels, a.data());
    allocations = scope.count();
  }
  REQUIRE_MESSAGE(status.is_ok(), std::string(status.message()));
  CHECK(allocations == 0);
  for (size_t i = 0; i < known.size(); ++i)
    if (mask[i] > 0.5f) CHECK(a[i] == known[i]);
}

TEST_CASE("digits diffusion: the same seed gives the same samples; bad arguments are errors") {
  Loaded loaded;
  load(2, &loaded);
  DiffusionPipeline pipeline;
  REQUIRE(pipeline.prepare(loaded.model).is_ok());
  DiffusionOptions options;
  options.sampler = SamplerKind::kDdim;
  options.steps = 2;
  options.eta = 1.f;
  options.seed = 9;
  std::vector<float> a(2 * 256), b(2 * 256);
  const int32_t labels[2] = {3, 4};
  REQUIRE(pipeline.sample(options, 2, labels, a.data()).is_ok());
  REQUIRE(pipeline.sample(options, 2, labels, b.data()).is_ok());
  CHECK(a == b);
  options.seed = 10;
  REQUIRE(pipeline.sample(options, 2, labels, b.data()).is_ok());
  CHECK(a != b);

  const int32_t bad[2] = {3, 11};
  Status status = pipeline.sample(options, 2, bad, a.data());
  CHECK(status.code() == StatusCode::kInvalidArgument);
  CHECK(std::string(status.message()).find("class 11") != std::string::npos);
  options.steps = 0;
  CHECK(pipeline.sample(options, 2, labels, a.data()).code() == StatusCode::kInvalidArgument);
}

TEST_CASE("diffusion manifests: errors name the key at fault") {
  const std::string base = R"({"kind": "diffusion", "graphs": {"denoiser": "UNET"},
    "inputs": {"sample": "x_t", "timestep": "t", "class": "y"}, "sample_shape": [1, 16, 16],
    "num_classes": 10, "null_class": 10, )";
  CHECK(conversion_error(base + R"("schedule": {"type": "quadratic"}})").find("'schedule.type' = \"quadratic\" is not supported") !=
        std::string::npos);
  CHECK(conversion_error(base + R"("schedule": {"type": "linear", "beta_start": 0.1, "beta_end": 0.01}})")
            .find("beta_start' must be smaller") != std::string::npos);
  CHECK(conversion_error(base + R"("schedule": {"type": "explicit", "alphas_cumprod": [0.9, 0.95]}})")
            .find("alphas_cumprod[1]") != std::string::npos);
  CHECK(conversion_error(base + R"("schedule": {"type": "linear"}, "prediction": "noise"})")
            .find("'prediction' = \"noise\" is not supported") != std::string::npos);
  CHECK(conversion_error(base + R"("schedule": {"type": "linear"}, "extra": 1})").find("unknown key 'extra'") !=
        std::string::npos);
  std::string wrong_shape = R"({"kind": "diffusion", "graphs": {"denoiser": "UNET"},
    "inputs": {"sample": "x_t", "timestep": "t", "class": "y"}, "sample_shape": [1, 8, 8],
    "num_classes": 10, "schedule": {"type": "cosine"}})";
  CHECK(conversion_error(wrong_shape).find("sample_shape [1, 8, 8] does not match the denoiser input 'x_t'") !=
        std::string::npos);
  std::string wrong_input = R"({"kind": "diffusion", "graphs": {"denoiser": "UNET"},
    "inputs": {"sample": "x", "timestep": "t", "class": "y"}, "sample_shape": [1, 16, 16],
    "num_classes": 10, "schedule": {"type": "squaredcos_cap_v2"}})";
  CHECK(conversion_error(wrong_input).find("inputs.sample = 'x' is not an input of the denoiser") != std::string::npos);
}
