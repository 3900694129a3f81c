// The converter's memory plan: a Softmax's (or a unary op's) output goes on
// its input's bytes when nothing reads the input afterwards
// (runtime/core/in_place.h), and the runtime accepts the file.
#include <doctest/doctest.h>

#include <cmath>

#include "converter/converter.h"
#include "converter/memory_plan.h"
#include "converter/testing/egm_evaluator.h"
#include "converter/testing/onnx_model_builder.h"
#include "edgegen_generated.h"

namespace edgegen::converter {
namespace {

int add_tensor(IrGraph& graph, const std::string& name, std::vector<int64_t> shape) {
  IrTensor tensor;
  tensor.name = name;
  tensor.shape = std::move(shape);
  graph.tensors.push_back(std::move(tensor));
  return static_cast<int>(graph.tensors.size() - 1);
}

void add_op(IrGraph& graph, OpCode opcode, std::vector<int> inputs, std::vector<int> outputs,
            std::vector<int64_t> ints = {}) {
  IrOp op;
  op.opcode = opcode;
  op.inputs = std::move(inputs);
  op.outputs = std::move(outputs);
  op.ints = std::move(ints);
  op.name = "op" + std::to_string(graph.ops.size());
  graph.ops.push_back(std::move(op));
}

// One attention head group at a small scale: scores = Q·Kᵀ, weights =
// Softmax(scores), out = weights·V. The scores (heads x 64 x 64 floats) are
// the largest tensors, as at SD 1.5's 4096 x 4096.
struct Attention {
  IrGraph graph;
  int q, k_t, v, scores, weights, out;
};

Attention attention(int64_t heads = 2, int64_t tokens = 64, int64_t depth = 8) {
  Attention a;
  a.graph.name = "main";
  a.q = add_tensor(a.graph, "q", {heads, tokens, depth});
  a.k_t = add_tensor(a.graph, "k_t", {heads, depth, tokens});
  a.v = add_tensor(a.graph, "v", {heads, tokens, depth});
  a.scores = add_tensor(a.graph, "scores", {heads, tokens, tokens});
  a.weights = add_tensor(a.graph, "weights", {heads, tokens, tokens});
  a.out = add_tensor(a.graph, "out", {heads, tokens, depth});
  add_op(a.graph, OpCode::kMatMul, {a.q, a.k_t}, {a.scores});
  add_op(a.graph, OpCode::kSoftmax, {a.scores}, {a.weights}, {2, 3});
  add_op(a.graph, OpCode::kMatMul, {a.weights, a.v}, {a.out});
  a.graph.inputs = {a.q, a.k_t, a.v};
  a.graph.outputs = {a.out};
  return a;
}

}  // namespace

TEST_CASE("memory plan: an attention's Softmax writes on its scores, and the arena holds them once") {
  Attention a = attention();
  const GraphPlan plan = plan_graph_memory(a.graph);
  CHECK(plan.offsets[static_cast<size_t>(a.weights)] == plan.offsets[static_cast<size_t>(a.scores)]);
  const uint64_t scores_bytes = a.graph.tensors[static_cast<size_t>(a.scores)].bytes();  // 32 KiB
  // At the Softmax only V and one score matrix are live; at the first
  // MatMul Q, Kᵀ, V and the scores: 44 KiB, where two score matrices alone
  // took 64 KiB before.
  CHECK(plan.lower_bound_bytes == 44 * 1024);
  CHECK(plan.arena_bytes == plan.lower_bound_bytes);
  CHECK(plan.arena_bytes < 2 * scores_bytes);
}

TEST_CASE("memory plan: Softmax stays out of place when its input is still needed") {
  SUBCASE("a later op reads the scores") {
    Attention a = attention();
    const int sum = add_tensor(a.graph, "sum", {2, 64, 64});
    add_op(a.graph, OpCode::kAdd, {a.weights, a.scores}, {sum});
    a.graph.outputs.push_back(sum);
    const GraphPlan plan = plan_graph_memory(a.graph);
    CHECK(plan.offsets[static_cast<size_t>(a.weights)] != plan.offsets[static_cast<size_t>(a.scores)]);
  }
  SUBCASE("the scores are a graph output") {
    Attention a = attention();
    a.graph.outputs.push_back(a.scores);
    const GraphPlan plan = plan_graph_memory(a.graph);
    CHECK(plan.offsets[static_cast<size_t>(a.weights)] != plan.offsets[static_cast<size_t>(a.scores)]);
  }
  SUBCASE("the Softmax reads a graph input") {
    IrGraph graph;
    graph.name = "main";
    const int x = add_tensor(graph, "x", {4, 16});
    const int y = add_tensor(graph, "y", {4, 16});
    add_op(graph, OpCode::kSoftmax, {x}, {y}, {1, 2});
    graph.inputs = {x};
    graph.outputs = {y};
    const GraphPlan plan = plan_graph_memory(graph);
    CHECK(plan.offsets[static_cast<size_t>(x)] != plan.offsets[static_cast<size_t>(y)]);
  }
  SUBCASE("an op not listed as computing in place (Identity, a copy) keeps its own output") {
    Attention a = attention();
    a.graph.ops[1].opcode = OpCode::kIdentity;
    a.graph.ops[1].ints.clear();
    const GraphPlan plan = plan_graph_memory(a.graph);
    CHECK(plan.offsets[static_cast<size_t>(a.weights)] != plan.offsets[static_cast<size_t>(a.scores)]);
  }
}

TEST_CASE("memory plan: a unary op on the scores (float32) writes on them; a non-float one does not") {
  Attention a = attention();
  a.graph.ops[1].opcode = OpCode::kSigmoid;
  a.graph.ops[1].ints.clear();
  CHECK(plan_graph_memory(a.graph).offsets[static_cast<size_t>(a.weights)] ==
        plan_graph_memory(a.graph).offsets[static_cast<size_t>(a.scores)]);
  a.graph.tensors[static_cast<size_t>(a.scores)].dtype = DType::kInt32;
  a.graph.tensors[static_cast<size_t>(a.weights)].dtype = DType::kInt32;
  const GraphPlan plan = plan_graph_memory(a.graph);
  CHECK(plan.offsets[static_cast<size_t>(a.weights)] != plan.offsets[static_cast<size_t>(a.scores)]);
}

TEST_CASE("memory plan: SD 1.5's attention, scores scaled by a constant Mul, holds one score matrix") {
  // scores = Q·Kᵀ; scaled = scores * (1/sqrt(d)); weights = Softmax(scaled).
  Attention a = attention();
  const int scale = add_tensor(a.graph, "scale", {});
  a.graph.tensors[static_cast<size_t>(scale)].is_constant = true;
  a.graph.tensors[static_cast<size_t>(scale)].allocate_data();
  const int scaled = add_tensor(a.graph, "scaled", {2, 64, 64});
  IrOp mul;
  mul.opcode = OpCode::kMul;
  mul.inputs = {a.scores, scale};
  mul.outputs = {scaled};
  mul.name = "mul";
  a.graph.ops.insert(a.graph.ops.begin() + 1, mul);
  a.graph.ops[2].inputs[0] = scaled;
  const GraphPlan plan = plan_graph_memory(a.graph);
  CHECK(plan.offsets[static_cast<size_t>(scaled)] == plan.offsets[static_cast<size_t>(a.scores)]);
  CHECK(plan.offsets[static_cast<size_t>(a.weights)] == plan.offsets[static_cast<size_t>(a.scores)]);
  CHECK(plan.lower_bound_bytes == 44 * 1024);
  CHECK(plan.arena_bytes == plan.lower_bound_bytes);
}

TEST_CASE("memory plan: a binary op writes on its full-size operand, never on the broadcast one") {
  IrGraph graph;
  graph.name = "main";
  const int x = add_tensor(graph, "x", {4, 16});
  const int row = add_tensor(graph, "row", {1, 16});
  const int h = add_tensor(graph, "h", {4, 16});
  const int small = add_tensor(graph, "small", {1, 16});
  const int y = add_tensor(graph, "y", {4, 16});
  add_op(graph, OpCode::kNeg, {x}, {h});
  add_op(graph, OpCode::kNeg, {row}, {small});
  add_op(graph, OpCode::kAdd, {small, h}, {y});  // h second: still the full-size one
  graph.inputs = {x, row};
  graph.outputs = {y};
  const GraphPlan plan = plan_graph_memory(graph);
  CHECK(plan.offsets[static_cast<size_t>(y)] == plan.offsets[static_cast<size_t>(h)]);
  CHECK(plan.offsets[static_cast<size_t>(y)] != plan.offsets[static_cast<size_t>(small)]);
}

TEST_CASE("memory plan: a chain of in-place ops shares one buffer") {
  Attention a = attention();
  // scores -> Softmax -> weights -> LogSoftmax -> logs -> MatMul.
  const int logs = add_tensor(a.graph, "logs", {2, 64, 64});
  a.graph.ops.insert(a.graph.ops.begin() + 2, IrOp{});
  IrOp& log_softmax = a.graph.ops[2];
  log_softmax.opcode = OpCode::kLogSoftmax;
  log_softmax.inputs = {a.weights};
  log_softmax.outputs = {logs};
  log_softmax.ints = {2, 3};
  log_softmax.name = "log_softmax";
  a.graph.ops[3].inputs[0] = logs;
  const GraphPlan plan = plan_graph_memory(a.graph);
  CHECK(plan.offsets[static_cast<size_t>(a.weights)] == plan.offsets[static_cast<size_t>(a.scores)]);
  CHECK(plan.offsets[static_cast<size_t>(logs)] == plan.offsets[static_cast<size_t>(a.scores)]);
  CHECK(plan.lower_bound_bytes == 44 * 1024);
}

TEST_CASE("memory plan: a converted attention runs with its Softmax in place and computes softmax(Q·Kᵀ)·V") {
  const int64_t heads = 2, tokens = 13, depth = 5;  // odd sizes
  testing::OnnxModelBuilder builder;
  builder.input("q", {heads, tokens, depth}).input("k_t", {heads, depth, tokens}).input("v", {heads, tokens, depth});
  builder.output("out");
  builder.node("MatMul", {"q", "k_t"}, {"scores"}, "scores");
  auto& softmax = builder.node("Softmax", {"scores"}, {"weights"}, "softmax");
  testing::OnnxModelBuilder::set_int(softmax, "axis", -1);
  builder.node("MatMul", {"weights", "v"}, {"out"}, "out");
  const std::vector<uint8_t> file = convert(builder.save("attention_in_place.onnx"), {});

  const format::Graph* graph = testing::verified_model(file)->graphs()->Get(0);
  bool found = false;
  for (const format::Operator* op : *graph->operators()) {
    if (op->opcode() != static_cast<uint32_t>(OpCode::kSoftmax)) continue;
    found = true;
    CHECK(graph->plan()->offsets()->Get(static_cast<uint32_t>(op->inputs()->Get(0))) ==
          graph->plan()->offsets()->Get(static_cast<uint32_t>(op->outputs()->Get(0))));
  }
  REQUIRE(found);

  const std::vector<float> q = testing::test_values(static_cast<size_t>(heads * tokens * depth), 1);
  const std::vector<float> k_t = testing::test_values(static_cast<size_t>(heads * depth * tokens), 2);
  const std::vector<float> v = testing::test_values(static_cast<size_t>(heads * tokens * depth), 3);
  const std::vector<float> got = testing::values_of(testing::run_egm_graph(
      file, 0,
      {testing::float_tensor({heads, tokens, depth}, q), testing::float_tensor({heads, depth, tokens}, k_t),
       testing::float_tensor({heads, tokens, depth}, v)})[0]);
  REQUIRE(got.size() == static_cast<size_t>(heads * tokens * depth));
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t i = 0; i < tokens; ++i) {
      std::vector<double> row(static_cast<size_t>(tokens));
      double max = -INFINITY, sum = 0;
      for (int64_t j = 0; j < tokens; ++j) {
        double dot = 0;
        for (int64_t d = 0; d < depth; ++d)
          dot += double{q[static_cast<size_t>((h * tokens + i) * depth + d)]} *
                 k_t[static_cast<size_t>((h * depth + d) * tokens + j)];
        row[static_cast<size_t>(j)] = dot;
        max = std::fmax(max, dot);
      }
      for (double& value : row) sum += value = std::exp(value - max);
      for (int64_t d = 0; d < depth; ++d) {
        double expected = 0;
        for (int64_t j = 0; j < tokens; ++j)
          expected += row[static_cast<size_t>(j)] / sum * v[static_cast<size_t>((h * tokens + j) * depth + d)];
        CHECK(got[static_cast<size_t>((h * tokens + i) * depth + d)] == doctest::Approx(expected).epsilon(1e-4));
      }
    }
  }
}

}  // namespace edgegen::converter
