// The runtime's samplers against the numpy reference implementations in
// tests/diffusion_reference/ (written from the papers): every case of
// trajectories.txt is re-run with the same closed-form denoiser and noise,
// and x is compared after every step.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "edgegen/diffusion.h"

namespace edgegen {
namespace {

constexpr size_t kElements = 12;

struct Case {
  std::string sampler;
  size_t steps = 0;
  std::string spacing;
  bool karras = false;
  float eta = 0.f;
  bool inpaint = false;
  int resample = 1;
  std::vector<double> sigmas, timesteps;
  std::vector<std::vector<double>> trajectory;
};

struct Fixture {
  std::vector<Case> cases;
  std::vector<std::pair<std::string, std::vector<std::pair<int, double>>>> schedules;
};

std::vector<double> numbers(std::istringstream& line) {
  std::vector<double> values;
  double value;
  while (line >> value) values.push_back(value);
  return values;
}

Fixture read_fixture() {
  std::ifstream file(EDGEGEN_DIFFUSION_REFERENCE_DIR "/trajectories.txt");
  REQUIRE(file.good());
  Fixture fixture;
  std::string text;
  while (std::getline(file, text)) {
    std::istringstream line(text);
    std::string tag;
    line >> tag;
    if (tag == "case") {
      Case c;
      int karras = 0, inpaint = 0;
      line >> c.sampler >> c.steps >> c.spacing >> karras >> c.eta >> inpaint >> c.resample;
      c.karras = karras != 0;
      c.inpaint = inpaint != 0;
      fixture.cases.push_back(c);
    } else if (tag == "sigmas") {
      fixture.cases.back().sigmas = numbers(line);
    } else if (tag == "timesteps") {
      fixture.cases.back().timesteps = numbers(line);
    } else if (tag == "step") {
      int index;
      line >> index;
      fixture.cases.back().trajectory.push_back(numbers(line));
    } else if (tag == "schedule") {
      std::string kind, pair;
      line >> kind;
      std::vector<std::pair<int, double>> picks;
      while (line >> pair) {
        size_t colon = pair.find(':');
        picks.emplace_back(std::stoi(pair.substr(0, colon)), std::stod(pair.substr(colon + 1)));
      }
      fixture.schedules.emplace_back(kind, picks);
    }
  }
  return fixture;
}

// The closed-form denoiser and noise of make_fixtures.py.
Status analytic_denoise(void*, const float* x, float sigma, float timestep, float* x0) {
  const double scale = 1.0 / std::sqrt(1.0 + static_cast<double>(sigma) * sigma);
  for (size_t e = 0; e < kElements; ++e)
    x0[e] = static_cast<float>(0.8 * std::tanh(x[e] * scale) + 0.1 * std::cos(0.01 * timestep + static_cast<double>(e)));
  return Status::ok();
}

void analytic_noise(void*, uint64_t key, float* out) {
  for (size_t e = 0; e < kElements; ++e)
    out[e] = static_cast<float>(std::sin(1.3 * (e + 1.0) + 0.7 * (static_cast<double>(key) + 1.0)) * 1.5);
}

struct Recorder {
  const float* x;
  std::vector<std::vector<float>> steps;
};

bool record(void* user, size_t, size_t, double) {
  auto* recorder = static_cast<Recorder*>(user);
  recorder->steps.emplace_back(recorder->x, recorder->x + kElements);
  return true;
}

TimestepSpacing spacing_of(const std::string& name) {
  return name == "leading" ? TimestepSpacing::kLeading
         : name == "linspace" ? TimestepSpacing::kLinspace
                              : TimestepSpacing::kTrailing;
}

TEST_CASE("diffusion schedules match the reference alphas_cumprod") {
  Fixture fixture = read_fixture();
  REQUIRE(fixture.schedules.size() == 3);
  std::vector<float> table(1000);
  for (const auto& [kind, picks] : fixture.schedules) {
    NoiseScheduleSpec spec;
    spec.type = kind == "linear" ? NoiseScheduleType::kLinear
                : kind == "cosine" ? NoiseScheduleType::kCosine
                                   : NoiseScheduleType::kScaledLinear;
    if (kind == "scaled_linear") {
      spec.beta_start = 0.00085f;
      spec.beta_end = 0.012f;
    }
    REQUIRE(compute_alphas_cumprod(spec, table.data()).is_ok());
    for (const auto& [index, value] : picks) {
      CAPTURE(kind);
      CAPTURE(index);
      CHECK(table[static_cast<size_t>(index)] == doctest::Approx(value).epsilon(2e-5));
    }
  }
}

TEST_CASE("an explicit schedule that is not decreasing is rejected") {
  const float values[3] = {0.9f, 0.95f, 0.5f};
  NoiseScheduleSpec spec;
  spec.type = NoiseScheduleType::kExplicit;
  spec.train_steps = 3;
  spec.explicit_alphas_cumprod = values;
  float out[3];
  Status status = compute_alphas_cumprod(spec, out);
  CHECK(status.code() == StatusCode::kInvalidModel);
  CHECK(std::string(status.message()).find("alphas_cumprod[1]") != std::string::npos);
}

TEST_CASE("every sampler matches its reference trajectory at every step") {
  Fixture fixture = read_fixture();
  REQUIRE(fixture.cases.size() >= 30);
  std::vector<float> table(1000);
  REQUIRE(compute_alphas_cumprod(NoiseScheduleSpec{}, table.data()).is_ok());
  size_t checked_steps = 0;
  for (const Case& c : fixture.cases) {
    CAPTURE(c.sampler);
    CAPTURE(c.steps);
    CAPTURE(c.spacing);
    CAPTURE(c.karras);
    CAPTURE(c.inpaint);
    std::vector<float> sigmas(c.steps + 1), timesteps(c.steps);
    StepPlan plan{c.steps, sigmas.data(), timesteps.data()};
    REQUIRE(make_step_plan(table.data(), 1000, c.steps, spacing_of(c.spacing), c.karras, &plan).is_ok());
    for (size_t i = 0; i <= c.steps; ++i) CHECK(sigmas[i] == doctest::Approx(c.sigmas[i]).epsilon(1e-4));
    for (size_t i = 0; i < c.steps; ++i) CHECK(timesteps[i] == doctest::Approx(c.timesteps[i]).epsilon(1e-4));

    SamplerRun run;
    REQUIRE(parse_sampler(c.sampler.c_str(), &run.kind));
    run.plan = &plan;
    run.alphas_cumprod = table.data();
    run.train_steps = 1000;
    run.elements = kElements;
    run.eta = c.eta;
    run.denoise = {analytic_denoise, nullptr};
    run.noise = {analytic_noise, nullptr};
    std::vector<std::vector<float>> scratch(5, std::vector<float>(kElements));
    for (size_t k = 0; k < 5; ++k) run.scratch[k] = scratch[k].data();
    std::vector<float> known(kElements), mask(kElements);
    for (size_t e = 0; e < kElements; ++e) {
      known[e] = static_cast<float>(0.5 * std::cos(static_cast<double>(e)));
      mask[e] = e % 2 == 0 ? 1.f : 0.f;
    }
    if (c.inpaint) {
      run.known = known.data();
      run.mask = mask.data();
      run.resample = c.resample;
    }
    std::vector<float> x(kElements);
    for (size_t e = 0; e < kElements; ++e)
      x[e] = static_cast<float>(std::sin(0.9 * (e + 1.0)) * 1.2 * std::sqrt(1.0 + sigmas[0] * static_cast<double>(sigmas[0])));
    Recorder recorder{x.data(), {}};
    run.progress = {record, &recorder};
    REQUIRE(run_sampler(run, x.data()).is_ok());
    REQUIRE(recorder.steps.size() == c.trajectory.size());
    for (size_t step = 0; step < c.steps; ++step) {
      CAPTURE(step);
      // Tolerance relative to the step's scale: x starts at sigma_max ~ 157.
      double scale = 1.0;
      for (double value : c.trajectory[step]) scale = std::fmax(scale, std::fabs(value));
      for (size_t e = 0; e < kElements; ++e)
        CHECK(std::fabs(recorder.steps[step][e] - c.trajectory[step][e]) <= 2e-4 * scale);
      ++checked_steps;
    }
  }
  CHECK(checked_steps > 150);
}

TEST_CASE("cancelling from the progress callback stops the sampler") {
  std::vector<float> table(1000), sigmas(5), timesteps(4);
  REQUIRE(compute_alphas_cumprod(NoiseScheduleSpec{}, table.data()).is_ok());
  StepPlan plan{4, sigmas.data(), timesteps.data()};
  REQUIRE(make_step_plan(table.data(), 1000, 4, TimestepSpacing::kTrailing, false, &plan).is_ok());
  int calls = 0;
  SamplerRun run;
  run.kind = SamplerKind::kEuler;
  run.plan = &plan;
  run.elements = kElements;
  run.denoise = {[](void* user, const float* x, float sigma, float timestep, float* x0) {
                   ++*static_cast<int*>(user);
                   return analytic_denoise(nullptr, x, sigma, timestep, x0);
                 },
                 &calls};
  run.noise = {analytic_noise, nullptr};
  std::vector<std::vector<float>> scratch(5, std::vector<float>(kElements));
  for (size_t k = 0; k < 5; ++k) run.scratch[k] = scratch[k].data();
  run.progress = {[](void*, size_t step, size_t, double) { return step < 2; }, nullptr};
  std::vector<float> x(kElements, 1.f);
  Status status = run_sampler(run, x.data());
  CHECK(status.code() == StatusCode::kCancelled);
  CHECK(calls == 2);
}

TEST_CASE("step plans reject step counts outside [1, train_steps]") {
  std::vector<float> table(1000), sigmas(1002), timesteps(1001);
  REQUIRE(compute_alphas_cumprod(NoiseScheduleSpec{}, table.data()).is_ok());
  StepPlan plan{0, sigmas.data(), timesteps.data()};
  CHECK(make_step_plan(table.data(), 1000, 0, TimestepSpacing::kTrailing, false, &plan).code() ==
        StatusCode::kInvalidArgument);
  CHECK(make_step_plan(table.data(), 1000, 1001, TimestepSpacing::kTrailing, false, &plan).code() ==
        StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace edgegen
