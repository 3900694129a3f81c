// The latent diffusion example (examples/latent_diffusion) through the whole
// path: manifest -> converter -> verified .egm -> DiffusionPipeline. Its
// three graphs must give what PyTorch gave (reference/*.npy); img2img at
// strength 0 returns the decoded encoding and at 1 the plain sample;
// context guidance changes the output; tiled decoding matches decoding at
// once; sampling allocates nothing; the manifest's latent keys are checked.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "converter/converter.h"
#include "edgegen/diffusion.h"
#include "edgegen/model.h"
#include "edgegen_generated.h"
#include "npy.h"
#include "testing/allocation_counter.h"
#include "testing/model_builder.h"

using namespace edgegen;

namespace {

const std::string kExample = std::string(EDGEGEN_EXAMPLES_DIR) + "/latent_diffusion";

struct Loaded {
  testing::AlignedBytes bytes;
  Model model;
};

nlohmann::json example_manifest() {
  std::ifstream file(kExample + "/manifest.json");
  return nlohmann::json::parse(file);
}

// Converts `manifest` (written next to the example's graphs, then removed);
// returns the converter's message, or "" on success with `out` loaded.
std::string convert(const nlohmann::json& manifest, int batch, Loaded* out, bool int8 = false,
                    double quality_budget_db = 0) {
  // Unique per process: the XNNPACK and reference runs of this test may run at once.
  static int counter = 0;
  const std::string path =
      kExample + "/test_manifest_" + std::to_string(getpid()) + "_" + std::to_string(counter++) + ".json";
  {
    std::ofstream file(path);
    file << manifest.dump();
  }
  converter::ConvertOptions options;
  options.batch = batch;
  options.quantize.int8 = int8;
  options.quantize.quality_budget_db = quality_budget_db;
  std::string message;
  std::vector<uint8_t> bytes;
  try {
    bytes = converter::convert(path, options);
  } catch (const converter::ConversionError& error) {
    message = error.what();
  }
  std::filesystem::remove(path);
  if (!message.empty() || out == nullptr) return message;
  out->bytes.assign(bytes.data(), bytes.size());
  Result<Model> model = Model::from_buffer(out->bytes.data(), out->bytes.size());
  REQUIRE_MESSAGE(model.ok(), std::string(model.status().message()));
  out->model = *model;
  return "";
}

void load(int batch, Loaded* out) { REQUIRE(convert(example_manifest(), batch, out).empty()); }

std::vector<float> reference(const std::string& name) {
  return cli::npy_to_float32(cli::read_npy(kExample + "/reference/" + name));
}

double max_difference(const float* a, const float* b, size_t n) {
  double worst = 0;
  for (size_t i = 0; i < n; ++i) worst = std::fmax(worst, std::fabs(static_cast<double>(a[i]) - b[i]));
  return worst;
}

void require_ok(const Status& status) { REQUIRE_MESSAGE(status.is_ok(), std::string(status.message())); }

// The first `items` reference pictures and contexts, and sampling options
// over those contexts: 4 steps, seed 3, guidance 3 (the img2img tests').
struct EditInputs {
  std::vector<float> pictures, context;
  DiffusionOptions options;
  EditInputs(const DiffusionPipeline& pipeline, size_t items)
      : pictures(reference("pictures.npy")), context(reference("context.npy")) {
    pictures.resize(items * pipeline.item_size());
    context.resize(items * pipeline.context_size());
    options.steps = 4;
    options.seed = 3;
    options.context = context.data();
    options.guidance = 3.f;
  }
  EditInputs(const EditInputs&) = delete;  // options points into context
  EditInputs& operator=(const EditInputs&) = delete;
};

}  // namespace

TEST_CASE("latent diffusion: encoder, decoder and UNet match PyTorch") {
  Loaded loaded;
  load(4, &loaded);
  DiffusionPipeline pipeline;
  require_ok(pipeline.prepare(loaded.model));
  REQUIRE(pipeline.has_encoder());
  REQUIRE(pipeline.has_context_input());
  CHECK(pipeline.item_size() == 3 * 64 * 64);
  CHECK(pipeline.sample_size() == 4 * 8 * 8);
  CHECK(pipeline.context_size() == 2 * 32);
  CHECK(pipeline.stored_unconditional_context() != nullptr);
  CHECK(pipeline.can(Capability::kImageToImage));
  CHECK(pipeline.can(Capability::kInpaint));
  CHECK_FALSE(pipeline.decodes_in_tiles());

  // Encoder: latents = mean * latent_scale; decoder: reads latent / latent_scale.
  std::vector<float> pictures = reference("pictures.npy"), mean = reference("mean.npy");
  std::vector<float> latents(4 * pipeline.sample_size()), decoded(4 * pipeline.item_size());
  require_ok(pipeline.encode_pictures(pictures.data(), 4, latents.data()));
  for (float& value : latents) value /= pipeline.latent_scale();
  CHECK(max_difference(latents.data(), mean.data(), mean.size()) < 2e-3);
  for (float& value : latents) value *= pipeline.latent_scale();
  require_ok(pipeline.decode_samples(latents.data(), 4, decoded.data()));
  std::vector<float> expected = reference("decoded.npy");
  CHECK(max_difference(decoded.data(), expected.data(), expected.size()) < 5e-3);

  // The UNet with its context input, through the session.
  Session& session = pipeline.session();
  const size_t unet = 0;
  std::vector<float> x = reference("x_t.npy"), t = reference("t.npy"), context = reference("context.npy");
  auto input = [&](const char* name) {
    int index = session.find_input(unet, name);
    REQUIRE(index >= 0);
    return session.input(unet, static_cast<size_t>(index)).data_as<float>();
  };
  std::copy(x.begin(), x.end(), input("x_t"));
  std::copy(t.begin(), t.end(), input("t"));
  std::copy(context.begin(), context.end(), input("context"));
  require_ok(session.run(unet));
  std::vector<float> eps = reference("eps.npy");
  CHECK(max_difference(session.output(unet, 0).data_as<float>(), eps.data(), eps.size()) < 2e-3);
}

TEST_CASE("latent diffusion: img2img at strength 0 and 1, context guidance, no allocation") {
  Loaded loaded;
  load(4, &loaded);
  DiffusionPipeline pipeline;
  require_ok(pipeline.prepare(loaded.model));
  const size_t items = 2, picture = pipeline.item_size();
  EditInputs inputs(pipeline, items);
  std::vector<float>& pictures = inputs.pictures;
  const std::vector<float>& context = inputs.context;
  DiffusionOptions& options = inputs.options;

  std::vector<float> plain(items * picture), again(items * picture);
  size_t allocations = 0;
  {
    testing::AllocationScope scope;
    require_ok(pipeline.sample(options, items, nullptr, plain.data()));
    allocations = scope.count();
  }
  CHECK(allocations == 0);

  SUBCASE("strength 1 is sampling from noise with the same seed") {
    options.init_image = pictures.data();
    options.strength = 1.f;
    require_ok(pipeline.sample(options, items, nullptr, again.data()));
    CHECK(max_difference(plain.data(), again.data(), plain.size()) == 0.0);
  }
  SUBCASE("strength 0 is the decoded encoding of the picture") {
    options.init_image = pictures.data();
    options.strength = 0.f;
    require_ok(pipeline.sample(options, items, nullptr, again.data()));
    std::vector<float> latents(items * pipeline.sample_size()), decoded(items * picture);
    require_ok(pipeline.encode_pictures(pictures.data(), items, latents.data()));
    require_ok(pipeline.decode_samples(latents.data(), items, decoded.data()));
    CHECK(max_difference(again.data(), decoded.data(), decoded.size()) < 1e-6);
    // ... which is what PyTorch's decoder(encoder mean) gave.
    std::vector<float> expected = reference("decoded.npy");
    CHECK(max_difference(again.data(), expected.data(), again.size()) < 5e-3);
  }
  SUBCASE("a middle strength stays nearer the picture than sampling from noise") {
    options.init_image = pictures.data();
    options.strength = 0.5f;
    {
      testing::AllocationScope scope;
      require_ok(pipeline.sample(options, items, nullptr, again.data()));
      allocations = scope.count();
    }
    CHECK(allocations == 0);
    double to_edit = 0, to_plain = 0;
    for (size_t i = 0; i < again.size(); ++i) {
      to_edit += (again[i] - pictures[i]) * (again[i] - pictures[i]);
      to_plain += (plain[i] - pictures[i]) * (plain[i] - pictures[i]);
    }
    CHECK(to_edit < to_plain);
  }
  SUBCASE("the context and guidance change the output") {
    DiffusionOptions unguided = options;
    unguided.guidance = 1.f;
    require_ok(pipeline.sample(unguided, items, nullptr, again.data()));
    CHECK(max_difference(plain.data(), again.data(), plain.size()) > 1e-2);
    DiffusionOptions other = options;
    std::vector<float> swapped(context);
    std::swap_ranges(swapped.begin(), swapped.begin() + pipeline.context_size(), swapped.begin() + pipeline.context_size());
    other.context = swapped.data();
    require_ok(pipeline.sample(other, items, nullptr, again.data()));
    CHECK(max_difference(plain.data(), again.data(), picture) > 1e-2);
    // No context: the stored unconditional one; guidance against it changes nothing.
    DiffusionOptions none = options;
    none.context = nullptr;
    none.guidance = 1.f;
    std::vector<float> uncond(items * picture);
    require_ok(pipeline.sample(none, items, nullptr, uncond.data()));
    none.guidance = 4.f;
    require_ok(pipeline.sample(none, items, nullptr, again.data()));
    CHECK(max_difference(uncond.data(), again.data(), uncond.size()) < 1e-4);
  }
  SUBCASE("latent in-painting keeps the known pixels") {
    std::vector<float> mask(items * picture, 0.f);
    for (size_t i = 0; i < mask.size(); ++i) mask[i] = (i % 64) < 32 ? 1.f : 0.f;  // the left half
    options.known = pictures.data();
    options.mask = mask.data();
    require_ok(pipeline.sample(options, items, nullptr, again.data()));
    for (size_t i = 0; i < again.size(); i += 97)
      if (mask[i] > 0.5f) REQUIRE(again[i] == pictures[i]);
  }
  SUBCASE("bad arguments are errors") {
    options.init_image = pictures.data();
    options.strength = 1.5f;
    CHECK(pipeline.sample(options, items, nullptr, again.data()).code() == StatusCode::kInvalidArgument);
    options.strength = 0.5f;
    const int32_t labels[2] = {0, 1};
    CHECK(pipeline.sample(options, items, labels, again.data()).code() == StatusCode::kInvalidArgument);
  }
}

TEST_CASE("latent diffusion in int8: all three graphs calibrate from the model's own sampling; img2img near float32") {
  // No calibration file: the denoiser on its trajectories, the decoder on
  // their ends, the encoder on the decoder's pictures of them.
  Loaded quantized, plain;
  REQUIRE(convert(example_manifest(), 2, &quantized, true).empty());
  load(2, &plain);
  const format::Model* file = format::GetModel(quantized.bytes.data());
  REQUIRE(file->graphs()->size() == 3);
  for (const format::Graph* graph : *file->graphs()) {
    CAPTURE(graph->name()->str());
    int int8_outputs = 0;
    for (const format::Operator* op : *graph->operators())
      int8_outputs += graph->tensors()->Get(static_cast<uint32_t>(op->outputs()->Get(0)))->dtype() == format::DType::Int8;
    CHECK(int8_outputs > 3);
  }
  DiffusionPipeline eight, thirty_two;
  require_ok(eight.prepare(quantized.model));
  require_ok(thirty_two.prepare(plain.model));
  const size_t items = 2, picture = eight.item_size();
  EditInputs inputs(eight, items);
  DiffusionOptions& options = inputs.options;
  options.init_image = inputs.pictures.data();
  options.strength = 0.5f;
  std::vector<float> a(items * picture), b(items * picture), c(items * picture);
  require_ok(eight.sample(options, items, nullptr, a.data()));
  require_ok(thirty_two.sample(options, items, nullptr, b.data()));
  // The same edit by float32 with other noise: how far another edit of the picture is.
  DiffusionOptions reseeded = options;
  reseeded.seed = options.seed + 1;
  require_ok(thirty_two.sample(reseeded, items, nullptr, c.data()));
  auto snr_db = [&](const std::vector<float>& x) {
    double signal = 0, noise = 0;
    for (size_t i = 0; i < b.size(); ++i) signal += double(b[i]) * b[i], noise += double(x[i] - b[i]) * (x[i] - b[i]);
    return 10 * std::log10(signal / noise);
  };
  MESSAGE("img2img vs float32's: int8 " << snr_db(a) << " dB, float32 with other noise " << snr_db(c) << " dB");
  // The same edit of the same picture: int8 is much nearer to float32's
  // than float32's own edit with other noise (guidance 3 amplifies the
  // denoiser's int8 error 5x: this is no 25 dB layer-level SNR). Measured
  // 16.6 against 9.6 dB; calibrating with zero contexts only (the bug this
  // caught: the context path clipped every real prompt) gave 11.2.
  CHECK(snr_db(a) > 14.0);
  CHECK(snr_db(a) > snr_db(c) + 5.0);
}

TEST_CASE("latent diffusion: tiled decoding matches decoding at once") {
  // A 24x24 latent (a 192x192 picture) decoded at once, and in 16x16 tiles
  // overlapping by 8 (four tiles, a seam in both directions).
  nlohmann::json whole = example_manifest();
  whole["sample_shape"] = {4, 24, 24};
  for (const char* key : {"latent_height", "latent_width", "tile_height", "tile_width"}) whole["dims"][key] = 24;
  whole["dims"]["image_height"] = 192;
  whole["dims"]["image_width"] = 192;
  nlohmann::json tiled = whole;
  tiled["dims"]["tile_height"] = 16;
  tiled["dims"]["tile_width"] = 16;
  tiled["tile_overlap"] = 8;
  tiled["graphs"].erase("encoder");  // the encoder reads whole pictures
  tiled["dims"].erase("image_height");
  tiled["dims"].erase("image_width");
  Loaded once, tiles;
  std::string message = convert(whole, 1, &once);
  REQUIRE_MESSAGE(message.empty(), message);
  message = convert(tiled, 1, &tiles);
  REQUIRE_MESSAGE(message.empty(), message);
  DiffusionPipeline a, b;
  require_ok(a.prepare(once.model));
  require_ok(b.prepare(tiles.model));
  REQUIRE(b.decodes_in_tiles());
  CHECK(b.decoder_tile_rows() == 16);
  CHECK(b.tile_overlap() == 8);
  REQUIRE(a.item_size() == b.item_size());
  CHECK(b.session().arena_bytes() < a.session().arena_bytes());

  // Latents from the example's own pictures, tiled 3x3.
  std::vector<float> pictures = reference("pictures.npy");
  Loaded small;
  load(1, &small);
  DiffusionPipeline encoder;
  require_ok(encoder.prepare(small.model));
  std::vector<float> patch(encoder.sample_size()), latent(4 * 24 * 24);
  for (size_t ty = 0; ty < 3; ++ty)
    for (size_t tx = 0; tx < 3; ++tx) {
      require_ok(encoder.encode_pictures(pictures.data() + ((ty * 3 + tx) % 4) * encoder.item_size(), 1, patch.data()));
      for (size_t c = 0; c < 4; ++c)
        for (size_t y = 0; y < 8; ++y)
          for (size_t x = 0; x < 8; ++x) latent[(c * 24 + ty * 8 + y) * 24 + tx * 8 + x] = patch[(c * 8 + y) * 8 + x];
    }
  std::vector<float> expected(a.item_size()), got(b.item_size());
  require_ok(a.decode_samples(latent.data(), 1, expected.data()));
  require_ok(b.decode_samples(latent.data(), 1, got.data()));
  // Away from seams (picture rows/columns 0..63 and 128..191 are 8+ latent
  // pixels inside a single tile's interior or its outer edge) the tiles are
  // exact; in the seam band (the middle 64 rows/columns, where the tiles
  // overlap) the blend is within 0.3 of the whole decode at worst and 0.05
  // on average (decoder pixels in [-1, 1]; a tile's zero padding reaches a
  // few latent pixels into the overlap, where the ramps weigh it down).
  double away = 0, seams = 0, seam_sum = 0;
  size_t seam_count = 0;
  for (size_t c = 0; c < 3; ++c)
    for (size_t y = 0; y < 192; ++y)
      for (size_t x = 0; x < 192; ++x) {
        const size_t i = (c * 192 + y) * 192 + x;
        const double error = std::fabs(expected[i] - got[i]);
        const bool inside = (y < 64 || y >= 128) && (x < 64 || x >= 128);
        (inside ? away : seams) = std::fmax(inside ? away : seams, error);
        if (!inside) seam_sum += error, ++seam_count;
      }
  const double seam_mean = seam_sum / static_cast<double>(seam_count);
  CHECK(away < 1e-4);
  CHECK(seams < 0.3);
  CHECK(seam_mean < 0.05);
  MESSAGE("tiled vs whole decode: max error away from seams ", away, ", in the seam band max ", seams, " mean ", seam_mean);
}

TEST_CASE("latent diffusion manifests: errors name the key at fault") {
  nlohmann::json manifest = example_manifest();
  manifest["latent_scale"] = 0;
  CHECK(convert(manifest, 1, nullptr).find("'latent_scale' must be a number in (0") != std::string::npos);

  manifest = example_manifest();
  manifest["dims"]["image_height"] = 32;
  CHECK(convert(manifest, 1, nullptr).find("the encoder input 'image' has the shape") != std::string::npos);

  manifest = example_manifest();
  manifest["graphs"].erase("decoder");
  manifest.erase("latent_scale");
  CHECK(convert(manifest, 1, nullptr).find("an 'encoder' graph needs a 'decoder' graph") != std::string::npos);

  manifest = example_manifest();
  manifest["unconditional_context"] = std::vector<std::vector<float>>(3, std::vector<float>(32, 0.f));
  CHECK(convert(manifest, 1, nullptr).find("unconditional_context has the shape [3, 32]") != std::string::npos);

  manifest = example_manifest();
  manifest["inputs"].erase("context");
  CHECK(convert(manifest, 1, nullptr).find("'unconditional_context' needs a 'context' entry") != std::string::npos);

  manifest = example_manifest();
  manifest["dims"]["tile_height"] = 6;
  manifest["sample_shape"] = {4, 8, 8};
  CHECK(convert(manifest, 1, nullptr).find("a decoder for tiles") == std::string::npos);  // 6 <= 8: a tile
  manifest["dims"]["tile_height"] = 12;
  CHECK(convert(manifest, 1, nullptr).find("does not match the decoder input 'z'") != std::string::npos);
}
