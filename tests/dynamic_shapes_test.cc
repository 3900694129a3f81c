// Symbolic dimensions fixed at convert time (issue 12): a model PyTorch
// exported with dynamic batch and sequence axes, whose graph computes
// shapes (Shape, Gather, Concat, Range, ConstantOfShape, Expand, dynamic
// Reshape), converts once its shapes are given (--dim, --input-shape, or a
// manifest's "dims" / "input_shapes"), folds all of that away, and matches
// PyTorch; a graph without inputs runs. On the backend EDGEGEN_BACKEND picks
// (CTest runs both).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "converter/converter.h"
#include "edgegen/model.h"
#include "edgegen/session.h"
#include "edgegen_generated.h"
#include "tests/support/density_test_util.h"

using namespace edgegen;

namespace {

std::string model_file(const std::string& name) { return std::string(EDGEGEN_DYNAMIC_SHAPES_DIR) + "/" + name; }

const char* const kInput = "serving/input:0";  // the exported input's name, with '/' and ':'

struct Converted {
  testing::AlignedBytes bytes;
  Model model;
};

void convert(const std::string& path, const converter::ConvertOptions& options, Converted* out) {
  std::vector<uint8_t> file = converter::convert(path, options);
  out->bytes.assign(file.data(), file.size());
  Result<Model> model = Model::from_buffer(out->bytes.data(), out->bytes.size());
  REQUIRE_MESSAGE(model.ok(), std::string(model.status().message()));
  out->model = *model;
}

std::string conversion_error(const std::string& path, const converter::ConvertOptions& options) {
  try {
    converter::convert(path, options);
  } catch (const converter::ConversionError& error) {
    return error.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Runs graph 0 on `x` (may be empty for a graph without inputs); output 0.
std::vector<float> run(const Model& model, const std::vector<float>& x, std::vector<int64_t>* shape = nullptr) {
  Session session;
  Status prepared = session.prepare(model);
  REQUIRE_MESSAGE(prepared.is_ok(), std::string(prepared.message()));
  if (session.num_inputs(0) > 0) {
    Tensor& input = session.input(0, 0);
    REQUIRE(input.num_elements() == x.size());
    std::copy(x.begin(), x.end(), input.data_as<float>());
  }
  REQUIRE(session.run(0).is_ok());
  const Tensor& y = session.output(0, 0);
  if (shape != nullptr) shape->assign(y.shape.dims, y.shape.dims + y.shape.rank);
  return std::vector<float>(y.data_as<const float>(), y.data_as<const float>() + y.num_elements());
}

}  // namespace

TEST_CASE("symbolic dimensions: a PyTorch export with shape arithmetic folds once --dim fixes them") {
  const std::string path = model_file("sequence_mixer.onnx");
  const std::vector<float> x = testing::read_floats(model_file("sequence_mixer_input.npy"));        // [3, 5, 8]
  const std::vector<float> expected = testing::read_floats(model_file("sequence_mixer_output.npy"));  // [3, 5, 6]

  // Without them, the message names the dimension and both ways out.
  const std::string refused = conversion_error(path, converter::ConvertOptions());
  CHECK(contains(refused, "symbolic dimension 'seq' at axis 1"));
  CHECK(contains(refused, "--dim"));
  CHECK(contains(refused, "--input-shape 'serving/input:0'"));

  converter::ConvertOptions by_dims;
  by_dims.dims = {{"batch", 3}, {"seq", 5}};
  Converted converted;
  convert(path, by_dims, &converted);
  // Every shape computation folded: only the computing operators remain.
  for (const format::Operator* op : *converted.model.graph(0)->operators()) {
    const OpCode opcode = static_cast<OpCode>(op->opcode());
    CHECK_MESSAGE(opcode != OpCode::kCast, "a shape computation was left in the graph");
  }
  CHECK(converted.model.graph(0)->operators()->size() <= 16);
  std::vector<int64_t> shape;
  const std::vector<float> y = run(converted.model, x, &shape);
  CHECK(shape == std::vector<int64_t>{3, 5, 6});
  CHECK(testing::max_absolute_error(y, expected) < 1e-5);

  // The same model by its input's full shape (the exact ONNX name): the
  // same file; with the batch from --batch: the same results.
  converter::ConvertOptions by_shape;
  by_shape.input_shapes = {{kInput, {3, 5, 8}}};
  CHECK(converter::convert(path, by_shape) == converter::convert(path, by_dims));
  converter::ConvertOptions by_batch;
  by_batch.batch = 3;
  by_batch.dims = {{"seq", 5}};
  Converted batched;
  convert(path, by_batch, &batched);
  CHECK(run(batched.model, x) == y);

  // Another length gives a graph of that length.
  converter::ConvertOptions longer;
  longer.dims = {{"batch", 2}, {"seq", 11}};
  Converted other;
  convert(path, longer, &other);
  std::vector<float> x2(2 * 11 * 8, 0.25f);
  run(other.model, x2, &shape);
  CHECK(shape == std::vector<int64_t>{2, 11, 6});
}

TEST_CASE("symbolic dimensions: shapes and dimensions that do not fit the model are refused by name") {
  const std::string path = model_file("sequence_mixer.onnx");
  converter::ConvertOptions options;
  options.input_shapes = {{"serving/input", {3, 5, 8}}};  // the name without ':0'
  std::string error = conversion_error(path, options);
  CHECK(contains(error, "'serving/input', which no input of this graph is named (inputs: 'serving/input:0')"));
  options.dims = {{"seq", 5}};
  error = conversion_error(path, options);
  CHECK(contains(error, "input shape for 'serving/input': no graph input has that name"));

  options = converter::ConvertOptions();
  options.dims = {{"seq", 5}, {"sequence", 5}};
  CHECK(contains(conversion_error(path, options), "dimension 'sequence': no graph input has that symbolic dimension "
                                                  "(symbols: 'batch', 'seq')"));
  options.dims = {{"seq", 0}};
  CHECK(contains(conversion_error(path, options), "dimension 'seq' = 0 must be at least 1"));

  options = converter::ConvertOptions();
  options.input_shapes = {{kInput, {3, 5, 9}}};
  CHECK(contains(conversion_error(path, options), "has dimension 8 at axis 2; the given shape 3,5,9 has 9"));
  options.input_shapes = {{kInput, {3, 5}}};
  CHECK(contains(conversion_error(path, options), "has rank 3; the given shape 3,5 has 2 dimensions"));
}

TEST_CASE("symbolic dimensions: a manifest gives them per graph, and the command line overrides it") {
  namespace fs = std::filesystem;
  const fs::path directory = fs::temp_directory_path() / ("edgegen_dynamic_shapes_" + std::to_string(::getpid()));
  fs::create_directories(directory);
  fs::copy_file(model_file("sequence_mixer.onnx"), directory / "mixer.onnx", fs::copy_options::overwrite_existing);
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(directory / name) << text;
    return (directory / name).string();
  };
  // A decoder whose latent is a [seq, 8] sequence.
  const std::string manifest = write("manifest.json", R"({"kind": "decoder", "graphs": {"decoder": "mixer.onnx"},
      "latent_shape": [5, 8], "dims": {"seq": 5}})");
  Converted converted;
  convert(manifest, converter::ConvertOptions(), &converted);
  CHECK(converted.model.graph(0)->inputs()->size() == 1);

  const std::string by_shape = write("by_shape.json", R"({"kind": "decoder", "graphs": {"decoder": "mixer.onnx"},
      "latent_shape": [5, 8], "input_shapes": {"decoder": {"serving/input:0": [1, 5, 8]}}})");
  CHECK(converter::convert(by_shape, converter::ConvertOptions()) == converter::convert(manifest, converter::ConvertOptions()));

  // The command line wins: seq 7 no longer matches latent_shape [5, 8].
  converter::ConvertOptions cli;
  cli.dims = {{"seq", 7}};
  CHECK(contains(conversion_error(manifest, cli), "latent_shape [5, 8] does not match"));

  const std::string wrong_role = write("wrong_role.json", R"({"kind": "decoder", "graphs": {"decoder": "mixer.onnx"},
      "latent_shape": [5, 8], "input_shapes": {"encoder": {"serving/input:0": [1, 5, 8]}}})");
  CHECK(contains(conversion_error(wrong_role, converter::ConvertOptions()),
                 "'input_shapes' names the graph 'encoder', which this manifest does not have (graphs: decoder)"));
  const std::string wrong_input = write("wrong_input.json", R"({"kind": "decoder", "graphs": {"decoder": "mixer.onnx"},
      "latent_shape": [5, 8], "dims": {"seq": 5}, "input_shapes": {"decoder": {"z": [1, 5, 8]}}})");
  CHECK(contains(conversion_error(wrong_input, converter::ConvertOptions()),
                 "'input_shapes.decoder': input shape for 'z': no graph input has that name"));
  const std::string bad_dim = write("bad_dim.json", R"({"kind": "decoder", "graphs": {"decoder": "mixer.onnx"},
      "latent_shape": [5, 8], "dims": {"seq": -1}})");
  CHECK(contains(conversion_error(bad_dim, converter::ConvertOptions()), "'dims.seq' must be a positive integer"));
  fs::remove_all(directory);
}

TEST_CASE("a graph without inputs converts and runs") {
  Converted converted;
  convert(model_file("no_inputs.onnx"), converter::ConvertOptions(), &converted);
  CHECK(converted.model.graph(0)->inputs()->size() == 0);
  const std::vector<float> expected = testing::read_floats(model_file("no_inputs_output.npy"));
  CHECK(testing::max_absolute_error(run(converted.model, {}), expected) < 1e-5);
}

TEST_CASE("If: a condition known at convert time keeps only the branch taken; one decided at run time keeps both") {
  const std::string path = model_file("shape_branch.onnx");
  for (const char* width : {"6", "3"}) {
    converter::ConvertOptions options;
    options.dims = {{"batch", 2}, {"width", std::stoll(width)}};
    Converted converted;
    convert(path, options, &converted);
    const bool wide = std::string(width) == "6";
    // The then branch is a Linear and a Mul; the else branch one Sub.
    CHECK(converted.model.graph(0)->operators()->size() == (wide ? 2u : 1u));
    const std::vector<float> x = testing::read_floats(model_file(std::string("shape_branch_input") + width + ".npy"));
    const std::vector<float> expected = testing::read_floats(model_file(std::string("shape_branch_output") + width + ".npy"));
    CHECK(testing::max_absolute_error(run(converted.model, x), expected) < 1e-5);
  }
  // PyTorch's scripted `if bool(x.sum() > 0)`: both branches stay (If, Else,
  // EndIf) and the run picks x * 2 or x - 1 (tests/control_flow/ has more).
  Converted data_branch;
  convert(model_file("data_branch.onnx"), converter::ConvertOptions(), &data_branch);
  for (float sign : {1.f, -1.f}) {
    std::vector<float> x(12), expected(12);
    for (size_t i = 0; i < x.size(); ++i) {
      x[i] = sign * (0.25f * static_cast<float>(i) - 1.f);
      expected[i] = sign > 0 ? x[i] * 2.f : x[i] - 1.f;
    }
    CHECK(testing::max_absolute_error(run(data_branch.model, x), expected) < 1e-6);
  }
}
