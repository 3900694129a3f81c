// VAE bounds with a Gaussian likelihood (issue 5). The committed digits VAE
// is trained for a bernoulli likelihood; a variant manifest written here
// declares "likelihood": "gaussian" over the same graphs, so the decoder's
// outputs are the means mu of p(x|z) = N(mu, sigma^2 I). That is not a good
// model of the digits, but the bound's arithmetic does not care: each
// log-weight is recomputed here from PyTorch's encoder outputs and the
// decoder's outputs with
//   log p(x|z) = -1/2 (sum_i (x_i - mu_i)^2 / sigma^2 + D log(2 pi sigma^2)).
#include <doctest/doctest.h>

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "converter/converter.h"
#include "edgegen/density.h"
#include "edgegen/model.h"
#include "edgegen/pipeline.h"
#include "edgegen/random.h"
#include "edgegen_generated.h"
#include "testing/allocation_counter.h"
#include "tests/support/density_test_util.h"

using namespace edgegen;
using edgegen::testing::check_iwae_rises_with_k;
using edgegen::testing::LoadedModel;
using edgegen::testing::load_model;
using edgegen::testing::PosteriorSample;
using edgegen::testing::read_floats;
using edgegen::testing::vae_bound_k1;
using edgegen::testing::vae_posterior_sample_k1;

namespace {

const std::string kDir = std::string(EDGEGEN_EXAMPLES_DIR) + "/anomaly_digits";
constexpr size_t kItem = 64, kLatent = 8;

std::vector<float> reference(const std::string& name) { return read_floats(kDir + "/reference/" + name); }

// A manifest in a directory of its own (the two backends' tests run at the
// same time), removed at scope exit. The graphs are the committed ones, by
// absolute path.
class GaussianManifest {
 public:
  // `variance` is written into the JSON as it is, so bad values can be tried.
  explicit GaussianManifest(const std::string& variance) {
    char pattern[] = "/tmp/edgegen_vae_gaussian.XXXXXX";
    if (char* made = mkdtemp(pattern)) directory_ = made;
    REQUIRE(!directory_.empty());
    path_ = directory_ + "/vae_gaussian.json";
    std::ofstream(path_) << R"({"kind": "vae", "graphs": {"encoder": ")" << kDir << R"(/vae_encoder.onnx", "decoder": ")"
                         << kDir << R"(/vae_decoder.onnx"}, "latent_shape": [8], "likelihood": "gaussian", )"
                         << R"("gaussian_variance": )" << variance
                         << R"(, "outputs": {"mean": "mean", "logvar": "logvar"}})";
  }
  ~GaussianManifest() {
    unlink(path_.c_str());
    rmdir(directory_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string directory_, path_;
};

void load_gaussian_vae(const std::string& variance, int batch, LoadedModel* out) {
  GaussianManifest manifest(variance);
  load_model(manifest.path(), batch, out);
}

// The converter's message for a manifest with this variance ("" if it converts).
std::string conversion_error(const std::string& variance) {
  GaussianManifest manifest(variance);
  try {
    converter::convert(manifest.path(), converter::ConvertOptions());
  } catch (const std::exception& error) {
    return error.what();
  }
  return "";
}

}  // namespace

TEST_CASE("gaussian VAE bounds: the k=1 log-weight equals one recomputed with the Gaussian formula") {
  std::vector<float> x = reference("vae_x.npy");
  std::vector<float> mean = reference("vae_mean.npy"), logvar = reference("vae_logvar.npy");
  const size_t count = x.size() / kItem;
  REQUIRE(mean.size() == count * kLatent);
  for (double variance : {0.25, 3.0}) {
    CAPTURE(variance);
    LoadedModel example;
    load_gaussian_vae(std::to_string(variance), 4, &example);
    const auto* spec = example.model.root()->pipeline_as_VaePipeline();
    REQUIRE(spec != nullptr);
    CHECK(spec->likelihood() == format::Likelihood::Gaussian);
    CHECK(spec->gaussian_variance() == float(variance));
    VaeScorer scorer;
    Status prepared = scorer.prepare(example.model);
    REQUIRE_MESSAGE(prepared.is_ok(), std::string(prepared.message()));
    const std::vector<float> elbo = vae_bound_k1(scorer, x, count);

    // log w = log N(x; mu_dec, s^2 I) + log N(z; 0, I) - log N(z; mu, sigma^2),
    // z = mu + sigma eps from PyTorch's encoder outputs.
    const PosteriorSample sample = vae_posterior_sample_k1(mean, logvar, count, kLatent);
    Pipeline decoder;
    REQUIRE(decoder.prepare(example.model).is_ok());
    std::vector<float> decoded(count * kItem);
    REQUIRE(decoder.decode(sample.z.data(), count, decoded.data()).is_ok());
    for (size_t n = 0; n < count; ++n) {
      double squares = 0;
      for (size_t i = 0; i < kItem; ++i) {
        const double d = double(x[n * kItem + i]) - decoded[n * kItem + i];
        squares += d * d;
      }
      const double log_likelihood = -0.5 * (squares / variance + kItem * std::log(2 * std::acos(-1.0) * variance));
      const double log_w = log_likelihood + sample.log_ratio[n];
      CAPTURE(n);
      CHECK(std::fabs(elbo[n] - log_w) <= 1e-5 * std::max(1.0, std::fabs(log_w)));  // measured <= 3.2e-7
    }
  }
}

TEST_CASE("gaussian VAE bounds: IWAE >= ELBO on the same samples and rises with k; batch does not change the draws") {
  LoadedModel example, single;
  load_gaussian_vae("1.5", 4, &example);
  load_gaussian_vae("1.5", 1, &single);
  VaeScorer scorer, one;
  REQUIRE(scorer.prepare(example.model).is_ok());
  REQUIRE(one.prepare(single.model).is_ok());
  std::vector<float> x = reference("vae_x.npy");
  check_iwae_rises_with_k(scorer, one, x, x.size() / kItem,
                          [](float elbo) { return 1e-4f * std::max(1.f, std::fabs(elbo)); });
}

TEST_CASE("gaussian VAE: a variance that is not positive and finite is refused by the converter and the runtime") {
  for (const char* bad : {"0", "-1", "1e39", "1e-50", "\"1\"", "null"}) {
    CAPTURE(bad);
    std::string message = conversion_error(bad);
    CHECK(message.find("'gaussian_variance' must be a positive number") != std::string::npos);
  }
  CHECK(conversion_error("0.5") == "");

  // A file is untrusted: write a bad value over the stored one (0.5 is not
  // the schema's default, so the field is present) and the scorer refuses it.
  LoadedModel example;
  load_gaussian_vae("0.5", 1, &example);
  const auto* table = reinterpret_cast<const flatbuffers::Table*>(example.model.root()->pipeline_as_VaePipeline());
  const uint8_t* field = table->GetAddressOf(format::VaePipeline::VT_GAUSSIAN_VARIANCE);
  REQUIRE(field != nullptr);
  const size_t offset = static_cast<size_t>(field - example.bytes.data());
  std::vector<uint8_t> file(example.bytes.data(), example.bytes.data() + example.bytes.size());
  for (float bad : {0.f, -1.f, std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()}) {
    CAPTURE(bad);
    testing::AlignedBytes bytes(file);
    std::memcpy(bytes.data() + offset, &bad, sizeof bad);
    Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
    REQUIRE_MESSAGE(model.ok(), std::string(model.status().message()));
    VaeScorer scorer;
    Status status = scorer.prepare(*model);
    CHECK(status.code() == StatusCode::kInvalidModel);
    CHECK(std::string(status.message()).find("gaussian_variance") != std::string::npos);
  }
}
