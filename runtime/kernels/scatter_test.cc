// ScatterND and ScatterElements: ONNX's own examples, negative and
// out-of-range indices, and the in-place update a KV cache relies on.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ops/registry.h"
#include "testing/kernel_runner.h"

namespace edgegen {
namespace {

using testing::KernelRunner;

bool contains(const Status& status, const char* text) {
  return std::string(status.message()).find(text) != std::string::npos;
}

TEST_CASE("ScatterND: ONNX test_scatternd (slices of a 3-D tensor)") {
  std::vector<float> data = {1, 2, 3, 4, 5, 6, 7, 8, 8, 7, 6, 5, 4, 3, 2, 1, 1, 2, 3, 4, 5, 6, 7, 8, 8, 7, 6, 5, 4, 3, 2, 1,
                             8, 7, 6, 5, 4, 3, 2, 1, 1, 2, 3, 4, 5, 6, 7, 8, 8, 7, 6, 5, 4, 3, 2, 1, 1, 2, 3, 4, 5, 6, 7, 8};
  std::vector<float> updates = {5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7, 8, 8, 8, 8, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4};
  KernelRunner runner(OpCode::kScatterND);
  runner.input({4, 4, 4}, data).input_i64({2, 1}, {0, 2}, false).input({2, 4, 4}, updates);
  REQUIRE(runner.run().is_ok());
  std::vector<float> expected = {5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7, 8, 8, 8, 8, 1, 2, 3, 4, 5, 6, 7, 8, 8, 7, 6, 5, 4, 3, 2, 1,
                                 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 8, 7, 6, 5, 4, 3, 2, 1, 1, 2, 3, 4, 5, 6, 7, 8};
  CHECK(runner.output_values() == expected);
}

TEST_CASE("ScatterND: element indices, negative counting from the end") {
  KernelRunner runner(OpCode::kScatterND);
  runner.input({2, 3}, {0, 1, 2, 3, 4, 5}).input_i32({2, 2}, {0, 1, -1, -1}, false).input({2}, {10, 20});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_values() == std::vector<float>{0, 10, 2, 3, 4, 20});
}

TEST_CASE("ScatterND: an index out of range fails the run and names it") {
  KernelRunner runner(OpCode::kScatterND);
  runner.input({2, 3}, {0, 1, 2, 3, 4, 5}).input_i64({1, 1}, {2}, false).input({1, 3}, {7, 8, 9});
  Status status = runner.run();
  CHECK(status.code() == StatusCode::kInvalidArgument);
  CHECK(contains(status, "out of range"));
}

TEST_CASE("ScatterND: updates of the wrong shape are refused at infer") {
  KernelRunner runner(OpCode::kScatterND);
  runner.input({2, 3}, {0, 1, 2, 3, 4, 5}).input_i64({1, 1}, {0}, false).input({1, 2}, {7, 8});
  CHECK(runner.infer().code() == StatusCode::kInvalidModel);
}

TEST_CASE("ScatterElements: ONNX test_scatter_elements_with_axis and negative indices") {
  KernelRunner runner(OpCode::kScatterElements);
  runner.input({1, 5}, {1, 2, 3, 4, 5}).input_i64({1, 2}, {1, -2}, false).input({1, 2}, {1.1f, 2.1f}).ints({1});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_values() == std::vector<float>{1, 1.1f, 3, 2.1f, 5});
}

TEST_CASE("ScatterElements: out of range fails, axis out of range refused") {
  KernelRunner bad_index(OpCode::kScatterElements);
  bad_index.input({1, 3}, {1, 2, 3}).input_i64({1, 1}, {3}, false).input({1, 1}, {9}).ints({1});
  CHECK(bad_index.run().code() == StatusCode::kInvalidArgument);
  KernelRunner bad_axis(OpCode::kScatterElements);
  bad_axis.input({1, 3}, {1, 2, 3}).input_i64({1, 1}, {0}, false).input({1, 1}, {9}).ints({2});
  CHECK(bad_axis.infer().code() == StatusCode::kInvalidModel);
}

// The output placed on the data input: only the updated row is written
// (a KV cache row per token), the rest of the tensor stays as it was.
TEST_CASE("ScatterND in place: writes only the updated rows") {
  std::vector<float> cache = {1, 1, 2, 2, 3, 3, 4, 4};  // [1, 1, 4, 2]: 4 positions of 2 values
  std::vector<int64_t> index = {0, 0, 2};             // [1, 3]: batch 0, head 0, position 2
  std::vector<float> row = {9, 8};
  Tensor data, indices, updates, out;
  data.name = "cache";
  data.dtype = DType::kFloat32;
  data.shape.rank = 4;
  data.shape.dims[0] = 1, data.shape.dims[1] = 1, data.shape.dims[2] = 4, data.shape.dims[3] = 2;
  data.data = cache.data();
  indices.name = "index";
  indices.dtype = DType::kInt64;
  indices.shape.rank = 2;
  indices.shape.dims[0] = 1, indices.shape.dims[1] = 3;
  indices.data = index.data();
  updates.name = "row";
  updates.dtype = DType::kFloat32;
  updates.shape.rank = 2;
  updates.shape.dims[0] = 1, updates.shape.dims[1] = 2;
  updates.data = row.data();
  out.name = "cache_out";
  const Tensor* inputs[] = {&data, &indices, &updates};
  Tensor* outputs[] = {&out};
  KernelContext context;
  context.opcode = static_cast<uint32_t>(OpCode::kScatterND);
  context.inputs = inputs;
  context.num_inputs = 3;
  context.outputs = outputs;
  context.num_outputs = 1;
  const Kernel* kernel = find_reference_kernel(context.opcode);
  REQUIRE(kernel->infer(context).is_ok());
  out.data = cache.data();  // in place
  REQUIRE(kernel->eval(context).is_ok());
  CHECK(cache == std::vector<float>{1, 1, 2, 2, 9, 8, 4, 4});
  index[2] = 4;  // past the end: refused before anything is written
  CHECK(kernel->eval(context).code() == StatusCode::kInvalidArgument);
  CHECK(cache == std::vector<float>{1, 1, 2, 2, 9, 8, 4, 4});
}

}  // namespace
}  // namespace edgegen
