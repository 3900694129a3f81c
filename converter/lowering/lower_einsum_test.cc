// Einsum lowered to Transpose / Reshape / MatMul / ReduceSum: every
// supported equation against a direct evaluation of the sum, and the
// refusals, which name the equation.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "converter/testing/onnx_model_builder.h"

namespace edgegen::converter {
namespace {

using testing::OnnxModelBuilder;

// out[output letters] = sum over the other letters of the operands' product.
std::vector<float> direct_einsum(const std::vector<std::string>& operands, const std::string& output,
                                 const std::vector<std::vector<int64_t>>& shapes,
                                 const std::vector<std::vector<float>>& values, std::vector<int64_t>* out_shape) {
  std::map<char, int64_t> sizes;
  for (size_t o = 0; o < operands.size(); ++o)
    for (size_t i = 0; i < operands[o].size(); ++i) sizes[operands[o][i]] = shapes[o][i];
  std::string letters;
  for (const auto& entry : sizes) letters += entry.first;
  out_shape->clear();
  int64_t out_count = 1;
  for (char c : output) out_shape->push_back(sizes[c]), out_count *= sizes[c];
  std::vector<float> out(static_cast<size_t>(out_count), 0.f);
  std::map<char, int64_t> at;
  for (char c : letters) at[c] = 0;
  auto flat = [&at, &sizes](const std::string& names) {
    int64_t index = 0;
    for (char c : names) index = index * sizes[c] + at[c];
    return static_cast<size_t>(index);
  };
  while (true) {
    float product = 1.f;
    for (size_t o = 0; o < operands.size(); ++o) product *= values[o][flat(operands[o])];
    out[flat(output)] += product;
    size_t d = letters.size();
    while (d > 0 && ++at[letters[d - 1]] == sizes[letters[d - 1]]) at[letters[--d]] = 0;
    if (d == 0) break;
  }
  return out;
}

std::string equation_name(std::string equation) {
  for (char& c : equation)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return equation;
}

void check_einsum(const std::string& equation, const std::vector<std::string>& operands, const std::string& output,
                  const std::vector<std::vector<int64_t>>& shapes) {
  CAPTURE(equation);
  OnnxModelBuilder builder(12);
  std::vector<std::string> names;
  std::vector<std::vector<float>> values;
  std::vector<testing::HostTensor> inputs;
  for (size_t o = 0; o < shapes.size(); ++o) {
    names.push_back("x" + std::to_string(o));
    builder.input(names.back(), shapes[o]);
    int64_t count = 1;
    for (int64_t dim : shapes[o]) count *= dim;
    values.push_back(testing::test_values(static_cast<size_t>(count), static_cast<uint32_t>(7 + o)));
    inputs.push_back(testing::float_tensor(shapes[o], values.back()));
  }
  OnnxModelBuilder::set_string(builder.node("Einsum", names, {"y"}), "equation", equation);
  builder.output("y");
  std::vector<uint8_t> file = convert(builder.save("einsum_" + equation_name(equation) + ".onnx"), {});
  std::vector<testing::HostTensor> outputs = testing::run_egm_graph(file, 0, inputs);
  REQUIRE(outputs.size() == 1);
  std::vector<int64_t> expected_shape;
  std::vector<float> expected = direct_einsum(operands, output, shapes, values, &expected_shape);
  CHECK(outputs[0].shape == expected_shape);
  std::vector<float> got = testing::values_of(outputs[0]);
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(expected[i]).epsilon(1e-5));
}

TEST_CASE("Einsum: matrix products with transposes, attention's two products, sums and permutations") {
  check_einsum("ij,jk->ik", {"ij", "jk"}, "ik", {{3, 4}, {4, 5}});
  check_einsum("bij, bjk -> bik", {"bij", "bjk"}, "bik", {{2, 3, 4}, {2, 4, 5}});
  check_einsum("bhqd,bhkd->bhqk", {"bhqd", "bhkd"}, "bhqk", {{2, 3, 4, 5}, {2, 3, 6, 5}});
  check_einsum("bhqk,bhkd->bhqd", {"bhqk", "bhkd"}, "bhqd", {{2, 3, 4, 6}, {2, 3, 6, 5}});
  check_einsum("ij,kj->ik", {"ij", "kj"}, "ik", {{3, 4}, {5, 4}});
  check_einsum("bqhd,bkhd->bhqk", {"bqhd", "bkhd"}, "bhqk", {{2, 4, 3, 5}, {2, 6, 3, 5}});
  check_einsum("ij,jk->ki", {"ij", "jk"}, "ki", {{3, 4}, {4, 5}});
  check_einsum("i,i", {"i", "i"}, "", {{5}, {5}});
  check_einsum("i,j->ij", {"i", "j"}, "ij", {{3}, {4}});
  check_einsum("abc,cd->abd", {"abc", "cd"}, "abd", {{2, 3, 4}, {4, 5}});
  check_einsum("ij->i", {"ij"}, "i", {{3, 4}});
  check_einsum("ij->ji", {"ij"}, "ji", {{3, 4}});
  check_einsum("ijk->kj", {"ijk"}, "kj", {{2, 3, 4}});
}

TEST_CASE("Einsum: equations that are not a matrix product are refused, naming the equation") {
  struct Case { std::string equation; std::vector<std::vector<int64_t>> shapes; std::string why; };
  const Case cases[] = {
      {"ii->i", {{3, 3}}, "repeats within one operand"},
      {"...ij->...ji", {{2, 3, 4}}, "ellipses"},
      {"ij,jk,kl->il", {{2, 3}, {3, 4}, {4, 5}}, "more than two operands"},
      {"ij,jk->k", {{2, 3}, {3, 4}}, "summed within the first operand alone"},
      {"bij,bjk->bik", {{1, 2, 3}, {4, 3, 5}}, "broadcasting"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.equation);
    OnnxModelBuilder builder(12);
    std::vector<std::string> names;
    for (size_t o = 0; o < c.shapes.size(); ++o) {
      names.push_back("x" + std::to_string(o));
      builder.input(names.back(), c.shapes[o]);
    }
    OnnxModelBuilder::set_string(builder.node("Einsum", names, {"y"}), "equation", c.equation);
    builder.output("y");
    std::string error = testing::error_of(builder.save("einsum_refused_" + equation_name(c.equation) + ".onnx"));
    CHECK(error.find("equation '" + c.equation + "'") != std::string::npos);
    CHECK(error.find(c.why) != std::string::npos);
  }
}

}  // namespace
}  // namespace edgegen::converter
