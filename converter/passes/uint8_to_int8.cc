// uint8 quantized tensors -> int8 with their zero points lowered by 128.
//
// A quantized value means scale * (q - zero_point); shifting q and the zero
// point by the same 128 keeps every real value, and every kernel's integer
// arithmetic (sums of (q - zero_point) products, requantization clamped to
// [lo - zero_point, hi - zero_point]) gives the same bits shifted by 128. So
// this is exact, and it puts models whose activations are uint8 on the int8
// fast path (qgemm): PyTorch FX and ONNX Runtime's quantize_static both
// default to uint8 activations, and older ONNX Runtime to uint8 weights with
// zero point 128, which become symmetric int8.
//
// Shifted together are the uint8 tensors that must keep one dtype (an op's
// input and output, a Reshape's both sides); such a group shifts only when
// every op touching it is one whose arithmetic is zero-point generic
// (QuantizeLinear, DequantizeLinear, quantized Conv2d / ConvTranspose2d /
// FullyConnected / MatMul, Reshape) and none of it is a graph input or
// output (the model's interface keeps its dtypes).
#include <numeric>

#include "converter/passes/passes.h"
#include "ops/op_params.h"

namespace edgegen::converter {
namespace {

bool shiftable(const IrTensor& tensor) { return tensor.dtype == DType::kUInt8 && tensor.quant.present(); }

// Union-find over tensor ids.
struct Groups {
  std::vector<int> parent;
  explicit Groups(size_t count) : parent(count) { std::iota(parent.begin(), parent.end(), 0); }
  int find(int t) {
    while (parent[static_cast<size_t>(t)] != t) t = parent[static_cast<size_t>(t)] = parent[static_cast<size_t>(parent[static_cast<size_t>(t)])];
    return t;
  }
  void join(int a, int b) { parent[static_cast<size_t>(find(a))] = find(b); }
};

bool linear_or_matmul_opcode(OpCode opcode) {
  return opcode == OpCode::kConv2d || opcode == OpCode::kConvTranspose2d || opcode == OpCode::kFullyConnected ||
         opcode == OpCode::kMatMul;
}

}  // namespace

void shift_uint8_to_int8(IrGraph& graph) {
  const size_t count = graph.tensors.size();
  auto is_candidate = [&](int t) { return t >= 0 && shiftable(graph.tensors[static_cast<size_t>(t)]); };
  Groups groups(count);
  std::vector<bool> blocked(count, false);
  for (const IrOp& op : graph.ops) {
    const bool generic = op.opcode == OpCode::kQuantizeLinear || op.opcode == OpCode::kDequantizeLinear ||
                         op.opcode == OpCode::kReshape || linear_or_matmul_opcode(op.opcode);
    std::vector<int> operands = op.inputs;
    operands.insert(operands.end(), op.outputs.begin(), op.outputs.end());
    for (int t : operands)
      if (is_candidate(t) && !generic) blocked[static_cast<size_t>(t)] = true;
    if (!generic) continue;
    // The activation operands of one op share a dtype: x and y of a linear
    // op (both operands of an activation MatMul), a Reshape's both sides.
    // Weights (constant input 1 of a linear op) may shift on their own.
    int first = -1;
    for (size_t k = 0; k < operands.size(); ++k) {
      const int t = operands[k];
      if (!is_candidate(t)) continue;
      if (k == 1 && linear_or_matmul_opcode(op.opcode) && graph.tensors[static_cast<size_t>(t)].is_constant) continue;
      if (first < 0) first = t;
      else groups.join(t, first);
    }
  }
  for (int t : graph.inputs)
    if (is_candidate(t)) blocked[static_cast<size_t>(t)] = true;
  for (int t : graph.outputs)
    if (is_candidate(t)) blocked[static_cast<size_t>(t)] = true;
  std::vector<bool> group_blocked(count, false);
  for (size_t t = 0; t < count; ++t)
    if (blocked[t] && shiftable(graph.tensors[t])) group_blocked[static_cast<size_t>(groups.find(static_cast<int>(t)))] = true;

  std::vector<bool> shifted(count, false);
  for (size_t t = 0; t < count; ++t) {
    IrTensor& tensor = graph.tensors[t];
    if (!shiftable(tensor) || group_blocked[static_cast<size_t>(groups.find(static_cast<int>(t)))]) continue;
    tensor.dtype = DType::kInt8;
    for (int64_t& zero_point : tensor.quant.zero_points) zero_point -= 128;
    for (uint8_t& byte : tensor.data) byte ^= 0x80;  // u - 128 as a two's complement byte
    shifted[t] = true;
  }
  for (IrOp& op : graph.ops)
    if (op.opcode == OpCode::kQuantizeLinear && shifted[static_cast<size_t>(op.outputs[0])])
      op.ints[params::kQuantizeTo] = static_cast<int64_t>(DType::kInt8);
}

}  // namespace edgegen::converter
