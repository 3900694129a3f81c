#include "flops.h"

#include <doctest/doctest.h>

#include "ops/registry.h"

namespace edgegen::cli {
namespace {

uint32_t code(OpCode op) { return static_cast<uint32_t>(op); }

}  // namespace

TEST_CASE("Conv2d counts 2 FLOPs per multiply-add of every output element") {
  // 3x3 convolution, 4 -> 8 channels, 5x5 output: 8*25 outputs of 4*9 MACs.
  OpShapes conv{code(OpCode::kConv2d), {{1, 4, 7, 7}, {8, 4, 3, 3}, {8}}, {{1, 8, 5, 5}}};
  CHECK(op_flops(conv) == 2ull * 8 * 25 * 4 * 9);
}

TEST_CASE("grouped and 1-D convolutions use the weight's per-group channels") {
  OpShapes depthwise{code(OpCode::kConv2d), {{1, 6, 4, 4}, {6, 1, 3, 3}, {}}, {{1, 6, 4, 4}}};
  CHECK(op_flops(depthwise) == 2ull * 6 * 16 * 9);
  OpShapes conv1d{code(OpCode::kConv2d), {{2, 3, 10}, {5, 3, 4}}, {{2, 5, 7}}};
  CHECK(op_flops(conv1d) == 2ull * 2 * 5 * 7 * 3 * 4);
}

TEST_CASE("ConvTranspose2d counts every input element times the kernel it scatters") {
  // DCGAN first layer: 64 -> 128 channels, 1x1 -> 4x4, kernel 4.
  OpShapes deconv{code(OpCode::kConvTranspose2d), {{1, 64, 1, 1}, {64, 128, 4, 4}, {128}}, {{1, 128, 4, 4}}};
  CHECK(op_flops(deconv) == 2ull * 64 * 128 * 16);
  OpShapes deconv1d{code(OpCode::kConvTranspose2d), {{1, 8, 10}, {8, 4, 16}}, {{1, 4, 88}}};
  CHECK(op_flops(deconv1d) == 2ull * 8 * 10 * 4 * 16);
}

TEST_CASE("FullyConnected and MatMul count output elements times the inner dimension") {
  OpShapes fc{code(OpCode::kFullyConnected), {{3, 16}, {10, 16}, {10}}, {{3, 10}}};
  CHECK(op_flops(fc) == 2ull * 3 * 10 * 16);
  OpShapes batched{code(OpCode::kMatMul), {{2, 4, 5, 6}, {6, 7}}, {{2, 4, 5, 7}}};
  CHECK(op_flops(batched) == 2ull * 2 * 4 * 5 * 7 * 6);
  OpShapes vector_times_matrix{code(OpCode::kMatMul), {{6}, {6, 7}}, {{7}}};
  CHECK(op_flops(vector_times_matrix) == 2ull * 7 * 6);
}

TEST_CASE("LSTM, GRU and RNN count every step's input and state products over all gates and directions") {
  // Bidirectional LSTM, 40 steps, batch 1, 256 -> 256: W [2, 1024, 256], R [2, 1024, 256].
  OpShapes lstm{code(OpCode::kLSTM), {{40, 1, 256}, {2, 1024, 256}, {2, 1024, 256}, {2, 2048}}, {{40, 2, 1, 256}}};
  CHECK(op_flops(lstm) == 2ull * 40 * (2 * 1024 * 256 + 2 * 1024 * 256));
  OpShapes gru{code(OpCode::kGRU), {{5, 3, 8}, {1, 12, 8}, {1, 12, 4}}, {{5, 1, 3, 4}}};
  CHECK(op_flops(gru) == 2ull * 5 * 3 * (12 * 8 + 12 * 4));
  CHECK(op_flops(OpShapes{code(OpCode::kRNN), {{5, 8}, {1, 4, 8}, {1, 4, 4}}, {{5, 1, 1, 4}}}) == 0);
}

TEST_CASE("other operators and malformed shapes count zero") {
  CHECK(op_flops(OpShapes{code(OpCode::kAdd), {{4}, {4}}, {{4}}}) == 0);
  CHECK(op_flops(OpShapes{code(OpCode::kConv2d), {{1, 1, 3, 3}}, {{1, 1, 1, 1}}}) == 0);  // no weight
  CHECK(op_flops(OpShapes{code(OpCode::kMatMul), {{2, 2}, {2, 2}}, {}}) == 0);            // no output
}

}  // namespace edgegen::cli
