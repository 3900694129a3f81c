// shift_uint8_to_int8 (converter/passes/uint8_to_int8.cc): uint8 quantized
// tensors become int8 with zero points - 128 where that keeps the model's
// interface, and the graph computes exactly the same values.
#include <doctest/doctest.h>

#include <cstring>

#include "converter/passes/passes.h"
#include "converter/quantize/calibration.h"
#include "ops/op_params.h"

namespace edgegen::converter {
namespace {

int add(IrGraph& g, const std::string& name, DType dtype, std::vector<int64_t> shape, IrQuantization quant = {}) {
  IrTensor t;
  t.name = name;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.quant = std::move(quant);
  g.tensors.push_back(std::move(t));
  return static_cast<int>(g.tensors.size() - 1);
}

IrQuantization per_tensor(float scale, int64_t zero_point) { return {{scale}, {zero_point}, -1}; }

void add_op(IrGraph& g, OpCode opcode, std::vector<int> inputs, std::vector<int> outputs, std::vector<int64_t> ints = {}) {
  IrOp op;
  op.opcode = opcode;
  op.inputs = std::move(inputs);
  op.outputs = std::move(outputs);
  op.ints = std::move(ints);
  op.name = std::to_string(g.ops.size());
  g.ops.push_back(std::move(op));
}

// x -> Q (uint8, zp 128) -> Conv 3x3 (uint8 weights, zp 128; uint8 out, zp 7,
// ReLU) -> DQ -> y, and the conv's output -> Reshape -> DQ -> flat.
// `conv_output_is_graph_output`: the uint8 conv output is also an output.
IrGraph uint8_model(bool conv_output_is_graph_output) {
  IrGraph g;
  g.name = "main";
  const int x = add(g, "x", DType::kFloat32, {1, 3, 6, 6});
  const int xq = add(g, "xq", DType::kUInt8, {1, 3, 6, 6}, per_tensor(0.02f, 128));
  add_op(g, OpCode::kQuantizeLinear, {x}, {xq}, {static_cast<int64_t>(DType::kUInt8)});
  const int w = add(g, "w", DType::kUInt8, {4, 3, 3, 3}, {{0.01f, 0.02f, 0.015f, 0.03f}, {128, 128, 128, 128}, 0});
  g.tensors[static_cast<size_t>(w)].is_constant = true;
  g.tensors[static_cast<size_t>(w)].allocate_data();
  for (size_t i = 0; i < g.tensors[static_cast<size_t>(w)].data.size(); ++i)
    g.tensors[static_cast<size_t>(w)].data[i] = static_cast<uint8_t>((i * 97 + 13) % 256);
  const int yq = add(g, "yq", DType::kUInt8, {1, 4, 6, 6}, per_tensor(0.05f, 7));
  add_op(g, OpCode::kConv2d, {xq, w}, {yq}, {1, 1, 1, 1, 1, 1, 1, 1, 1});
  g.ops.back().activation.kind = ActivationKind::kRelu;
  const int y = add(g, "y", DType::kFloat32, {1, 4, 6, 6});
  add_op(g, OpCode::kDequantizeLinear, {yq}, {y});
  const int r = add(g, "r", DType::kUInt8, {1, 144}, per_tensor(0.05f, 7));
  add_op(g, OpCode::kReshape, {yq}, {r}, {1, 144});
  const int flat = add(g, "flat", DType::kFloat32, {1, 144});
  add_op(g, OpCode::kDequantizeLinear, {r}, {flat});
  g.inputs = {x};
  g.outputs = {y, flat};
  if (conv_output_is_graph_output) g.outputs.push_back(yq);
  return g;
}

std::vector<std::vector<float>> run(const IrGraph& g) {
  CalibrationBatch batch;
  batch.inputs.resize(1);
  for (int i = 0; i < 108; ++i) batch.inputs[0].push_back(static_cast<float>((i * 37) % 61 - 30) * 0.09f);
  return GraphRunner(g, 1).run(batch);
}

}  // namespace

TEST_CASE("uint8 activations and weights shift to int8 (zero point - 128) with the same results") {
  IrGraph g = uint8_model(false);
  const std::vector<std::vector<float>> before = run(g);
  REQUIRE(before.size() == 2);
  size_t positive = 0;
  for (float v : before[0]) positive += v > 0.f;
  CHECK(positive > 20);  // the ReLU passes a good part: a real test of the arithmetic
  const IrGraph original = g;
  shift_uint8_to_int8(g);
  for (const char* name : {"xq", "w", "yq", "r"}) {
    CAPTURE(name);
    const IrTensor* t = nullptr;
    for (const IrTensor& candidate : g.tensors)
      if (candidate.name == name) t = &candidate;
    REQUIRE(t != nullptr);
    CHECK(t->dtype == DType::kInt8);
  }
  CHECK(g.tensors[1].quant.zero_points[0] == 0);    // xq: 128 - 128
  CHECK(g.tensors[2].quant.zero_points[0] == 0);    // w: symmetric now, as the int8 GEMM needs
  CHECK(g.tensors[3].quant.zero_points[0] == -121); // yq: 7 - 128
  CHECK(static_cast<int8_t>(g.tensors[2].data[0]) == static_cast<int8_t>(original.tensors[2].data[0] - 128));
  CHECK(g.ops[0].ints[params::kQuantizeTo] == static_cast<int64_t>(DType::kInt8));
  const std::vector<std::vector<float>> after = run(g);
  REQUIRE(after.size() == before.size());
  for (size_t o = 0; o < before.size(); ++o) CHECK(after[o] == before[o]);  // bit for bit
}

TEST_CASE("a uint8 tensor the model exposes keeps uint8, and so does everything that must share its dtype") {
  IrGraph g = uint8_model(true);
  shift_uint8_to_int8(g);
  CHECK(g.tensors[1].dtype == DType::kUInt8);  // xq: the conv's input shares the output's dtype
  CHECK(g.tensors[3].dtype == DType::kUInt8);  // yq: a graph output
  CHECK(g.ops[0].ints[params::kQuantizeTo] == static_cast<int64_t>(DType::kUInt8));
  CHECK(g.tensors[2].dtype == DType::kInt8);   // the weight alone may still shift
}

}  // namespace edgegen::converter
