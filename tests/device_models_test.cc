// Real models on a device build of the runtime (scripts/test.sh runs it
// cross-compiled for aarch64 under qemu, with XNNPACK's NEON kernels and
// with the reference kernels): files converted by the host's edgegen into
// EDGEGEN_DEVICE_MODELS_DIR, outputs compared with the PyTorch references
// committed beside the example models. The host suites check the same
// models through the converter (examples/, tests/flow_layers_test.cc);
// this test needs none of the host tools, only .npy reading.
//
// Tolerance: 1e-4 relative to max(1, |reference|), as the host suites.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "edgegen/density.h"
#include "edgegen/mapped_file.h"
#include "edgegen/model.h"
#include "edgegen/pipeline.h"
#include "edgegen/token_decoder.h"
#include "npy.h"
#include "testing/allocation_counter.h"

using namespace edgegen;

namespace {

const std::string kModels = EDGEGEN_DEVICE_MODELS_DIR;
const std::string kSource = EDGEGEN_SOURCE_DIR;

struct DeviceModel {
  MappedFile file;
  Model model;
};

void load(const std::string& name, DeviceModel* out) {
  const std::string path = kModels + "/" + name;
  Result<MappedFile> file = MappedFile::open(path.c_str());
  REQUIRE_MESSAGE(file.ok(), path << ": " << file.status().message() << " (scripts/test.sh converts it)");
  out->file = std::move(*file);
  Result<Model> model = Model::from_buffer(out->file.data(), out->file.size());
  REQUIRE_MESSAGE(model.ok(), path << ": " << model.status().message());
  out->model = *model;
}

std::vector<float> reference(const std::string& path) {
  return cli::npy_to_float32(cli::read_npy(kSource + "/" + path));
}

void expect_close(const std::vector<float>& actual, const std::vector<float>& expected, const char* what) {
  REQUIRE(actual.size() == expected.size());
  double worst = 0;
  for (size_t i = 0; i < actual.size(); ++i)
    worst = std::max(worst, std::fabs(double(actual[i]) - expected[i]) / std::max(1.0, std::fabs(double(expected[i]))));
  MESSAGE(std::string(what) << ": max error " << worst);
  CHECK(worst <= 1e-4);
}

template <typename Call>
void run_without_allocation(Call call) {
  Status status;
  size_t allocations;
  {
    testing::AllocationScope scope;
    status = call();
    allocations = scope.count();
  }
  REQUIRE_MESSAGE(status.is_ok(), std::string(status.message()));
  CHECK(allocations == 0);
}

}  // namespace

TEST_CASE("device: the digits GAN generator matches PyTorch") {
  DeviceModel example;
  load("digits_gan.egm", &example);
  Pipeline pipeline;
  REQUIRE(pipeline.prepare(example.model).is_ok());
  const std::vector<float> z = reference("examples/digits_gan/reference/z.npy");
  std::vector<float> images(z.size() / pipeline.latent_size() * pipeline.item_size());
  run_without_allocation([&] { return pipeline.decode(z.data(), z.size() / pipeline.latent_size(), images.data()); });
  expect_close(images, reference("examples/digits_gan/reference/image.npy"), "gan image");
}

TEST_CASE("device: the digits VAE encoder and decoder match PyTorch") {
  DeviceModel example;
  load("digits_vae.egm", &example);
  Pipeline pipeline;
  REQUIRE(pipeline.prepare(example.model).is_ok());
  const std::vector<float> x = reference("examples/digits_vae/reference/x.npy");
  const std::vector<float> z = reference("examples/digits_vae/reference/z.npy");
  const size_t count = x.size() / pipeline.item_size();
  std::vector<float> mean(count * pipeline.latent_size()), logvar(mean.size());
  std::vector<float> x_hat(z.size() / pipeline.latent_size() * pipeline.item_size());
  run_without_allocation([&] { return pipeline.encode(x.data(), count, mean.data(), logvar.data()); });
  run_without_allocation([&] { return pipeline.decode(z.data(), z.size() / pipeline.latent_size(), x_hat.data()); });
  expect_close(mean, reference("examples/digits_vae/reference/mean.npy"), "vae mean");
  expect_close(logvar, reference("examples/digits_vae/reference/logvar.npy"), "vae logvar");
  expect_close(x_hat, reference("examples/digits_vae/reference/x_hat.npy"), "vae decoder");
}

TEST_CASE("device: flows' log p(x) match PyTorch (RealNVP example, spline flow) and invert") {
  struct Case {
    const char* file;
    const char* x;
    const char* log_prob;
  };
  const Case cases[] = {
      {"anomaly_flow.egm", "examples/anomaly_digits/reference/flow_x.npy",
       "examples/anomaly_digits/reference/flow_log_prob.npy"},
      {"spline_flow.egm", "tests/flow_layers/spline/reference/x.npy", "tests/flow_layers/spline/reference/log_prob.npy"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.file);
    DeviceModel example;
    load(c.file, &example);
    FlowPipeline flow;
    Status prepared = flow.prepare(example.model);
    REQUIRE_MESSAGE(prepared.is_ok(), std::string(prepared.message()));
    const std::vector<float> x = reference(c.x);
    const size_t count = x.size() / flow.event_size();
    std::vector<float> log_prob(count), z(x.size()), back(x.size());
    run_without_allocation([&] { return flow.log_prob(x.data(), count, log_prob.data()); });
    expect_close(log_prob, reference(c.log_prob), (std::string(c.file) + " log p").c_str());
    // inverse(forward(x)) = x, in the data's units.
    REQUIRE(flow.forward(x.data(), count, z.data()).is_ok());
    REQUIRE(flow.inverse(z.data(), count, back.data()).is_ok());
    double round_trip = 0;
    for (size_t i = 0; i < x.size(); ++i) round_trip = std::max(round_trip, std::fabs(double(back[i]) - x[i]));
    MESSAGE(std::string(c.file) << ": round trip max error " << round_trip);
    CHECK(round_trip <= 1e-3);
  }
}

namespace {
bool append_token(void* user, int32_t token, size_t) {
  static_cast<std::vector<int32_t>*>(user)->push_back(token);
  return true;
}
}  // namespace

TEST_CASE("device: the tiny_lm token decoder generates PyTorch's greedy tokens; logits within 1e-4") {
  DeviceModel lm;
  load("tiny_lm.egm", &lm);
  TokenDecoder decoder;
  Status prepared = decoder.prepare(lm.model);
  REQUIRE_MESSAGE(prepared.is_ok(), std::string(prepared.message()));
  const std::vector<float> prompt_values = reference("examples/tiny_lm/reference_prompt_tokens.npy");
  const std::vector<float> expected_values = reference("examples/tiny_lm/reference_tokens.npy");
  const std::vector<int32_t> prompt(prompt_values.begin(), prompt_values.end());
  const std::vector<int32_t> expected(expected_values.begin(), expected_values.end());
  std::vector<int32_t> tokens;
  tokens.reserve(expected.size());
  TokenCallback callback;
  callback.on_token = append_token;
  callback.user = &tokens;
  GenerateResult result;
  run_without_allocation([&] {
    return decoder.generate(prompt.data(), prompt.size(), expected.size(), TokenSamplingOptions(), callback, &result);
  });
  CHECK(tokens == expected);
  // The logits the first tokens were chosen from (the prompt through prefill and steps).
  const std::vector<float> chosen = reference("examples/tiny_lm/reference_logits.npy");
  const size_t vocab = decoder.vocab_size();
  decoder.reset();
  REQUIRE(decoder.feed(prompt.data(), prompt.size()).is_ok());
  std::vector<float> logits;
  for (size_t i = 0; i < chosen.size() / vocab; ++i) {
    logits.insert(logits.end(), decoder.logits(), decoder.logits() + vocab);
    REQUIRE(decoder.feed(&expected[i], 1).is_ok());
  }
  expect_close(logits, chosen, "tiny_lm logits");
}
