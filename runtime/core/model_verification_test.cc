// Every model file is untrusted: each corruption here must be rejected with
// a Status (and a message), never a crash. Run under AddressSanitizer in CI.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "edgegen/random.h"
#include "edgegen/session.h"
#include "edgegen_generated.h"
#include "testing/model_builder.h"

using namespace edgegen;
using edgegen::testing::AlignedBytes;
using edgegen::testing::ModelBuilder;

namespace {

ModelBuilder conv_model() {
  ModelBuilder builder;
  builder.graph("main");
  int32_t x = builder.activation("x", {1, 2, 5, 5});
  int32_t w = builder.constant("w", {3, 2, 3, 3}, std::vector<float>(54, 0.1f));
  int32_t b = builder.constant("b", {3}, {0.f, 1.f, 2.f});
  int32_t h = builder.activation("h", {1, 3, 5, 5});
  int32_t y = builder.activation("y", {1, 3, 5, 5});
  builder.op(OpCode::kConv2d, {x, w, b}, {h}, {1, 1, 1, 1, 1, 1, 1, 1, 1});
  builder.op(OpCode::kSigmoid, {h}, {y});
  builder.inputs({x}).outputs({y});
  return builder;
}

// Loads and prepares; if both succeed, runs too. Returns the first failure.
Status load_prepare_run(const std::vector<uint8_t>& file) {
  AlignedBytes bytes(file);
  Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
  if (!model.ok()) return model.status();
  Session session;
  Status status = session.prepare(*model);
  if (!status.is_ok()) return status;
  for (size_t i = 0; i < session.num_graphs(); ++i) {
    for (size_t k = 0; k < session.num_inputs(i); ++k) std::memset(session.input(i, k).data, 0, session.input(i, k).bytes());
    status = session.run(i);
    if (!status.is_ok()) return status;
  }
  return Status::ok();
}

void expect_rejected(const std::vector<uint8_t>& file, StatusCode code, const char* fragment) {
  Status status = load_prepare_run(file);
  CHECK_MESSAGE(status.code() == code, "got: ", std::string(status_code_name(status.code())), " ", std::string(status.message()));
  CHECK_MESSAGE(std::strstr(status.message(), fragment) != nullptr, "message: ", std::string(status.message()));
}

}  // namespace

TEST_CASE("the reference conv model itself is valid") {
  Status status = load_prepare_run(conv_model().build());
  CHECK_MESSAGE(status.is_ok(), std::string(status.message()));
}

TEST_CASE("a file truncated at any point is rejected") {
  std::vector<uint8_t> file = conv_model().build();
  for (size_t length = 0; length < file.size(); ++length) {
    std::vector<uint8_t> truncated(file.begin(), file.begin() + static_cast<long>(length));
    Status status = load_prepare_run(truncated);
    REQUIRE_MESSAGE(!status.is_ok(), "accepted a file truncated to ", length, " of ", file.size(), " bytes");
  }
}

TEST_CASE("flipped bytes are rejected or harmless, never a crash") {
  std::vector<uint8_t> file = conv_model().build();
  size_t rejected = 0, accepted = 0;
  // Every byte of the FlatBuffer flipped in three ways, plus random flips.
  for (size_t position = 0; position < file.size(); ++position) {
    for (uint8_t mask : {0x01, 0x80, 0xFF}) {
      std::vector<uint8_t> corrupt = file;
      corrupt[position] ^= mask;
      (load_prepare_run(corrupt).is_ok() ? accepted : rejected)++;
    }
  }
  float noise[512];
  fill_uniform(99, 0, 0, noise, 512);
  for (int trial = 0; trial < 256; ++trial) {
    std::vector<uint8_t> corrupt = file;
    for (int k = 0; k < 4; ++k)
      corrupt[static_cast<size_t>(noise[2 * trial + k % 2] * file.size() + k * 7) % file.size()] ^= 0x5A;
    (load_prepare_run(corrupt).is_ok() ? accepted : rejected)++;
  }
  MESSAGE("rejected " << rejected << ", harmless " << accepted);
  CHECK(rejected > 0);
}

TEST_CASE("a wrong file identifier is named") {
  std::vector<uint8_t> file = conv_model().build();
  std::memcpy(file.data() + 4, "ONNX", 4);
  expect_rejected(file, StatusCode::kInvalidModel, "identifier");
}

TEST_CASE("out-of-range tensor indices are rejected") {
  ModelBuilder builder = conv_model();
  builder.graphs()[0].ops[1].inputs[0] = 99;
  expect_rejected(builder.build(), StatusCode::kInvalidModel, "out of range");
  ModelBuilder outputs = conv_model();
  outputs.graphs()[0].outputs[0] = -3;
  expect_rejected(outputs.build(), StatusCode::kInvalidModel, "out of range");
}

TEST_CASE("huge shapes are rejected") {
  ModelBuilder builder = conv_model();
  builder.graphs()[0].tensors[4].shape = {1 << 20, 1 << 20, 1 << 20, 3};
  expect_rejected(builder.build(), StatusCode::kInvalidModel, "too large");
  ModelBuilder negative = conv_model();
  negative.graphs()[0].tensors[4].shape = {1, 3, -5, 5};
  expect_rejected(negative.build(), StatusCode::kInvalidModel, "negative");
  ModelBuilder rank = conv_model();
  rank.graphs()[0].tensors[4].shape = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  expect_rejected(rank.build(), StatusCode::kInvalidModel, "rank");
}

TEST_CASE("a zero dimension does not let huge ones through") {
  // fuzz_model: GatherElements' strides over [.., 2^40, 2^40] overflowed int64
  // although the tensor has no elements.
  ModelBuilder builder = conv_model();
  builder.graphs()[0].tensors[4].shape = {0, 1 << 20, 1 << 20, 1 << 20};
  expect_rejected(builder.build(), StatusCode::kInvalidModel, "too large");
}

TEST_CASE("an overlapping memory plan is rejected") {
  ModelBuilder builder = conv_model();
  // x, h and y: x and h are live together at step 0; put them on top of each other.
  expect_rejected(builder.build([](std::vector<uint64_t>& offsets, uint64_t&) { offsets[3] = offsets[0]; }),
                  StatusCode::kInvalidModel, "overlap");
  expect_rejected(builder.build([](std::vector<uint64_t>&, uint64_t& arena) { arena = 64; }),
                  StatusCode::kInvalidModel, "outside");
  expect_rejected(builder.build([](std::vector<uint64_t>& offsets, uint64_t&) { offsets[4] += 4; }),
                  StatusCode::kInvalidModel, "aligned");
}

TEST_CASE("declared shapes that contradict the operator are rejected") {
  ModelBuilder builder = conv_model();
  builder.graphs()[0].tensors[3].shape = {1, 3, 4, 4};
  builder.graphs()[0].tensors[4].shape = {1, 3, 4, 4};
  expect_rejected(builder.build(), StatusCode::kInvalidModel, "declares");
}

TEST_CASE("weights whose size does not match their tensor are rejected") {
  ModelBuilder builder = conv_model();
  builder.graphs()[0].tensors[2].data.resize(8);
  expect_rejected(builder.build(), StatusCode::kInvalidModel, "bytes");
}

TEST_CASE("float16 weights of the wrong byte length are refused, naming the tensor and the dtype") {
  ModelBuilder builder = conv_model();
  // 54 weights stored as float16 take 108 bytes; 54 float32 bytes' worth is not that.
  ModelBuilder::TensorSpec& weight = builder.graphs()[0].tensors[1];
  weight.dtype = DType::kFloat16;
  weight.data.assign(108, 0);
  CHECK(load_prepare_run(builder.build()).is_ok());
  weight.data.assign(216, 0);  // the float32 size
  expect_rejected(builder.build(), StatusCode::kInvalidModel, "tensor 'w' needs 108 bytes (54 float16 elements)");
  weight.data.assign(106, 0);
  expect_rejected(builder.build(), StatusCode::kInvalidModel, "holds 106");
}

TEST_CASE("an unknown opcode names the operator") {
  ModelBuilder builder = conv_model();
  builder.graphs()[0].ops[1].opcode = static_cast<OpCode>(9999);
  expect_rejected(builder.build(), StatusCode::kUnsupportedOp, "9999");
}

TEST_CASE("operators out of order are rejected") {
  ModelBuilder builder = conv_model();
  std::swap(builder.graphs()[0].ops[0], builder.graphs()[0].ops[1]);
  expect_rejected(builder.build(), StatusCode::kInvalidModel, "before any operator produces it");
}

TEST_CASE("a newer format version is refused") {
  ModelBuilder builder = conv_model();
  expect_rejected(builder.format_version(7).build(), StatusCode::kUnsupportedVersion, "version 7");
}

TEST_CASE("misaligned model memory is refused with advice") {
  std::vector<uint8_t> file = conv_model().build();
  std::vector<uint8_t> storage(file.size() + 65);
  uint8_t* aligned = storage.data() + (64 - reinterpret_cast<uintptr_t>(storage.data()) % 64) % 64;
  std::memcpy(aligned + 1, file.data(), file.size());
  Result<Model> model = Model::from_buffer(aligned + 1, file.size());
  CHECK(model.status().code() == StatusCode::kInvalidArgument);
  CHECK(std::strstr(model.status().message(), "aligned") != nullptr);
}

// ---------------------------------------------------------------------------
// Corruptions ModelBuilder cannot express, in models built by hand: graph
// "main" is x[1, 4] -> Softmax -> y[1, 4], with a chosen pipeline, optional
// quantization on x, and any one vector of 8-byte scalars written with its
// elements at 4 mod 8, as a corrupt file can have them.

namespace {

namespace fb = flatbuffers;

struct HandModel {
  // "Table.field" as schemas/edgegen.fbs names it; empty: all aligned.
  std::string misaligned_field;
  format::PipelineSpec pipeline_kind = format::PipelineSpec::GraphsOnly;
  format::DType x_dtype = format::DType::Float32;
  bool quantized = false;
  std::vector<float> scales = {0.5f};
  std::vector<int64_t> zero_points = {0};
  int32_t axis = -1;
  std::vector<int64_t> event_shape = {4};  // of the pipeline's items

  std::vector<uint8_t> build() const;
};

// A vector of 8-byte scalars; misaligned, it is written as 4-byte words
// (which the builder aligns to 4 only) with a pad word that puts the first
// element at 4 mod 8.
template <typename T>
fb::Offset<fb::Vector<T>> wide_vector(fb::FlatBufferBuilder& fbb, const std::vector<T>& values, bool misalign) {
  static_assert(sizeof(T) == 8, "8-byte scalars");
  if (!misalign) return fbb.CreateVector(values);
  fbb.StartVector(values.size() * 2 + 1, sizeof(uint32_t));
  // The builder writes back to front: what is pushed first ends up last.
  if (fbb.GetSize() % 8 == 0) fbb.PushElement<uint32_t>(0);
  for (size_t i = values.size(); i-- > 0;) {
    uint64_t bits;
    std::memcpy(&bits, &values[i], sizeof bits);
    fbb.PushElement<uint32_t>(static_cast<uint32_t>(bits >> 32));
    fbb.PushElement<uint32_t>(static_cast<uint32_t>(bits));
  }
  return fb::Offset<fb::Vector<T>>(fbb.EndVector(values.size()));
}

std::vector<uint8_t> HandModel::build() const {
  fb::FlatBufferBuilder fbb;
  fbb.ForceDefaults(true);
  auto misaligned = [&](const char* field) { return misaligned_field == field; };
  const std::vector<int64_t> shape = {1, 4};

  auto quantization = fb::Offset<format::Quantization>();
  if (quantized)
    quantization = format::CreateQuantization(fbb, fbb.CreateVector(scales),
                                              wide_vector(fbb, zero_points, misaligned("Quantization.zero_point")),
                                              axis);
  std::vector<fb::Offset<format::Tensor>> tensors = {
      format::CreateTensor(fbb, fbb.CreateString("x"), wide_vector(fbb, shape, misaligned("Tensor.shape")), x_dtype,
                           0, quantization),
      format::CreateTensor(fbb, fbb.CreateString("y"), fbb.CreateVector(shape), format::DType::Float32, 0)};
  std::vector<int32_t> op_inputs = {0}, op_outputs = {1};
  std::vector<int64_t> softmax_axes = {1, 2};
  std::vector<fb::Offset<format::Operator>> ops = {format::CreateOperator(
      fbb, static_cast<uint32_t>(OpCode::kSoftmax), fbb.CreateVector(op_inputs), fbb.CreateVector(op_outputs),
      wide_vector(fbb, softmax_axes, misaligned("Operator.int_params")), fbb.CreateVector(std::vector<float>{}), 0,
      fbb.CreateString("softmax"))};
  std::vector<uint64_t> offsets = {0, 64};
  auto plan = format::CreateMemoryPlan(fbb, 128, 32, wide_vector(fbb, offsets, misaligned("MemoryPlan.offsets")), 64);
  std::vector<fb::Offset<format::Graph>> graphs = {
      format::CreateGraph(fbb, fbb.CreateString("main"), fbb.CreateVector(tensors), fbb.CreateVector(ops),
                          fbb.CreateVector(op_inputs), fbb.CreateVector(op_outputs), plan)};
  std::vector<fb::Offset<format::Buffer>> buffers = {format::CreateBuffer(fbb, 0, 0)};

  auto event_vector = [&](const char* field) { return wide_vector(fbb, event_shape, misaligned(field)); };
  std::vector<float> range = {0.f, 1.f};
  fb::Offset<void> pipeline;
  format::PipelineSpec pipeline_type = pipeline_kind;
  switch (pipeline_kind) {
    case format::PipelineSpec::DecoderPipeline:
      pipeline = format::CreateDecoderPipeline(fbb, 0, event_vector("DecoderPipeline.latent_shape"),
                                               format::Prior::Normal, fbb.CreateVector(range))
                     .Union();
      break;
    case format::PipelineSpec::VaePipeline:
      pipeline = format::CreateVaePipeline(fbb, 0, 0, event_vector("VaePipeline.latent_shape")).Union();
      break;
    case format::PipelineSpec::FlowPipeline:
      pipeline = format::CreateFlowPipeline(fbb, 0, 0, false, 0, 1, event_vector("FlowPipeline.event_shape")).Union();
      break;
    case format::PipelineSpec::DiffusionPipeline: {
      auto sample_shape = event_vector("DiffusionPipeline.sample_shape");
      format::DiffusionPipelineBuilder diffusion(fbb);
      diffusion.add_sample_shape(sample_shape);
      pipeline = diffusion.Finish().Union();
      break;
    }
    case format::PipelineSpec::AutoregressivePipeline:
      pipeline =
          format::CreateAutoregressivePipeline(fbb, 0, event_vector("AutoregressivePipeline.event_shape")).Union();
      break;
    case format::PipelineSpec::EnergyPipeline:
      pipeline = format::CreateEnergyPipeline(fbb, 0, 0, false, event_vector("EnergyPipeline.event_shape")).Union();
      break;
    default:
      pipeline = format::CreateGraphsOnly(fbb).Union();
      pipeline_type = format::PipelineSpec::GraphsOnly;
      break;
  }
  auto root = format::CreateModel(fbb, kFormatVersion, fbb.CreateString("hand"), fbb.CreateVector(graphs),
                                  fbb.CreateVector(buffers), pipeline_type, pipeline, 0, 0, 1);
  format::FinishModelBuffer(fbb, root);
  return std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

}  // namespace

namespace {

// Every vector of 8-byte scalars in the schema, the pipeline that holds it,
// and what the refusal names.
struct WideField {
  const char* field;
  format::PipelineSpec pipeline;
  const char* message;
};
const WideField kWideFields[] = {
    {"Tensor.shape", format::PipelineSpec::GraphsOnly, "tensor 0 'x': shape"},
    {"Quantization.zero_point", format::PipelineSpec::GraphsOnly, "tensor 0 'x': quantization zero_point"},
    {"Operator.int_params", format::PipelineSpec::GraphsOnly, "operator 0 'softmax': int_params"},
    {"MemoryPlan.offsets", format::PipelineSpec::GraphsOnly, "memory plan offsets"},
    {"DecoderPipeline.latent_shape", format::PipelineSpec::DecoderPipeline, "decoder latent_shape"},
    {"VaePipeline.latent_shape", format::PipelineSpec::VaePipeline, "vae latent_shape"},
    {"FlowPipeline.event_shape", format::PipelineSpec::FlowPipeline, "flow event_shape"},
    {"DiffusionPipeline.sample_shape", format::PipelineSpec::DiffusionPipeline, "diffusion sample_shape"},
    {"AutoregressivePipeline.event_shape", format::PipelineSpec::AutoregressivePipeline, "autoregressive event_shape"},
    {"EnergyPipeline.event_shape", format::PipelineSpec::EnergyPipeline, "energy event_shape"},
};

Status load(const std::vector<uint8_t>& file) {
  AlignedBytes bytes(file);
  return Model::from_buffer(bytes.data(), bytes.size()).status();
}

}  // namespace

TEST_CASE("the hand-built model is valid with every pipeline") {
  HandModel model;
  Status status = load_prepare_run(model.build());
  CHECK_MESSAGE(status.is_ok(), std::string(status.message()));
  for (const WideField& wide : kWideFields) {
    model.pipeline_kind = wide.pipeline;
    model.quantized = true;
    model.x_dtype = format::DType::Int8;
    Status loaded = load(model.build());
    CHECK_MESSAGE(loaded.is_ok(), wide.field, ": ", std::string(loaded.message()));
  }
}

TEST_CASE("every vector of 8-byte scalars is refused when its elements are misaligned") {
  for (const WideField& wide : kWideFields) {
    CAPTURE(std::string(wide.field));
    HandModel model;
    model.misaligned_field = wide.field;
    model.pipeline_kind = wide.pipeline;
    model.quantized = true;
    model.x_dtype = format::DType::Int8;
    expect_rejected(model.build(), StatusCode::kInvalidModel, wide.message);
    expect_rejected(model.build(), StatusCode::kInvalidModel, "not a multiple of 8");
  }
}

// The class, not one file: a field appended to the schema later must be
// added to kWideFields (and so to verify_wide_vectors_aligned in model.cc).
TEST_CASE("the misalignment tests cover every vector of 8-byte scalars in the schema") {
  std::ifstream file(EDGEGEN_SCHEMA_FILE);
  REQUIRE_MESSAGE(file.good(), "cannot read ", EDGEGEN_SCHEMA_FILE);
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  std::set<std::string> in_schema, tested;
  const std::regex table(R"(^\s*(table|struct)\s+(\w+))");
  const std::regex wide(R"(^\s*(\w+)\s*:\s*\[\s*(long|ulong|double|int64|uint64|float64)\s*\])");
  std::string current, line;
  std::istringstream lines(text);
  while (std::getline(lines, line)) {
    std::smatch match;
    if (std::regex_search(line, match, table)) current = match[2];
    else if (std::regex_search(line, match, wide)) in_schema.insert(current + "." + match[1].str());
  }
  for (const WideField& wide : kWideFields) tested.insert(wide.field);
  CHECK(in_schema.size() >= 10);
  for (const std::string& field : in_schema) CHECK_MESSAGE(tested.count(field) == 1, field, " is not tested");
  for (const std::string& field : tested) CHECK_MESSAGE(in_schema.count(field) == 1, field, " is not in the schema");
}

TEST_CASE("a pipeline type without its table is refused") {
  HandModel model;
  model.pipeline_kind = format::PipelineSpec::DecoderPipeline;
  std::vector<uint8_t> file = model.build();
  // Remove the pipeline table from the root's vtable (the field entry -> 0).
  const uint8_t* root = file.data() + fb::ReadScalar<fb::uoffset_t>(file.data());
  uint8_t* vtable = const_cast<uint8_t*>(root) - fb::ReadScalar<fb::soffset_t>(root);
  const fb::voffset_t entry = format::Model::VT_PIPELINE;
  REQUIRE(fb::ReadScalar<fb::voffset_t>(vtable) > entry);
  fb::WriteScalar<fb::voffset_t>(vtable + entry, 0);
  expect_rejected(file, StatusCode::kInvalidModel, "no pipeline table");
}

// Inputs found by fuzzing (fuzz/regressions/fuzz_model/, see README "Fuzzing"):
// each must be refused with a Status, never crash, fault or trip a
// sanitizer. The first came from a fuzzer run outside this repository.
TEST_CASE("model files found by fuzzing are refused") {
  struct Finding {
    const char* file;
    const char* message;
  };
  const Finding findings[] = {
      {"misaligned-int64-shape.egm", "not a multiple of 8"},
      // A decoder latent_shape of huge dims, whose product overflowed int64
      // in Pipeline::configure (found by fuzz/fuzz_model.cc).
      {"latent-shape-product-overflow.egm", "latent_shape"},
      // A tensor of shape [.., 0, .., 2^40, 2^40]: no elements, but its
      // strides overflowed int64 in GatherElements (fuzz/fuzz_model.cc).
      {"zero-dim-huge-strides.egm", "too large"},
  };
  for (const Finding& finding : findings) {
    CAPTURE(std::string(finding.file));
    std::ifstream in(std::string(EDGEGEN_FUZZ_REGRESSIONS_DIR) + "/fuzz_model/" + finding.file, std::ios::binary);
    REQUIRE(in.good());
    std::vector<uint8_t> file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Status status = load_prepare_run(file);
    CHECK(!status.is_ok());
    CHECK_MESSAGE(std::strstr(status.message(), finding.message) != nullptr, "message: ", std::string(status.message()));
  }
}

// Issue 10: corrupt quantization parameters are refused at load.
TEST_CASE("quantization parameters are checked at load") {
  auto quantized = [](format::DType dtype, std::vector<float> scales, std::vector<int64_t> zero_points,
                      int32_t axis = -1) {
    HandModel model;
    model.quantized = true;
    model.x_dtype = dtype;
    model.scales = std::move(scales);
    model.zero_points = std::move(zero_points);
    model.axis = axis;
    return model.build();
  };
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const float denormal = std::numeric_limits<float>::denorm_min();

  SUBCASE("valid parameters load") {
    CHECK(load(quantized(format::DType::Int8, {0.5f}, {-128})).is_ok());
    CHECK(load(quantized(format::DType::Int8, {0.5f}, {127})).is_ok());
    CHECK(load(quantized(format::DType::UInt8, {std::numeric_limits<float>::min()}, {255})).is_ok());
    CHECK(load(quantized(format::DType::Int32, {std::numeric_limits<float>::max()}, {0})).is_ok());
    CHECK(load(quantized(format::DType::Int8, {0.5f, 0.25f, 1.f, 2.f}, {0, 1, -1, 3}, 1)).is_ok());
    // Per-axis scales with one zero point shared by every slice.
    CHECK(load(quantized(format::DType::Int8, {0.5f, 0.25f, 1.f, 2.f}, {0}, 1)).is_ok());
  }
  SUBCASE("zero, negative, NaN, infinite and denormal scales") {
    for (float scale : {0.f, -0.f, -0.5f, nan, inf, -inf, denormal}) {
      CAPTURE(scale);
      expect_rejected(quantized(format::DType::Int8, {scale}, {0}), StatusCode::kInvalidModel,
                      "tensor 'x' quantization scale 0 is");
    }
    expect_rejected(quantized(format::DType::Int8, {0.5f, 0.5f, nan, 0.5f}, {0, 0, 0, 0}, 1),
                    StatusCode::kInvalidModel, "quantization scale 2 is nan");
  }
  SUBCASE("zero points outside the quantized type") {
    expect_rejected(quantized(format::DType::Int8, {0.5f}, {128}), StatusCode::kInvalidModel,
                    "zero point 0 is 128, outside [-128, 127] of int8");
    expect_rejected(quantized(format::DType::Int8, {0.5f}, {-129}), StatusCode::kInvalidModel, "outside [-128, 127]");
    expect_rejected(quantized(format::DType::UInt8, {0.5f}, {-1}), StatusCode::kInvalidModel, "outside [0, 255]");
    expect_rejected(quantized(format::DType::UInt8, {0.5f}, {256}), StatusCode::kInvalidModel, "outside [0, 255]");
    expect_rejected(quantized(format::DType::Int32, {0.5f}, {1}), StatusCode::kInvalidModel, "outside [0, 0] of int32");
    expect_rejected(quantized(format::DType::Int8, {0.5f, 0.5f, 0.5f, 0.5f}, {0, 0, 0, INT64_MIN}, 1),
                    StatusCode::kInvalidModel, "zero point 3 is");
    expect_rejected(quantized(format::DType::Int8, {0.5f, 0.5f, 0.5f, 0.5f}, {200}, 1), StatusCode::kInvalidModel,
                    "zero point 0 is 200");
  }
  SUBCASE("scale arrays of the wrong length") {
    expect_rejected(quantized(format::DType::Int8, {0.5f, 0.5f}, {0}), StatusCode::kInvalidModel,
                    "2 scales and 1 zero points");
    expect_rejected(quantized(format::DType::Int8, {}, {}), StatusCode::kInvalidModel, "0 scales and 0 zero points");
    expect_rejected(quantized(format::DType::Int8, {0.5f, 0.5f, 0.5f, 0.5f}, {0, 0}, 1), StatusCode::kInvalidModel,
                    "4 scales and 2 zero points");
    expect_rejected(quantized(format::DType::Int8, {0.5f, 0.5f}, {0, 0}), StatusCode::kInvalidModel,
                    "per-tensor quantization has 2 scales");
    expect_rejected(quantized(format::DType::Int8, {0.5f, 0.5f, 0.5f}, {0, 0, 0}, 1), StatusCode::kInvalidModel,
                    "does not match axis 1");
    expect_rejected(quantized(format::DType::Int8, {0.5f}, {0}, 2), StatusCode::kInvalidModel,
                    "does not match axis 2");
  }
  SUBCASE("quantization on tensors that are not int8, uint8 or int32") {
    for (format::DType dtype : {format::DType::Float32, format::DType::Float16, format::DType::Int64,
                                format::DType::Bool}) {
      CAPTURE(static_cast<int>(dtype));
      expect_rejected(quantized(dtype, {0.5f}, {0}), StatusCode::kInvalidModel, "only int8, uint8 and int32");
    }
  }
}

TEST_CASE("every pipeline's item shape is checked at load") {
  // Each pipeline sizes its buffers from this shape; the products must not overflow.
  for (format::PipelineSpec kind : {format::PipelineSpec::DecoderPipeline, format::PipelineSpec::VaePipeline,
                                    format::PipelineSpec::FlowPipeline, format::PipelineSpec::DiffusionPipeline,
                                    format::PipelineSpec::AutoregressivePipeline,
                                    format::PipelineSpec::EnergyPipeline}) {
    CAPTURE(static_cast<int>(kind));
    HandModel model;
    model.pipeline_kind = kind;
    model.event_shape = {1 << 30, 1 << 30, 1 << 30};
    expect_rejected(model.build(), StatusCode::kInvalidModel, "too large");
    model.event_shape = {4, 0};
    expect_rejected(model.build(), StatusCode::kInvalidModel, "dimension 0; it must be at least 1");
    model.event_shape = {4, -1};
    expect_rejected(model.build(), StatusCode::kInvalidModel, "must be at least 1");
    model.event_shape = {};
    expect_rejected(model.build(), StatusCode::kInvalidModel, "bad rank");
    model.event_shape = std::vector<int64_t>(kMaxRank, 1);
    expect_rejected(model.build(), StatusCode::kInvalidModel, "bad rank");
  }
}

// Persistent state (Graph.state, a token decoder's KV cache): s_out = x + s,
// with (s, s_out) as the pair.
namespace {
ModelBuilder state_model(std::vector<int64_t> x_shape) {
  ModelBuilder builder;
  builder.graph("main");
  int32_t x = builder.activation("x", std::move(x_shape));
  int32_t s = builder.activation("s", {4});
  int32_t s_out = builder.activation("s_out", {4});
  builder.op(OpCode::kAdd, {x, s}, {s_out});
  builder.inputs({x, s}).outputs({s_out});
  return builder;
}
void place_state_in_place(std::vector<uint64_t>& offsets, uint64_t&) { offsets[2] = offsets[1]; }
}  // namespace

TEST_CASE("state pairs: malformed ones are refused at load, a misplaced one at prepare") {
  expect_rejected(state_model({4}).state({1}).build(), StatusCode::kInvalidModel, "not pairs");
  expect_rejected(state_model({4}).state({2, 1}).build(), StatusCode::kInvalidModel,
                  "must be a graph input and a graph output");
  expect_rejected(state_model({4}).state({1, 2, 1, 2}).build(), StatusCode::kInvalidModel, "in two state pairs");
  expect_rejected(state_model({1}).state({0, 2}).build(), StatusCode::kInvalidModel, "differ in shape or dtype");
  expect_rejected(state_model({4}).state({1, 7}).build(), StatusCode::kInvalidModel, "out of range");
  expect_rejected(state_model({4}).state({1, 2}).build(), StatusCode::kInvalidModel, "is not placed on its input");
}

TEST_CASE("state pairs: the output on its input is updated in place and kept from run to run") {
  std::vector<uint8_t> file = state_model({4}).state({1, 2}).build(place_state_in_place);
  AlignedBytes bytes(file);
  Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
  REQUIRE_MESSAGE(model.ok(), std::string(model.status().message()));
  Session session;
  Status prepared = session.prepare(*model);
  REQUIRE_MESSAGE(prepared.is_ok(), std::string(prepared.message()));
  float* x = session.input(0, 0).data_as<float>();
  float* s = session.input(0, 1).data_as<float>();
  CHECK(static_cast<void*>(s) == session.output(0, 0).data);
  for (int i = 0; i < 4; ++i) x[i] = 1.f, s[i] = static_cast<float>(i);
  REQUIRE(session.run(0).is_ok());
  REQUIRE(session.run(0).is_ok());
  CHECK(s[0] == 2.f);
  CHECK(s[3] == 5.f);
}
