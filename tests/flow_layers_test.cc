// The flow layers of issue 5 end to end, against PyTorch outputs committed by
// tests/flow_layers/make_flows.py (no PyTorch at test time):
//   glow    squeeze / unsqueeze (space-to-depth as reshape + transpose),
//           ActNorm, invertible 1x1 convolution, affine and additive couplings
//   maf     masked autoregressive layers; the inverse is 64 sequential passes
//           per layer, unrolled in the graph, over one copy of the weights
//   spline  rational-quadratic spline couplings with linear tails
//           (searchsorted as comparisons + ReduceSum, GatherElements, the
//           interval mask as a run-time And)
// Each: ONNX + manifest -> .egm -> FlowPipeline, on the backend that
// EDGEGEN_BACKEND picks (CTest runs the file on both).
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "edgegen/density.h"
#include "edgegen/model.h"
#include "edgegen_generated.h"
#include "testing/allocation_counter.h"
#include "tests/support/density_test_util.h"

using namespace edgegen;
using testing::LoadedModel;
using testing::load_model;
using testing::max_absolute_error;
using testing::max_relative_error;
using testing::read_floats;

namespace {

const char* const kFlows[] = {"glow", "maf", "spline"};
constexpr size_t kEventSize = 64;

std::string manifest(const std::string& flow) { return std::string(EDGEGEN_FLOW_LAYERS_DIR) + "/" + flow + "/manifest.json"; }

std::vector<float> reference(const std::string& flow, const std::string& name) {
  return read_floats(std::string(EDGEGEN_FLOW_LAYERS_DIR) + "/" + flow + "/reference/" + name);
}

// Operators of `opcode` in graph `graph` ("forward" or "inverse").
size_t count_ops(const LoadedModel& loaded, const char* graph, OpCode opcode) {
  const int index = loaded.model.find_graph(graph);
  REQUIRE(index >= 0);
  return testing::count_ops(loaded.model, static_cast<size_t>(index), opcode);
}

void prepare(const LoadedModel& loaded, FlowPipeline* flow) {
  Status prepared = flow->prepare(loaded.model);
  REQUIRE_MESSAGE(prepared.is_ok(), std::string(prepared.message()));
}

}  // namespace

TEST_CASE("flow layers: each flow runs the layers it is meant to prove (nothing folded away)") {
  LoadedModel glow, maf, spline;
  load_model(manifest("glow"), 1, &glow);
  load_model(manifest("maf"), 1, &maf);
  load_model(manifest("spline"), 1, &spline);
  for (const char* graph : {"forward", "inverse"}) {
    const std::string graph_name = graph;
    CAPTURE(graph_name);
    // squeeze + unsqueeze, 4 x (1x1 convolution + 3 convolutions of a coupling net)
    CHECK(count_ops(glow, graph, OpCode::kTranspose) == 2);
    CHECK(count_ops(glow, graph, OpCode::kConv2d) == 16);
    CHECK(count_ops(spline, graph, OpCode::kCumSum) == 4);  // widths and heights, 2 couplings
    CHECK(count_ops(spline, graph, OpCode::kGreaterOrEqual) == 2 * 2);  // searchsorted and x >= -B
    CHECK(count_ops(spline, graph, OpCode::kGatherElements) == 12);
    CHECK(count_ops(spline, graph, OpCode::kWhere) >= 2);
    CHECK(count_ops(spline, graph, OpCode::kAnd) == 2);  // the interval mask
  }
  CHECK(count_ops(spline, "inverse", OpCode::kSqrt) == 2);  // the quadratic's root
  // MAF: 3 fully connected per pass; forward one pass per layer, inverse 64.
  CHECK(count_ops(maf, "forward", OpCode::kFullyConnected) == 2 * 3);
  CHECK(count_ops(maf, "inverse", OpCode::kFullyConnected) == 2 * 64 * 3);
}

TEST_CASE("flow layers: log p(x) in data units equals PyTorch's within 1e-4 relative, without heap allocation") {
  for (const std::string name : kFlows) {
    for (int batch : {1, 4}) {
      CAPTURE(name);
      CAPTURE(batch);
      LoadedModel loaded;
      load_model(manifest(name), batch, &loaded);
      FlowPipeline flow;
      prepare(loaded, &flow);
      CHECK(flow.event_size() == kEventSize);
      CHECK(flow.can_sample());
      std::vector<float> x = reference(name, "x.npy");
      std::vector<float> expected = reference(name, "log_prob.npy");
      const size_t count = expected.size() - 1;  // 15 rows: a partial last batch at batch 4
      expected.resize(count);
      std::vector<float> scores(count);
      Status scored;
      size_t allocations;
      {
        testing::AllocationScope scope;
        scored = flow.log_prob(x.data(), count, scores.data());
        allocations = scope.count();
      }
      REQUIRE_MESSAGE(scored.is_ok(), std::string(scored.message()));
      CHECK(allocations == 0);
      double error = max_relative_error(scores, expected);
      MESSAGE(name << ", batch " << batch << ": log p max relative error " << error << " (log p[0] = " << scores[0]
                   << ")");
      CHECK(error <= 1e-4);
    }
  }
}

TEST_CASE("flow layers: the inverse graph matches PyTorch's and inverse(forward(x)) reproduces x") {
  for (const std::string name : kFlows) {
    CAPTURE(name);
    LoadedModel loaded;
    load_model(manifest(name), 2, &loaded);
    FlowPipeline flow;
    prepare(loaded, &flow);
    // PyTorch's inverse is in logit space; the pipeline answers in data units.
    std::vector<float> z = reference(name, "z.npy");
    std::vector<float> expected = testing::logit_to_data(reference(name, "inverse_l.npy"), 17.0, 0.05);
    std::vector<float> x(z.size());
    REQUIRE(flow.inverse(z.data(), z.size() / kEventSize, x.data()).is_ok());
    double inverse_error = max_relative_error(x, expected);
    CHECK(inverse_error <= 1e-4);

    std::vector<float> data = reference(name, "x.npy");
    const size_t count = data.size() / kEventSize;
    std::vector<float> latents(data.size()), back(data.size());
    REQUIRE(flow.forward(data.data(), count, latents.data()).is_ok());
    REQUIRE(flow.inverse(latents.data(), count, back.data()).is_ok());
    double round_trip = max_absolute_error(back, data);
    MESSAGE(name << ": inverse vs PyTorch max relative error " << inverse_error << "; round trip max |x' - x| "
                 << round_trip << " (pixel units 0..17)");
    CHECK(round_trip <= 1e-3);
  }
}

TEST_CASE("flow layers: weights shared by the forward and inverse graphs are stored once") {
  for (const std::string name : kFlows) {
    CAPTURE(name);
    LoadedModel both;
    load_model(manifest(name), 1, &both);
    // The same flow without its inverse graph.
    const std::filesystem::path forward_only =
        std::filesystem::temp_directory_path() / ("edgegen_flow_layers_" + name + "_forward_only.json");
    {
      std::ofstream file(forward_only);
      file << R"({"kind": "flow", "graphs": {"forward": ")" << EDGEGEN_FLOW_LAYERS_DIR << "/" << name
           << R"(/forward.onnx"}, "event_shape": )" << (name == "glow" ? "[1, 8, 8]" : "[64]")
           << R"(, "preprocess": {"dequantize_scale": 17, "logit_alpha": 0.05}})";
    }
    LoadedModel forward;
    load_model(forward_only.string(), 1, &forward);
    std::filesystem::remove(forward_only);
    REQUIRE(both.model.num_graphs() == 2);
    const size_t inverse_ops = both.model.graph(static_cast<size_t>(both.model.find_graph("inverse")))->operators()->size();
    MESSAGE(name << ": weights forward only " << forward.model.weight_bytes() << " bytes, forward + inverse "
                 << both.model.weight_bytes() << " bytes; files " << forward.bytes.size() << " / " << both.bytes.size()
                 << " bytes; inverse " << inverse_ops << " operators");
    // The inverse adds only its own small constants (Glow: the inverted 1x1
    // convolution matrices; slice bounds, scalars).
    CHECK(both.model.weight_bytes() < forward.model.weight_bytes() + 4096);
    // The file grows by the inverse's operator and tensor tables (measured
    // ~220 bytes per operator with its tensors and names), not by a copy of
    // the weights: a copy would exceed this bound for all three flows
    // (Glow 16 KB of growth, a copy 33 KB; MAF 172 / 223 KB; spline 29 / 85 KB).
    const size_t growth = both.bytes.size() - forward.bytes.size();
    CHECK(growth < (both.model.weight_bytes() - forward.model.weight_bytes()) + inverse_ops * 256 + 4096);
  }
}

TEST_CASE("flow layers: samples are deterministic, batch-independent, inside the data range, and scale with temperature") {
  for (const std::string name : kFlows) {
    CAPTURE(name);
    LoadedModel four, one;
    load_model(manifest(name), 4, &four);
    load_model(manifest(name), 1, &one);
    FlowPipeline a, b;
    prepare(four, &a);
    prepare(one, &b);
    std::vector<float> first(6 * kEventSize), again(6 * kEventSize), single(6 * kEventSize), cold(6 * kEventSize);
    size_t allocations;
    {
      testing::AllocationScope scope;
      REQUIRE(a.sample(7, 1.f, 6, first.data()).is_ok());
      allocations = scope.count();
    }
    CHECK(allocations == 0);
    REQUIRE(a.sample(7, 1.f, 6, again.data()).is_ok());
    REQUIRE(b.sample(7, 1.f, 6, single.data()).is_ok());
    REQUIRE(a.sample(7, 0.f, 6, cold.data()).is_ok());
    CHECK(first == again);
    // Latent i is the same whatever the batch; the graphs run at another batch size.
    CHECK(max_absolute_error(single, first) <= 1e-4);
    for (float value : first) {
      CHECK(std::isfinite(value));
      CHECK(value >= -17 * 0.05f / 0.9f - 1e-3f);  // the logit transform's range in data units
      CHECK(value <= 17 * 0.95f / 0.9f + 1e-3f);
    }
    for (size_t i = 0; i < kEventSize; ++i) CHECK(cold[i] == cold[5 * kEventSize + i]);  // z = 0 for every item
    CHECK(first != cold);
    // A sample scores a finite log-likelihood under the same flow.
    std::vector<float> scores(6);
    REQUIRE(a.log_prob(first.data(), 6, scores.data()).is_ok());
    for (float score : scores) CHECK(std::isfinite(score));
  }
}
