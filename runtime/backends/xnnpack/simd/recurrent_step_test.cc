// recurrent_step.h's variants against the ONNX step equations in double
// precision, for every cell, odd hidden sizes and batch rows; a step split
// into block ranges (as threads would) gives the bits of one call; the
// input projection against its sums in double.
#include "backends/xnnpack/simd/recurrent_step.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "edgegen/random.h"
#include "testing/random_values.h"

namespace edgegen {
namespace simd {
namespace {

using edgegen::testing::random_values;

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double bounded(double x, double clip) { return clip > 0 ? std::fmin(std::fmax(x, -clip), clip) : x; }

// One step's inputs and the state buffers a variant updates.
struct StepData {
  RecurrentCell cell;
  int64_t hidden, padded, batch, gates;
  float clip;
  std::vector<float> r, packed, in, x, h_prev, c, z, peepholes, recurrent_bias, h_out;

  StepData(RecurrentCell cell_, int64_t hidden_, int64_t batch_, float clip_, bool with_peepholes)
      : cell(cell_), hidden(hidden_), padded(recurrent_padded_units(hidden_)), batch(batch_), clip(clip_) {
    gates = cell == RecurrentCell::kLstm ? 4 : cell == RecurrentCell::kGru ? 3 : cell == RecurrentCell::kGruGates ? 2 : 1;
    const size_t states = static_cast<size_t>(batch * padded);
    r = random_values(static_cast<size_t>(gates * hidden * hidden), 1, 1.5f / std::sqrt(static_cast<float>(hidden)));
    packed.assign(recurrent_packed_floats(gates, hidden, hidden), -1.f);
    pack_recurrent_weights(r.data(), gates, hidden, hidden, packed.data());
    in = random_values(states, 2, 1.f);
    x = random_values(static_cast<size_t>(batch * gates * padded), 3, 1.f);
    h_prev = random_values(states, 4, 1.f);
    c = random_values(states, 5, 1.f);
    z = std::vector<float>(states);
    for (size_t i = 0; i < states; ++i) z[i] = static_cast<float>(sigmoid(in[i]));
    if (with_peepholes) peepholes = random_values(static_cast<size_t>(3 * padded), 6, 0.5f);
    recurrent_bias = random_values(static_cast<size_t>(padded), 7, 0.5f);
    h_out.assign(states, 0.f);
  }

  RecurrentStep step() {
    RecurrentStep s;
    s.cell = cell;
    s.hidden = hidden, s.padded = padded, s.batch = batch;
    s.blocks = padded / kRecurrentBlock;
    s.packed = packed.data();
    s.in = in.data();
    s.x = x.data();
    s.x_stride = gates * padded;
    s.h_prev = h_prev.data();
    s.h_out = h_out.data();
    s.c = c.data();
    s.z = z.data();
    s.peepholes = peepholes.empty() ? nullptr : peepholes.data();
    s.recurrent_bias = recurrent_bias.data();
    s.clip = clip;
    return s;
  }

  // The recurrent product of gate g, unit j, row b, in double.
  double product(int64_t b, int64_t g, int64_t j) const {
    double sum = 0;
    for (int64_t k = 0; k < hidden; ++k) sum += double(in[b * padded + k]) * r[(g * hidden + j) * hidden + k];
    return sum;
  }

  // What the step writes, in double: h_out, then c (LSTM) or z (kGruGates).
  void expected(std::vector<double>* h, std::vector<double>* second) const {
    h->assign(static_cast<size_t>(batch * hidden), 0);
    second->assign(static_cast<size_t>(batch * hidden), 0);
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t j = 0; j < hidden; ++j) {
        const size_t at = b * padded + j, out = b * hidden + j;
        auto gate = [&](int64_t g) { return double(x[b * gates * padded + g * padded + j]) + product(b, g, j); };
        if (cell == RecurrentCell::kLstm) {
          const double peep_i = peepholes.empty() ? 0 : peepholes[j];
          const double peep_o = peepholes.empty() ? 0 : peepholes[padded + j];
          const double peep_f = peepholes.empty() ? 0 : peepholes[2 * padded + j];
          const double i = sigmoid(bounded(gate(0) + peep_i * c[at], clip));
          const double f = sigmoid(bounded(gate(2) + peep_f * c[at], clip));
          const double c_new = f * c[at] + i * std::tanh(bounded(gate(3), clip));
          const double o = sigmoid(bounded(gate(1) + peep_o * c_new, clip));
          (*h)[out] = o * std::tanh(c_new);
          (*second)[out] = c_new;
        } else if (cell == RecurrentCell::kGru) {
          const double zg = sigmoid(bounded(gate(0), clip)), rg = sigmoid(bounded(gate(1), clip));
          const double candidate =
              std::tanh(bounded(x[b * gates * padded + 2 * padded + j] + rg * (product(b, 2, j) + recurrent_bias[j]), clip));
          (*h)[out] = (1 - zg) * candidate + zg * h_prev[at];
        } else if (cell == RecurrentCell::kGruGates) {
          (*second)[out] = sigmoid(bounded(gate(0), clip));
          (*h)[out] = sigmoid(bounded(gate(1), clip)) * h_prev[at];
        } else if (cell == RecurrentCell::kGruCandidate) {
          const double candidate = std::tanh(bounded(gate(0), clip));
          (*h)[out] = (1 - z[at]) * candidate + z[at] * h_prev[at];
        } else {
          (*h)[out] = std::tanh(bounded(gate(0), clip));
        }
      }
  }
};

double worst_error(const std::vector<float>& actual, int64_t padded, const std::vector<double>& expected,
                   int64_t hidden) {
  double worst = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    const size_t b = i / static_cast<size_t>(hidden), j = i % static_cast<size_t>(hidden);
    worst = std::fmax(worst, std::fabs(actual[b * padded + j] - expected[i]));
  }
  return worst;
}

using StepFunction = void (*)(const RecurrentStep&);

std::vector<StepFunction> variants() {
  std::vector<StepFunction> all = {recurrent_step_portable};
  if (has_recurrent_step_avx2()) all.push_back(recurrent_step_avx2);
  if (has_recurrent_step_avx512()) all.push_back(recurrent_step_avx512);
  return all;
}

TEST_CASE("recurrent step: every variant and cell matches the ONNX equations, odd hidden sizes, batch rows") {
  const RecurrentCell cells[] = {RecurrentCell::kLstm, RecurrentCell::kGru, RecurrentCell::kGruGates,
                                 RecurrentCell::kGruCandidate, RecurrentCell::kRnn};
  for (StepFunction variant : variants())
    for (RecurrentCell cell : cells)
      for (int64_t hidden : {1, 7, 16, 33, 250})
        for (int64_t batch : {1, 2, 3})
          for (float clip : {0.f, 0.6f}) {
            CAPTURE(static_cast<int>(cell));
            CAPTURE(hidden);
            CAPTURE(batch);
            CAPTURE(clip);
            StepData data(cell, hidden, batch, clip, cell == RecurrentCell::kLstm && batch == 2);
            std::vector<double> h, second;
            data.expected(&h, &second);
            variant(data.step());
            CHECK(worst_error(data.h_out, data.padded, h, hidden) < 2e-6);
            if (cell == RecurrentCell::kLstm) CHECK(worst_error(data.c, data.padded, second, hidden) < 2e-6);
            if (cell == RecurrentCell::kGruGates) CHECK(worst_error(data.z, data.padded, second, hidden) < 2e-6);
          }
}

TEST_CASE("recurrent step: a step split into block ranges gives the bits of one call") {
  for (RecurrentCell cell : {RecurrentCell::kLstm, RecurrentCell::kGru, RecurrentCell::kRnn}) {
    CAPTURE(static_cast<int>(cell));
    StepData whole(cell, 150, 3, 0.f, false), split(cell, 150, 3, 0.f, false);
    recurrent_step(whole.step());
    RecurrentStep first = split.step(), rest = split.step();
    first.blocks = 3;  // 10 blocks: 3, then 7 (other tile widths than one call)
    rest.first_block = 3;
    rest.blocks = 7;
    recurrent_step(first);
    recurrent_step(rest);
    CHECK(std::memcmp(whole.h_out.data(), split.h_out.data(), whole.h_out.size() * sizeof(float)) == 0);
    CHECK(std::memcmp(whole.c.data(), split.c.data(), whole.c.size() * sizeof(float)) == 0);
  }
}

TEST_CASE("recurrent projection: every variant is bias + X · Wᵀ per gate, any rows, depth and block range") {
  std::vector<void (*)(const RecurrentProjection&)> projections = {recurrent_projection_portable};
  if (has_recurrent_step_avx2()) projections.push_back(recurrent_projection_avx2);
  if (has_recurrent_step_avx512()) projections.push_back(recurrent_projection_avx512);
  for (auto project : projections)
    for (int64_t gates : {1, 2, 3, 4})
      for (int64_t rows : {1, 3, 9})
        for (int64_t hidden : {7, 33}) {
          const int64_t depth = hidden == 7 ? 5 : 37, padded = recurrent_padded_units(hidden);
          CAPTURE(gates);
          CAPTURE(rows);
          CAPTURE(hidden);
          const std::vector<float> w = random_values(static_cast<size_t>(gates * hidden * depth), 11, 0.3f);
          const std::vector<float> x = random_values(static_cast<size_t>(rows * (depth + 2)), 12, 1.f);
          const std::vector<float> bias = random_values(static_cast<size_t>(gates * padded), 13, 1.f);
          std::vector<float> packed(recurrent_packed_floats(gates, hidden, depth));
          pack_recurrent_weights(w.data(), gates, hidden, depth, packed.data());
          const int64_t stride = gates * padded + 3;  // wider rows: only the gates' columns are written
          std::vector<float> out(static_cast<size_t>(rows * stride), -7.f);
          RecurrentProjection p;
          p.rows = rows, p.depth = depth, p.gates = gates, p.padded = padded;
          p.packed = packed.data();
          p.in = x.data(), p.in_stride = depth + 2;
          p.bias = bias.data();
          p.out = out.data(), p.out_stride = stride;
          // In two block ranges, as the threads take them.
          const int64_t blocks = padded / kRecurrentBlock;
          p.blocks = blocks > 1 ? 1 : blocks;
          project(p);
          p.first_block = p.blocks;
          p.blocks = blocks - p.blocks;
          project(p);
          double worst = 0;
          for (int64_t r = 0; r < rows; ++r)
            for (int64_t g = 0; g < gates; ++g)
              for (int64_t j = 0; j < hidden; ++j) {
                double sum = bias[g * padded + j];
                for (int64_t k = 0; k < depth; ++k) sum += double(x[r * (depth + 2) + k]) * w[(g * hidden + j) * depth + k];
                worst = std::fmax(worst, std::fabs(out[r * stride + g * padded + j] - sum));
              }
          CHECK(worst < 1e-5);
          for (int64_t r = 0; r < rows; ++r) CHECK(out[r * stride + gates * padded] == -7.f);
        }
}

TEST_CASE("recurrent step: packing puts gate g's unit j at [block][k][g][lane], zeros past hidden") {
  const int64_t hidden = 18, gates = 2;  // two blocks, the second holds 2 units
  std::vector<float> r(static_cast<size_t>(gates * hidden * hidden));
  for (size_t i = 0; i < r.size(); ++i) r[i] = static_cast<float>(i + 1);
  std::vector<float> packed(recurrent_packed_floats(gates, hidden, hidden));
  pack_recurrent_weights(r.data(), gates, hidden, hidden, packed.data());
  auto at = [&](int64_t block, int64_t k, int64_t g, int64_t lane) {
    return packed[static_cast<size_t>(((block * hidden + k) * gates + g) * kRecurrentBlock + lane)];
  };
  CHECK(at(0, 0, 0, 0) == r[0]);
  CHECK(at(0, 5, 1, 3) == r[static_cast<size_t>((1 * hidden + 3) * hidden + 5)]);
  CHECK(at(1, 7, 1, 1) == r[static_cast<size_t>((1 * hidden + 17) * hidden + 7)]);
  CHECK(at(1, 7, 1, 2) == 0.f);
  CHECK(at(1, 17, 0, 15) == 0.f);
}

}  // namespace
}  // namespace simd
}  // namespace edgegen
