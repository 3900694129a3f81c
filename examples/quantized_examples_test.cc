// The example models quantized to int8 by `convert --quantize int8`:
// deterministic calibration, the file size, the quality against float32 and
// PyTorch, and the output against the committed int8 reference
// (examples/digits_gan/reference/image_int8.npy, written by
// `edgegen run` on the reference kernels when the quantizer was written: a
// change of the quantizer's choices shows up here).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "converter/converter.h"
#include "edgegen_generated.h"
#include "edgegen/diffusion.h"
#include "edgegen/model.h"
#include "edgegen/session.h"
#include "edgegen/pipeline.h"
#include "npy.h"
#include "testing/allocation_counter.h"
#include "testing/model_builder.h"

using namespace edgegen;

namespace {

const std::string kExamples = EDGEGEN_EXAMPLES_DIR;

std::vector<float> reference(const std::string& path) { return cli::npy_to_float32(cli::read_npy(kExamples + "/" + path)); }

converter::ConvertOptions float_options(int batch) {
  converter::ConvertOptions options;
  options.batch = batch;
  return options;
}

converter::ConvertOptions int8_options(int batch) {
  converter::ConvertOptions options;
  options.batch = batch;
  options.quantize.int8 = true;
  return options;
}

// Peak signal-to-noise ratio in dB of `test` against `reference`, whose
// values span `range`.
double psnr_db(const std::vector<float>& reference, const std::vector<float>& test, double range) {
  REQUIRE(reference.size() == test.size());
  double error = 0;
  for (size_t i = 0; i < reference.size(); ++i) error += std::pow(double(reference[i]) - test[i], 2);
  error /= static_cast<double>(reference.size());
  return error > 0 ? 10 * std::log10(range * range / error) : 200.0;
}

// Decodes `z` with the model in `file`; no allocation while decoding.
// Decodes `z` with a prepared pipeline, checking that nothing is allocated.
std::vector<float> decode_prepared(Pipeline& pipeline, const std::vector<float>& z) {
  const size_t count = z.size() / pipeline.latent_size();
  std::vector<float> items(count * pipeline.item_size());
  testing::AllocationScope scope;
  Status decoded = pipeline.decode(z.data(), count, items.data());
  CHECK(scope.count() == 0);
  REQUIRE_MESSAGE(decoded.is_ok(), std::string(decoded.message()));
  return items;
}

std::vector<float> decode(const std::vector<uint8_t>& file, const std::vector<float>& z) {
  testing::AlignedBytes bytes;
  bytes.assign(file.data(), file.size());
  Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
  REQUIRE_MESSAGE(model.ok(), std::string(model.status().message()));
  Pipeline pipeline;
  Status prepared = pipeline.prepare(*model);
  REQUIRE_MESSAGE(prepared.is_ok(), std::string(prepared.message()));
  return decode_prepared(pipeline, z);
}

// Decodes `z` in a caller arena of exactly Pipeline::arena_bytes_needed
// (one byte less is refused); returns the images and the arena size.
std::vector<float> decode_in_arena(const std::vector<uint8_t>& file, const std::vector<float>& z, size_t* arena_bytes) {
  testing::AlignedBytes bytes;
  bytes.assign(file.data(), file.size());
  Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
  REQUIRE_MESSAGE(model.ok(), std::string(model.status().message()));
  Result<size_t> needed = Pipeline::arena_bytes_needed(*model);
  REQUIRE_MESSAGE(needed.ok(), std::string(needed.status().message()));
  std::vector<uint8_t> arena(*needed, 0xa5);
  {
    Pipeline too_small;
    CHECK(too_small.prepare(*model, arena.data(), *needed - 1).code() == StatusCode::kArenaTooSmall);
  }
  Pipeline pipeline;
  Status prepared = pipeline.prepare(*model, arena.data(), arena.size());
  REQUIRE_MESSAGE(prepared.is_ok(), std::string(prepared.message()));
  *arena_bytes = *needed;
  return decode_prepared(pipeline, z);
}

}  // namespace

TEST_CASE("digits GAN with float16 weights: half the file, >= 40 dB against float32, widened in the arena") {
  const std::string manifest = kExamples + "/digits_gan/manifest.json";
  converter::ConvertOptions options = float_options(4);
  options.float16_weights = true;
  std::vector<std::string> notes;
  const std::vector<uint8_t> half_file = converter::convert(manifest, options, &notes);
  const std::vector<uint8_t> float_file = converter::convert(manifest, float_options(4));
  for (const std::string& note : notes) MESSAGE(note);
  const double size_ratio = double(half_file.size()) / double(float_file.size());
  MESSAGE("file: " << half_file.size() << " bytes, " << size_ratio << " of float32 (" << float_file.size() << ")");
  CHECK(size_ratio <= 0.55);

  const std::vector<float> z = reference("digits_gan/reference/z.npy");
  size_t half_arena = 0, float_arena = 0;
  const std::vector<float> half_images = decode_in_arena(half_file, z, &half_arena);
  const std::vector<float> float_images = decode_in_arena(float_file, z, &float_arena);
  double worst = 0;
  for (size_t i = 0; i < half_images.size(); ++i)
    worst = std::max(worst, std::fabs(double(half_images[i]) - float_images[i]));
  const double vs_float = psnr_db(float_images, half_images, 2.0);
  MESSAGE("PSNR vs float32 " << vs_float << " dB, max |difference| " << worst << "; arena " << half_arena
                             << " bytes vs " << float_arena << " for float32");
  CHECK(vs_float >= 40.0);
  CHECK(worst <= 0.02);
  // The widened weights are in the arena: at least the float32 size of the
  // float16 weights more than the float32 model's.
  CHECK(half_arena >= float_arena + (float_file.size() - half_file.size()) * 2 - 64 * 1024);

  // With int8: the layers that stay float (here the last, kept in float32)
  // store their weights as float16; the int8 layers are untouched.
  converter::ConvertOptions mixed = int8_options(4);
  mixed.quantize.samples = 64;
  mixed.quantize.keep_float = {"/net/net.6/ConvTranspose"};
  const std::vector<uint8_t> int8_file = converter::convert(manifest, mixed);
  mixed.float16_weights = true;
  const std::vector<uint8_t> mixed_file = converter::convert(manifest, mixed);
  MESSAGE("int8 + kept float layer: " << int8_file.size() << " bytes; with float16 weights " << mixed_file.size());
  CHECK(mixed_file.size() < int8_file.size());
  size_t unused = 0;
  const double mixed_psnr = psnr_db(decode_in_arena(int8_file, z, &unused), decode_in_arena(mixed_file, z, &unused), 2.0);
  MESSAGE("int8 + float16 vs int8: PSNR " << mixed_psnr << " dB");
  CHECK(mixed_psnr >= 40.0);
}

TEST_CASE("digits GAN in int8: a quarter of the file, >= 35 dB against float32, the committed output") {
  const std::string manifest = kExamples + "/digits_gan/manifest.json";
  std::vector<std::string> notes;
  const std::vector<uint8_t> int8_file = converter::convert(manifest, int8_options(4), &notes);
  const std::vector<uint8_t> float_file = converter::convert(manifest, float_options(4));
  for (const std::string& note : notes) MESSAGE(note);

  // Calibration is deterministic: the same file again.
  CHECK(converter::convert(manifest, int8_options(4)) == int8_file);
  const double size_ratio = double(int8_file.size()) / double(float_file.size());
  MESSAGE("file: " << int8_file.size() << " bytes, " << size_ratio << " of float32");
  CHECK(size_ratio <= 0.27);

  const std::vector<float> z = reference("digits_gan/reference/z.npy");
  const std::vector<float> int8_images = decode(int8_file, z);
  const std::vector<float> float_images = decode(float_file, z);
  const double vs_float = psnr_db(float_images, int8_images, 2.0);
  const double vs_torch = psnr_db(reference("digits_gan/reference/image.npy"), int8_images, 2.0);
  MESSAGE("PSNR vs float32 " << vs_float << " dB, vs PyTorch " << vs_torch << " dB");
  CHECK(vs_float >= 35.0);
  CHECK(vs_torch >= 35.0);

  // The committed int8 output: integer arithmetic is exact, the float tail
  // (dequantize, tanh) differs by ulps at most.
  const std::vector<float> committed = reference("digits_gan/reference/image_int8.npy");
  REQUIRE(committed.size() == int8_images.size());
  double worst = 0;
  for (size_t i = 0; i < committed.size(); ++i) worst = std::max(worst, std::fabs(double(committed[i]) - int8_images[i]));
  MESSAGE("max difference to the committed int8 output: " << worst);
  CHECK(worst <= 1e-5);
}

TEST_CASE("digits GAN in int8 with percentile and entropy ranges, and a quality budget") {
  const std::string manifest = kExamples + "/digits_gan/manifest.json";
  const std::vector<float> z = reference("digits_gan/reference/z.npy");
  const std::vector<float> float_images = decode(converter::convert(manifest, float_options(4)), z);
  // Entropy (KL) clipping suits hidden activations; on the generator's
  // output layer it clips values tanh still resolves, so it scores lower here.
  for (const auto& [method, least_db] : {std::pair<std::string, double>{"percentile", 35.0}, {"entropy", 20.0}}) {
    converter::ConvertOptions options = int8_options(4);
    options.quantize.method = method;
    options.quantize.samples = 64;  // fewer than the default, to keep the test short
    const double psnr = psnr_db(float_images, decode(converter::convert(manifest, options), z), 2.0);
    MESSAGE(method << ": PSNR vs float32 " << psnr << " dB");
    CHECK(psnr >= least_db);
  }
  // A budget no int8 layer can meet keeps every layer in float32: the float model's outputs.
  converter::ConvertOptions strict = int8_options(4);
  strict.quantize.quality_budget_db = 150;
  strict.quantize.samples = 16;
  std::vector<std::string> notes;
  const std::vector<float> strict_images = decode(converter::convert(manifest, strict, &notes), z);
  CHECK(psnr_db(float_images, strict_images, 2.0) >= 100.0);
  bool reported = false;
  for (const std::string& note : notes) reported |= note.find("kept in float32") != std::string::npos;
  CHECK(reported);
}

TEST_CASE("digits VAE in int8: the encoder needs data, the decoder calibrates on the prior") {
  const std::string manifest = kExamples + "/digits_vae/manifest.json";
  try {
    converter::convert(manifest, int8_options(1));
    FAIL("converted a VAE encoder without calibration data");
  } catch (const converter::ConversionError& error) {
    const std::string message = error.what();
    CHECK(message.find("encoder") != std::string::npos);
    CHECK(message.find("--calibration") != std::string::npos);
  }
  converter::ConvertOptions options = int8_options(1);
  options.quantize.samples = 64;
  const std::vector<float> x = reference("digits_vae/reference/x.npy");
  options.quantize.inputs["data"] = converter::CalibrationArray{{4, 1, 16, 16}, x};
  const std::vector<float> z = reference("digits_vae/reference/z.npy");
  const std::vector<uint8_t> int8_file = converter::convert(manifest, options);
  const double psnr = psnr_db(decode(converter::convert(manifest, float_options(1)), z), decode(int8_file, z), 1.0);
  MESSAGE("VAE decoder PSNR vs float32: " << psnr << " dB");
  CHECK(psnr >= 35.0);

  // Its nearest 2x upsampling between two int8 convolutions resizes the
  // int8 image (the Quantize before it runs on the small one), and no float
  // Resize is left. Its two InstanceNorm + ReLU between int8 convolutions
  // run in int8 too: the decoder's only dequantize is its output's.
  const format::Model* file = format::GetModel(int8_file.data());
  int int8_resizes = 0, float_resizes = 0, int8_norms = 0, float_norms = 0, dequantizes = 0;
  for (const format::Graph* graph : *file->graphs())
    for (const format::Operator* op : *graph->operators()) {
      const format::Tensor* out = graph->tensors()->Get(static_cast<uint32_t>(op->outputs()->Get(0)));
      const bool int8 = out->dtype() == format::DType::Int8;
      if (op->opcode() == static_cast<uint32_t>(OpCode::kResize)) ++(int8 ? int8_resizes : float_resizes);
      if (op->opcode() == static_cast<uint32_t>(OpCode::kGroupNorm)) ++(int8 ? int8_norms : float_norms);
      if (graph->name()->str() == "decoder") dequantizes += op->opcode() == static_cast<uint32_t>(OpCode::kDequantizeLinear);
    }
  CHECK(int8_resizes == 1);
  CHECK(float_resizes == 0);
  CHECK(int8_norms == 2);
  CHECK(float_norms == 0);
  CHECK(dequantizes == 1);

  // Calibration data that does not fit the input is refused by name.
  options.quantize.inputs["data"] = converter::CalibrationArray{{4, 3}, std::vector<float>(12, 0.f)};
  CHECK_THROWS_WITH_AS(converter::convert(manifest, options), doctest::Contains("calibration data 'data'"),
                       converter::ConversionError);
}

TEST_CASE("digits diffusion in int8: calibrated on its own trajectories, the samples keep their classes") {
  const std::string manifest = kExamples + "/digits_diffusion/manifest.json";
  converter::ConvertOptions options = int8_options(10);
  options.quantize.samples = 100;  // 10 steps x 2 halves x batch 10: one group of 10 trajectories (ASan build)
  std::vector<std::string> notes;
  const std::vector<uint8_t> int8_file = converter::convert(manifest, options, &notes);
  std::string all;
  for (const std::string& note : notes) all += note + "\n";
  MESSAGE(all);
  CHECK(all.find("DDIM trajectories") != std::string::npos);
  CHECK(all.find("class and null class") != std::string::npos);
  CHECK(converter::convert(manifest, options) == int8_file);  // calibration is deterministic

  // The same seed and classes with the float32 and the int8 denoiser.
  const int32_t labels[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  auto sample = [&](const std::vector<uint8_t>& file) {
    testing::AlignedBytes bytes;
    bytes.assign(file.data(), file.size());
    Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
    REQUIRE_MESSAGE(model.ok(), std::string(model.status().message()));
    DiffusionPipeline pipeline;
    REQUIRE(pipeline.prepare(*model).is_ok());
    DiffusionOptions sampling;
    sampling.sampler = SamplerKind::kDpmpp2m;
    sampling.steps = 8;
    sampling.guidance = 2.f;
    sampling.seed = 3;
    std::vector<float> images(10 * pipeline.sample_size());
    Status status = pipeline.sample(sampling, 10, labels, images.data());
    REQUIRE_MESSAGE(status.is_ok(), std::string(status.message()));
    return images;
  };
  const std::vector<float> float_images = sample(converter::convert(manifest, float_options(10)));
  const std::vector<float> int8_images = sample(int8_file);
  const double psnr = psnr_db(float_images, int8_images, 2.0);
  MESSAGE("diffusion samples, int8 vs float32: PSNR " << psnr << " dB");
  CHECK(psnr >= 25.0);  // 35.9 dB measured

  // The committed digit classifier still reads the class asked for.
  converter::ConvertOptions classifier_options = float_options(10);
  const std::vector<uint8_t> classifier_file =
      converter::convert(kExamples + "/digits_diffusion/classifier.onnx", classifier_options);
  testing::AlignedBytes bytes;
  bytes.assign(classifier_file.data(), classifier_file.size());
  Result<Model> classifier = Model::from_buffer(bytes.data(), bytes.size());
  REQUIRE(classifier.ok());
  Session session;
  REQUIRE(session.prepare(*classifier).is_ok());
  Tensor& x = session.input(0, 0);
  REQUIRE(x.num_elements() == int8_images.size());
  std::copy(int8_images.begin(), int8_images.end(), x.data_as<float>());
  REQUIRE(session.run(0).is_ok());
  const Tensor& logits = session.output(0, static_cast<size_t>(session.find_output(0, "logits")));
  int correct = 0;
  for (int i = 0; i < 10; ++i) {
    const float* row = logits.data_as<const float>() + i * 10;
    correct += std::max_element(row, row + 10) - row == labels[i];
  }
  MESSAGE("int8 samples classified as asked: " << correct << " of 10");
  CHECK(correct >= 9);
}
