// Density example models (examples/anomaly_digits) against their committed
// PyTorch reference outputs: exact log-likelihoods, the inverse graph, the
// weights the forward and inverse graphs share, and no heap allocation
// while scoring. No PyTorch at test time.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "converter/converter.h"
#include "edgegen/density.h"
#include "edgegen/model.h"
#include "edgegen/pipeline.h"
#include "edgegen/random.h"
#include "testing/allocation_counter.h"
#include "testing/model_builder.h"
#include "tests/support/density_test_util.h"

using namespace edgegen;
using edgegen::testing::check_iwae_rises_with_k;
using edgegen::testing::LoadedModel;
using edgegen::testing::load_model;
using edgegen::testing::max_relative_error;
using edgegen::testing::PosteriorSample;
using edgegen::testing::read_floats;
using edgegen::testing::vae_bound_k1;
using edgegen::testing::vae_posterior_sample_k1;

namespace {

const std::string kDir = std::string(EDGEGEN_EXAMPLES_DIR) + "/anomaly_digits";

std::vector<float> reference(const std::string& name) { return read_floats(kDir + "/reference/" + name); }

}  // namespace

TEST_CASE("RealNVP flow: log p(x) in data units equals PyTorch's within 1e-4 relative, without heap allocation") {
  for (int batch : {1, 4}) {
    LoadedModel example;
    load_model(kDir + "/flow_manifest.json", batch, &example);
    FlowPipeline flow;
    Status prepared = flow.prepare(example.model);
    REQUIRE_MESSAGE(prepared.is_ok(), std::string(prepared.message()));
    CHECK(flow.event_size() == 64);
    CHECK(flow.can_sample());
    std::vector<float> x = reference("flow_x.npy");
    std::vector<float> expected = reference("flow_log_prob.npy");
    // 15 rows: a partial last batch at batch 4.
    const size_t count = expected.size() - 1;
    std::vector<float> scores(count);
    size_t allocations;
    Status scored;
    {
      testing::AllocationScope scope;
      scored = flow.log_prob(x.data(), count, scores.data());
      allocations = scope.count();
    }
    REQUIRE_MESSAGE(scored.is_ok(), std::string(scored.message()));
    CHECK(allocations == 0);
    expected.resize(count);
    double error = max_relative_error(scores, expected);
    MESSAGE("batch " << batch << ": max relative error " << error);
    CHECK(error <= 1e-4);
  }
}

TEST_CASE("RealNVP flow: the inverse graph matches PyTorch and inverse(forward(x)) reproduces x") {
  LoadedModel example;
  load_model(kDir + "/flow_manifest.json", 2, &example);
  FlowPipeline flow;
  REQUIRE(flow.prepare(example.model).is_ok());
  // PyTorch's inverse gives logit-space values l; the pipeline maps them
  // back to data units: x = 17 (sigmoid(l) - alpha) / (1 - 2 alpha).
  std::vector<float> z = reference("flow_z.npy");
  std::vector<float> l = reference("flow_inverse_l.npy");
  std::vector<float> expected = testing::logit_to_data(l, 17.0, 0.05);
  std::vector<float> x(z.size());
  REQUIRE(flow.inverse(z.data(), z.size() / 64, x.data()).is_ok());
  CHECK(max_relative_error(x, expected) <= 1e-4);

  std::vector<float> data = reference("flow_x.npy");
  const size_t count = data.size() / 64;
  std::vector<float> latents(data.size()), back(data.size());
  REQUIRE(flow.forward(data.data(), count, latents.data()).is_ok());
  REQUIRE(flow.inverse(latents.data(), count, back.data()).is_ok());
  double worst = 0;
  for (size_t i = 0; i < data.size(); ++i) worst = std::max(worst, std::fabs(double(back[i]) - data[i]));
  MESSAGE("round trip: max |x' - x| " << worst << " (pixel units 0..17)");
  CHECK(worst <= 1e-3);
}

TEST_CASE("RealNVP flow: weights shared by the forward and inverse graphs are stored once") {
  LoadedModel both;
  load_model(kDir + "/flow_manifest.json", 1, &both);
  // The same flow without its inverse graph.
  const std::string forward_only = "/tmp/edgegen_flow_forward_only_manifest.json";
  {
    std::ofstream file(forward_only);
    file << R"({"kind": "flow", "graphs": {"forward": ")" << kDir << R"(/flow_forward.onnx"},
      "event_shape": [64], "preprocess": {"dequantize_scale": 17, "logit_alpha": 0.05}})";
  }
  LoadedModel forward;
  load_model(forward_only, 1, &forward);
  MESSAGE("weights: forward only " << forward.model.weight_bytes() << " bytes, forward + inverse "
                                   << both.model.weight_bytes() << " bytes; files " << forward.bytes.size() << " / "
                                   << both.bytes.size());
  // The inverse adds only its own small constants (a few masks / scalars).
  CHECK(both.model.weight_bytes() < forward.model.weight_bytes() + 4096);
  CHECK(both.bytes.size() < forward.bytes.size() + forward.bytes.size() / 10);
  FlowPipeline flow;
  REQUIRE(flow.prepare(forward.model).is_ok());
  CHECK_FALSE(flow.can_sample());
  std::vector<float> samples(64);
  Status sampled = flow.sample(1, 1.f, 1, samples.data());
  CHECK(sampled.code() == StatusCode::kInvalidArgument);
}

TEST_CASE("RealNVP flow: samples are deterministic per seed, inside the data range, and scale with temperature") {
  LoadedModel example;
  load_model(kDir + "/flow_manifest.json", 4, &example);
  FlowPipeline flow;
  REQUIRE(flow.prepare(example.model).is_ok());
  std::vector<float> a(6 * 64), b(6 * 64), cold(6 * 64);
  REQUIRE(flow.sample(7, 1.f, 6, a.data()).is_ok());
  REQUIRE(flow.sample(7, 1.f, 6, b.data()).is_ok());
  REQUIRE(flow.sample(7, 0.f, 6, cold.data()).is_ok());
  CHECK(a == b);
  for (float value : a) {
    CHECK(std::isfinite(value));
    CHECK(value >= -17 * 0.05f / 0.9f - 1e-3f);  // the logit transform's range in data units
    CHECK(value <= 17 * 0.95f / 0.9f + 1e-3f);
  }
  // Temperature 0 maps z = 0 for every item: all six are the same mode.
  for (size_t i = 0; i < 64; ++i) CHECK(cold[i] == cold[5 * 64 + i]);
  CHECK(a != cold);
  CHECK(std::fabs(bits_per_dim(-64 * std::log(2.0), 64) - 1.0) < 1e-12);
}

TEST_CASE("RealNVP flow: inputs outside the preprocessing's domain score -infinity; other models are refused") {
  LoadedModel example;
  load_model(kDir + "/flow_manifest.json", 1, &example);
  FlowPipeline flow;
  REQUIRE(flow.prepare(example.model).is_ok());
  std::vector<float> x = reference("flow_x.npy");
  x.resize(2 * 64);
  x[64 + 3] = 40.f;  // far beyond 17 / (1 - 2 alpha)
  float scores[2];
  REQUIRE(flow.log_prob(x.data(), 2, scores).is_ok());
  CHECK(std::isfinite(scores[0]));
  CHECK(std::isinf(scores[1]));
  CHECK(scores[1] < 0);

  converter::ConvertOptions options;
  std::vector<uint8_t> file = converter::convert(std::string(EDGEGEN_EXAMPLES_DIR) + "/digits_vae/manifest.json", options);
  testing::AlignedBytes bytes;
  bytes.assign(file.data(), file.size());
  Result<Model> vae = Model::from_buffer(bytes.data(), bytes.size());
  REQUIRE(vae.ok());
  FlowPipeline not_a_flow;
  Status status = not_a_flow.prepare(*vae);
  CHECK(status.code() == StatusCode::kInvalidArgument);
  CHECK(std::string(status.message()).find("'vae' pipeline, not a flow") != std::string::npos);
}

namespace {

// The VAE of examples/anomaly_digits, converted at `batch`.
void load_vae(int batch, LoadedModel* out) { load_model(kDir + "/vae_manifest.json", batch, out); }

double softplus_reference(double v) { return std::log1p(std::exp(-std::fabs(v))) + std::max(v, 0.0); }

}  // namespace

TEST_CASE("VAE bounds: the k=1 log-weight equals one recomputed from the encoder and decoder outputs") {
  LoadedModel example;
  load_vae(4, &example);
  VaeScorer scorer;
  Status prepared = scorer.prepare(example.model);
  REQUIRE_MESSAGE(prepared.is_ok(), std::string(prepared.message()));
  std::vector<float> x = reference("vae_x.npy");
  const size_t count = x.size() / 64;
  const std::vector<float> elbo = vae_bound_k1(scorer, x, count);

  // The same log-weight from the reference encoder outputs and the pipeline's decoder:
  // log w = log Bern(x; sigmoid(l)) + log N(z; 0, I) - log N(z; mu, sigma^2), z = mu + sigma eps.
  const PosteriorSample sample = vae_posterior_sample_k1(reference("vae_mean.npy"), reference("vae_logvar.npy"), count, 8);
  Pipeline decoder;
  REQUIRE(decoder.prepare(example.model).is_ok());
  std::vector<float> logits(count * 64);
  REQUIRE(decoder.decode(sample.z.data(), count, logits.data()).is_ok());
  for (size_t n = 0; n < count; ++n) {
    double log_w = sample.log_ratio[n];
    for (size_t i = 0; i < 64; ++i)
      log_w += double(x[n * 64 + i]) * logits[n * 64 + i] - softplus_reference(logits[n * 64 + i]);
    CHECK(std::fabs(elbo[n] - log_w) <= 1e-4 * std::max(1.0, std::fabs(log_w)));
  }
}

TEST_CASE("VAE bounds: IWAE >= ELBO on the same samples and rises with k; batch does not change the draws") {
  LoadedModel example, single;
  load_vae(4, &example);
  load_vae(1, &single);
  VaeScorer scorer, one;
  REQUIRE(scorer.prepare(example.model).is_ok());
  REQUIRE(one.prepare(single.model).is_ok());
  std::vector<float> x = reference("vae_x.npy");
  check_iwae_rises_with_k(scorer, one, x, x.size() / 64, [](float) { return 1e-4f; });
}

TEST_CASE("MADE: one pass gives log p(x) equal to PyTorch's and to the categorical sum over its logits") {
  for (int batch : {1, 8}) {
    LoadedModel example;
    load_model(kDir + "/made_manifest.json", batch, &example);
    AutoregressivePipeline made;
    Status prepared = made.prepare(example.model);
    REQUIRE_MESSAGE(prepared.is_ok(), std::string(prepared.message()));
    CHECK(made.categories() == 17);
    std::vector<float> x = reference("made_x.npy");
    std::vector<float> expected = reference("made_log_prob.npy");
    std::vector<float> logits = reference("made_logits.npy");
    const size_t count = expected.size();
    std::vector<float> scores(count);
    size_t allocations;
    Status scored;
    {
      testing::AllocationScope scope;
      scored = made.log_prob(x.data(), count, scores.data());
      allocations = scope.count();
    }
    REQUIRE_MESSAGE(scored.is_ok(), std::string(scored.message()));
    CHECK(allocations == 0);
    CHECK(max_relative_error(scores, expected) <= 1e-4);
    // sum_d log softmax(logits_d)[x_d] from PyTorch's logits.
    for (size_t n = 0; n < count; ++n) {
      double total = 0;
      for (size_t d = 0; d < 64; ++d) {
        const float* l = &logits[(n * 64 + d) * 17];
        double top = *std::max_element(l, l + 17), sum = 0;
        for (int c = 0; c < 17; ++c) sum += std::exp(l[c] - top);
        total += l[static_cast<size_t>(x[n * 64 + d])] - top - std::log(sum);
      }
      CHECK(std::fabs(scores[n] - total) <= 1e-4 * std::fabs(total));
    }
  }
}

TEST_CASE("MADE: sampling is deterministic, batch-independent and honours top-k; bad data is named") {
  LoadedModel four, one;
  load_model(kDir + "/made_manifest.json", 4, &four);
  load_model(kDir + "/made_manifest.json", 1, &one);
  AutoregressivePipeline a, b;
  REQUIRE(a.prepare(four.model).is_ok());
  REQUIRE(b.prepare(one.model).is_ok());
  ArSampleOptions options;
  options.seed = 11;
  std::vector<float> s4(5 * 64), s1(5 * 64), greedy(2 * 64), top1(2 * 64);
  size_t allocations;
  {
    testing::AllocationScope scope;
    REQUIRE(a.sample(options, 5, s4.data()).is_ok());
    allocations = scope.count();
  }
  CHECK(allocations == 0);
  REQUIRE(b.sample(options, 5, s1.data()).is_ok());
  CHECK(s4 == s1);
  for (float v : s4) CHECK((v >= 0 && v < 17 && v == std::floor(v)));
  // top-k = 1 keeps only the most likely value: the greedy (temperature 0) draw.
  options.top_k = 1;
  REQUIRE(a.sample(options, 2, top1.data()).is_ok());
  options.top_k = 0;
  options.temperature = 0.f;
  REQUIRE(a.sample(options, 2, greedy.data()).is_ok());
  CHECK(top1 == greedy);

  std::vector<float> x = reference("made_x.npy");
  x.resize(2 * 64);
  x[64 + 7] = 3.5f;
  float scores[2];
  Status status = a.log_prob(x.data(), 2, scores);
  CHECK(status.code() == StatusCode::kInvalidArgument);
  CHECK(std::string(status.message()).find("item 1, dimension 7") != std::string::npos);
}

TEST_CASE("MADE: imputation keeps observed entries and fills missing ones with valid values") {
  LoadedModel example;
  load_model(kDir + "/made_manifest.json", 4, &example);
  AutoregressivePipeline made;
  REQUIRE(made.prepare(example.model).is_ok());
  std::vector<float> x = reference("made_x.npy");
  x.resize(3 * 64);
  std::vector<float> partial = x;
  for (size_t n = 0; n < 3; ++n)
    for (size_t d = 40; d < 64; d += 2) partial[n * 64 + d] = NAN;
  ArSampleOptions options;
  options.seed = 2;
  REQUIRE(made.impute(options, 3, partial.data()).is_ok());
  for (size_t i = 0; i < partial.size(); ++i) {
    size_t d = i % 64;
    if (d >= 40 && d % 2 == 0) {
      CHECK((partial[i] >= 0 && partial[i] < 17 && partial[i] == std::floor(partial[i])));
    } else {
      CHECK(partial[i] == x[i]);
    }
  }
}

TEST_CASE("tabular (breast cancer): flow and gaussian MADE log p(x) equal PyTorch's within 1e-4 relative") {
  const std::string dir = std::string(EDGEGEN_EXAMPLES_DIR) + "/anomaly_tabular";
  std::vector<float> x = read_floats(dir + "/reference/x.npy");
  const size_t count = x.size() / 30;
  std::vector<float> scores(count);
  LoadedModel flow_file, made_file;
  load_model(dir + "/flow_manifest.json", 4, &flow_file);
  load_model(dir + "/made_manifest.json", 4, &made_file);
  FlowPipeline flow;
  REQUIRE(flow.prepare(flow_file.model).is_ok());
  REQUIRE(flow.log_prob(x.data(), count, scores.data()).is_ok());
  CHECK(max_relative_error(scores, read_floats(dir + "/reference/flow_log_prob.npy")) <= 1e-4);
  AutoregressivePipeline made;
  REQUIRE(made.prepare(made_file.model).is_ok());
  CHECK(made.distribution() == ArKind::kGaussian);
  size_t allocations;
  {
    testing::AllocationScope scope;
    REQUIRE(made.log_prob(x.data(), count, scores.data()).is_ok());
    allocations = scope.count();
  }
  CHECK(allocations == 0);
  CHECK(max_relative_error(scores, read_floats(dir + "/reference/made_log_prob.npy")) <= 1e-4);
  // Gaussian sampling: finite values, deterministic per seed.
  ArSampleOptions options;
  options.seed = 4;
  std::vector<float> a(3 * 30), b(3 * 30);
  REQUIRE(made.sample(options, 3, a.data()).is_ok());
  REQUIRE(made.sample(options, 3, b.data()).is_ok());
  CHECK(a == b);
  for (float v : a) CHECK(std::isfinite(v));
}

TEST_CASE("energy: annealed Langevin with an exact Gaussian score reproduces its moments; the energy scores") {
  const std::string manifest = std::string(EDGEGEN_EXAMPLES_DIR) + "/energy_gaussian/manifest.json";
  LoadedModel big, small;
  load_model(manifest, 64, &big);
  load_model(manifest, 7, &small);
  EnergyPipeline a, b;
  Status prepared = a.prepare(big.model);
  REQUIRE_MESSAGE(prepared.is_ok(), std::string(prepared.message()));
  REQUIRE(b.prepare(small.model).is_ok());
  CHECK(a.num_noise_levels() == 5);
  const size_t count = 2000;
  std::vector<float> samples(count * 2);
  size_t allocations;
  {
    testing::AllocationScope scope;
    REQUIRE(a.sample(3, count, samples.data()).is_ok());
    allocations = scope.count();
  }
  CHECK(allocations == 0);
  // Target at the last level: N(mu, var + sigma_L^2), mu = (1, -2), var = (0.25, 1), sigma_L = 0.1.
  const double mu[2] = {1.0, -2.0}, var[2] = {0.26, 1.01};
  for (int d = 0; d < 2; ++d) {
    double mean = 0, square = 0;
    for (size_t n = 0; n < count; ++n) mean += samples[n * 2 + d] / double(count);
    for (size_t n = 0; n < count; ++n) square += std::pow(samples[n * 2 + d] - mean, 2) / double(count);
    MESSAGE("dimension " << d << ": mean " << mean << " (" << mu[d] << "), variance " << square << " (" << var[d] << ")");
    CHECK(std::fabs(mean - mu[d]) < 4 * std::sqrt(var[d] / count) + 0.02);
    CHECK(std::fabs(square / var[d] - 1) < 0.12);
  }
  // The draws depend on the item's index, not on the batch.
  std::vector<float> again(20 * 2);
  REQUIRE(b.sample(3, 20, again.data()).is_ok());
  for (size_t i = 0; i < again.size(); ++i) CHECK(std::fabs(again[i] - samples[i]) < 1e-5f);

  const float x[4] = {1.f, -2.f, 2.f, 0.f};
  float energy[2];
  REQUIRE(a.energy(x, 2, energy).is_ok());
  CHECK(energy[0] == doctest::Approx(0.0));
  CHECK(energy[1] == doctest::Approx(0.5 * 1 / 0.25 + 0.5 * 4 / 1.0));
}
