// The same answer at any thread count (issue 12): every example model gives
// the same bits at one and two threads, for everything it offers (sample,
// score, encode), on the backend EDGEGEN_BACKEND picks (CTest runs both; the
// reference kernels run one thread, XNNPACK splits every operator). No sum's
// order may depend on how work is split between threads.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "converter/converter.h"
#include "edgegen/diffusion.h"
#include "edgegen/module.h"
#include "tests/support/density_test_util.h"

using namespace edgegen;
using edgegen::testing::LoadedModel;
using edgegen::testing::load_model;

namespace {

const std::string kExamples = EDGEGEN_EXAMPLES_DIR;

// The floats `capability` gives at `threads` threads: 8 items sampled with
// seed 5, then (scoring) those items' scores, or (encoding) their means.
std::vector<float> results(LoadedModel& example, Capability capability, int threads,
                           const std::vector<float>& items) {
  Module module;
  REQUIRE(module.load(example.bytes.data(), example.bytes.size()).is_ok());
  SessionOptions options;
  options.threads = threads;
  Status prepared = module.prepare(options, capability);
  REQUIRE_MESSAGE(prepared.is_ok(), std::string(prepared.message()));
  Program& program = *module.program();
  const size_t count = 8;
  std::vector<float> out;
  Status status;
  if (capability == Capability::kSample) {
    out.resize(count * program.event_size());
    DiffusionOptions diffusion;
    diffusion.steps = 4;
    SamplingOptions sampling;
    sampling.seed = 5;
    sampling.diffusion = &diffusion;
    status = program.sample(sampling, count, out.data());
  } else if (capability == Capability::kScore) {
    out.resize(count);
    ScoringOptions scoring;
    scoring.samples = 4;
    scoring.seed = 5;
    status = program.score(scoring, items.data(), count, out.data());
  } else {
    const size_t latent = program.latent_shape().num_elements();
    out.resize(2 * count * static_cast<size_t>(latent));
    status = program.encode(items.data(), count, out.data(), out.data() + count * latent);
  }
  REQUIRE_MESSAGE(status.is_ok(), std::string(status.message()));
  return out;
}

}  // namespace

TEST_CASE("every example model gives the same bits at one and two threads") {
  const char* const manifests[] = {
      "digits_gan/manifest.json",          "digits_vae/manifest.json",
      "digits_diffusion/manifest.json",    "energy_gaussian/manifest.json",
      "anomaly_digits/flow_manifest.json", "anomaly_digits/made_manifest.json",
      "anomaly_digits/vae_manifest.json",  "anomaly_tabular/flow_manifest.json",
      "anomaly_tabular/made_manifest.json"};
  for (const std::string manifest : manifests) {
    CAPTURE(manifest);
    LoadedModel example;
    load_model(kExamples + "/" + manifest, 4, &example);
    Module probe;
    REQUIRE(probe.load(example.bytes.data(), example.bytes.size()).is_ok());
    REQUIRE(probe.declares(Capability::kSample));  // every example generates: its samples feed score/encode
    const std::vector<float> items = results(example, Capability::kSample, 1, {});
    CHECK(std::memcmp(items.data(), results(example, Capability::kSample, 2, {}).data(),
                      items.size() * sizeof(float)) == 0);
    for (Capability capability : {Capability::kScore, Capability::kEncode}) {
      if (!probe.declares(capability)) continue;
      const std::string what = capability_name(capability);
      CAPTURE(what);
      const std::vector<float> one = results(example, capability, 1, items);
      const std::vector<float> two = results(example, capability, 2, items);
      REQUIRE(one.size() == two.size());
      CHECK(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) == 0);
    }
  }
}

TEST_CASE("an int8 model gives the same bits at one and two threads") {
  for (const std::string manifest : {"digits_gan/manifest.json"}) {
    CAPTURE(manifest);
    converter::ConvertOptions options;
    options.batch = 4;
    options.quantize.int8 = true;  // calibrated on latents from the prior
    const std::vector<uint8_t> file = converter::convert(kExamples + "/" + manifest, options);
    LoadedModel example;
    example.bytes.assign(file.data(), file.size());
    Result<Model> model = Model::from_buffer(example.bytes.data(), example.bytes.size());
    REQUIRE(model.ok());
    example.model = *model;
    const std::vector<float> one = results(example, Capability::kSample, 1, {});
    const std::vector<float> two = results(example, Capability::kSample, 2, {});
    CHECK(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) == 0);
  }
}
