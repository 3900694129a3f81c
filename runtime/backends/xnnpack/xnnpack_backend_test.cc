// The XNNPACK backend against the reference kernels, op by op and on chains
// that make the backend choose channels-last layouts and convert at their
// ends. Every case: same outputs within tolerance, the exact arena size
// (one byte less is refused), zero heap allocations while running, at 1
// and 2 threads.
#if defined(EDGEGEN_WITH_XNNPACK)
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "backends/xnnpack/simd/narrow_conv2d.h"
#include "backends/xnnpack/simd/recurrent_step.h"
#include "backends/xnnpack/xnnpack_backend.h"
#include "core/split_trial.h"
#include "edgegen/random.h"
#include "edgegen/session.h"
#include "ops/op_params.h"
#include "testing/allocation_counter.h"
#include "testing/model_builder.h"

using namespace edgegen;
using edgegen::testing::AlignedBytes;
using edgegen::testing::ModelBuilder;

namespace {

std::vector<float> random_values(size_t count, uint64_t seed, float scale = 1.f) {
  std::vector<float> values(count);
  fill_normal(seed, 7, 0, values.data(), count);
  for (float& v : values) v *= scale;
  return values;
}

size_t count_of(const std::vector<int64_t>& shape) {
  size_t n = 1;
  for (int64_t d : shape) n *= static_cast<size_t>(d);
  return n;
}

struct Prepared {
  std::vector<uint8_t> arena;
  Session session;
};

void prepare_exact(const Model& model, const SessionOptions& options, Prepared* out, int garbage = 131) {
  Result<size_t> needed = Session::arena_bytes_needed(model, 0, options);
  REQUIRE_MESSAGE(needed.ok(), std::string(needed.status().message()));
  // Garbage, not zeros: a kernel must never read memory it did not write.
  out->arena.assign(*needed, 0);
  for (size_t i = 0; i < out->arena.size(); ++i) out->arena[i] = static_cast<uint8_t>(i * garbage + 7);
  Session too_small;
  CHECK(too_small.prepare(model, out->arena.data(), *needed - 1, 0, options).code() == StatusCode::kArenaTooSmall);
  Status prepared = out->session.prepare(model, out->arena.data(), out->arena.size(), 0, options);
  REQUIRE_MESSAGE(prepared.is_ok(), std::string(prepared.message()));
}

// Runs the graph on both backends with the same random inputs and compares.
// Returns how many ops XNNPACK ran, to let cases check the fast path was taken.
// `change_inputs`, when given, edits the random inputs (special values).
int compare_backends(const ModelBuilder& builder, float tolerance = 1e-4f,
                     void (*change_inputs)(std::vector<std::vector<float>>&) = nullptr) {
  AlignedBytes bytes(builder.build());
  Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
  REQUIRE_MESSAGE(model.ok(), std::string(model.status().message()));
  SessionOptions reference_options;
  reference_options.backend = Backend::kReference;
  Prepared reference;
  prepare_exact(*model, reference_options, &reference);
  int xnnpack_ops = 0;
  std::vector<std::vector<uint8_t>> one_thread;  // the outputs' bytes at 1 thread
  for (int threads : {1, 2}) {
    CAPTURE(threads);
    SessionOptions options;
    options.backend = Backend::kXnnpack;
    options.threads = threads;
    options.adapt_thread_split = false;  // the threaded paths, every run
    Prepared fast;
    // These models are small: at 2 threads every op is split anyway, so
    // that the threaded paths are what is compared.
    if (threads > 1) xnnpack::set_parallel_thresholds_for_testing(0, 0);
    prepare_exact(*model, options, &fast);
    xnnpack::set_parallel_thresholds_for_testing(xnnpack::kMinParallelMacs, xnnpack::kMinParallelElements);
    REQUIRE(fast.session.backend() == Backend::kXnnpack);
    REQUIRE(fast.session.threads() == threads);
    // Graph inputs are not preserved by a run (their memory is reused), so
    // they are written before every run.
    std::vector<std::vector<float>> inputs;
    for (size_t i = 0; i < reference.session.num_inputs(0); ++i)
      inputs.push_back(random_values(reference.session.input(0, i).num_elements(), 100 + i));
    if (change_inputs != nullptr) change_inputs(inputs);
    auto write_inputs = [&inputs](Session& session) {
      for (size_t i = 0; i < inputs.size(); ++i)
        std::memcpy(session.input(0, i).data, inputs[i].data(), inputs[i].size() * sizeof(float));
    };
    write_inputs(reference.session);
    REQUIRE(reference.session.run(0).is_ok());
    Status ran;
    size_t allocations;
    {
      edgegen::testing::AllocationScope scope;
      write_inputs(fast.session);
      ran = fast.session.run(0);
      write_inputs(fast.session);  // twice: nothing may depend on a first run
      ran = ran.is_ok() ? fast.session.run(0) : ran;
      allocations = scope.count();
    }
    REQUIRE_MESSAGE(ran.is_ok(), std::string(ran.message()));
    CHECK(allocations == 0);
    for (size_t o = 0; o < reference.session.num_outputs(0); ++o) {
      const Tensor& want = reference.session.output(0, o);
      const Tensor& got = fast.session.output(0, o);
      REQUIRE(want.num_elements() == got.num_elements());
      float worst = 0.f, scale = 1.f;
      for (size_t k = 0; k < want.num_elements(); ++k) scale = std::fmax(scale, std::fabs(want.data_as<float>()[k]));
      for (size_t k = 0; k < want.num_elements(); ++k)
        worst = std::fmax(worst, std::fabs(want.data_as<float>()[k] - got.data_as<float>()[k]));
      CAPTURE(o);
      CHECK(worst <= tolerance * scale);
      // The same bits at any thread count: no sum's order may depend on the split.
      const uint8_t* bits = static_cast<const uint8_t*>(got.data);
      if (threads == 1) one_thread.emplace_back(bits, bits + got.bytes());
      else CHECK_MESSAGE(std::memcmp(one_thread[o].data(), bits, got.bytes()) == 0, "differs from 1 thread");
    }
    xnnpack_ops = 0;
    for (size_t op = 0; op < fast.session.num_operators(0); ++op)
      if (std::strcmp(fast.session.operator_executor(0, op), "reference") != 0) ++xnnpack_ops;
  }
  return xnnpack_ops;
}

int64_t conv_out(int64_t in, int64_t k, int64_t stride, int64_t dilation, int64_t pad_begin, int64_t pad_end) {
  return (in + pad_begin + pad_end - dilation * (k - 1) - 1) / stride + 1;
}

struct ConvCase {
  int64_t batch, in_c, out_c, h, w, kh, kw, stride, dilation, pad_t, pad_l, pad_b, pad_r, groups;
  bool bias;
  ActivationKind activation;
};

ModelBuilder conv_model(const ConvCase& c) {
  ModelBuilder b;
  b.graph("main");
  int32_t x = b.activation("x", {c.batch, c.in_c, c.h, c.w});
  int32_t w = b.constant("w", {c.out_c, c.in_c / c.groups, c.kh, c.kw},
                         random_values(static_cast<size_t>(c.out_c * c.in_c / c.groups * c.kh * c.kw), 1, 0.3f));
  std::vector<int32_t> inputs = {x, w};
  if (c.bias) inputs.push_back(b.constant("b", {c.out_c}, random_values(static_cast<size_t>(c.out_c), 2)));
  int64_t oh = conv_out(c.h, c.kh, c.stride, c.dilation, c.pad_t, c.pad_b);
  int64_t ow = conv_out(c.w, c.kw, c.stride, c.dilation, c.pad_l, c.pad_r);
  int32_t y = b.activation("y", {c.batch, c.out_c, oh, ow});
  b.op(OpCode::kConv2d, inputs, {y},
       {c.stride, c.stride, c.dilation, c.dilation, c.pad_t, c.pad_l, c.pad_b, c.pad_r, c.groups}, {}, c.activation);
  b.inputs({x}).outputs({y});
  return b;
}

}  // namespace

TEST_CASE("XNNPACK Conv2d: kernels, strides, padding, dilation, groups, depthwise, bias, activations") {
  const ConvCase cases[] = {
      {1, 3, 8, 9, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, true, ActivationKind::kNone},
      {2, 4, 6, 8, 8, 3, 3, 2, 1, 1, 1, 0, 0, 1, false, ActivationKind::kRelu},
      {1, 8, 8, 10, 10, 3, 3, 1, 2, 2, 2, 2, 2, 8, true, ActivationKind::kSilu},  // depthwise, dilated
      {1, 6, 4, 5, 6, 1, 1, 1, 1, 0, 0, 0, 0, 2, true, ActivationKind::kSigmoid},  // grouped 1x1
      {1, 1, 5, 12, 12, 5, 5, 1, 1, 2, 1, 2, 3, 1, true, ActivationKind::kTanh},  // one input channel
      {3, 16, 1, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, true, ActivationKind::kNone},    // one output channel
      {1, 5, 7, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, true, ActivationKind::kNone},     // one pixel
  };
  for (const ConvCase& c : cases) {
    CAPTURE(c.in_c);
    CAPTURE(c.out_c);
    CAPTURE(c.groups);
    CHECK(compare_backends(conv_model(c)) == 1);
  }
}

TEST_CASE("depthwise 1-D convolutions of long kernels (a conformer's, a TCN's) run on the direct loop") {
  struct Case {
    int64_t channels, length, kernel, stride, dilation, pad_left, pad_right;
    bool bias, as_2d;
    ActivationKind activation;
  };
  const Case cases[] = {
      {144, 100, 15, 1, 1, 7, 7, true, false, ActivationKind::kSilu},  // conformer
      {20, 37, 5, 1, 2, 4, 4, false, false, ActivationKind::kNone},   // dilated, 20 channels: a tail
      {33, 50, 7, 2, 1, 3, 2, true, true, ActivationKind::kRelu},     // strided, [N, C, 1, L]
      {64, 16, 31, 1, 1, 15, 15, true, false, ActivationKind::kNone},  // kernel past the input
  };
  for (const Case& c : cases) {
    CAPTURE(c.channels);
    CAPTURE(c.kernel);
    const int64_t out = (c.length + c.pad_left + c.pad_right - c.dilation * (c.kernel - 1) - 1) / c.stride + 1;
    ModelBuilder b;
    b.graph("main");
    std::vector<int64_t> x_shape = {2, c.channels, c.length}, w_shape = {c.channels, 1, c.kernel},
                         y_shape = {2, c.channels, out};
    if (c.as_2d) {
      x_shape = {2, c.channels, 1, c.length};
      w_shape = {c.channels, 1, 1, c.kernel};
      y_shape = {2, c.channels, 1, out};
    }
    int32_t x = b.activation("x", x_shape);
    int32_t w = b.constant("w", w_shape, random_values(static_cast<size_t>(c.channels * c.kernel), 41, 0.3f));
    std::vector<int32_t> inputs = {x, w};
    if (c.bias) inputs.push_back(b.constant("b", {c.channels}, random_values(static_cast<size_t>(c.channels), 42)));
    int32_t y = b.activation("y", y_shape);
    b.op(OpCode::kConv2d, inputs, {y},
         {1, c.stride, 1, c.dilation, 0, c.pad_left, 0, c.pad_right, c.channels}, {}, c.activation);
    b.inputs({x}).outputs({y});
    CHECK(compare_backends(b) == 1);
    // It is the direct loop, not XNNPACK, that ran.
    AlignedBytes bytes(b.build());
    Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
    REQUIRE(model.ok());
    SessionOptions options;
    options.backend = Backend::kXnnpack;
    Prepared fast;
    prepare_exact(*model, options, &fast);
    CHECK(std::string(fast.session.operator_executor(0, 0)) == "direct");
  }
}

TEST_CASE("XNNPACK Conv1d ([N, C, L]) and ConvTranspose 1-D and 2-D") {
  {
    ModelBuilder b;
    b.graph("main");
    int32_t x = b.activation("x", {2, 4, 20});
    int32_t w = b.constant("w", {6, 4, 5}, random_values(6 * 4 * 5, 3, 0.3f));
    int32_t y = b.activation("y", {2, 6, 10});
    b.op(OpCode::kConv2d, {x, w}, {y}, {1, 2, 1, 1, 0, 2, 0, 2, 1});
    b.inputs({x}).outputs({y});
    CHECK(compare_backends(b) == 1);
  }
  struct Case {
    int64_t in_c, out_c, h, w, kh, kw, stride, pad, out_pad, groups, dilation;
  };
  const Case cases[] = {
      {8, 4, 4, 4, 4, 4, 2, 1, 0, 1, 1}, {3, 6, 5, 3, 3, 3, 3, 0, 2, 1, 1}, {4, 4, 6, 6, 3, 3, 1, 1, 0, 2, 1},
      {6, 3, 1, 1, 4, 4, 1, 0, 0, 1, 1}, {4, 2, 5, 5, 3, 3, 2, 1, 1, 1, 2}, {5, 1, 7, 6, 4, 4, 2, 1, 0, 1, 1},
  };
  for (const Case& c : cases) {
    CAPTURE(c.stride);
    CAPTURE(c.groups);
    ModelBuilder b;
    b.graph("main");
    int32_t x = b.activation("x", {1, c.in_c, c.h, c.w});
    int32_t w = b.constant("w", {c.in_c, c.out_c / c.groups, c.kh, c.kw},
                           random_values(static_cast<size_t>(c.in_c * c.out_c / c.groups * c.kh * c.kw), 4, 0.3f));
    int32_t bias = b.constant("b", {c.out_c}, random_values(static_cast<size_t>(c.out_c), 5));
    const int64_t oh = (c.h - 1) * c.stride - 2 * c.pad + c.dilation * (c.kh - 1) + c.out_pad + 1;
    const int64_t ow = (c.w - 1) * c.stride - 2 * c.pad + c.dilation * (c.kw - 1) + c.out_pad + 1;
    int32_t y = b.activation("y", {1, c.out_c, oh, ow});
    b.op(OpCode::kConvTranspose2d, {x, w, bias}, {y},
         {c.stride, c.stride, c.dilation, c.dilation, c.pad, c.pad, c.pad, c.pad, c.groups, c.out_pad, c.out_pad}, {},
         ActivationKind::kRelu);
    b.inputs({x}).outputs({y});
    CHECK(compare_backends(b) == 1);
  }
}

TEST_CASE("long-kernel convolutions over 1-4 channels run as im2col + GEMM: padding, strides, bands, batches") {
  // batch, in_c, out_c, h, w, kh, kw, stride, dilation, pads (t, l, b, r), groups, bias, activation
  const ConvCase cases[] = {
      {1, 1, 40, 1, 1000, 1, 100, 40, 1, 0, 0, 0, 0, 1, false, ActivationKind::kNone},   // a filter bank
      {2, 2, 8, 1, 300, 1, 64, 16, 1, 0, 10, 0, 7, 1, true, ActivationKind::kRelu},      // padding both ends
      {3, 4, 5, 1, 4000, 1, 400, 10, 1, 0, 200, 0, 199, 1, true, ActivationKind::kTanh},  // 9 bands of rows
      {1, 3, 6, 1, 20, 1, 31, 1, 1, 0, 15, 0, 15, 1, true, ActivationKind::kNone},        // windows wider than the input
  };
  for (const ConvCase& c : cases) {
    CAPTURE(c.in_c);
    CAPTURE(c.kw);
    const ModelBuilder builder = conv_model(c);
    CHECK(compare_backends(builder) == 1);
    AlignedBytes bytes(builder.build());
    Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
    REQUIRE(model.ok());
    SessionOptions options;
    options.backend = Backend::kXnnpack;
    Session session;
    REQUIRE(session.prepare(*model, 0, options).is_ok());
    CHECK(std::string(session.operator_executor(0, 0)) == "im2col");
  }
  // One output channel (a vocoder's last layer): windows dotted in place.
  const ConvCase single[] = {
      {1, 8, 1, 1, 500, 1, 7, 1, 1, 0, 3, 0, 3, 1, true, ActivationKind::kTanh},     // HiFi-GAN's conv_post
      {2, 32, 1, 1, 97, 1, 7, 2, 1, 0, 3, 0, 3, 1, false, ActivationKind::kNone},    // batches, stride, tail taps
      {1, 3, 1, 1, 9, 1, 11, 1, 1, 0, 5, 0, 5, 1, true, ActivationKind::kRelu},     // windows wider than the input
  };
  for (const ConvCase& c : single) {
    CAPTURE(c.in_c);
    CAPTURE(c.kw);
    const ModelBuilder builder = conv_model(c);
    CHECK(compare_backends(builder) == 1);
    AlignedBytes bytes(builder.build());
    Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
    REQUIRE(model.ok());
    SessionOptions options;
    options.backend = Backend::kXnnpack;
    Session session;
    REQUIRE(session.prepare(*model, 0, options).is_ok());
    CHECK(std::string(session.operator_executor(0, 0)) == "im2col");
  }
  {  // rank 3, [N, C, L], as PyTorch's Conv1d exports
    ModelBuilder b;
    b.graph("main");
    int32_t x = b.activation("x", {1, 1, 1600});
    int32_t w = b.constant("w", {16, 1, 400}, random_values(16 * 400, 3, 0.05f));
    int32_t y = b.activation("y", {1, 16, 8});
    b.op(OpCode::kConv2d, {x, w}, {y}, {1, 160, 1, 1, 0, 0, 0, 0, 1});
    b.inputs({x}).outputs({y});
    CHECK(compare_backends(b) == 1);
  }
}

TEST_CASE("many-channel 2-D convolutions run on the packed GEMM: strides, pads, dilation, bands, batches, clamps") {
  // batch, in_c, out_c, h, w, kh, kw, stride, dilation, pads (t, l, b, r), groups, bias, activation
  const ConvCase cases[] = {
      {1, 64, 64, 9, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1, true, ActivationKind::kNone},     // odd rows: tile tails
      {2, 57, 128, 8, 7, 3, 3, 2, 1, 1, 0, 2, 1, 1, false, ActivationKind::kRelu},    // odd C_in, stride, uneven pads
      {1, 64, 64, 10, 10, 3, 3, 1, 2, 2, 2, 2, 2, 1, true, ActivationKind::kClip},    // dilated
      {1, 64, 64, 24, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, true, ActivationKind::kRelu},    // two bands of rows
      {1, 128, 192, 6, 9, 1, 5, 1, 1, 0, 2, 0, 2, 1, true, ActivationKind::kNone},    // 1x5, 3 blocks
      {2, 512, 64, 5, 6, 1, 1, 1, 1, 0, 0, 0, 0, 1, true, ActivationKind::kClip},     // 1x1: rows read in place
      {1, 256, 256, 4, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, false, ActivationKind::kRelu},  // a CRNN's last conv
  };
  for (const ConvCase& c : cases) {
    CAPTURE(c.in_c);
    CAPTURE(c.out_c);
    CAPTURE(c.kh);
    ModelBuilder builder = conv_model(c);
    if (c.activation == ActivationKind::kClip) builder.clip(-0.5f, 0.7f);
    CHECK(compare_backends(builder) == 1);
    AlignedBytes bytes(builder.build());
    Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
    REQUIRE(model.ok());
    SessionOptions options;
    options.backend = Backend::kXnnpack;
    Session session;
    REQUIRE(session.prepare(*model, 0, options).is_ok());
    // Taken where it was measured faster than XNNPACK: with AVX-512, and
    // (narrow_conv.h's blocks of 64 channels) for fewer than 128 positions.
    const int64_t positions = conv_out(c.h, c.kh, c.stride, c.dilation, c.pad_t, c.pad_b) *
                              conv_out(c.w, c.kw, c.stride, c.dilation, c.pad_l, c.pad_r);
    const char* expected = !simd::has_recurrent_step_avx512() ? "xnnpack" : positions >= 128 ? "narrow" : "packed";
    CHECK(std::string(session.operator_executor(0, 0)) == expected);
  }
  // Output channels not a multiple of 64, or short windows over few positions, stay on XNNPACK.
  const ConvCase others[] = {
      {1, 64, 96, 9, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1, true, ActivationKind::kNone},
      {1, 32, 64, 5, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, true, ActivationKind::kNone},
  };
  for (const ConvCase& c : others) {
    AlignedBytes bytes(conv_model(c).build());
    Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
    REQUIRE(model.ok());
    SessionOptions options;
    options.backend = Backend::kXnnpack;
    Session session;
    REQUIRE(session.prepare(*model, 0, options).is_ok());
    CHECK(std::string(session.operator_executor(0, 0)) == "xnnpack");
  }
}

TEST_CASE("2-D convolutions of few output channels, or blocks of 64, run direct (narrow): pairs, tails, strides, pads") {
  // batch, in_c, out_c, h, w, kh, kw, stride, dilation, pads (t, l, b, r), groups, bias, activation
  const ConvCase cases[] = {
      {1, 96, 24, 11, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1, false, ActivationKind::kNone},   // an FPN's smooth conv: 3 vectors of pairs
      {1, 96, 24, 12, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, true, ActivationKind::kRelu},    // the DB head's conv, fused ReLU
      {2, 6, 24, 9, 8, 3, 3, 2, 1, 1, 0, 2, 1, 1, true, ActivationKind::kClip},       // stride 2, uneven pads, batches
      {1, 3, 16, 17, 15, 3, 3, 2, 1, 1, 1, 1, 1, 1, false, ActivationKind::kNone},    // an RGB stem: one channel a lane
      {1, 5, 10, 7, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, true, ActivationKind::kSigmoid},    // odd C_in: no pairs, a tail
      {1, 8, 40, 10, 10, 3, 3, 1, 2, 2, 2, 2, 2, 1, true, ActivationKind::kNone},     // dilated, 5 vectors
      {2, 16, 8, 5, 7, 1, 1, 1, 1, 0, 0, 0, 0, 1, true, ActivationKind::kRelu},       // 1x1, half a vector of pairs
      {1, 2, 1, 6, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, true, ActivationKind::kNone},        // one output channel
      {1, 1, 64, 9, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, false, ActivationKind::kRelu},     // a CRNN's first conv: 4 vectors
      {1, 4, 48, 6, 7, 5, 3, 1, 1, 2, 1, 2, 1, 1, true, ActivationKind::kNone},       // 5x3, 6 vectors
      {1, 24, 12, 31, 29, 3, 3, 1, 1, 1, 1, 1, 1, 1, true, ActivationKind::kNone},    // many chunks of positions
      {1, 10, 20, 4, 3, 5, 5, 1, 1, 2, 2, 2, 2, 1, false, ActivationKind::kNone},     // windows wider than the image
      {1, 12, 24, 13, 11, 4, 2, 3, 1, 0, 1, 1, 0, 1, true, ActivationKind::kNone},    // even kernel, stride 3
      {1, 3, 16, 9, 61, 3, 3, 2, 1, 1, 1, 1, 1, 1, true, ActivationKind::kNone},      // wide rows: whole tiles in one row
      {1, 96, 24, 5, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, false, ActivationKind::kNone},    // the same with pairs
      // Multiples of 64 channels over 128 positions or more: blocks of 64.
      {1, 57, 128, 17, 15, 3, 3, 1, 1, 1, 1, 1, 1, 1, true, ActivationKind::kRelu},   // odd C_in, 2 blocks
      {2, 16, 192, 30, 25, 3, 3, 2, 1, 1, 0, 2, 1, 1, false, ActivationKind::kClip},  // 3 blocks, stride 2, batches
      {1, 8, 64, 13, 12, 3, 3, 1, 2, 2, 2, 2, 2, 1, true, ActivationKind::kNone},     // one block, dilated
      // Weights of a block past 512 KiB: parts of the input channels, each
      // adding to the sums of the last; the clamp after the last.
      {1, 300, 64, 12, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1, true, ActivationKind::kRelu},   // 2 parts of 160 + 140
      {1, 480, 128, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, true, ActivationKind::kClip},    // 8x8, deep: 3 parts, 2 blocks
      {1, 457, 64, 17, 16, 3, 3, 2, 1, 1, 0, 2, 1, 1, false, ActivationKind::kNone},  // 72 positions, stride 2, odd C_in
  };
  for (const ConvCase& c : cases) {
    CAPTURE(c.in_c);
    CAPTURE(c.out_c);
    CAPTURE(c.h);
    ModelBuilder builder = conv_model(c);
    if (c.activation == ActivationKind::kClip) builder.clip(-0.5f, 0.7f);
    CHECK(compare_backends(builder) == 1);
    AlignedBytes bytes(builder.build());
    Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
    REQUIRE(model.ok());
    SessionOptions options;
    options.backend = Backend::kXnnpack;
    Session session;
    REQUIRE(session.prepare(*model, 0, options).is_ok());
    // Taken where it was measured faster than XNNPACK: with AVX-512.
    CHECK(std::string(session.operator_executor(0, 0)) == (simd::has_narrow_conv2d_avx512() ? "narrow" : "xnnpack"));
  }
}

TEST_CASE("a HardSwish after a narrow convolution is applied by it, chunk by chunk, unless its output shares the input's memory") {
  // x -> stem conv (narrow) -> HardSwish -> 1x1 conv -> y, and x read
  // again at the end: the HardSwish's output cannot share x's memory, so
  // the conv writes it.
  ModelBuilder b;
  b.graph("main");
  int32_t x = b.activation("x", {1, 3, 23, 21});
  int32_t w1 = b.constant("w1", {16, 3, 3, 3}, random_values(16 * 3 * 9, 11, 0.5f));
  int32_t h = b.activation("h", {1, 16, 12, 11});
  b.op(OpCode::kConv2d, {x, w1}, {h}, {2, 2, 1, 1, 1, 1, 1, 1, 1});
  int32_t s = b.activation("s", {1, 16, 12, 11});
  b.op(OpCode::kHardSwish, {h}, {s});
  int32_t w2 = b.constant("w2", {24, 16, 1, 1}, random_values(24 * 16, 12, 0.3f));
  int32_t y = b.activation("y", {1, 24, 12, 11});
  b.op(OpCode::kConv2d, {s, w2}, {y}, {1, 1, 1, 1, 0, 0, 0, 0, 1});
  int32_t r = b.activation("r", {1, 3, 23, 21});
  b.op(OpCode::kRelu, {x}, {r});
  b.inputs({x}).outputs({y, r});
  CHECK(compare_backends(b) == 4);
  AlignedBytes bytes(b.build());
  Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
  REQUIRE(model.ok());
  for (int threads : {1, 2}) {
    SessionOptions options;
    options.backend = Backend::kXnnpack;
    options.threads = threads;
    Session session;
    REQUIRE(session.prepare(*model, 0, options).is_ok());
    CHECK(std::string(session.operator_executor(0, 1)) == (simd::has_narrow_conv2d_avx512() ? "fused" : "simd"));
  }
}

TEST_CASE("transposed convolutions whose kernel is their stride run direct (narrow) as patches of output pixels") {
  struct Case {
    int64_t batch, in_c, out_c, h, w, stride;
    bool bias;
    ActivationKind activation;
    bool narrow;  // else too many patch channels: XNNPACK's GEMM + col2im
  };
  const Case cases[] = {
      {1, 24, 24, 9, 7, 2, true, ActivationKind::kRelu, true},      // a DB head's upsampling: 96 patch channels
      {1, 24, 1, 11, 13, 2, true, ActivationKind::kSigmoid, true},  // its last layer: one output channel
      {2, 5, 3, 4, 6, 3, false, ActivationKind::kNone, true},       // odd C_in (no pairs), 3x3 patches, batches
      {1, 6, 10, 5, 5, 2, true, ActivationKind::kNone, true},       // 40 patch channels: a tail of a vector
      {1, 8, 48, 4, 4, 2, true, ActivationKind::kNone, false},      // 192 patch channels
  };
  for (const Case& c : cases) {
    CAPTURE(c.in_c);
    CAPTURE(c.out_c);
    ModelBuilder b;
    b.graph("main");
    int32_t x = b.activation("x", {c.batch, c.in_c, c.h, c.w});
    int32_t w = b.constant("w", {c.in_c, c.out_c, c.stride, c.stride},
                           random_values(static_cast<size_t>(c.in_c * c.out_c * c.stride * c.stride), 4, 0.3f));
    std::vector<int32_t> inputs = {x, w};
    if (c.bias) inputs.push_back(b.constant("b", {c.out_c}, random_values(static_cast<size_t>(c.out_c), 5)));
    int32_t y = b.activation("y", {c.batch, c.out_c, c.h * c.stride, c.w * c.stride});
    b.op(OpCode::kConvTranspose2d, inputs, {y}, {c.stride, c.stride, 1, 1, 0, 0, 0, 0, 1, 0, 0}, {}, c.activation);
    b.inputs({x}).outputs({y});
    CHECK(compare_backends(b) == 1);
    AlignedBytes bytes(b.build());
    Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
    REQUIRE(model.ok());
    SessionOptions options;
    options.backend = Backend::kXnnpack;
    Session session;
    REQUIRE(session.prepare(*model, 0, options).is_ok());
    CHECK(std::string(session.operator_executor(0, 0)) ==
          (c.narrow && simd::has_narrow_conv2d_avx512() ? "narrow" : "xnnpack"));
  }
}

TEST_CASE("fully connected layers of 64+ rows and 64K+ weights run as narrow 1x1 convolutions, shared weights do not") {
  struct FcCase {
    std::vector<int64_t> x;  // [..., K]
    int64_t n;
    bool bias;
    ActivationKind activation;
    bool narrow;
  };
  const FcCase cases[] = {
      {{100, 512}, 128, true, ActivationKind::kNone, true},          // 2 blocks, a chunk and a tail of rows
      {{1, 70, 2304}, 256, true, ActivationKind::kRelu, true},       // 2 parts of K (590 KB a block), rank 3
      {{2, 40, 320}, 320, false, ActivationKind::kClip, true},       // 5 blocks, no bias, batches as rows
      {{64, 640}, 1280, true, ActivationKind::kSilu, true},          // the activation after the product
      {{63, 512}, 128, true, ActivationKind::kNone, false},          // too few rows: XNNPACK
      {{100, 512}, 96, true, ActivationKind::kNone, false},          // not blocks of 64: XNNPACK
      {{100, 128}, 256, true, ActivationKind::kNone, false},         // 32K weights: XNNPACK
  };
  for (const FcCase& c : cases) {
    CAPTURE(c.n);
    CAPTURE(c.x.back());
    const int64_t k = c.x.back();
    int64_t rows = 1;
    for (size_t d = 0; d + 1 < c.x.size(); ++d) rows *= c.x[d];
    std::vector<int64_t> y_shape = c.x;
    y_shape.back() = c.n;
    ModelBuilder b;
    b.graph("main");
    int32_t x = b.activation("x", c.x);
    int32_t w = b.constant("w", {c.n, k}, random_values(static_cast<size_t>(c.n * k), 31, 0.1f));
    int32_t bias = c.bias ? b.constant("b", {c.n}, random_values(static_cast<size_t>(c.n), 32)) : -1;
    int32_t y = b.activation("y", y_shape);
    b.op(OpCode::kFullyConnected, {x, w, bias}, {y}, {}, {}, c.activation);
    if (c.activation == ActivationKind::kClip) b.clip(-0.5f, 0.7f);
    b.inputs({x}).outputs({y});
    CHECK(compare_backends(b) == 1);
    AlignedBytes bytes(b.build());
    Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
    REQUIRE(model.ok());
    SessionOptions options;
    options.backend = Backend::kXnnpack;
    Session session;
    REQUIRE(session.prepare(*model, 0, options).is_ok());
    CHECK(std::string(session.operator_executor(0, 0)) ==
          (c.narrow && simd::has_narrow_conv2d_avx512() ? "narrow" : "xnnpack"));
  }
  // The same weights read by two layers: one packed XNNPACK operator for both.
  ModelBuilder b;
  b.graph("main");
  int32_t x = b.activation("x", {100, 512});
  int32_t w = b.constant("w", {512, 512}, random_values(512 * 512, 33, 0.05f));
  int32_t h = b.activation("h", {100, 512});
  b.op(OpCode::kFullyConnected, {x, w, -1}, {h});
  int32_t y = b.activation("y", {100, 512});
  b.op(OpCode::kFullyConnected, {h, w, -1}, {y});
  b.inputs({x}).outputs({y});
  CHECK(compare_backends(b) == 2);
  AlignedBytes bytes(b.build());
  Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
  REQUIRE(model.ok());
  SessionOptions options;
  options.backend = Backend::kXnnpack;
  Session session;
  REQUIRE(session.prepare(*model, 0, options).is_ok());
  for (size_t op : {0u, 1u}) CHECK(std::string(session.operator_executor(0, op)) == "xnnpack");
}

TEST_CASE("few-channel 1-D convolutions run direct: dilation, padding, stride, odd lengths, channel tails") {
  // batch, in_c, out_c, h (1), w, kh (1), kw, stride, dilation, pads (t, l, b, r), groups, bias, activation
  const ConvCase cases[] = {
      {1, 8, 8, 1, 37, 1, 3, 1, 1, 0, 1, 0, 1, 1, true, ActivationKind::kLeakyRelu},   // a residual unit's conv
      {2, 8, 8, 1, 61, 1, 3, 1, 9, 0, 9, 0, 9, 1, true, ActivationKind::kNone},        // dilation 9, two sequences
      {1, 16, 16, 1, 50, 1, 3, 1, 3, 0, 3, 0, 3, 1, false, ActivationKind::kLeakyRelu}, // 16 channels: wide tiles
      {1, 8, 8, 1, 1100, 1, 1, 1, 1, 0, 0, 0, 0, 1, true, ActivationKind::kNone},      // k1, several chunks
      {1, 5, 12, 1, 23, 1, 4, 2, 1, 0, 3, 0, 1, 1, true, ActivationKind::kRelu},       // stride, uneven pads, 12 = 8 + 4
      {1, 3, 24, 1, 7, 1, 5, 1, 2, 0, 6, 0, 6, 1, true, ActivationKind::kTanh},        // every output at an edge
      {1, 64, 5, 1, 19, 1, 7, 3, 1, 0, 2, 0, 0, 1, true, ActivationKind::kClip},       // 64 in, 5 out
      {1, 8, 1, 1, 40, 1, 3, 1, 2, 0, 2, 0, 2, 1, true, ActivationKind::kNone},        // one output, dilated
  };
  for (const ConvCase& c : cases) {
    CAPTURE(c.in_c);
    CAPTURE(c.out_c);
    CAPTURE(c.kw);
    CAPTURE(c.dilation);
    ModelBuilder builder = conv_model(c);
    if (c.activation == ActivationKind::kLeakyRelu) builder.leaky_relu(0.2f);
    if (c.activation == ActivationKind::kClip) builder.clip(-0.5f, 0.7f);
    CHECK(compare_backends(builder) == 1);
    AlignedBytes bytes(builder.build());
    Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
    REQUIRE(model.ok());
    SessionOptions options;
    options.backend = Backend::kXnnpack;
    Session session;
    REQUIRE(session.prepare(*model, 0, options).is_ok());
    CHECK(std::string(session.operator_executor(0, 0)) == "direct");
  }
  struct Case {
    int64_t batch, in_c, out_c, w, k, stride, pad, out_pad;
    ActivationKind activation;
  };
  const Case transposed[] = {
      {1, 16, 8, 33, 8, 4, 2, 0, ActivationKind::kLeakyRelu},  // a vocoder's x4 stage
      {2, 32, 16, 9, 16, 8, 4, 0, ActivationKind::kNone},      // x8, two sequences
      {1, 6, 3, 11, 5, 3, 0, 2, ActivationKind::kRelu},        // kernel not a multiple of the stride, output padding
      {1, 4, 9, 6, 3, 4, 1, 3, ActivationKind::kTanh},         // kernel below the stride: empty phases
      {1, 8, 8, 600, 6, 2, 5, 1, ActivationKind::kNone},       // padding above the stride, several chunks
      {1, 5, 3, 20, 6, 3, 1, 0, ActivationKind::kLeakyRelu},   // all phases as one row of 9 channels (not 8k)
      {2, 8, 4, 1100, 4, 2, 1, 1, ActivationKind::kRelu},      // one row of 8 channels, chunks, two sequences
  };
  for (const Case& c : transposed) {
    CAPTURE(c.k);
    CAPTURE(c.stride);
    ModelBuilder b;
    b.graph("main");
    int32_t x = b.activation("x", {c.batch, c.in_c, c.w});
    int32_t w = b.constant("w", {c.in_c, c.out_c, c.k},
                           random_values(static_cast<size_t>(c.in_c * c.out_c * c.k), 4, 0.3f));
    int32_t bias = b.constant("b", {c.out_c}, random_values(static_cast<size_t>(c.out_c), 5));
    const int64_t ow = (c.w - 1) * c.stride - 2 * c.pad + c.k + c.out_pad;
    int32_t y = b.activation("y", {c.batch, c.out_c, ow});
    b.op(OpCode::kConvTranspose2d, {x, w, bias}, {y}, {1, c.stride, 1, 1, 0, c.pad, 0, c.pad, 1, 0, c.out_pad}, {},
         c.activation);
    if (c.activation == ActivationKind::kLeakyRelu) b.leaky_relu(0.1f);
    b.inputs({x}).outputs({y});
    CHECK(compare_backends(b) == 1);
    AlignedBytes bytes(b.build());
    Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
    REQUIRE(model.ok());
    SessionOptions options;
    options.backend = Backend::kXnnpack;
    Session session;
    REQUIRE(session.prepare(*model, 0, options).is_ok());
    CHECK(std::string(session.operator_executor(0, 0)) == "direct");
  }
}

TEST_CASE("a squeeze-excitation block's global pooling reduces the channels-last tensor as it is") {
  ModelBuilder b;
  b.graph("main");
  int32_t x = b.activation("x", {2, 8, 10, 10});
  int32_t w = b.constant("w", {8, 8, 3, 3}, random_values(8 * 8 * 9, 1, 0.2f));
  int32_t h = b.activation("h", {2, 8, 10, 10});
  b.op(OpCode::kConv2d, {x, w}, {h}, {1, 1, 1, 1, 1, 1, 1, 1, 1});
  int32_t pooled = b.activation("pooled", {2, 8, 1, 1});
  b.op(OpCode::kReduceMean, {h}, {pooled}, {1, 2, 3});  // keepdims, axes 2 and 3
  int32_t w2 = b.constant("w2", {8, 8, 1, 1}, random_values(64, 2, 0.3f));
  int32_t gate = b.activation("gate", {2, 8, 1, 1});
  b.op(OpCode::kConv2d, {pooled, w2}, {gate}, {1, 1, 1, 1, 0, 0, 0, 0, 1}, {}, ActivationKind::kSigmoid);
  int32_t y = b.activation("y", {2, 8, 10, 10});
  b.op(OpCode::kMul, {h, gate}, {y});
  b.inputs({x}).outputs({y});
  CHECK(compare_backends(b) == 4);
  AlignedBytes bytes(b.build());
  Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
  REQUIRE(model.ok());
  SessionOptions options;
  options.backend = Backend::kXnnpack;
  Session session;
  REQUIRE(session.prepare(*model, 0, options).is_ok());
  CHECK(session.operator_conversions(0, 1) == 0);  // the ReduceMean
}

TEST_CASE("XNNPACK ConvTranspose as GEMM + col2im: bands of input pixels, batches, 1-D, output padding, activations") {
  struct Case {
    int64_t batch, in_c, out_c, h, w, k, stride, pad, out_pad;
    ActivationKind activation;
  };
  const Case cases[] = {
      // 576 input pixels x 4 KiB of columns each: several bands per image, two images.
      {2, 16, 64, 24, 24, 4, 2, 1, 0, ActivationKind::kRelu},
      // Kernel smaller than the stride (gaps between taps), output padding, tanh after col2im.
      {1, 5, 7, 6, 5, 2, 3, 0, 2, ActivationKind::kTanh},
      // Padding larger than the stride (taps cropped on both sides).
      {1, 6, 3, 5, 4, 5, 2, 3, 1, ActivationKind::kNone},
      // Stride 1: every input row meets kernel_h output rows (three row classes on two threads).
      {1, 6, 5, 7, 6, 3, 1, 1, 0, ActivationKind::kRelu},
  };
  for (const Case& c : cases) {
    CAPTURE(c.h);
    ModelBuilder b;
    b.graph("main");
    int32_t x = b.activation("x", {c.batch, c.in_c, c.h, c.w});
    int32_t w = b.constant("w", {c.in_c, c.out_c, c.k, c.k},
                           random_values(static_cast<size_t>(c.in_c * c.out_c * c.k * c.k), 4, 0.3f));
    int32_t bias = b.constant("b", {c.out_c}, random_values(static_cast<size_t>(c.out_c), 5));
    const int64_t oh = (c.h - 1) * c.stride - 2 * c.pad + c.k + c.out_pad;
    const int64_t ow = (c.w - 1) * c.stride - 2 * c.pad + c.k + c.out_pad;
    int32_t y = b.activation("y", {c.batch, c.out_c, oh, ow});
    b.op(OpCode::kConvTranspose2d, {x, w, bias}, {y},
         {c.stride, c.stride, 1, 1, c.pad, c.pad, c.pad, c.pad, 1, c.out_pad, c.out_pad}, {}, c.activation);
    b.inputs({x}).outputs({y});
    CHECK(compare_backends(b) == 1);
  }
  // 1-D, vocoder style (kernel = 2 x stride), two sequences, no bias.
  ModelBuilder b;
  b.graph("main");
  int32_t x = b.activation("x", {2, 8, 40});
  int32_t w = b.constant("w", {8, 4, 16}, random_values(8 * 4 * 16, 6, 0.3f));
  int32_t y = b.activation("y", {2, 4, 320});
  b.op(OpCode::kConvTranspose2d, {x, w}, {y}, {1, 8, 1, 1, 0, 4, 0, 4, 1, 0, 0});
  b.inputs({x}).outputs({y});
  CHECK(compare_backends(b) == 1);
}

namespace {

// An int8 linear op between QuantizeLinear and DequantizeLinear, so that
// compare_backends' float inputs and outputs carry the int8 result: equal
// floats out means equal int8 values. Weights are random int8, symmetric,
// per output channel (scales 0.01, 0.02, 0.03, ...) or per tensor; the bias
// random int32; the output scale spreads the sums over the int8 range.
struct QuantizedLinear {
  OpCode opcode;
  std::vector<int64_t> x_shape, w_shape, y_shape;
  std::vector<int64_t> ints;
  int weight_axis;   // the output-channel axis; -1: per-tensor scale
  bool bias;
  ActivationKind activation;  // kNone, kRelu or kClip (-1.5, 2.0)
  int64_t x_zero_point, y_zero_point;
};

ModelBuilder quantized_linear_model(const QuantizedLinear& c) {
  ModelBuilder b;
  b.graph("main");
  const float x_scale = 0.02f;
  int32_t x = b.activation("x", c.x_shape);
  int32_t xq = b.activation("xq", c.x_shape, DType::kInt8);
  b.quantize(xq, {x_scale}, {c.x_zero_point});
  b.op(OpCode::kQuantizeLinear, {x}, {xq}, {static_cast<int64_t>(DType::kInt8)});
  const size_t weight_count = count_of(c.w_shape);
  std::vector<int8_t> weights(weight_count);
  uint64_t state = 12345;
  for (int8_t& w : weights) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    w = static_cast<int8_t>(static_cast<int64_t>(state >> 33) % 255 - 127);
  }
  int32_t w = b.constant_of("w", c.w_shape, DType::kInt8, weights);
  const int64_t channels = c.y_shape[c.opcode == OpCode::kFullyConnected ? c.y_shape.size() - 1 : 1];
  std::vector<float> w_scales;
  if (c.weight_axis < 0) w_scales = {0.015f};
  else
    for (int64_t ch = 0; ch < channels; ++ch) w_scales.push_back(0.01f * static_cast<float>(1 + ch % 3));
  b.quantize(w, w_scales, std::vector<int64_t>(w_scales.size(), 0), c.weight_axis);
  std::vector<int32_t> inputs = {xq, w};
  if (c.bias) {
    std::vector<int32_t> bias(static_cast<size_t>(channels));
    for (size_t i = 0; i < bias.size(); ++i) bias[i] = static_cast<int32_t>(i * 7919 % 6001) - 3000;
    int32_t bq = b.constant_of("b", {channels}, DType::kInt32, bias);
    b.quantize(bq, {1.f}, {0});
    inputs.push_back(bq);
  }
  // Sums of K products of ~50 x ~73: about 3650 sqrt(K) in units of x_scale * w_scale.
  const size_t k = weight_count / static_cast<size_t>(channels);
  // (A transposed convolution's output sums C_in * taps / stride^2 products.)
  const size_t k_taps = c.opcode == OpCode::kConvTranspose2d ? k / static_cast<size_t>(c.ints[0] * c.ints[1]) + 1 : k;
  const float y_scale = 3650.f * std::sqrt(static_cast<float>(k_taps)) * x_scale * 0.02f / 45.f;
  int32_t yq = b.activation("yq", c.y_shape, DType::kInt8);
  b.quantize(yq, {y_scale}, {c.y_zero_point});
  b.op(c.opcode, inputs, {yq}, c.ints, {}, c.activation);
  if (c.activation == ActivationKind::kClip) b.clip(-1.5f, 2.f);
  int32_t y = b.activation("y", c.y_shape);
  b.op(OpCode::kDequantizeLinear, {yq}, {y});
  b.inputs({x}).outputs({y});
  return b;
}

}  // namespace

TEST_CASE("int8 FullyConnected, Conv2d and ConvTranspose2d on the qgemm: identical to the reference kernels") {
  using A = ActivationKind;
  const QuantizedLinear cases[] = {
      // FullyConnected: one row (a decoder's latent), several rows, batch dims, per tensor.
      {OpCode::kFullyConnected, {1, 20}, {300, 20}, {1, 300}, {}, 0, true, A::kRelu, 3, -128},
      {OpCode::kFullyConnected, {37, 67}, {29, 67}, {37, 29}, {}, 0, true, A::kNone, -5, 2},
      {OpCode::kFullyConnected, {2, 5, 130}, {70, 130}, {2, 5, 70}, {}, -1, false, A::kClip, 0, -10},
      {OpCode::kFullyConnected, {64, 512}, {784, 512}, {64, 784}, {}, 0, true, A::kNone, 1, 0},  // on both threads
      // Conv2d: padding, stride 2, odd sizes, 1x1, 1-D, per tensor, clamped ranges, batches.
      {OpCode::kConv2d, {1, 3, 9, 7}, {8, 3, 3, 3}, {1, 8, 9, 7}, {1, 1, 1, 1, 1, 1, 1, 1, 1}, 0, true, A::kRelu, 0,
       -128},
      {OpCode::kConv2d, {2, 5, 11, 10}, {6, 5, 3, 3}, {2, 6, 5, 5}, {2, 2, 1, 1, 0, 1, 1, 0, 1}, -1, false, A::kNone,
       -7, 5},
      {OpCode::kConv2d, {1, 16, 6, 5}, {12, 16, 1, 1}, {1, 12, 6, 5}, {1, 1, 1, 1, 0, 0, 0, 0, 1}, 0, true, A::kClip,
       2, 1},
      {OpCode::kConv2d, {1, 4, 12, 12}, {7, 4, 5, 5}, {1, 7, 6, 5}, {1, 2, 2, 1, 2, 0, 0, 1, 1}, 0, true, A::kNone, 0,
       0},  // dilated
      {OpCode::kConv2d, {2, 4, 20}, {6, 4, 5}, {2, 6, 10}, {1, 2, 1, 1, 0, 2, 0, 2, 1}, 0, true, A::kRelu, 1, -100},
      {OpCode::kConv2d, {1, 6, 11, 9}, {10, 6, 3, 2}, {1, 10, 10, 5}, {1, 2, 2, 1, 2, 0, 1, 1, 1}, 0, true, A::kNone,
       -2, 4},  // dilated along h only, uneven pads: windows in place on AVX512-VNNI
      {OpCode::kConv2d, {1, 32, 28, 28}, {64, 32, 4, 4}, {1, 64, 14, 14}, {2, 2, 1, 1, 1, 1, 1, 1, 1}, 0, true,
       A::kRelu, -3, -128},  // several bands, both threads
      // ConvTranspose2d: stride 2 with padding, output padding, odd sizes, one pixel, 1-D, a decoder layer.
      {OpCode::kConvTranspose2d, {1, 8, 4, 4}, {8, 4, 4, 4}, {1, 4, 8, 8}, {2, 2, 1, 1, 1, 1, 1, 1, 1, 0, 0}, 1, true,
       A::kRelu, 0, -128},
      {OpCode::kConvTranspose2d, {2, 5, 6, 5}, {5, 7, 3, 3}, {2, 7, 14, 12}, {2, 2, 1, 1, 0, 0, 0, 0, 1, 1, 1}, -1,
       false, A::kNone, 4, -3},
      {OpCode::kConvTranspose2d, {1, 6, 5, 4}, {6, 3, 5, 5}, {1, 3, 8, 6}, {2, 2, 1, 1, 3, 3, 3, 3, 1, 1, 1}, 1, true,
       A::kClip, -2, 3},
      {OpCode::kConvTranspose2d, {1, 100, 1, 1}, {100, 64, 4, 4}, {1, 64, 4, 4}, {1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0}, 1,
       true, A::kRelu, 0, -128},
      {OpCode::kConvTranspose2d, {1, 64, 7, 7}, {64, 32, 4, 4}, {1, 32, 14, 14}, {2, 2, 1, 1, 1, 1, 1, 1, 1, 0, 0}, 1,
       true, A::kRelu, -1, -128},
      {OpCode::kConvTranspose2d, {2, 8, 40}, {8, 4, 16}, {2, 4, 320}, {1, 8, 1, 1, 0, 4, 0, 4, 1, 0, 0}, 1, false,
       A::kNone, 0, 0},
      // ... by phases (8 or more output channels, input not tiny next to the kernel): output padding and odd
      // sizes, a kernel the stride does not divide, stride = kernel, stride 1, 1-D, per tensor, clamped.
      {OpCode::kConvTranspose2d, {2, 9, 5, 6}, {9, 8, 3, 3}, {2, 8, 11, 13}, {2, 2, 1, 1, 1, 1, 0, 0, 1, 1, 1}, 1,
       true, A::kRelu, 3, -128},
      {OpCode::kConvTranspose2d, {1, 6, 5, 4}, {6, 11, 5, 5}, {1, 11, 8, 6}, {2, 2, 1, 1, 3, 3, 3, 3, 1, 1, 1}, -1,
       false, A::kClip, -2, 3},
      {OpCode::kConvTranspose2d, {1, 7, 4, 5}, {7, 10, 3, 3}, {1, 10, 12, 15}, {3, 3, 1, 1, 0, 0, 0, 0, 1, 0, 0}, 1,
       true, A::kNone, 0, 0},
      {OpCode::kConvTranspose2d, {2, 12, 6, 6}, {12, 16, 3, 3}, {2, 16, 6, 6}, {1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0}, 1,
       true, A::kRelu, -4, -128},
      {OpCode::kConvTranspose2d, {1, 16, 30}, {16, 24, 16}, {1, 24, 240}, {1, 8, 1, 1, 0, 4, 0, 4, 1, 0, 0}, 1, true,
       A::kNone, 1, -1},
  };
  for (const QuantizedLinear& c : cases) {
    CAPTURE(op_name(static_cast<uint32_t>(c.opcode)));
    CAPTURE(c.x_shape[1]);
    CAPTURE(c.y_shape[1]);
    CHECK(compare_backends(quantized_linear_model(c), 0.f) == 3);  // quantize, the op, dequantize
  }
}

namespace {

// A quantized Conv2d (ints = conv params) or ConvTranspose2d (deconv params)
// from int8 `x` to a new int8 tensor of `y_shape`; random int8 weights per
// output channel.
int32_t add_quantized_conv(ModelBuilder& b, const std::string& name, OpCode opcode, int32_t x,
                           std::vector<int64_t> w_shape, std::vector<int64_t> y_shape, std::vector<int64_t> ints,
                           float y_scale, int64_t y_zero_point, ActivationKind activation = ActivationKind::kNone) {
  std::vector<int8_t> weights(count_of(w_shape));
  uint64_t state = std::hash<std::string>{}(name);
  for (int8_t& w : weights) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    w = static_cast<int8_t>(static_cast<int64_t>(state >> 33) % 255 - 127);
  }
  const int axis = opcode == OpCode::kConvTranspose2d ? 1 : 0;
  int32_t w = b.constant_of(name + ".w", w_shape, DType::kInt8, weights);
  std::vector<float> scales;
  for (int64_t c = 0; c < w_shape[static_cast<size_t>(axis)]; ++c) scales.push_back(0.004f * static_cast<float>(1 + c % 3));
  b.quantize(w, scales, std::vector<int64_t>(scales.size(), 0), axis);
  int32_t y = b.activation(name + ".y", y_shape, DType::kInt8);
  b.quantize(y, {y_scale}, {y_zero_point});
  b.op(opcode, {x, w}, {y}, ints, {}, activation);
  return y;
}

}  // namespace

TEST_CASE("int8 chains stay channels-last between convolutions, and NCHW wherever a reader needs it") {
  // x -> Q -> conv -> DQ -> SiLU -> Q -> conv -> deconv (phases) -> DQ -> y
  //                                     `-> Reshape (int8, NCHW only) -> DQ -> flat
  // The convolutions' int8 outputs read only by dequantizes and convolutions
  // are kept channels-last; the one a Reshape reads is not. Same bits as the
  // reference kernels, whatever the layouts.
  ModelBuilder b;
  b.graph("main");
  int32_t x = b.activation("x", {2, 5, 9, 8});
  int32_t xq = b.activation("xq", {2, 5, 9, 8}, DType::kInt8);
  b.quantize(xq, {0.03f}, {4});
  b.op(OpCode::kQuantizeLinear, {x}, {xq}, {static_cast<int64_t>(DType::kInt8)});
  int32_t c1 = add_quantized_conv(b, "c1", OpCode::kConv2d, xq, {16, 5, 3, 3}, {2, 16, 9, 8},
                                  {1, 1, 1, 1, 1, 1, 1, 1, 1}, 0.05f, -3);
  int32_t c1f = b.activation("c1f", {2, 16, 9, 8});
  b.op(OpCode::kDequantizeLinear, {c1}, {c1f});
  int32_t s = b.activation("s", {2, 16, 9, 8});
  b.op(OpCode::kSilu, {c1f}, {s});
  int32_t sq = b.activation("sq", {2, 16, 9, 8}, DType::kInt8);
  b.quantize(sq, {0.02f}, {-100});
  b.op(OpCode::kQuantizeLinear, {s}, {sq}, {static_cast<int64_t>(DType::kInt8)});
  int32_t c2 = add_quantized_conv(b, "c2", OpCode::kConv2d, sq, {12, 16, 3, 3}, {2, 12, 5, 4},
                                  {2, 2, 1, 1, 1, 1, 1, 1, 1}, 0.04f, 2, ActivationKind::kRelu);
  int32_t d = add_quantized_conv(b, "d", OpCode::kConvTranspose2d, c2, {12, 8, 4, 4}, {2, 8, 10, 8},
                                 {2, 2, 1, 1, 1, 1, 1, 1, 1, 0, 0}, 0.06f, 0);
  int32_t y = b.activation("y", {2, 8, 10, 8});
  b.op(OpCode::kDequantizeLinear, {d}, {y});
  int32_t r = b.activation("r", {2, 240}, DType::kInt8);
  b.quantize(r, {0.04f}, {2});
  b.op(OpCode::kReshape, {c2}, {r}, {2, 240});
  int32_t flat = b.activation("flat", {2, 240});
  b.op(OpCode::kDequantizeLinear, {r}, {flat});
  b.inputs({x}).outputs({y, flat});
  CHECK(compare_backends(b, 0.f) >= 8);
}

TEST_CASE("int8 nearest Resize between int8 convolutions (a decoder's upsampling): same bits, not the reference") {
  // x -> Q -> conv -> Resize x2 (int8) -> conv -> DQ -> y, and a fractional Resize of the first conv's output.
  ModelBuilder b;
  b.graph("main");
  int32_t x = b.activation("x", {2, 6, 5, 7});
  int32_t xq = b.activation("xq", {2, 6, 5, 7}, DType::kInt8);
  b.quantize(xq, {0.03f}, {-2});
  b.op(OpCode::kQuantizeLinear, {x}, {xq}, {static_cast<int64_t>(DType::kInt8)});
  int32_t c1 = add_quantized_conv(b, "c1", OpCode::kConv2d, xq, {16, 6, 3, 3}, {2, 16, 5, 7},
                                  {1, 1, 1, 1, 1, 1, 1, 1, 1}, 0.05f, -3, ActivationKind::kRelu);
  int32_t up = b.activation("up", {2, 16, 10, 14}, DType::kInt8);
  b.quantize(up, {0.05f}, {-3});
  b.op(OpCode::kResize, {c1}, {up}, {params::kResizeNearestMode, params::kAsymmetric, params::kNearestFloor, 10, 14},
       {2.f, 2.f});
  int32_t c2 = add_quantized_conv(b, "c2", OpCode::kConv2d, up, {8, 16, 3, 3}, {2, 8, 10, 14},
                                  {1, 1, 1, 1, 1, 1, 1, 1, 1}, 0.04f, 5);
  int32_t y = b.activation("y", {2, 8, 10, 14});
  b.op(OpCode::kDequantizeLinear, {c2}, {y});
  int32_t frac = b.activation("frac", {2, 16, 7, 4}, DType::kInt8);
  b.quantize(frac, {0.05f}, {-3});
  b.op(OpCode::kResize, {c1}, {frac},
       {params::kResizeNearestMode, params::kHalfPixel, params::kRoundPreferCeil, 7, 4}, {1.4f, 0.6f});
  int32_t fracf = b.activation("fracf", {2, 16, 7, 4});
  b.op(OpCode::kDequantizeLinear, {frac}, {fracf});
  b.inputs({x}).outputs({y, fracf});
  CHECK(compare_backends(b, 0.f) == 7);  // every op accelerated, both Resizes included
}

namespace {

// An int8 GroupNorm of `x` [shape] with `groups`, its fused activation, into
// an int8 tensor of scale `y_scale`, zero point `y_zero_point`.
int32_t add_int8_group_norm(ModelBuilder& b, const std::string& name, int32_t x, std::vector<int64_t> shape,
                            int64_t groups, ActivationKind activation, float y_scale, int64_t y_zero_point) {
  const size_t channels = static_cast<size_t>(shape[1]);
  std::vector<float> gamma(channels), beta(channels);
  for (size_t c = 0; c < channels; ++c) {
    gamma[c] = (c % 2 ? -0.7f : 1.1f) + 0.03f * static_cast<float>(c);
    beta[c] = 0.05f * static_cast<float>(c % 5) - 0.1f;
  }
  int32_t g = b.constant(name + ".gamma", {shape[1]}, gamma);
  int32_t be = b.constant(name + ".beta", {shape[1]}, beta);
  int32_t y = b.activation(name + ".y", shape, DType::kInt8);
  b.quantize(y, {y_scale}, {y_zero_point});
  b.op(OpCode::kGroupNorm, {x, g, be}, {y}, {groups}, {1e-5f}, activation);
  if (activation == ActivationKind::kClip) b.clip(-0.5f, 1.5f);
  return y;
}

}  // namespace

TEST_CASE("a small graph at 2 threads times split and serial runs (split_trial.h): every run the same bits") {
  // int8 conv -> GroupNorm -> conv and a float conv, every op split (thresholds
  // 0): the first runs alternate the modes, the rest keep one; the outputs
  // may not differ in a single bit between any two runs.
  ModelBuilder b;
  b.graph("main");
  int32_t x = b.activation("x", {1, 8, 12, 12});
  int32_t xq = b.activation("xq", {1, 8, 12, 12}, DType::kInt8);
  b.quantize(xq, {0.03f}, {1});
  b.op(OpCode::kQuantizeLinear, {x}, {xq}, {static_cast<int64_t>(DType::kInt8)});
  int32_t c1 = add_quantized_conv(b, "c1", OpCode::kConv2d, xq, {16, 8, 3, 3}, {1, 16, 12, 12},
                                  {1, 1, 1, 1, 1, 1, 1, 1, 1}, 0.05f, -3);
  int32_t n1 = add_int8_group_norm(b, "n1", c1, {1, 16, 12, 12}, 4, ActivationKind::kRelu, 0.02f, -128);
  int32_t c2 = add_quantized_conv(b, "c2", OpCode::kConv2d, n1, {8, 16, 3, 3}, {1, 8, 12, 12},
                                  {1, 1, 1, 1, 1, 1, 1, 1, 1}, 0.04f, 2);
  int32_t y = b.activation("y", {1, 8, 12, 12});
  b.op(OpCode::kDequantizeLinear, {c2}, {y});
  int32_t w = b.constant("w", {4, 8, 3, 3}, random_values(4 * 8 * 9, 21, 0.3f));
  int32_t z = b.activation("z", {1, 4, 12, 12});
  b.op(OpCode::kConv2d, {x, w}, {z}, {1, 1, 1, 1, 1, 1, 1, 1, 1});
  b.inputs({x}).outputs({y, z});
  AlignedBytes bytes(b.build());
  Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
  REQUIRE(model.ok());
  SessionOptions options;
  options.backend = Backend::kXnnpack;
  options.threads = 2;
  xnnpack::set_parallel_thresholds_for_testing(0, 0);
  Prepared fast;
  prepare_exact(*model, options, &fast);
  xnnpack::set_parallel_thresholds_for_testing(xnnpack::kMinParallelMacs, xnnpack::kMinParallelElements);
  const std::vector<float> input = random_values(8 * 144, 5);
  std::vector<std::vector<uint8_t>> first;
  for (int run = 0; run < 2 * SplitTrial::kTrials + 3; ++run) {  // warm-up, both trials, decided runs
    CAPTURE(run);
    std::memcpy(fast.session.input(0, 0).data, input.data(), input.size() * sizeof(float));
    REQUIRE(fast.session.run(0).is_ok());
    for (size_t o = 0; o < 2; ++o) {
      const Tensor& out = fast.session.output(0, o);
      const uint8_t* bits = static_cast<const uint8_t*>(out.data);
      if (run == 0) first.emplace_back(bits, bits + out.bytes());
      else CHECK(std::memcmp(first[o].data(), bits, out.bytes()) == 0);
    }
  }
}

TEST_CASE("int8 GroupNorm between int8 convolutions (a decoder's norm + ReLU): channels-last, same bits") {
  // x -> Q -> conv -> GroupNorm+ReLU (int8) -> conv -> DQ -> y
  //      `-> InstanceNorm+Clip (int8) -> Reshape (NCHW) -> DQ -> flat
  ModelBuilder b;
  b.graph("main");
  int32_t x = b.activation("x", {2, 6, 7, 9});
  int32_t xq = b.activation("xq", {2, 6, 7, 9}, DType::kInt8);
  b.quantize(xq, {0.03f}, {-2});
  b.op(OpCode::kQuantizeLinear, {x}, {xq}, {static_cast<int64_t>(DType::kInt8)});
  int32_t c1 = add_quantized_conv(b, "c1", OpCode::kConv2d, xq, {20, 6, 3, 3}, {2, 20, 7, 9},
                                  {1, 1, 1, 1, 1, 1, 1, 1, 1}, 0.05f, -3);
  int32_t n1 = add_int8_group_norm(b, "n1", c1, {2, 20, 7, 9}, 4, ActivationKind::kRelu, 0.02f, -128);
  int32_t c2 = add_quantized_conv(b, "c2", OpCode::kConv2d, n1, {8, 20, 3, 3}, {2, 8, 7, 9},
                                  {1, 1, 1, 1, 1, 1, 1, 1, 1}, 0.04f, 5);
  int32_t y = b.activation("y", {2, 8, 7, 9});
  b.op(OpCode::kDequantizeLinear, {c2}, {y});
  int32_t n2 = add_int8_group_norm(b, "n2", xq, {2, 6, 7, 9}, 6, ActivationKind::kClip, 0.01f, -30);
  int32_t r = b.activation("r", {2, 378}, DType::kInt8);
  b.quantize(r, {0.01f}, {-30});
  b.op(OpCode::kReshape, {n2}, {r}, {2, 378});
  int32_t flat = b.activation("flat", {2, 378});
  b.op(OpCode::kDequantizeLinear, {r}, {flat});
  b.inputs({x}).outputs({y, flat});
  CHECK(compare_backends(b, 0.f) >= 7);  // every op but the Reshape accelerated
}

TEST_CASE("int8 Add (a UNet's residual and timestep embedding): channels-last between convolutions, same bits") {
  // x -> Q -> conv c1 -> (+ embedding [1, C, 1, 1]) -> GroupNorm+ReLU -> conv c2 -> (+ c1) -> conv c3 -> DQ -> y
  //   the embedding: e -> Q -> FC -> Reshape [1, C, 1, 1] (int8)
  //   and c2 + (conv c4 through two Reshapes, which keep channels-first): operands in both layouts -> DQ -> mixed
  ModelBuilder b;
  b.graph("main");
  const int64_t C = 24;
  int32_t x = b.activation("x", {1, 6, 7, 9});
  int32_t xq = b.activation("xq", {1, 6, 7, 9}, DType::kInt8);
  b.quantize(xq, {0.03f}, {-2});
  b.op(OpCode::kQuantizeLinear, {x}, {xq}, {static_cast<int64_t>(DType::kInt8)});
  int32_t c1 = add_quantized_conv(b, "c1", OpCode::kConv2d, xq, {C, 6, 3, 3}, {1, C, 7, 9},
                                  {1, 1, 1, 1, 1, 1, 1, 1, 1}, 0.05f, -3);
  int32_t e = b.activation("e", {1, 16});
  int32_t eq = b.activation("eq", {1, 16}, DType::kInt8);
  b.quantize(eq, {0.02f}, {3});
  b.op(OpCode::kQuantizeLinear, {e}, {eq}, {static_cast<int64_t>(DType::kInt8)});
  int32_t fc = add_quantized_conv(b, "fc", OpCode::kFullyConnected, eq, {C, 16}, {1, C}, {}, 0.04f, 1);
  int32_t emb = b.activation("emb", {1, C, 1, 1}, DType::kInt8);
  b.quantize(emb, {0.04f}, {1});
  b.op(OpCode::kReshape, {fc}, {emb}, {1, C, 1, 1});
  int32_t h = b.activation("h", {1, C, 7, 9}, DType::kInt8);
  b.quantize(h, {0.06f}, {-1});
  b.op(OpCode::kAdd, {c1, emb}, {h});
  int32_t n = add_int8_group_norm(b, "n", h, {1, C, 7, 9}, 4, ActivationKind::kRelu, 0.02f, -128);
  int32_t c2 = add_quantized_conv(b, "c2", OpCode::kConv2d, n, {C, C, 3, 3}, {1, C, 7, 9},
                                  {1, 1, 1, 1, 1, 1, 1, 1, 1}, 0.04f, 5);
  int32_t r = b.activation("r", {1, C, 7, 9}, DType::kInt8);
  b.quantize(r, {0.07f}, {2});
  b.op(OpCode::kAdd, {c2, c1}, {r}, {}, {}, ActivationKind::kRelu);
  int32_t c3 = add_quantized_conv(b, "c3", OpCode::kConv2d, r, {8, C, 3, 3}, {1, 8, 7, 9},
                                  {1, 1, 1, 1, 1, 1, 1, 1, 1}, 0.05f, 0);
  int32_t y = b.activation("y", {1, 8, 7, 9});
  b.op(OpCode::kDequantizeLinear, {c3}, {y});
  int32_t c4 = add_quantized_conv(b, "c4", OpCode::kConv2d, xq, {C, 6, 3, 3}, {1, C, 7, 9},
                                  {1, 1, 1, 1, 1, 1, 1, 1, 1}, 0.05f, -3);
  int32_t flat = b.activation("flat", {1, C, 63}, DType::kInt8);
  b.quantize(flat, {0.05f}, {-3});
  b.op(OpCode::kReshape, {c4}, {flat}, {1, C, 63});
  int32_t back = b.activation("back", {1, C, 7, 9}, DType::kInt8);
  b.quantize(back, {0.05f}, {-3});
  b.op(OpCode::kReshape, {flat}, {back}, {1, C, 7, 9});
  int32_t m = b.activation("m", {1, C, 7, 9}, DType::kInt8);
  b.quantize(m, {0.09f}, {4});
  b.op(OpCode::kAdd, {back, c2}, {m});
  int32_t mixed = b.activation("mixed", {1, C, 7, 9});
  b.op(OpCode::kDequantizeLinear, {m}, {mixed});
  b.inputs({x, e}).outputs({y, mixed});
  CHECK(compare_backends(b, 0.f) == 13);  // all but the three Reshapes
}

TEST_CASE("int8 unary ops as byte tables (SiLU, GELU between int8 layers): channels-last, same bits") {
  // x -> Q -> conv -> SiLU (int8) -> conv -> GELU (int8, from a channels-first Reshape) -> DQ -> y
  //                                   `-> Tanh (int8) -> DQ -> t
  ModelBuilder b;
  b.graph("main");
  int32_t x = b.activation("x", {2, 6, 7, 9});
  int32_t xq = b.activation("xq", {2, 6, 7, 9}, DType::kInt8);
  b.quantize(xq, {0.03f}, {-2});
  b.op(OpCode::kQuantizeLinear, {x}, {xq}, {static_cast<int64_t>(DType::kInt8)});
  int32_t c1 = add_quantized_conv(b, "c1", OpCode::kConv2d, xq, {20, 6, 3, 3}, {2, 20, 7, 9},
                                  {1, 1, 1, 1, 1, 1, 1, 1, 1}, 0.05f, -3);
  int32_t s1 = b.activation("s1", {2, 20, 7, 9}, DType::kInt8);
  b.quantize(s1, {0.02f}, {-110});
  b.op(OpCode::kSilu, {c1}, {s1});
  int32_t c2 = add_quantized_conv(b, "c2", OpCode::kConv2d, s1, {8, 20, 3, 3}, {2, 8, 7, 9},
                                  {1, 1, 1, 1, 1, 1, 1, 1, 1}, 0.04f, 5);
  int32_t r = b.activation("r", {2, 504}, DType::kInt8);
  b.quantize(r, {0.04f}, {5});
  b.op(OpCode::kReshape, {c2}, {r}, {2, 504});
  int32_t g = b.activation("g", {2, 504}, DType::kInt8);
  b.quantize(g, {0.03f}, {-100});
  b.op(OpCode::kGelu, {r}, {g}, {0});
  int32_t y = b.activation("y", {2, 504});
  b.op(OpCode::kDequantizeLinear, {g}, {y});
  int32_t th = b.activation("th", {2, 20, 7, 9}, DType::kInt8);
  b.quantize(th, {1.f / 128}, {0});
  b.op(OpCode::kTanh, {c1}, {th});
  int32_t t = b.activation("t", {2, 20, 7, 9});
  b.op(OpCode::kDequantizeLinear, {th}, {t});
  b.inputs({x}).outputs({y, t});
  CHECK(compare_backends(b, 0.f) == 8);  // all but the Reshape
}

TEST_CASE("int8 Concat (a UNet's skip connection): inputs of other scales requantized, any layouts, same bits") {
  // x -> Q -> conv c1 (channels-last) ---------------------------.
  //        `-> conv c2 -> nearest Resize x2 (int8)              -> Concat (int8) -> GroupNorm -> conv -> DQ -> y
  //        `-> conv c3 -> Reshape, Reshape back (channels-first) -'    c1, up -> Concat -> Reshape -> DQ -> z (channels-first)
  ModelBuilder b;
  b.graph("main");
  int32_t x = b.activation("x", {2, 6, 8, 10});
  int32_t xq = b.activation("xq", {2, 6, 8, 10}, DType::kInt8);
  b.quantize(xq, {0.03f}, {-2});
  b.op(OpCode::kQuantizeLinear, {x}, {xq}, {static_cast<int64_t>(DType::kInt8)});
  int32_t c1 = add_quantized_conv(b, "c1", OpCode::kConv2d, xq, {16, 6, 3, 3}, {2, 16, 8, 10},
                                  {1, 1, 1, 1, 1, 1, 1, 1, 1}, 0.05f, -3);
  int32_t c2 = add_quantized_conv(b, "c2", OpCode::kConv2d, xq, {24, 6, 3, 3}, {2, 24, 4, 5},
                                  {2, 2, 1, 1, 1, 1, 1, 1, 1}, 0.07f, 4);
  int32_t up = b.activation("up", {2, 24, 8, 10}, DType::kInt8);
  b.quantize(up, {0.07f}, {4});
  b.op(OpCode::kResize, {c2}, {up}, {params::kResizeNearestMode, params::kAsymmetric, params::kNearestFloor, 8, 10},
       {2.f, 2.f});
  int32_t c3 = add_quantized_conv(b, "c3", OpCode::kConv2d, xq, {5, 6, 3, 3}, {2, 5, 8, 10},
                                  {1, 1, 1, 1, 1, 1, 1, 1, 1}, 0.05f, -3);
  int32_t flat = b.activation("flat", {2, 400}, DType::kInt8);
  b.quantize(flat, {0.05f}, {-3});
  b.op(OpCode::kReshape, {c3}, {flat}, {2, 400});
  int32_t back = b.activation("back", {2, 5, 8, 10}, DType::kInt8);
  b.quantize(back, {0.05f}, {-3});
  b.op(OpCode::kReshape, {flat}, {back}, {2, 5, 8, 10});
  int32_t cat = b.activation("cat", {2, 45, 8, 10}, DType::kInt8);
  b.quantize(cat, {0.05f}, {-3});  // c1's and back's scale: copied; up's requantized
  b.op(OpCode::kConcat, {c1, up, back}, {cat}, {1});
  int32_t n = add_int8_group_norm(b, "n", cat, {2, 45, 8, 10}, 5, ActivationKind::kRelu, 0.02f, -128);
  int32_t c4 = add_quantized_conv(b, "c4", OpCode::kConv2d, n, {8, 45, 3, 3}, {2, 8, 8, 10},
                                  {1, 1, 1, 1, 1, 1, 1, 1, 1}, 0.04f, 5);
  int32_t y = b.activation("y", {2, 8, 8, 10});
  b.op(OpCode::kDequantizeLinear, {c4}, {y});
  int32_t cat2 = b.activation("cat2", {2, 40, 8, 10}, DType::kInt8);
  b.quantize(cat2, {0.09f}, {1});  // every input requantized
  b.op(OpCode::kConcat, {c1, up}, {cat2}, {1});
  int32_t cat2_flat = b.activation("cat2_flat", {2, 3200}, DType::kInt8);  // a Reshape reads it: channels-first
  b.quantize(cat2_flat, {0.09f}, {1});
  b.op(OpCode::kReshape, {cat2}, {cat2_flat}, {2, 3200});
  int32_t z = b.activation("z", {2, 3200});
  b.op(OpCode::kDequantizeLinear, {cat2_flat}, {z});
  b.inputs({x}).outputs({y, z});
  CHECK(compare_backends(b, 0.f) == 11);  // all but the three Reshapes
}

TEST_CASE("int8 depthwise convolutions (a MobileNet block): channels-last, strides, padding, dilation, same bits") {
  struct Case {
    int64_t channels, h, w, kernel, stride, pad, dilation;
    ActivationKind act;
  };
  const Case cases[] = {
      {16, 9, 11, 3, 1, 1, 1, ActivationKind::kNone},
      {37, 8, 7, 3, 2, 1, 1, ActivationKind::kRelu},       // a tail of 5 channels, stride 2
      {80, 6, 6, 5, 1, 2, 1, ActivationKind::kClip},       // 5x5, ReLU6-like clip
      {24, 10, 9, 3, 1, 2, 2, ActivationKind::kLeakyRelu},  // dilation 2
  };
  for (const Case& c : cases) {
    CAPTURE(c.channels);
    CAPTURE(c.kernel);
    ModelBuilder b;
    b.graph("main");
    int32_t x = b.activation("x", {2, 6, c.h, c.w});
    int32_t xq = b.activation("xq", {2, 6, c.h, c.w}, DType::kInt8);
    b.quantize(xq, {0.03f}, {-2});
    b.op(OpCode::kQuantizeLinear, {x}, {xq}, {static_cast<int64_t>(DType::kInt8)});
    int32_t c1 = add_quantized_conv(b, "c1", OpCode::kConv2d, xq, {c.channels, 6, 1, 1}, {2, c.channels, c.h, c.w},
                                    {1, 1, 1, 1, 0, 0, 0, 0, 1}, 0.05f, -3);
    const int64_t span = c.dilation * (c.kernel - 1) + 1;
    const int64_t oh = (c.h + 2 * c.pad - span) / c.stride + 1, ow = (c.w + 2 * c.pad - span) / c.stride + 1;
    int32_t dw = add_quantized_conv(b, "dw", OpCode::kConv2d, c1, {c.channels, 1, c.kernel, c.kernel},
                                    {2, c.channels, oh, ow},
                                    {c.stride, c.stride, c.dilation, c.dilation, c.pad, c.pad, c.pad, c.pad, c.channels},
                                    0.04f, 6, c.act);
    if (c.act == ActivationKind::kClip) b.clip(0.f, 6.f);
    if (c.act == ActivationKind::kLeakyRelu) b.leaky_relu(0.1f);
    int32_t c2 = add_quantized_conv(b, "c2", OpCode::kConv2d, dw, {8, c.channels, 1, 1}, {2, 8, oh, ow},
                                    {1, 1, 1, 1, 0, 0, 0, 0, 1}, 0.05f, 1);
    int32_t y = b.activation("y", {2, 8, oh, ow});
    b.op(OpCode::kDequantizeLinear, {c2}, {y});
    b.inputs({x}).outputs({y});
    CHECK(compare_backends(b, 0.f) == 5);  // the depthwise one on its own kernel, not the reference
  }
}

TEST_CASE("int8 GroupNorm + SiLU (a UNet's norm): within one step of the reference, same bits at any thread count") {
  ModelBuilder b;
  b.graph("main");
  int32_t x = b.activation("x", {1, 4, 8, 8});
  int32_t xq = b.activation("xq", {1, 4, 8, 8}, DType::kInt8);
  b.quantize(xq, {0.03f}, {0});
  b.op(OpCode::kQuantizeLinear, {x}, {xq}, {static_cast<int64_t>(DType::kInt8)});
  int32_t c1 = add_quantized_conv(b, "c1", OpCode::kConv2d, xq, {32, 4, 3, 3}, {1, 32, 8, 8},
                                  {1, 1, 1, 1, 1, 1, 1, 1, 1}, 0.05f, 0);
  const float y_scale = 0.02f;
  int32_t n1 = add_int8_group_norm(b, "n1", c1, {1, 32, 8, 8}, 8, ActivationKind::kSilu, y_scale, -110);
  int32_t y = b.activation("y", {1, 32, 8, 8});
  b.op(OpCode::kDequantizeLinear, {n1}, {y});
  b.inputs({x}).outputs({y});
  // One step of y_scale; compare_backends scales the tolerance by max(1, |y|).
  CHECK(compare_backends(b, y_scale * 1.01f) == 4);
}

TEST_CASE("float nearest Resize between convolutions runs channels-last: 2x (rows repeated) and fractional scales") {
  ModelBuilder b;
  b.graph("main");
  int32_t x = b.activation("x", {2, 5, 6, 7});
  int32_t w1 = b.constant("w1", {12, 5, 3, 3}, random_values(540, 61, 0.3f));
  int32_t c1 = b.activation("c1", {2, 12, 6, 7});
  b.op(OpCode::kConv2d, {x, w1}, {c1}, {1, 1, 1, 1, 1, 1, 1, 1, 1});
  int32_t up = b.activation("up", {2, 12, 12, 14});
  b.op(OpCode::kResize, {c1}, {up}, {params::kResizeNearestMode, params::kAsymmetric, params::kNearestFloor, 12, 14},
       {2.f, 2.f});
  int32_t w2 = b.constant("w2", {4, 12, 3, 3}, random_values(432, 62, 0.3f));
  int32_t y = b.activation("y", {2, 4, 12, 14});
  b.op(OpCode::kConv2d, {up, w2}, {y}, {1, 1, 1, 1, 1, 1, 1, 1, 1});
  int32_t frac = b.activation("frac", {2, 12, 9, 5});
  b.op(OpCode::kResize, {c1}, {frac},
       {params::kResizeNearestMode, params::kHalfPixel, params::kRoundPreferFloor, 9, 5}, {1.5f, 0.7f});
  int32_t w3 = b.constant("w3", {3, 12, 1, 1}, random_values(36, 63, 0.3f));
  int32_t z = b.activation("z", {2, 3, 9, 5});
  b.op(OpCode::kConv2d, {frac, w3}, {z}, {1, 1, 1, 1, 0, 0, 0, 0, 1});
  b.inputs({x}).outputs({y, z});
  CHECK(compare_backends(b) == 5);  // XNNPACK's convolutions sum in their own order
}

TEST_CASE("int8 transposed convolution with small phases: whole phases per thread, same bits as 1 thread") {
  // 8x8x64 -> 16x16x32, kernel 4 stride 2: four phases of 64 pixels x 256 x 32
  // (0.5 M multiply-adds each, 2 M in all): split phase by phase at 2
  // threads, not row by row. Batch 2; the output read channels-last.
  ModelBuilder b;
  b.graph("main");
  int32_t x = b.activation("x", {2, 64, 8, 8});
  int32_t xq = b.activation("xq", {2, 64, 8, 8}, DType::kInt8);
  b.quantize(xq, {0.03f}, {-2});
  b.op(OpCode::kQuantizeLinear, {x}, {xq}, {static_cast<int64_t>(DType::kInt8)});
  int32_t d = add_quantized_conv(b, "d", OpCode::kConvTranspose2d, xq, {64, 32, 4, 4}, {2, 32, 16, 16},
                                 {2, 2, 1, 1, 1, 1, 1, 1, 1, 0, 0}, 0.08f, 3, ActivationKind::kRelu);
  int32_t y = b.activation("y", {2, 32, 16, 16});
  b.op(OpCode::kDequantizeLinear, {d}, {y});
  b.inputs({x}).outputs({y});
  CHECK(compare_backends(b, 0.f) == 3);
}

TEST_CASE("int8 1-D chains (a vocoder's layers): windows read in place, phases written in place, same bits") {
  // x -> Q -> conv k7 -> deconv x2 (LeakyReLU) -> deconv x3 with output
  // padding -> dilated conv (im2col) -> conv to 1 channel -> DQ -> y, long
  // enough for several bands. Channels-last between the convolutions:
  // every conv and phase but the dilated one reads its rows in place from
  // the padded input (odd pads, strides, output padding at the ends).
  ModelBuilder b;
  b.graph("main");
  int32_t x = b.activation("x", {2, 10, 3000});
  int32_t xq = b.activation("xq", {2, 10, 3000}, DType::kInt8);
  b.quantize(xq, {0.03f}, {-5});
  b.op(OpCode::kQuantizeLinear, {x}, {xq}, {static_cast<int64_t>(DType::kInt8)});
  int32_t c1 = add_quantized_conv(b, "c1", OpCode::kConv2d, xq, {24, 10, 7}, {2, 24, 3000},
                                  {1, 1, 1, 1, 0, 3, 0, 3, 1}, 0.05f, -3);
  int32_t d1 = add_quantized_conv(b, "d1", OpCode::kConvTranspose2d, c1, {24, 16, 4}, {2, 16, 6000},
                                  {1, 2, 1, 1, 0, 1, 0, 1, 1, 0, 0}, 0.05f, 7, ActivationKind::kLeakyRelu);
  b.leaky_relu(0.2f);
  int32_t d2 = add_quantized_conv(b, "d2", OpCode::kConvTranspose2d, d1, {16, 8, 5}, {2, 8, 18001},
                                  {1, 3, 1, 1, 0, 1, 0, 1, 1, 0, 1}, 0.04f, 0);
  int32_t c2 = add_quantized_conv(b, "c2", OpCode::kConv2d, d2, {4, 8, 3}, {2, 4, 18001},
                                  {1, 1, 1, 3, 0, 3, 0, 3, 1}, 0.04f, 2, ActivationKind::kRelu);
  int32_t c3 = add_quantized_conv(b, "c3", OpCode::kConv2d, c2, {1, 4, 7}, {2, 1, 17999},
                                  {1, 1, 1, 1, 0, 2, 0, 2, 1}, 0.03f, -1);
  int32_t y = b.activation("y", {2, 1, 17999});
  b.op(OpCode::kDequantizeLinear, {c3}, {y});
  b.inputs({x}).outputs({y});
  CHECK(compare_backends(b, 0.f) == 7);
}

TEST_CASE("own kernels: QuantizeLinear and DequantizeLinear, per tensor and per axis, int8 and uint8: same bits") {
  ModelBuilder b;
  b.graph("main");
  const std::vector<int64_t> shape = {2, 6, 5, 7};
  // The input goes to the quantizers directly: XNNPACK's own float ops
  // clamp NaN away.
  int32_t m = b.activation("m", shape);
  int32_t q1 = b.activation("q1", shape, DType::kInt8);
  b.quantize(q1, {0.5f, 0.25f, 1.f, 2.f, 0.1f, 0.75f}, {0, -3, 5, 127, -128, 1}, 1);
  b.op(OpCode::kQuantizeLinear, {m}, {q1}, {static_cast<int64_t>(DType::kInt8)});
  int32_t y1 = b.activation("y1", shape);
  b.op(OpCode::kDequantizeLinear, {q1}, {y1});
  int32_t q2 = b.activation("q2", shape, DType::kUInt8);
  b.quantize(q2, {0.3f}, {128});
  b.op(OpCode::kQuantizeLinear, {m}, {q2}, {static_cast<int64_t>(DType::kUInt8)});
  int32_t y2 = b.activation("y2", shape);
  b.op(OpCode::kDequantizeLinear, {q2}, {y2});
  int32_t q3 = b.activation("q3", shape, DType::kUInt8);
  b.quantize(q3, {0.5f, 1.f}, {0, 255}, 0);  // along the batch axis
  b.op(OpCode::kQuantizeLinear, {m}, {q3}, {static_cast<int64_t>(DType::kUInt8)});
  int32_t y3 = b.activation("y3", shape);
  b.op(OpCode::kDequantizeLinear, {q3}, {y3});
  b.inputs({m}).outputs({y1, y2, y3});
  // Far past the int8 range, with NaN, infinities and ties in it.
  CHECK(compare_backends(b, 0.f, [](std::vector<std::vector<float>>& inputs) {
          std::vector<float>& x = inputs[0];
          for (size_t i = 0; i < x.size(); ++i) x[i] *= 40.f;
          x[0] = NAN, x[7] = INFINITY, x[30] = -INFINITY, x[50] = 1e30f, x[51] = 0.f, x[52] = 0.25f, x[53] = -0.75f;
          x[200] = 2.5f, x[201] = 3.5f, x[210] = NAN;
        }) == 6);
}

TEST_CASE("own kernels: GroupNorm, InstanceNorm and nearest Resize channels-first (as around int8 convolutions)") {
  ModelBuilder b;
  b.graph("main");
  int32_t x = b.activation("x", {2, 8, 6, 5});
  int32_t gamma = b.constant("gamma", {8}, random_values(8, 42));
  int32_t beta = b.constant("beta", {8}, random_values(8, 43));
  int32_t g = b.activation("g", {2, 8, 6, 5});
  b.op(OpCode::kGroupNorm, {x, gamma, beta}, {g}, {4}, {1e-5f});
  int32_t up = b.activation("up", {2, 8, 12, 10});
  b.op(OpCode::kResize, {g}, {up}, {params::kResizeNearestMode, params::kAsymmetric, params::kNearestFloor, 12, 10},
       {2.f, 2.f});
  int32_t n = b.activation("n", {2, 8, 12, 10});
  b.op(OpCode::kInstanceNorm, {up, gamma, beta}, {n}, {}, {1e-5f});
  int32_t frac = b.activation("frac", {2, 8, 17, 9});
  b.op(OpCode::kResize, {n}, {frac}, {params::kResizeNearestMode, params::kHalfPixel, params::kRoundPreferFloor, 17, 9},
       {1.4f, 0.9f});
  // Rank 3, a plane of 37 (vector lanes and a tail), one group.
  int32_t s = b.activation("s", {3, 4, 37});
  int32_t gamma4 = b.constant("gamma4", {4}, random_values(4, 44));
  int32_t beta4 = b.constant("beta4", {4}, random_values(4, 45));
  int32_t sn = b.activation("sn", {3, 4, 37});
  b.op(OpCode::kGroupNorm, {s, gamma4, beta4}, {sn}, {1}, {1e-5f});
  b.inputs({x, s}).outputs({frac, sn});
  CHECK(compare_backends(b) == 5);
}

TEST_CASE("XNNPACK constant Pad: inside a channels-last chain and on a plain tensor; other modes stay reference") {
  {
    ModelBuilder b;
    b.graph("main");
    int32_t x = b.activation("x", {2, 3, 5, 4});
    int32_t w = b.constant("w", {4, 3, 1, 1}, random_values(12, 8, 0.3f));
    int32_t c = b.activation("c", {2, 4, 5, 4});
    b.op(OpCode::kConv2d, {x, w}, {c}, {1, 1, 1, 1, 0, 0, 0, 0, 1});
    int32_t p = b.activation("p", {2, 6, 8, 5});
    // Pads begin {0, 1, 2, 0}, end {0, 1, 1, 1}, value 0.5.
    b.op(OpCode::kPad, {c}, {p}, {params::kPadConstant, 0, 1, 2, 0, 0, 1, 1, 1}, {0.5f});
    int32_t w2 = b.constant("w2", {3, 6, 3, 3}, random_values(162, 9, 0.3f));
    int32_t y = b.activation("y", {2, 3, 6, 3});
    b.op(OpCode::kConv2d, {p, w2}, {y}, {1, 1, 1, 1, 0, 0, 0, 0, 1});
    b.inputs({x}).outputs({y});
    CHECK(compare_backends(b) == 3);
  }
  {
    ModelBuilder b;
    b.graph("main");
    int32_t x = b.activation("x", {3, 7});
    int32_t y = b.activation("y", {4, 10});
    b.op(OpCode::kPad, {x}, {y}, {params::kPadConstant, 1, 2, 0, 1}, {-2.f});
    b.inputs({x}).outputs({y});
    CHECK(compare_backends(b) == 1);
  }
  {
    ModelBuilder b;
    b.graph("main");
    int32_t x = b.activation("x", {3, 7});
    int32_t y = b.activation("y", {3, 9});
    b.op(OpCode::kPad, {x}, {y}, {params::kPadReflect, 0, 1, 0, 1}, {0.f});
    b.inputs({x}).outputs({y});
    CHECK(compare_backends(b) == 0);
  }
}

TEST_CASE("channels-last GroupNorm and InstanceNorm: blocks of 16 channels and a tail, batch 2") {
  for (int64_t channels : {40, 37}) {
    CAPTURE(channels);
    ModelBuilder b;
    b.graph("main");
    int32_t x = b.activation("x", {2, 3, 9, 7});
    int32_t w = b.constant("w", {channels, 3, 3, 3}, random_values(static_cast<size_t>(channels) * 27, 21, 0.3f));
    int32_t c = b.activation("c", {2, channels, 9, 7});
    b.op(OpCode::kConv2d, {x, w}, {c}, {1, 1, 1, 1, 1, 1, 1, 1, 1});
    int32_t gamma = b.constant("gamma", {channels}, random_values(static_cast<size_t>(channels), 22));
    int32_t beta = b.constant("beta", {channels}, random_values(static_cast<size_t>(channels), 23));
    int32_t g = b.activation("g", {2, channels, 9, 7});
    if (channels == 40)
      b.op(OpCode::kGroupNorm, {c, gamma, beta}, {g}, {5}, {1e-5f});
    else
      b.op(OpCode::kInstanceNorm, {c, gamma, beta}, {g}, {}, {1e-5f});
    int32_t w2 = b.constant("w2", {4, channels, 1, 1}, random_values(static_cast<size_t>(channels) * 4, 24, 0.3f));
    int32_t y = b.activation("y", {2, 4, 9, 7});
    b.op(OpCode::kConv2d, {g, w2}, {y}, {1, 1, 1, 1, 0, 0, 0, 0, 1});
    b.inputs({x}).outputs({y});
    CHECK(compare_backends(b) == 3);
  }
}

TEST_CASE("a channels-last Concat of an FPN's branches: tiles of pixels on the worker threads, odd channel counts") {
  // Three convs (channels-last) concatenated over 2 x 41 x 37 pixels: more
  // than two tiles of 1024, the last one partial.
  ModelBuilder b;
  b.graph("main");
  int32_t x = b.activation("x", {2, 4, 41, 37});
  std::vector<int32_t> branches;
  const int64_t widths[] = {24, 5, 16};
  for (int i = 0; i < 3; ++i) {
    const int64_t c = widths[i];
    int32_t w = b.constant("w" + std::to_string(i), {c, 4, 1, 1}, random_values(static_cast<size_t>(c * 4), 20 + i, 0.5f));
    int32_t y = b.activation("y" + std::to_string(i), {2, c, 41, 37});
    b.op(OpCode::kConv2d, {x, w}, {y}, {1, 1, 1, 1, 0, 0, 0, 0, 1});
    branches.push_back(y);
  }
  int32_t cat = b.activation("cat", {2, 45, 41, 37});
  b.op(OpCode::kConcat, branches, {cat}, {1});
  int32_t w = b.constant("wo", {8, 45, 1, 1}, random_values(8 * 45, 30, 0.3f));
  int32_t out = b.activation("out", {2, 8, 41, 37});
  b.op(OpCode::kConv2d, {cat, w}, {out}, {1, 1, 1, 1, 0, 0, 0, 0, 1});
  b.inputs({x}).outputs({out});
  CHECK(compare_backends(b) == 5);
}

TEST_CASE("XNNPACK layout chains: conv, GroupNorm, SiLU, skip Concat, residual Add, pooling, then NCHW-only ops") {
  ModelBuilder b;
  b.graph("main");
  int32_t x = b.activation("x", {2, 3, 8, 8});
  int32_t w1 = b.constant("w1", {8, 3, 3, 3}, random_values(8 * 27, 11, 0.3f));
  int32_t c1 = b.activation("c1", {2, 8, 8, 8});
  b.op(OpCode::kConv2d, {x, w1}, {c1}, {1, 1, 1, 1, 1, 1, 1, 1, 1});
  int32_t gamma = b.constant("gamma", {8}, random_values(8, 12));
  int32_t beta = b.constant("beta", {8}, random_values(8, 13));
  int32_t g1 = b.activation("g1", {2, 8, 8, 8});
  b.op(OpCode::kGroupNorm, {c1, gamma, beta}, {g1}, {2}, {1e-5f});
  int32_t s1 = b.activation("s1", {2, 8, 8, 8});
  b.op(OpCode::kSilu, {g1}, {s1});
  int32_t w2 = b.constant("w2", {8, 8, 3, 3}, random_values(8 * 72, 14, 0.2f));
  int32_t c2 = b.activation("c2", {2, 8, 8, 8});
  b.op(OpCode::kConv2d, {s1, w2}, {c2}, {1, 1, 1, 1, 1, 1, 1, 1, 1});
  int32_t r = b.activation("r", {2, 8, 8, 8});
  b.op(OpCode::kAdd, {c2, c1}, {r});  // residual: same shapes, stays channels-last
  int32_t temb = b.activation("temb", {2, 8, 1, 1});  // a per-item channel vector, as a timestep embedding
  int32_t rt = b.activation("rt", {2, 8, 8, 8});
  b.op(OpCode::kAdd, {r, temb}, {rt});
  int32_t half = b.constant("half", {1}, {0.5f});
  int32_t m = b.activation("m", {2, 8, 8, 8});
  b.op(OpCode::kMul, {rt, half}, {m});
  int32_t cat = b.activation("cat", {2, 16, 8, 8});
  b.op(OpCode::kConcat, {m, c1}, {cat}, {1});
  int32_t in_gamma = b.constant("in_gamma", {16}, random_values(16, 15));
  int32_t in_beta = b.constant("in_beta", {16}, random_values(16, 16));
  int32_t n = b.activation("n", {2, 16, 8, 8});
  b.op(OpCode::kInstanceNorm, {cat, in_gamma, in_beta}, {n}, {}, {1e-5f});
  int32_t p = b.activation("p", {2, 16, 4, 4});
  b.op(OpCode::kMaxPool2d, {n, }, {p}, {2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 0, 0});
  int32_t a = b.activation("a", {2, 16, 4, 4});
  b.op(OpCode::kAveragePool2d, {p}, {a}, {3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0});
  int32_t per_channel = b.constant("per_channel", {1, 16, 1, 1}, random_values(16, 17));
  int32_t biased = b.activation("biased", {2, 16, 4, 4});
  b.op(OpCode::kAdd, {a, per_channel}, {biased});  // broadcasts over channels: NCHW
  int32_t flat = b.activation("flat", {2, 256});
  b.op(OpCode::kReshape, {biased}, {flat}, {2, 256});
  int32_t fw = b.constant("fw", {10, 256}, random_values(2560, 18, 0.1f));
  int32_t fb = b.constant("fb", {10}, random_values(10, 19));
  int32_t logits = b.activation("logits", {2, 10});
  b.op(OpCode::kFullyConnected, {flat, fw, fb}, {logits}, {}, {}, ActivationKind::kTanh);
  int32_t probs = b.activation("probs", {2, 10});
  b.op(OpCode::kSoftmax, {logits}, {probs}, {1, 2});
  b.inputs({x, temb}).outputs({probs, c2});
  CHECK(compare_backends(b) >= 13);
}

TEST_CASE("XNNPACK MatMul with constant weights, broadcasting binary ops, Min/Max, unary functions") {
  ModelBuilder b;
  b.graph("main");
  int32_t x = b.activation("x", {3, 4, 6});
  int32_t wm = b.constant("wm", {6, 5}, random_values(30, 21));
  int32_t y = b.activation("y", {3, 4, 5});
  b.op(OpCode::kMatMul, {x, wm}, {y});
  int32_t row = b.constant("row", {5}, random_values(5, 22));
  int32_t s = b.activation("s", {3, 4, 5});
  b.op(OpCode::kSub, {y, row}, {s});
  int32_t col = b.activation("col", {3, 4, 1});
  int32_t d = b.activation("d", {3, 4, 5});
  b.op(OpCode::kDiv, {s, col}, {d});
  int32_t lo = b.activation("lo", {3, 4, 5});
  b.op(OpCode::kMin, {d, y}, {lo}, {}, {}, ActivationKind::kRelu);
  int32_t hi = b.activation("hi", {3, 4, 5});
  b.op(OpCode::kMax, {lo, s}, {hi});
  int32_t e = b.activation("e", {3, 4, 5});
  b.op(OpCode::kExp, {hi}, {e});
  int32_t t = b.activation("t", {3, 4, 5});
  b.op(OpCode::kTanh, {e}, {t});
  int32_t g = b.activation("g", {3, 4, 5});
  b.op(OpCode::kGelu, {t}, {g}, {1});
  int32_t ge = b.activation("ge", {3, 4, 5});
  b.op(OpCode::kGelu, {g}, {ge}, {0});
  int32_t ab = b.activation("ab", {3, 4, 5});
  b.op(OpCode::kAbs, {ge}, {ab});
  int32_t sq = b.activation("sq", {3, 4, 5});
  b.op(OpCode::kSqrt, {ab}, {sq});
  int32_t lr = b.activation("lr", {3, 4, 5});
  b.op(OpCode::kLeakyRelu, {s}, {lr}, {}, {0.1f});
  int32_t cl = b.activation("cl", {3, 4, 5});
  b.op(OpCode::kClip, {lr}, {cl}, {}, {-0.5f, 0.7f});
  b.inputs({x, col}).outputs({sq, cl});
  CHECK(compare_backends(b) == 13);
}

TEST_CASE("own kernels: attention's MatMul of two activations (batches, broadcast, tails), then Softmax") {
  ModelBuilder b;
  b.graph("main");
  int32_t q = b.activation("q", {2, 3, 7, 8});
  int32_t kt = b.activation("kt", {2, 3, 8, 21});
  int32_t scores = b.activation("scores", {2, 3, 7, 21});
  b.op(OpCode::kMatMul, {q, kt}, {scores});
  int32_t weights = b.activation("weights", {2, 3, 7, 21});
  b.op(OpCode::kSoftmax, {scores}, {weights}, {3, 4});
  int32_t v = b.activation("v", {21, 5});  // one matrix for every batch
  int32_t out = b.activation("out", {2, 3, 7, 5});
  b.op(OpCode::kMatMul, {weights, v}, {out});
  int32_t row = b.activation("row", {1, 1, 4, 7});  // broadcast A
  int32_t mixed = b.activation("mixed", {2, 3, 4, 5});
  b.op(OpCode::kMatMul, {row, out}, {mixed});
  b.inputs({q, kt, v, row}).outputs({mixed});
  CHECK(compare_backends(b) == 4);
}

TEST_CASE("attention's scores: MatMul, Mul by a constant, Softmax fused into the product's chunks of rows") {
  struct Case {
    int64_t m, n;
    bool mul;            // the Mul by 1/sqrt(d) between
    bool scalar;         // its constant is one value (else a row: not fused)
    bool fused;
  };
  const Case cases[] = {
      {70, 33, true, true, true},     // two chunks of rows (64 + 6), a column tail
      {70, 40, false, false, true},   // no Mul: MatMul then Softmax
      {70, 33, true, false, false},   // a per-column constant: the three ops as they are
  };
  for (const Case& c : cases) {
    CAPTURE(c.m);
    CAPTURE(c.mul);
    ModelBuilder b;
    b.graph("main");
    int32_t q = b.activation("q", {2, c.m, 8});
    int32_t kt = b.activation("kt", {2, 8, c.n});
    int32_t scores = b.activation("scores", {2, c.m, c.n});
    b.op(OpCode::kMatMul, {q, kt}, {scores});
    int32_t scaled = scores;
    if (c.mul) {
      int32_t s = c.scalar ? b.constant("s", {1}, {0.35355339f}) : b.constant("s", {c.n}, random_values(c.n, 41));
      scaled = b.activation("scaled", {2, c.m, c.n});
      b.op(OpCode::kMul, {scores, s}, {scaled});
    }
    int32_t weights = b.activation("weights", {2, c.m, c.n});
    b.op(OpCode::kSoftmax, {scaled}, {weights}, {2, 3});
    int32_t v = b.activation("v", {2, c.n, 8});
    int32_t out = b.activation("out", {2, c.m, 8});
    b.op(OpCode::kMatMul, {weights, v}, {out});
    // q and kt read again at the end: the plan cannot give the Softmax
    // their memory (the fusion would then leave the ops as they are).
    int32_t sum = b.activation("sum", {2, c.m, 8});
    b.op(OpCode::kAdd, {out, q}, {sum});
    int32_t kt_again = b.activation("kt_again", {2, 8, c.n});
    b.op(OpCode::kRelu, {kt}, {kt_again});
    b.inputs({q, kt, v}).outputs({sum, kt_again});
    CHECK(compare_backends(b) == (c.mul ? 6 : 5));
    AlignedBytes bytes(b.build());
    Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
    REQUIRE(model.ok());
    SessionOptions options;
    options.backend = Backend::kXnnpack;
    Session session;
    REQUIRE(session.prepare(*model, 0, options).is_ok());
    const size_t softmax = c.mul ? 2 : 1;
    CHECK(std::string(session.operator_executor(0, softmax)) == (c.fused ? "fused" : "xnnpack"));
    if (c.mul) CHECK(std::string(session.operator_executor(0, 1)) == (c.fused ? "fused" : "xnnpack"));
  }
}

TEST_CASE("own kernels: MatMul's last columns through the padded panel (head size 36), and past its K") {
  for (int64_t k : {int64_t{100}, int64_t{600}}) {  // 600: longer than the panel, the plain loops
    CAPTURE(k);
    ModelBuilder b;
    b.graph("main");
    int32_t a = b.activation("a", {4, 9, k});
    int32_t v = b.activation("v", {4, k, 36});
    int32_t out = b.activation("out", {4, 9, 36});
    b.op(OpCode::kMatMul, {a, v}, {out});
    b.inputs({a, v}).outputs({out});
    CHECK(compare_backends(b) == 1);
  }
}

TEST_CASE("own kernels: LogSoftmax over the last axis (a recognizer's output), rows of 1 to 100 values") {
  for (int64_t cols : {int64_t{1}, int64_t{17}, int64_t{33}, int64_t{100}}) {
    CAPTURE(cols);
    ModelBuilder b;
    b.graph("main");
    int32_t x = b.activation("x", {3, 5, cols});
    int32_t y = b.activation("y", {3, 5, cols});
    b.op(OpCode::kLogSoftmax, {x}, {y}, {2, 3});
    b.inputs({x}).outputs({y});
    CHECK(compare_backends(b, 1e-5f, [](std::vector<std::vector<float>>& inputs) {
            for (size_t i = 0; i < inputs[0].size(); ++i) inputs[0][i] = 30.f * inputs[0][i] + (i % 7 == 0 ? 50.f : 0.f);
          }) == 1);
  }
}

TEST_CASE("own kernels: Transposes that are batches of matrix transposes; others stay reference") {
  struct Case {
    std::vector<int64_t> in, perm;
    bool accelerated;
  };
  const Case cases[] = {
      {{2, 8, 5}, {0, 2, 1}, true},          // attention's [N, C, HW] -> [N, HW, C]
      {{3, 4, 5, 6}, {0, 2, 3, 1}, true},    // NCHW -> NHWC: (H, W) stay neighbours
      {{3, 4, 5, 6}, {0, 3, 1, 2}, true},    // NHWC -> NCHW
      {{7, 9}, {1, 0}, true},
      {{1, 4, 1, 6}, {3, 1, 0, 2}, true},    // unit dims do not count
      {{40, 2, 1, 256}, {0, 2, 1, 3}, true}, // an LSTM's [seq, dirs, 1, hidden] -> [seq, 1, dirs, hidden]: a copy
      {{5, 1, 6}, {1, 0, 2}, true},          // a unit dim moved: a copy
      {{2, 3, 4}, {0, 1, 2}, true},          // a copy
      {{2, 3, 4, 5}, {1, 0, 3, 2}, false},   // two swaps
      {{2, 3, 4}, {2, 0, 1}, true},          // [2*3, 4] -> [4, 2*3]
      {{2, 3, 4}, {1, 2, 0}, true},
      {{2, 3, 4}, {2, 1, 0}, false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.perm.size());
    ModelBuilder b;
    b.graph("main");
    int32_t x = b.activation("x", c.in);
    std::vector<int64_t> out;
    for (int64_t axis : c.perm) out.push_back(c.in[static_cast<size_t>(axis)]);
    int32_t y = b.activation("y", out);
    b.op(OpCode::kTranspose, {x}, {y}, c.perm);
    b.inputs({x}).outputs({y});
    CHECK(compare_backends(b, 0.f) == (c.accelerated ? 1 : 0));
  }
}

TEST_CASE("own kernels: large element-wise ops and unfused activations run in tiles on the worker threads") {
  ModelBuilder b;
  b.graph("main");
  int32_t x = b.activation("x", {400, 64});
  int32_t w = b.constant("w", {100, 64}, random_values(6400, 51, 0.2f));
  int32_t h = b.activation("h", {400, 100});  // 40,000 outputs, tanh after XNNPACK's product
  b.op(OpCode::kFullyConnected, {x, w}, {h}, {}, {}, ActivationKind::kTanh);
  int32_t s = b.activation("s", {400, 100});
  b.op(OpCode::kSilu, {h}, {s});
  int32_t l = b.activation("l", {400, 100});
  b.op(OpCode::kSoftplus, {s}, {l});
  b.inputs({x}).outputs({l});
  CHECK(compare_backends(b) == 3);
}

TEST_CASE("own kernels: LayerNorm, contiguous reductions and the transcendental unary ops") {
  ModelBuilder b;
  b.graph("main");
  int32_t x = b.activation("x", {3, 5, 20});
  int32_t gamma = b.constant("gamma", {20}, random_values(20, 31));
  int32_t beta = b.constant("beta", {20}, random_values(20, 32));
  int32_t ln = b.activation("ln", {3, 5, 20});
  b.op(OpCode::kLayerNorm, {x, gamma, beta}, {ln}, {2}, {1e-5f});
  int32_t gamma2 = b.constant("gamma2", {5, 20}, random_values(100, 33));
  int32_t ln2 = b.activation("ln2", {3, 5, 20});
  b.op(OpCode::kLayerNorm, {ln, gamma2}, {ln2}, {1}, {1e-3f});
  int32_t mean = b.activation("mean", {3, 5, 1});
  b.op(OpCode::kReduceMean, {ln2}, {mean}, {1, 2});
  int32_t sum = b.activation("sum", {3});
  b.op(OpCode::kReduceSum, {ln2}, {sum}, {0, 1, 2});
  int32_t max = b.activation("max", {3, 20});
  b.op(OpCode::kReduceMax, {ln2}, {max}, {0, 1});
  int32_t min = b.activation("min", {1, 1, 1});
  b.op(OpCode::kReduceMin, {ln2}, {min}, {1});
  int32_t soft = b.activation("soft", {3, 20});
  b.op(OpCode::kSoftplus, {max}, {soft});
  int32_t log = b.activation("log", {3, 20});
  b.op(OpCode::kLog, {soft}, {log});
  int32_t sin = b.activation("sin", {3, 20});
  b.op(OpCode::kSin, {log}, {sin});
  int32_t elu = b.activation("elu", {3, 20});
  b.op(OpCode::kElu, {sin}, {elu}, {}, {0.5f});
  int32_t erf = b.activation("erf", {3, 20});
  b.op(OpCode::kErf, {elu}, {erf});
  // Not contiguous axes: the reference kernel.
  int32_t spread = b.activation("spread", {5});
  b.op(OpCode::kReduceSum, {ln2}, {spread}, {0, 0, 2});
  b.inputs({x}).outputs({mean, sum, erf, min, spread});
  CHECK(compare_backends(b) == 11);
}

TEST_CASE("XNNPACK packs weights shared by several ops once, and each op still computes its own product") {
  auto build = [](bool shared) {
    ModelBuilder b;
    b.graph("main");
    int32_t x = b.activation("x", {3, 40});
    const std::vector<float> values = random_values(40 * 40, 41, 0.2f);
    int32_t w = b.constant("w", {40, 40}, values);
    int32_t w2 = shared ? w : b.constant("w2", {40, 40}, values);
    int32_t bias = b.constant("bias", {40}, random_values(40, 42));
    int32_t h = b.activation("h", {3, 40});
    b.op(OpCode::kFullyConnected, {x, w, bias}, {h}, {}, {}, ActivationKind::kTanh);
    int32_t h2 = b.activation("h2", {3, 40});
    b.op(OpCode::kFullyConnected, {h, w2, bias}, {h2}, {}, {}, ActivationKind::kTanh);
    int32_t h3 = b.activation("h3", {3, 40});
    b.op(OpCode::kFullyConnected, {h2, w, bias}, {h3}, {}, {}, ActivationKind::kRelu);  // same weights, another clamp
    b.inputs({x}).outputs({h3});
    return b;
  };
  CHECK(compare_backends(build(true)) == 3);
  CHECK(compare_backends(build(false)) == 3);
  auto packed_bytes = [](const ModelBuilder& builder) {
    AlignedBytes bytes(builder.build());
    Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
    REQUIRE(model.ok());
    SessionOptions options;
    options.backend = Backend::kXnnpack;
    Session session;
    REQUIRE(session.prepare(*model, 0, options).is_ok());
    return session.backend_bytes();
  };
  const size_t shared = packed_bytes(build(true)), distinct = packed_bytes(build(false));
  CAPTURE(shared);
  CAPTURE(distinct);
  // Three ops, two packings (the relu clamp is part of XNNPACK's operator) against three.
  CHECK(shared * 5 < distinct * 4);
}

TEST_CASE("XNNPACK falls back to the reference kernels where it differs, and says so") {
  // ceil_mode pooling and count_include_pad averaging with padding.
  ModelBuilder b;
  b.graph("main");
  int32_t x = b.activation("x", {1, 4, 7, 7});
  int32_t p = b.activation("p", {1, 4, 4, 4});
  b.op(OpCode::kMaxPool2d, {x}, {p}, {2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 1, 0});
  int32_t a = b.activation("a", {1, 4, 4, 4});
  b.op(OpCode::kAveragePool2d, {p}, {a}, {3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1});
  b.inputs({x}).outputs({a});
  CHECK(compare_backends(b) == 0);
}

TEST_CASE("the XNNPACK backend reports its kernels and keeps the packed weights in the caller's arena") {
  ConvCase c{1, 16, 32, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, true, ActivationKind::kRelu};
  AlignedBytes bytes(conv_model(c).build());
  Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
  REQUIRE(model.ok());
  SessionOptions options;
  options.backend = Backend::kXnnpack;
  options.threads = 1;
  Result<size_t> fast = Session::arena_bytes_needed(*model, 0, options);
  options.backend = Backend::kReference;
  Result<size_t> reference = Session::arena_bytes_needed(*model, 0, options);
  REQUIRE(fast.ok());
  REQUIRE(reference.ok());
  // The packed weights (16*32*9 floats, padded to XNNPACK's tiles) are part of the arena.
  CHECK(*fast >= *reference + 16 * 32 * 9 * sizeof(float));
  options.backend = Backend::kXnnpack;
  Session session;
  REQUIRE(session.prepare(*model, 0, options).is_ok());
  CHECK(std::strcmp(session.operator_executor(0, 0), "xnnpack") == 0);
  CHECK(session.operator_conversions(0, 0) == 2);  // NCHW graph input and output
  CHECK(session.threads() == 1);
}
#endif

#if defined(EDGEGEN_WITH_XNNPACK)
TEST_CASE("XNNPACK chains keep nearest upsampling channels-last (integer and fractional scales)") {
  struct Case {
    int64_t out_h, out_w, transform, rounding;
    float scale_h, scale_w;
  };
  const Case cases[] = {{10, 10, params::kAsymmetric, params::kNearestFloor, 2.f, 2.f},
                        {7, 9, params::kHalfPixel, params::kRoundPreferFloor, 1.4f, 1.8f}};
  for (const Case& c : cases) {
    CAPTURE(c.out_h);
    ModelBuilder b;
    b.graph("main");
    int32_t x = b.activation("x", {2, 3, 5, 5});
    int32_t w = b.constant("w", {6, 3, 3, 3}, random_values(6 * 27, 31, 0.3f));
    int32_t c1 = b.activation("c1", {2, 6, 5, 5});
    b.op(OpCode::kConv2d, {x, w}, {c1}, {1, 1, 1, 1, 1, 1, 1, 1, 1});
    int32_t up = b.activation("up", {2, 6, c.out_h, c.out_w});
    b.op(OpCode::kResize, {c1}, {up}, {params::kResizeNearestMode, c.transform, c.rounding, c.out_h, c.out_w},
         {c.scale_h, c.scale_w});
    int32_t w2 = b.constant("w2", {4, 6, 3, 3}, random_values(4 * 54, 32, 0.3f));
    int32_t y = b.activation("y", {2, 4, c.out_h, c.out_w});
    b.op(OpCode::kConv2d, {up, w2}, {y}, {1, 1, 1, 1, 1, 1, 1, 1, 1});
    b.inputs({x}).outputs({y});
    CHECK(compare_backends(b) == 3);
  }
}
#endif

#if defined(EDGEGEN_WITH_XNNPACK)
TEST_CASE("a session can be prepared again, on its own arena or the caller's, with either backend") {
  ConvCase c{1, 4, 8, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, true, ActivationKind::kRelu};
  AlignedBytes bytes(conv_model(c).build());
  Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
  REQUIRE(model.ok());
  Session session;
  std::vector<uint8_t> arena;
  for (Backend backend : {Backend::kXnnpack, Backend::kXnnpack, Backend::kReference, Backend::kXnnpack}) {
    SessionOptions options;
    options.backend = backend;
    options.threads = 2;
    REQUIRE(session.prepare(*model, 0, options).is_ok());  // frees the previous owned arena
    CHECK(session.backend() == backend);
    REQUIRE(session.run(0).is_ok());
    arena.assign(*Session::arena_bytes_needed(*model, 0, options), 0);
    REQUIRE(session.prepare(*model, arena.data(), arena.size(), 0, options).is_ok());
    REQUIRE(session.run(0).is_ok());
  }
}
#endif

#if defined(EDGEGEN_WITH_XNNPACK)
namespace {

struct RecurrentCase {
  OpCode op;
  int64_t direction, seq, batch, input, hidden;
  bool bias, initial_state, peepholes;
  int64_t linear_before_reset;
  float clip, weight_scale;
  std::vector<int64_t> lengths;  // constant sequence lengths (the reference driver's path), or none
};

// One LSTM / GRU / RNN op; initial states are graph inputs (random values).
ModelBuilder recurrent_model(const RecurrentCase& c) {
  const bool lstm = c.op == OpCode::kLSTM;
  const int64_t gates = lstm ? 4 : c.op == OpCode::kGRU ? 3 : 1, dirs = c.direction == 2 ? 2 : 1;
  const int64_t rows = gates * c.hidden;
  ModelBuilder b;
  b.graph("main");
  const int32_t x = b.activation("x", {c.seq, c.batch, c.input});
  const float w_scale = c.weight_scale / std::sqrt(static_cast<float>(c.input));
  const float r_scale = c.weight_scale / std::sqrt(static_cast<float>(c.hidden));
  const int32_t w = b.constant("w", {dirs, rows, c.input}, random_values(count_of({dirs, rows, c.input}), 41, w_scale));
  const int32_t r = b.constant("r", {dirs, rows, c.hidden}, random_values(count_of({dirs, rows, c.hidden}), 42, r_scale));
  std::vector<int32_t> inputs = {x, w, r, -1, -1, -1};
  if (c.bias) inputs[3] = b.constant("b", {dirs, 2 * rows}, random_values(count_of({dirs, 2 * rows}), 43, 0.5f));
  std::vector<int32_t> graph_inputs = {x};
  if (c.initial_state) {
    inputs[5] = b.activation("h0", {dirs, c.batch, c.hidden});
    graph_inputs.push_back(inputs[5]);
  }
  if (lstm) {
    inputs.push_back(-1);
    inputs.push_back(-1);
    if (c.initial_state) {
      inputs[6] = b.activation("c0", {dirs, c.batch, c.hidden});
      graph_inputs.push_back(inputs[6]);
    }
    if (c.peepholes) inputs[7] = b.constant("p", {dirs, 3 * c.hidden}, random_values(count_of({dirs, 3 * c.hidden}), 44, 0.5f));
  }
  std::vector<int32_t> outputs = {b.activation("y", {c.seq, dirs, c.batch, c.hidden}),
                                  b.activation("y_h", {dirs, c.batch, c.hidden})};
  if (lstm) outputs.push_back(b.activation("y_c", {dirs, c.batch, c.hidden}));
  std::vector<int64_t> ints = {c.direction, c.hidden, c.linear_before_reset, c.lengths.empty() ? 0 : 1};
  ints.insert(ints.end(), c.lengths.begin(), c.lengths.end());
  b.op(c.op, inputs, outputs, ints, {c.clip});
  b.inputs(graph_inputs).outputs(outputs);
  return b;
}

}  // namespace

TEST_CASE("recurrent layers: LSTM, GRU and RNN match the reference kernels, the same bits at 1 and 2 threads") {
  using O = OpCode;
  const RecurrentCase cases[] = {
      // op, direction, seq, batch, input, hidden, bias, initial state, peepholes, lbr, clip, scale
      {O::kLSTM, 0, 5, 1, 6, 7, true, false, false, 0, 0.f, 1.f, {}},
      {O::kLSTM, 1, 4, 3, 5, 33, true, true, false, 0, 0.f, 1.5f, {}},
      {O::kLSTM, 2, 6, 2, 9, 1, false, true, true, 0, 0.f, 1.f, {}},
      {O::kLSTM, 2, 3, 1, 40, 250, true, true, true, 0, 0.f, 1.f, {}},
      {O::kLSTM, 0, 4, 2, 8, 16, true, false, false, 0, 0.5f, 3.f, {}},  // clip, saturating gates
      {O::kLSTM, 2, 1, 1, 5, 64, true, true, false, 0, 0.f, 1.f, {}},    // one step (streaming)
      {O::kGRU, 0, 5, 1, 6, 7, true, true, false, 1, 0.f, 1.f, {}},
      {O::kGRU, 2, 4, 3, 7, 33, true, true, false, 1, 0.f, 2.f, {}},
      {O::kGRU, 1, 5, 2, 4, 1, false, false, false, 1, 0.f, 1.f, {}},
      {O::kGRU, 0, 3, 1, 16, 250, true, false, false, 1, 0.f, 1.f, {}},
      {O::kGRU, 2, 4, 2, 5, 7, true, true, false, 0, 0.f, 1.5f, {}},  // linear_before_reset = 0
      {O::kGRU, 0, 3, 3, 8, 33, true, false, false, 0, 0.7f, 2.f, {}},
      {O::kRNN, 0, 6, 1, 5, 7, true, false, false, 0, 0.f, 1.f, {}},
      {O::kRNN, 2, 4, 2, 3, 33, false, true, false, 0, 0.f, 1.5f, {}},
      {O::kRNN, 1, 3, 3, 12, 250, true, true, false, 0, 0.3f, 1.f, {}},
      {O::kLSTM, 2, 4, 2, 5, 9, true, true, false, 0, 0.f, 1.f, {4, 2}},  // lengths: the driver's path
  };
  for (const RecurrentCase& c : cases) {
    CAPTURE(op_name(static_cast<uint32_t>(c.op)));
    CAPTURE(c.direction);
    CAPTURE(c.hidden);
    CAPTURE(c.batch);
    CAPTURE(c.linear_before_reset);
    CHECK(compare_backends(recurrent_model(c), 2e-5f) == 1);
  }
}
#endif
