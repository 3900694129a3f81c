// Einsum (issue 12) lowered at conversion time to the ops it is made of:
// with two operands, the equations that are one (batched) matrix product
// with transposes — attention's 'bhqd,bhkd->bhqk' and 'bhqk,bhkd->bhqd',
// 'ij,jk->ik', 'bij,bjk->bik', 'i,i' — become Transpose + Reshape + MatMul
// + Reshape + Transpose (each left out when it would do nothing); with one
// operand, sums and permutations ('ij->i', 'ij->ji') become ReduceSum and
// Transpose. Everything else (ellipses, repeated letters in one operand
// such as a diagonal 'ii->i', a letter summed within one operand of two,
// batch letters whose sizes differ) is refused, naming the equation.
#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "converter/lowering/lowering.h"

namespace edgegen::converter {
namespace {

struct Equation {
  std::vector<std::string> operands;
  std::string output;
};

[[noreturn]] void refuse(NodeContext& node, const std::string& equation, const std::string& why) {
  node.fail("equation '" + equation + "' is not supported: " + why +
            " (supported: one operand summed or permuted, or two operands forming a batched matrix product)");
}

Equation parse(NodeContext& node, const std::string& text) {
  std::string compact;
  for (char c : text)
    if (c != ' ') compact += c;
  if (compact.find('.') != std::string::npos) refuse(node, text, "ellipses ('...') are not lowered");
  Equation equation;
  size_t arrow = compact.find("->");
  std::string inputs = compact.substr(0, arrow);
  for (size_t start = 0;;) {
    size_t comma = inputs.find(',', start);
    equation.operands.push_back(inputs.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  for (const std::string& operand : equation.operands)
    for (char c : operand) {
      if (!std::isalpha(static_cast<unsigned char>(c))) refuse(node, text, std::string("'") + c + "' is not a letter");
      if (std::count(operand.begin(), operand.end(), c) > 1)
        refuse(node, text, std::string("letter '") + c + "' repeats within one operand (a diagonal)");
    }
  if (arrow != std::string::npos) {
    equation.output = compact.substr(arrow + 2);
  } else {  // implicit output: the letters that appear once, in alphabetical order
    std::string all;
    for (const std::string& operand : equation.operands) all += operand;
    std::sort(all.begin(), all.end());
    for (char c : all)
      if (std::count(all.begin(), all.end(), c) == 1) equation.output += c;
  }
  for (char c : equation.output) {
    if (std::count(equation.output.begin(), equation.output.end(), c) > 1)
      refuse(node, text, std::string("letter '") + c + "' repeats in the output");
    bool found = false;
    for (const std::string& operand : equation.operands) found = found || operand.find(c) != std::string::npos;
    if (!found) refuse(node, text, std::string("output letter '") + c + "' is in no operand");
  }
  return equation;
}

bool contains(const std::string& text, char c) { return text.find(c) != std::string::npos; }

// Transposes tensor `id` with letters `from` into the order `to` (same letters).
int permute(NodeContext& node, int id, const std::string& from, const std::string& to) {
  std::vector<int64_t> perm;
  bool identity = true;
  for (size_t i = 0; i < to.size(); ++i) {
    perm.push_back(static_cast<int64_t>(from.find(to[i])));
    identity = identity && perm.back() == static_cast<int64_t>(i);
  }
  return identity ? id : node.emit(OpCode::kTranspose, {id}, perm);
}

int reshape_if_needed(NodeContext& node, int id, const std::vector<int64_t>& shape) {
  return node.builder().tensor(id).shape == shape ? id : node.reshape(id, shape);
}

int64_t product(const std::string& letters, const std::vector<int64_t>& sizes_of) {
  int64_t total = 1;
  for (char c : letters) total *= sizes_of[static_cast<unsigned char>(c)];
  return total;
}

void lower_one_operand(NodeContext& node, const std::string& text, const Equation& equation) {
  const std::string& in = equation.operands[0];
  int id = node.input(0);
  std::vector<int64_t> summed;
  std::string kept;
  for (size_t i = 0; i < in.size(); ++i) {
    if (contains(equation.output, in[i])) kept += in[i];
    else summed.push_back(static_cast<int64_t>(i));
  }
  if (!summed.empty()) {
    if (node.input_tensor(0).dtype != DType::kFloat32) refuse(node, text, "sums are lowered for float32 only");
    std::vector<int64_t> ints = {0};
    ints.insert(ints.end(), summed.begin(), summed.end());
    id = node.emit(OpCode::kReduceSum, {id}, ints);
  }
  node.bind_output(0, permute(node, id, kept, equation.output));
}

void lower_two_operands(NodeContext& node, const std::string& text, const Equation& equation) {
  const std::string& a = equation.operands[0];
  const std::string& b = equation.operands[1];
  const std::string& out = equation.output;
  std::vector<int64_t> sizes(256, -1);
  for (int operand = 0; operand < 2; ++operand) {
    const std::string& letters = equation.operands[static_cast<size_t>(operand)];
    std::vector<int64_t> shape = node.input_shape(static_cast<size_t>(operand));
    if (shape.size() != letters.size())
      refuse(node, text, "operand " + std::to_string(operand) + " has rank " + std::to_string(shape.size()) +
                             ", the equation gives it " + std::to_string(letters.size()) + " letters");
    for (size_t i = 0; i < letters.size(); ++i) {
      int64_t& size = sizes[static_cast<unsigned char>(letters[i])];
      if (size != -1 && size != shape[i])
        refuse(node, text, std::string("letter '") + letters[i] + "' has sizes " + std::to_string(size) + " and " +
                               std::to_string(shape[i]) + " (broadcasting is not lowered)");
      size = shape[i];
    }
  }
  if (node.input_tensor(0).dtype != DType::kFloat32 || node.input_tensor(1).dtype != DType::kFloat32)
    refuse(node, text, "operands must be float32");
  std::string batch, m, n, k;
  for (char c : a) {
    if (contains(b, c)) (contains(out, c) ? batch : k) += c;
    else if (contains(out, c)) m += c;
    else refuse(node, text, std::string("letter '") + c + "' is summed within the first operand alone");
  }
  for (char c : b)
    if (!contains(a, c)) {
      if (contains(out, c)) n += c;
      else refuse(node, text, std::string("letter '") + c + "' is summed within the second operand alone");
    }
  std::vector<int64_t> batch_shape;
  for (char c : batch) batch_shape.push_back(sizes[static_cast<unsigned char>(c)]);
  auto with_batch = [&batch_shape](std::vector<int64_t> tail) {
    std::vector<int64_t> shape = batch_shape;
    shape.insert(shape.end(), tail.begin(), tail.end());
    return shape;
  };
  const int64_t rows = product(m, sizes), inner = product(k, sizes), columns = product(n, sizes);
  int left = permute(node, node.input(0), a, batch + m + k);
  left = reshape_if_needed(node, left, with_batch({rows, inner}));
  int right = permute(node, node.input(1), b, batch + k + n);
  right = reshape_if_needed(node, right, with_batch({inner, columns}));
  int product_id = node.emit(OpCode::kMatMul, {left, right});
  std::vector<int64_t> unflattened = batch_shape;
  for (char c : m + n) unflattened.push_back(sizes[static_cast<unsigned char>(c)]);
  product_id = reshape_if_needed(node, product_id, unflattened);
  node.bind_output(0, permute(node, product_id, batch + m + n, out));
}

void lower_einsum(NodeContext& node) {
  const std::string text = node.attribute_string("equation", "");
  if (text.empty()) node.fail("attribute 'equation' is missing");
  Equation equation = parse(node, text);
  if (equation.operands.size() != node.num_inputs())
    refuse(node, text, "it names " + std::to_string(equation.operands.size()) + " operands, the node has " +
                           std::to_string(node.num_inputs()) + " inputs");
  if (equation.operands.size() == 1) {
    if (node.input_rank(0) != static_cast<int>(equation.operands[0].size()))
      refuse(node, text, "the operand's rank differs from its letters");
    lower_one_operand(node, text, equation);
  } else if (equation.operands.size() == 2) {
    lower_two_operands(node, text, equation);
  } else {
    refuse(node, text, "more than two operands");
  }
}

}  // namespace

void add_einsum_lowerings(std::vector<LoweringRule>& rules) { rules.push_back({"Einsum", {"equation"}, lower_einsum}); }

}  // namespace edgegen::converter
