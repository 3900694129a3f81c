// The diffusion pipeline: the denoiser graph called by a sampler loop
// (runtime/samplers/), classifier-free guidance in one batched call (over a
// class label and/or a context), and for latent diffusion a decoder (run at
// once or tile by tile) and an encoder (img2img, latent in-painting). Every
// buffer is reserved in the session's arena at prepare; sample() allocates
// nothing. The graphs share the session's one activation region (they run
// one after the other), so the arena is the largest graph's plan, not the sum.
#include <cmath>
#include <cstring>

#include "edgegen/diffusion.h"
#include "edgegen/random.h"
#include "edgegen_generated.h"
#include "platform/clock.h"

namespace edgegen {
namespace {

constexpr uint32_t kMaxTrainSteps = 100000;
constexpr size_t kScratchBuffers = 5;

Status invalid(const char* message) { return Status::error(StatusCode::kInvalidModel, "diffusion pipeline: %s", message); }

// Floats per sample, or 0 when the stored shape is unusable.
size_t shape_elements(const flatbuffers::Vector<int64_t>* dims) {
  if (dims == nullptr || dims->size() == 0 || dims->size() >= static_cast<uint32_t>(kMaxRank)) return 0;
  size_t count = 1;
  for (uint32_t i = 0; i < dims->size(); ++i) {
    int64_t dim = dims->Get(i);
    if (dim < 1 || dim > (int64_t{1} << 24) || count > (size_t{1} << 28) / static_cast<size_t>(dim)) return 0;
    count *= static_cast<size_t>(dim);
  }
  return count;
}

size_t aligned(size_t bytes) { return (bytes + 63) / 64 * 64; }

// The shape of a graph's first input (output == false) or first output as
// stored in the model; false when it cannot be read.
bool graph_io_shape(const Model& model, uint32_t graph_index, bool output, int64_t* dims, int* rank) {
  const auto* graphs = model.root()->graphs();
  if (graphs == nullptr || graph_index >= graphs->size()) return false;
  const auto* graph = graphs->Get(graph_index);
  const auto* list = output ? graph->outputs() : graph->inputs();
  if (list == nullptr || list->size() == 0 || graph->tensors() == nullptr) return false;
  const int32_t index = list->Get(0);
  if (index < 0 || static_cast<uint32_t>(index) >= graph->tensors()->size()) return false;
  const auto* shape = graph->tensors()->Get(static_cast<uint32_t>(index))->shape();
  if (shape == nullptr || shape->size() > static_cast<uint32_t>(kMaxRank)) return false;
  *rank = static_cast<int>(shape->size());
  for (uint32_t i = 0; i < shape->size(); ++i) dims[i] = shape->Get(i);
  return true;
}

// Tiles along one axis of `full` latent pixels for tiles of `tile` sharing
// at least `overlap`: spread evenly, the first at 0 and the last at the end.
size_t tile_count(size_t full, size_t tile, size_t overlap) {
  if (full <= tile) return 1;
  const size_t stride = tile - overlap;
  return 1 + (full - tile + stride - 1) / stride;
}
size_t tile_position(size_t index, size_t count, size_t full, size_t tile) {
  if (count == 1) return 0;
  return (index * (full - tile) * 2 + (count - 1)) / (2 * (count - 1));  // rounded
}
// Linear blending weight of output pixel u (of `extent`) of a tile: ramps
// over `ramp` pixels on each side that has a neighbour, never 0 inside.
float tile_weight(size_t u, size_t extent, size_t ramp, bool first, bool last) {
  float weight = 1.f;
  if (ramp == 0) return weight;
  if (!first) weight = std::fmin(weight, (static_cast<float>(u) + 0.5f) / static_cast<float>(ramp));
  if (!last) weight = std::fmin(weight, (static_cast<float>(extent - u) - 0.5f) / static_cast<float>(ramp));
  return weight;
}

bool is_index_dtype(DType dtype) { return dtype == DType::kFloat32 || dtype == DType::kInt32 || dtype == DType::kInt64; }

// Writes `value` into element `index` of a float32/int32/int64 tensor.
void write_scalar(Tensor& tensor, size_t index, double value) {
  switch (tensor.dtype) {
    case DType::kInt64: tensor.data_as<int64_t>()[index] = static_cast<int64_t>(std::llround(value)); break;
    case DType::kInt32: tensor.data_as<int32_t>()[index] = static_cast<int32_t>(std::lround(value)); break;
    default: tensor.data_as<float>()[index] = static_cast<float>(value); break;
  }
}

}  // namespace

size_t DiffusionPipeline::reserve_bytes_for(const Model& model) {
  if (model.pipeline_kind() != PipelineKind::kDiffusion) return 0;
  const auto* spec = model.root()->pipeline_as_DiffusionPipeline();
  if (spec == nullptr || spec->schedule() == nullptr) return 0;
  size_t sample = shape_elements(spec->sample_shape());
  uint32_t train_steps = spec->schedule()->train_steps();
  if (sample == 0 || train_steps < 2 || train_steps > kMaxTrainSteps) return 0;
  size_t batch = model.batch();
  size_t bytes = aligned(train_steps * sizeof(float)) + aligned((kMaxSteps + 1) * sizeof(float)) +
                 aligned(kMaxSteps * sizeof(float));
  bytes += (1 + kScratchBuffers + 2) * aligned(batch * sample * sizeof(float));  // x, scratch, known, mask
  bytes += 2 * aligned(2 * batch * sample * sizeof(float));                      // model in/out
  bytes += aligned(2 * batch * sizeof(int32_t));
  bytes += aligned(2 * batch * sizeof(const float*));  // each slot's context
  // Tiled decoding: the summed blending weights of the picture's columns and rows.
  int64_t in[kMaxRank], out[kMaxRank];
  int in_rank = 0, out_rank = 0;
  const auto* dims = spec->sample_shape();
  if (spec->has_decoder() && dims->size() == 3 && graph_io_shape(model, spec->decoder_graph(), false, in, &in_rank) &&
      graph_io_shape(model, spec->decoder_graph(), true, out, &out_rank) && in_rank == 4 && out_rank == 4 &&
      in[2] > 0 && out[2] >= in[2] && out[2] / in[2] <= 64) {
    const size_t factor = static_cast<size_t>(out[2] / in[2]);
    bytes += aligned(static_cast<size_t>(dims->Get(1) + dims->Get(2)) * factor * sizeof(float));
  }
  return bytes;
}

namespace {
Status check_diffusion(const Model& model) {
  if (model.pipeline_kind() != PipelineKind::kDiffusion)
    return Status::error(StatusCode::kInvalidArgument, "diffusion pipeline: the model's pipeline is '%s', not diffusion",
                         pipeline_kind_name(model.pipeline_kind()));
  return Status::ok();
}
}  // namespace

Result<size_t> DiffusionPipeline::arena_bytes_needed(const Model& model, const SessionOptions& options) {
  EG_RETURN_IF_ERROR(check_diffusion(model));
  return Session::arena_bytes_needed(model, reserve_bytes_for(model), options);
}

Status DiffusionPipeline::prepare(const Model& model, const SessionOptions& options) {
  EG_RETURN_IF_ERROR(check_diffusion(model));
  EG_RETURN_IF_ERROR(session_.prepare(model, reserve_bytes_for(model), options));
  return configure(model);
}

Status DiffusionPipeline::prepare(const Model& model, void* arena, size_t arena_bytes, const SessionOptions& options) {
  EG_RETURN_IF_ERROR(check_diffusion(model));
  EG_RETURN_IF_ERROR(session_.prepare(model, arena, arena_bytes, reserve_bytes_for(model), options));
  return configure(model);
}

uint32_t DiffusionPipeline::capabilities() const {
  // Pictures become samples through the encoder, or are the samples themselves.
  const bool pictures_in = encoder_graph_ >= 0 || decoder_graph_ < 0;
  return capability_bit(Capability::kSample) | (pictures_in ? capability_bit(Capability::kInpaint) : 0u) |
         (pictures_in ? capability_bit(Capability::kImageToImage) : 0u) |
         (has_class_input() ? capability_bit(Capability::kClassConditional) : 0u);
}

Status DiffusionPipeline::sample(const SamplingOptions& options, size_t count, float* items) {
  DiffusionOptions diffusion = options.diffusion != nullptr ? *options.diffusion : DiffusionOptions();
  diffusion.seed = options.seed;
  return sample(diffusion, count, options.labels, items);
}

Status DiffusionPipeline::configure(const Model& model) {
  const auto* spec = model.root()->pipeline_as_DiffusionPipeline();
  if (spec == nullptr) return invalid("the pipeline table is missing");
  const size_t num_graphs = session_.num_graphs();
  if (spec->denoiser_graph() >= num_graphs) return invalid("denoiser_graph is out of range");
  if (spec->has_decoder() && spec->decoder_graph() >= num_graphs) return invalid("decoder_graph is out of range");
  denoiser_graph_ = static_cast<int>(spec->denoiser_graph());
  decoder_graph_ = spec->has_decoder() ? static_cast<int>(spec->decoder_graph()) : -1;
  sample_size_ = shape_elements(spec->sample_shape());
  if (sample_size_ == 0) return invalid("sample_shape is missing, empty, too large or has a dimension < 1");
  sample_shape_.rank = static_cast<int>(spec->sample_shape()->size());
  for (int i = 0; i < sample_shape_.rank; ++i) sample_shape_.dims[i] = spec->sample_shape()->Get(static_cast<uint32_t>(i));
  batch_ = model.batch();
  if (batch_ < 1) return invalid("the model's batch is 0");

  // The denoiser's inputs and output.
  const size_t denoiser = static_cast<size_t>(denoiser_graph_);
  const size_t inputs = session_.num_inputs(denoiser);
  sample_input_ = spec->sample_input();
  timestep_input_ = spec->timestep_input();
  class_input_ = spec->class_input();
  context_input_ = spec->context_input();
  if (sample_input_ >= inputs || timestep_input_ >= inputs || sample_input_ == timestep_input_ ||
      class_input_ < -1 || class_input_ >= static_cast<int>(inputs) || context_input_ < -1 ||
      context_input_ >= static_cast<int>(inputs) ||
      (class_input_ >= 0 && (static_cast<size_t>(class_input_) == sample_input_ ||
                             static_cast<size_t>(class_input_) == timestep_input_)) ||
      (context_input_ >= 0 && (static_cast<size_t>(context_input_) == sample_input_ ||
                               static_cast<size_t>(context_input_) == timestep_input_ || context_input_ == class_input_)))
    return invalid("the sample/timestep/class/context input indices do not name distinct denoiser inputs");
  if (inputs != 2u + (class_input_ >= 0 ? 1u : 0u) + (context_input_ >= 0 ? 1u : 0u))
    return invalid("the denoiser has inputs the pipeline does not feed");
  Shape expected;
  expected.rank = sample_shape_.rank + 1;
  expected.dims[0] = static_cast<int64_t>(batch_);
  for (int i = 0; i < sample_shape_.rank; ++i) expected.dims[i + 1] = sample_shape_.dims[i];
  const Tensor& x_input = session_.input(denoiser, sample_input_);
  if (x_input.dtype != DType::kFloat32 || x_input.shape != expected)
    return Status::error(StatusCode::kInvalidModel, "diffusion pipeline: denoiser input '%s' must be float32 [batch, sample_shape]",
                         x_input.name);
  if (session_.num_outputs(denoiser) < 1 || session_.output(denoiser, 0).dtype != DType::kFloat32 ||
      session_.output(denoiser, 0).shape != expected)
    return invalid("the denoiser's first output must be float32 [batch, sample_shape]");
  for (int index : {static_cast<int>(timestep_input_), class_input_}) {
    if (index < 0) continue;
    const Tensor& tensor = session_.input(denoiser, static_cast<size_t>(index));
    if (!is_index_dtype(tensor.dtype) || tensor.shape.num_elements() != static_cast<int64_t>(batch_))
      return Status::error(StatusCode::kInvalidModel,
                           "diffusion pipeline: denoiser input '%s' must hold one float32/int32/int64 value per item",
                           tensor.name);
  }
  num_classes_ = spec->num_classes();
  null_class_ = spec->null_class();
  if (null_class_ < -1 || null_class_ > static_cast<int32_t>(num_classes_))
    return invalid("null_class must be -1 or in [0, num_classes]");
  prediction_ = static_cast<DiffusionPrediction>(spec->prediction());
  if (static_cast<uint32_t>(prediction_) > 2) return invalid("unknown prediction type");

  // Output: the decoder's (whole or tile by tile), or the sample itself; the encoder; the context.
  EG_RETURN_IF_ERROR(configure_latent(model));
  output_low_ = -1.f;
  output_high_ = 1.f;
  if (const auto* range = spec->output_range(); range != nullptr && range->size() == 2 && range->Get(0) < range->Get(1)) {
    output_low_ = range->Get(0);
    output_high_ = range->Get(1);
  }

  // The schedule, computed here from its stored description.
  const auto* schedule = spec->schedule();
  if (schedule == nullptr) return invalid("the noise schedule is missing");
  train_steps_ = schedule->train_steps();
  if (train_steps_ < 2 || train_steps_ > kMaxTrainSteps) return invalid("schedule train_steps must be in [2, 100000]");
  NoiseScheduleSpec schedule_spec;
  schedule_spec.type = static_cast<NoiseScheduleType>(schedule->kind());
  if (static_cast<uint32_t>(schedule_spec.type) > 3) return invalid("unknown schedule kind");
  schedule_spec.beta_start = schedule->beta_start();
  schedule_spec.beta_end = schedule->beta_end();
  schedule_spec.train_steps = train_steps_;
  if (schedule_spec.type == NoiseScheduleType::kExplicit) {
    if (schedule->alphas_cumprod() == nullptr || schedule->alphas_cumprod()->size() != train_steps_)
      return invalid("an explicit schedule needs train_steps alphas_cumprod values");
    schedule_spec.explicit_alphas_cumprod = schedule->alphas_cumprod()->data();
  } else if (!(schedule_spec.beta_start > 0.f && schedule_spec.beta_start < schedule_spec.beta_end &&
               schedule_spec.beta_end < 1.f)) {
    return invalid("schedule betas must satisfy 0 < beta_start < beta_end < 1");
  }

  const size_t floats = batch_ * sample_size_;
  alphas_cumprod_ = static_cast<float*>(session_.reserve(train_steps_ * sizeof(float)));
  sigmas_ = static_cast<float*>(session_.reserve((kMaxSteps + 1) * sizeof(float)));
  timesteps_ = static_cast<float*>(session_.reserve(kMaxSteps * sizeof(float)));
  x_ = static_cast<float*>(session_.reserve(floats * sizeof(float)));
  for (auto& buffer : scratch_) buffer = static_cast<float*>(session_.reserve(floats * sizeof(float)));
  known_ = static_cast<float*>(session_.reserve(floats * sizeof(float)));
  mask_ = static_cast<float*>(session_.reserve(floats * sizeof(float)));
  model_in_ = static_cast<float*>(session_.reserve(2 * floats * sizeof(float)));
  model_out_ = static_cast<float*>(session_.reserve(2 * floats * sizeof(float)));
  slot_labels_ = static_cast<int32_t*>(session_.reserve(2 * batch_ * sizeof(int32_t)));
  slot_context_ = static_cast<const float**>(session_.reserve(2 * batch_ * sizeof(const float*)));
  if (tiled_) {
    const size_t picture_lines = static_cast<size_t>(sample_shape_.dims[1] + sample_shape_.dims[2]) * tile_factor_;
    tile_weights_ = static_cast<float*>(session_.reserve(picture_lines * sizeof(float)));
    if (tile_weights_ == nullptr)
      return Status::error(StatusCode::kArenaTooSmall, "diffusion pipeline: the arena reservation is too small");
  }
  if (slot_labels_ == nullptr || slot_context_ == nullptr || alphas_cumprod_ == nullptr)
    return Status::error(StatusCode::kArenaTooSmall, "diffusion pipeline: the arena reservation is too small");
  return compute_alphas_cumprod(schedule_spec, alphas_cumprod_);
}

Status DiffusionPipeline::configure_latent(const Model& model) {
  const auto* spec = model.root()->pipeline_as_DiffusionPipeline();
  const size_t num_graphs = session_.num_graphs();
  latent_scale_ = spec->latent_scale();
  if (!(latent_scale_ > 0.f) || !std::isfinite(latent_scale_)) return invalid("latent_scale must be a positive number");
  Shape expected;
  expected.rank = sample_shape_.rank + 1;
  expected.dims[0] = static_cast<int64_t>(batch_);
  for (int i = 0; i < sample_shape_.rank; ++i) expected.dims[i + 1] = sample_shape_.dims[i];

  // The decoder: at once (its input is [batch, sample_shape]) or tile by tile.
  tiled_ = false;
  tile_factor_ = 1;
  tile_overlap_ = 0;
  if (decoder_graph_ >= 0) {
    const size_t decoder = static_cast<size_t>(decoder_graph_);
    if (session_.num_inputs(decoder) != 1 || session_.num_outputs(decoder) < 1 ||
        session_.input(decoder, 0).dtype != DType::kFloat32)
      return invalid("the decoder must have one float32 input");
    const Tensor& z = session_.input(decoder, 0);
    const Tensor& out = session_.output(decoder, 0);
    if (out.dtype != DType::kFloat32 || out.shape.rank < 2 || out.shape.dims[0] != static_cast<int64_t>(batch_))
      return invalid("the decoder output must be float32 with the model's batch");
    if (z.shape == expected) {
      item_shape_.rank = out.shape.rank - 1;
      for (int i = 1; i < out.shape.rank; ++i) item_shape_.dims[i - 1] = out.shape.dims[i];
    } else {
      const int64_t* full = sample_shape_.dims;
      const bool tileable = sample_shape_.rank == 3 && z.shape.rank == 4 && out.shape.rank == 4 &&
                            z.shape.dims[0] == static_cast<int64_t>(batch_) && z.shape.dims[1] == full[0] &&
                            z.shape.dims[2] >= 1 && z.shape.dims[3] >= 1 && out.shape.dims[1] >= 1 &&
                            out.shape.dims[2] >= z.shape.dims[2] && out.shape.dims[3] >= z.shape.dims[3] &&
                            z.shape.dims[2] <= full[1] && z.shape.dims[3] <= full[2] &&
                            out.shape.dims[2] % z.shape.dims[2] == 0 && out.shape.dims[3] % z.shape.dims[3] == 0 &&
                            out.shape.dims[2] / z.shape.dims[2] == out.shape.dims[3] / z.shape.dims[3];
      if (!tileable)
        return invalid("the decoder input must be [batch, sample_shape], or a latent tile [batch, C, h, w] "
                       "no larger than the sample with an output [batch, C', f h, f w]");
      tiled_ = true;
      tile_rows_ = static_cast<size_t>(z.shape.dims[2]);
      tile_columns_ = static_cast<size_t>(z.shape.dims[3]);
      tile_factor_ = static_cast<size_t>(out.shape.dims[2] / z.shape.dims[2]);
      tile_overlap_ = spec->tile_overlap();
      if ((tile_rows_ < static_cast<size_t>(full[1]) && tile_overlap_ >= tile_rows_) ||
          (tile_columns_ < static_cast<size_t>(full[2]) && tile_overlap_ >= tile_columns_))
        return invalid("tile_overlap must be smaller than the decoder's tile");
      item_shape_.rank = 3;
      item_shape_.dims[0] = out.shape.dims[1];
      item_shape_.dims[1] = full[1] * static_cast<int64_t>(tile_factor_);
      item_shape_.dims[2] = full[2] * static_cast<int64_t>(tile_factor_);
    }
    if (!tiled_) {
      tile_rows_ = sample_shape_.rank == 3 ? static_cast<size_t>(sample_shape_.dims[1]) : 0;
      tile_columns_ = sample_shape_.rank == 3 ? static_cast<size_t>(sample_shape_.dims[2]) : 0;
    }
    picture_channels_ = static_cast<size_t>(item_shape_.dims[0]);
    item_size_ = static_cast<size_t>(item_shape_.num_elements());
  } else {
    item_shape_ = sample_shape_;
    item_size_ = sample_size_;
  }

  // The encoder: a picture [batch, item_shape] -> its latent mean [batch, sample_shape].
  encoder_graph_ = -1;
  if (spec->has_encoder()) {
    if (decoder_graph_ < 0) return invalid("an encoder needs a decoder");
    if (spec->encoder_graph() >= num_graphs) return invalid("encoder_graph is out of range");
    encoder_graph_ = static_cast<int>(spec->encoder_graph());
    const size_t encoder = static_cast<size_t>(encoder_graph_);
    Shape picture;
    picture.rank = item_shape_.rank + 1;
    picture.dims[0] = static_cast<int64_t>(batch_);
    for (int i = 0; i < item_shape_.rank; ++i) picture.dims[i + 1] = item_shape_.dims[i];
    if (session_.num_inputs(encoder) != 1 || session_.num_outputs(encoder) < 1 ||
        session_.input(encoder, 0).dtype != DType::kFloat32 || session_.input(encoder, 0).shape != picture)
      return invalid("the encoder must have one float32 input [batch, picture shape] (the decoder's whole output)");
    if (session_.output(encoder, 0).dtype != DType::kFloat32 || session_.output(encoder, 0).shape != expected)
      return invalid("the encoder's first output (the latent mean) must be float32 [batch, sample_shape]");
  }

  // The context [batch, tokens, dim] and the stored unconditional one.
  context_shape_ = Shape();
  context_size_ = 0;
  stored_uncond_ = nullptr;
  const auto* uncond = spec->unconditional_context();
  if (context_input_ >= 0) {
    const Tensor& tensor = session_.input(static_cast<size_t>(denoiser_graph_), static_cast<size_t>(context_input_));
    if (tensor.dtype != DType::kFloat32 || tensor.shape.rank != 3 || tensor.shape.dims[0] != static_cast<int64_t>(batch_))
      return Status::error(StatusCode::kInvalidModel,
                           "diffusion pipeline: the context input '%s' must be float32 [batch, tokens, dim]", tensor.name);
    context_shape_.rank = 2;
    context_shape_.dims[0] = tensor.shape.dims[1];
    context_shape_.dims[1] = tensor.shape.dims[2];
    context_size_ = static_cast<size_t>(context_shape_.num_elements());
    if (uncond != nullptr && uncond->size() != 0) {
      if (uncond->size() != context_size_) return invalid("unconditional_context must hold tokens * dim values");
      stored_uncond_ = uncond->data();
    }
  } else if (uncond != nullptr && uncond->size() != 0) {
    return invalid("unconditional_context without a context input");
  }
  return Status::ok();
}

Status DiffusionPipeline::run_denoiser(const float* x_model, size_t slots, const int32_t* labels, float timestep,
                                       float* out) {
  const size_t graph = static_cast<size_t>(denoiser_graph_);
  Tensor& x_input = session_.input(graph, sample_input_);
  Tensor& t_input = session_.input(graph, timestep_input_);
  for (size_t done = 0; done < slots; done += batch_) {
    const size_t items = slots - done < batch_ ? slots - done : batch_;
    float* x_data = x_input.data_as<float>();
    std::memcpy(x_data, x_model + done * sample_size_, items * sample_size_ * sizeof(float));
    // A partial last batch is padded with zeros so results never depend on earlier runs.
    if (items < batch_) std::memset(x_data + items * sample_size_, 0, (batch_ - items) * sample_size_ * sizeof(float));
    for (size_t b = 0; b < batch_; ++b) write_scalar(t_input, b, timestep);
    if (class_input_ >= 0) {
      Tensor& c_input = session_.input(graph, static_cast<size_t>(class_input_));
      for (size_t b = 0; b < batch_; ++b) write_scalar(c_input, b, b < items ? labels[done + b] : labels[0]);
    }
    if (context_input_ >= 0) {
      float* context = session_.input(graph, static_cast<size_t>(context_input_)).data_as<float>();
      for (size_t b = 0; b < batch_; ++b)
        std::memcpy(context + b * context_size_, slot_context_[done + (b < items ? b : 0)], context_size_ * sizeof(float));
    }
    const uint64_t start = monotonic_nanoseconds();
    Status status = session_.run(graph);
    graph_ns_ += monotonic_nanoseconds() - start;
    EG_RETURN_IF_ERROR(status);
    std::memcpy(out + done * sample_size_, session_.output(graph, 0).data, items * sample_size_ * sizeof(float));
  }
  return Status::ok();
}

Status DiffusionPipeline::denoise(const float* x, size_t count, float sigma, float timestep, const int32_t* labels,
                                  float guidance, float* x0, const float* context, const float* unconditional_context) {
  const bool guided = guidance != 1.f;
  if (count > batch_) return Status::error(StatusCode::kInvalidArgument, "denoise: %zu items > batch %zu", count, batch_);
  const float* uncond = unconditional_context != nullptr ? unconditional_context : stored_uncond_;
  if (guided && ((class_input_ < 0 && context_input_ < 0) || (class_input_ >= 0 && null_class_ < 0)))
    return Status::error(StatusCode::kInvalidArgument,
                         "guidance %g needs a class-conditional model with a null class or a context model (this one has %s)",
                         static_cast<double>(guidance), class_input_ < 0 ? "neither a class nor a context input" : "no null class");
  if (context_input_ >= 0 && uncond == nullptr && (guided || context == nullptr))
    return Status::error(StatusCode::kInvalidArgument,
                         "this model's denoiser takes a context: %s needs an unconditional context, and the model stores "
                         "none (give one)", guided ? "guidance" : "sampling without a context");
  for (size_t i = 0; i < count && context_input_ >= 0; ++i) {
    slot_context_[i] = context != nullptr ? context + i * context_size_ : uncond;
    slot_context_[count + i] = uncond;
  }
  const size_t elements = count * sample_size_;
  const double variance = 1.0 + static_cast<double>(sigma) * sigma;
  const float scale = static_cast<float>(1.0 / std::sqrt(variance));  // VE -> the model's VP scale
  for (size_t e = 0; e < elements; ++e) model_in_[e] = x[e] * scale;
  for (size_t i = 0; i < count; ++i) slot_labels_[i] = labels != nullptr && labels[i] >= 0 ? labels[i] : null_class_;
  size_t slots = count;
  if (guided) {
    // Conditional items first, their unconditional twins after: one batched call.
    std::memcpy(model_in_ + elements, model_in_, elements * sizeof(float));
    for (size_t i = 0; i < count; ++i) slot_labels_[count + i] = null_class_;
    slots = 2 * count;
  }
  EG_RETURN_IF_ERROR(run_denoiser(model_in_, slots, slot_labels_, timestep, model_out_));
  if (guided) {
    // Ho & Salimans, "Classifier-Free Diffusion Guidance", 2022: uncond + g (cond - uncond).
    const float* uncond = model_out_ + elements;
    for (size_t e = 0; e < elements; ++e) model_out_[e] = uncond[e] + guidance * (model_out_[e] - uncond[e]);
  }
  // The prediction as x0 (VE scale x = x0 + sigma eps; alpha = 1 / (1 + sigma^2)).
  const float alpha_root = scale, noise_root = static_cast<float>(sigma / std::sqrt(variance));
  switch (prediction_) {
    case DiffusionPrediction::kEpsilon:
      for (size_t e = 0; e < elements; ++e) x0[e] = x[e] - sigma * model_out_[e];
      break;
    case DiffusionPrediction::kVPrediction:  // Salimans & Ho 2022: x0 = sqrt(a) x_vp - sqrt(1-a) v
      for (size_t e = 0; e < elements; ++e) x0[e] = alpha_root * model_in_[e] - noise_root * model_out_[e];
      break;
    case DiffusionPrediction::kSample:
      std::memcpy(x0, model_out_, elements * sizeof(float));
      break;
  }
  return Status::ok();
}

namespace {

struct RunContext {
  DiffusionPipeline* pipeline;
  const DiffusionOptions* options;
  const int32_t* labels;
  const float* context;  // this chunk's, or null
  size_t count;
  size_t first_item;
  size_t sample_size;
  size_t done_steps;  // steps of earlier chunks, for progress
  size_t total_steps;
};

Status denoise_callback(void* user, const float* x, float sigma, float timestep, float* x0) {
  auto* context = static_cast<RunContext*>(user);
  return context->pipeline->denoise(x, context->count, sigma, timestep, context->labels, context->options->guidance,
                                    x0, context->context, context->options->unconditional_context);
}

// Noise of key k for items first..first+count: stream 1 + k of the seed,
// indexed by item, so item i's noise does not depend on the batch.
void noise_callback(void* user, uint64_t key, float* out) {
  auto* context = static_cast<RunContext*>(user);
  fill_normal(context->options->seed, 1 + key, context->first_item * context->sample_size, out,
              context->count * context->sample_size);
}

bool progress_callback(void* user, size_t step, size_t, double elapsed) {
  auto* context = static_cast<RunContext*>(user);
  const ProgressCallback& progress = context->options->progress;
  return progress.on_step(progress.user, context->done_steps + step, context->total_steps, elapsed);
}

}  // namespace

Status DiffusionPipeline::check_options(const DiffusionOptions& options, size_t count, const int32_t* labels) const {
  if (!session_.prepared() || alphas_cumprod_ == nullptr)
    return Status::error(StatusCode::kNotPrepared, "sample() before prepare()");
  if (options.steps < 1 || options.steps > kMaxSteps || options.steps > train_steps_)
    return Status::error(StatusCode::kInvalidArgument, "steps = %zu must be in [1, %zu]", options.steps,
                         kMaxSteps < train_steps_ ? kMaxSteps : static_cast<size_t>(train_steps_));
  if (!(options.eta >= 0.f && options.eta <= 1.f))
    return Status::error(StatusCode::kInvalidArgument, "eta = %g must be in [0, 1]", static_cast<double>(options.eta));
  if (!std::isfinite(options.guidance))
    return Status::error(StatusCode::kInvalidArgument, "guidance must be a finite number");
  if ((options.known == nullptr) != (options.mask == nullptr))
    return Status::error(StatusCode::kInvalidArgument, "in-painting needs both the known sample and the mask");
  if (options.resample < 1 || options.resample > 100)
    return Status::error(StatusCode::kInvalidArgument, "resample = %d must be in [1, 100]", options.resample);
  const bool pictures_in = encoder_graph_ >= 0 || decoder_graph_ < 0;
  if ((options.known != nullptr || options.init_image != nullptr) && !pictures_in)
    return Status::error(StatusCode::kInvalidArgument,
                         "%s on a latent diffusion model needs its encoder, and this model has none",
                         options.init_image != nullptr ? "image-to-image" : "in-painting");
  if (options.init_image != nullptr && !(options.strength >= 0.f && options.strength <= 1.f))
    return Status::error(StatusCode::kInvalidArgument, "strength = %g must be in [0, 1]",
                         static_cast<double>(options.strength));
  if ((options.context != nullptr || options.unconditional_context != nullptr) && context_input_ < 0)
    return Status::error(StatusCode::kInvalidArgument, "this model takes no context");
  if (labels != nullptr) {
    if (class_input_ < 0) return Status::error(StatusCode::kInvalidArgument, "this model takes no class label");
    for (size_t i = 0; i < count; ++i)
      if (labels[i] < -1 || labels[i] >= static_cast<int32_t>(num_classes_) + (null_class_ >= 0 ? 1 : 0) ||
          (labels[i] == -1 && null_class_ < 0))
        return Status::error(StatusCode::kInvalidArgument, "class %d of item %zu is not in [0, %u)%s", labels[i], i,
                             num_classes_, null_class_ >= 0 ? " (or -1: unconditional)" : "");
  } else if (class_input_ >= 0 && null_class_ < 0) {
    return Status::error(StatusCode::kInvalidArgument, "this model needs a class label (it has no null class)");
  }
  return Status::ok();
}

Status DiffusionPipeline::encode_pictures(const float* pictures, size_t count, float* latents) {
  if (encoder_graph_ < 0) return Status::error(StatusCode::kUnsupportedOp, "this diffusion model has no encoder");
  const size_t encoder = static_cast<size_t>(encoder_graph_);
  float* input = session_.input(encoder, 0).data_as<float>();
  for (size_t first = 0; first < count; first += batch_) {
    const size_t n = count - first < batch_ ? count - first : batch_;
    std::memcpy(input, pictures + first * item_size_, n * item_size_ * sizeof(float));
    if (n < batch_) std::memset(input + n * item_size_, 0, (batch_ - n) * item_size_ * sizeof(float));
    const uint64_t start = monotonic_nanoseconds();
    Status status = session_.run(encoder);
    graph_ns_ += monotonic_nanoseconds() - start;
    EG_RETURN_IF_ERROR(status);
    const float* mean = session_.output(encoder, 0).data_as<float>();
    float* to = latents + first * sample_size_;
    for (size_t e = 0; e < n * sample_size_; ++e) to[e] = mean[e] * latent_scale_;
  }
  return Status::ok();
}

// Tile (ty, tx) of a [C, H, W] latent decodes to [C', f h, f w]; each output
// pixel is the blend sum_tiles w_tile(x) w_tile(y) out_tile / (Sx(x) Sy(y))
// with linear ramps over the overlap: the weights of a tile grid factor
// into columns and rows, so only their per-column and per-row sums are kept.
Status DiffusionPipeline::decode_tiled(const float* sample, float* picture) {
  const size_t decoder = static_cast<size_t>(decoder_graph_);
  const size_t channels = static_cast<size_t>(sample_shape_.dims[0]);
  const size_t rows = static_cast<size_t>(sample_shape_.dims[1]), columns = static_cast<size_t>(sample_shape_.dims[2]);
  const size_t f = tile_factor_, out_rows = rows * f, out_columns = columns * f;
  const size_t tile_out_rows = tile_rows_ * f, tile_out_columns = tile_columns_ * f, ramp = tile_overlap_ * f;
  const size_t tiles_y = tile_count(rows, tile_rows_, tile_overlap_), tiles_x = tile_count(columns, tile_columns_, tile_overlap_);
  float* column_sum = tile_weights_;
  float* row_sum = tile_weights_ + out_columns;
  std::memset(tile_weights_, 0, (out_rows + out_columns) * sizeof(float));
  for (size_t i = 0; i < tiles_x; ++i) {
    const size_t at = tile_position(i, tiles_x, columns, tile_columns_) * f;
    for (size_t u = 0; u < tile_out_columns; ++u)
      column_sum[at + u] += tile_weight(u, tile_out_columns, ramp, i == 0, i + 1 == tiles_x);
  }
  for (size_t j = 0; j < tiles_y; ++j) {
    const size_t at = tile_position(j, tiles_y, rows, tile_rows_) * f;
    for (size_t v = 0; v < tile_out_rows; ++v) row_sum[at + v] += tile_weight(v, tile_out_rows, ramp, j == 0, j + 1 == tiles_y);
  }
  std::memset(picture, 0, item_size_ * sizeof(float));

  const size_t tile_size = channels * tile_rows_ * tile_columns_;
  const size_t tile_out_size = picture_channels_ * tile_out_rows * tile_out_columns;
  const float inverse_scale = 1.f / latent_scale_;
  const size_t tiles = tiles_y * tiles_x;
  for (size_t first = 0; first < tiles; first += batch_) {
    const size_t n = tiles - first < batch_ ? tiles - first : batch_;
    float* z = session_.input(decoder, 0).data_as<float>();
    for (size_t k = 0; k < n; ++k) {
      const size_t y0 = tile_position((first + k) / tiles_x, tiles_y, rows, tile_rows_);
      const size_t x0 = tile_position((first + k) % tiles_x, tiles_x, columns, tile_columns_);
      for (size_t c = 0; c < channels; ++c)
        for (size_t y = 0; y < tile_rows_; ++y)
          for (size_t x = 0; x < tile_columns_; ++x)
            z[((k * channels + c) * tile_rows_ + y) * tile_columns_ + x] =
                sample[(c * rows + y0 + y) * columns + x0 + x] * inverse_scale;
    }
    if (n < batch_) std::memset(z + n * tile_size, 0, (batch_ - n) * tile_size * sizeof(float));
    const uint64_t start = monotonic_nanoseconds();
    Status status = session_.run(decoder);
    graph_ns_ += monotonic_nanoseconds() - start;
    EG_RETURN_IF_ERROR(status);
    const float* out = session_.output(decoder, 0).data_as<float>();
    for (size_t k = 0; k < n; ++k) {
      const size_t ty = (first + k) / tiles_x, tx = (first + k) % tiles_x;
      const size_t y0 = tile_position(ty, tiles_y, rows, tile_rows_) * f;
      const size_t x0 = tile_position(tx, tiles_x, columns, tile_columns_) * f;
      const float* tile = out + k * tile_out_size;
      for (size_t v = 0; v < tile_out_rows; ++v) {
        const float wy = tile_weight(v, tile_out_rows, ramp, ty == 0, ty + 1 == tiles_y) / row_sum[y0 + v];
        for (size_t c = 0; c < picture_channels_; ++c) {
          const float* from = tile + (c * tile_out_rows + v) * tile_out_columns;
          float* to = picture + (c * out_rows + y0 + v) * out_columns + x0;
          for (size_t u = 0; u < tile_out_columns; ++u)
            to[u] += from[u] * wy * tile_weight(u, tile_out_columns, ramp, tx == 0, tx + 1 == tiles_x) / column_sum[x0 + u];
        }
      }
    }
  }
  return Status::ok();
}

Status DiffusionPipeline::decode_samples(const float* samples, size_t count, float* pictures) {
  if (decoder_graph_ < 0) {
    std::memcpy(pictures, samples, count * sample_size_ * sizeof(float));
    return Status::ok();
  }
  if (tiled_) {
    for (size_t i = 0; i < count; ++i) EG_RETURN_IF_ERROR(decode_tiled(samples + i * sample_size_, pictures + i * item_size_));
    return Status::ok();
  }
  const size_t decoder = static_cast<size_t>(decoder_graph_);
  const float inverse_scale = 1.f / latent_scale_;
  for (size_t first = 0; first < count; first += batch_) {
    const size_t n = count - first < batch_ ? count - first : batch_;
    float* z = session_.input(decoder, 0).data_as<float>();
    const float* from = samples + first * sample_size_;
    for (size_t e = 0; e < n * sample_size_; ++e) z[e] = from[e] * inverse_scale;
    if (n < batch_) std::memset(z + n * sample_size_, 0, (batch_ - n) * sample_size_ * sizeof(float));
    const uint64_t start = monotonic_nanoseconds();
    Status status = session_.run(decoder);
    graph_ns_ += monotonic_nanoseconds() - start;
    EG_RETURN_IF_ERROR(status);
    std::memcpy(pictures + first * item_size_, session_.output(decoder, 0).data, n * item_size_ * sizeof(float));
  }
  return Status::ok();
}

Status DiffusionPipeline::sample(const DiffusionOptions& options, size_t count, const int32_t* labels, float* out) {
  EG_RETURN_IF_ERROR(check_options(options, count, labels));
  const uint64_t sample_start = monotonic_nanoseconds();
  graph_ns_ = 0;
  StepPlan plan;
  plan.sigmas = sigmas_;
  plan.timesteps = timesteps_;
  EG_RETURN_IF_ERROR(make_step_plan(alphas_cumprod_, train_steps_, options.steps, options.spacing, options.karras, &plan));
  // img2img (SDEdit): run the last round(strength * steps) steps of the plan
  // from the picture noised to that step's sigma. Strength 1: from noise.
  size_t first_step = 0;
  if (options.init_image != nullptr)
    first_step = options.steps - static_cast<size_t>(std::lround(static_cast<double>(options.strength) * options.steps));
  StepPlan run_plan;
  run_plan.steps = plan.steps - first_step;
  run_plan.sigmas = plan.sigmas + first_step;
  run_plan.timesteps = plan.timesteps + first_step;
  const bool latent_pictures = encoder_graph_ >= 0;

  const bool guided = options.guidance != 1.f;
  const size_t chunk = guided && batch_ >= 2 ? batch_ / 2 : batch_;
  const size_t chunks = (count + chunk - 1) / chunk;
  for (size_t done = 0; done < count; done += chunk) {
    const size_t items = count - done < chunk ? count - done : chunk;
    const size_t elements = items * sample_size_;
    // x_T: unit-variance noise at the model's scale, in the VE scale; or the noised picture.
    if (options.init_noise != nullptr)
      std::memcpy(x_, options.init_noise + done * sample_size_, elements * sizeof(float));
    else
      fill_normal(options.seed, 0, done * sample_size_, x_, elements);
    if (first_step == 0) {
      const float start_scale = static_cast<float>(std::sqrt(1.0 + static_cast<double>(sigmas_[0]) * sigmas_[0]));
      for (size_t e = 0; e < elements; ++e) x_[e] *= start_scale;
    } else {
      float* noise = scratch_[0];
      std::memcpy(noise, x_, elements * sizeof(float));
      const float* picture = options.init_image + done * item_size_;
      if (latent_pictures)
        EG_RETURN_IF_ERROR(encode_pictures(picture, items, x_));
      else
        std::memcpy(x_, picture, elements * sizeof(float));
      const float sigma = run_plan.steps > 0 ? run_plan.sigmas[0] : 0.f;
      for (size_t e = 0; e < elements; ++e) x_[e] += sigma * noise[e];
    }

    RunContext context{this, &options, nullptr, nullptr, items, done, sample_size_, (done / chunk) * run_plan.steps,
                       chunks * run_plan.steps};
    context.labels = labels != nullptr ? labels + done : nullptr;
    context.context = options.context != nullptr ? options.context + done * context_size_ : nullptr;

    SamplerRun run;
    run.kind = options.sampler;
    run.plan = &run_plan;
    run.alphas_cumprod = alphas_cumprod_;
    run.train_steps = train_steps_;
    run.elements = elements;
    run.eta = options.eta;
    run.denoise = {denoise_callback, &context};
    run.noise = {noise_callback, &context};
    if (options.progress.on_step != nullptr) run.progress = {progress_callback, &context};
    if (options.known != nullptr) {
      if (latent_pictures) {
        // Latent in-painting: the known picture's latent, and the mask
        // averaged over each latent pixel's f x f block (all channels).
        EG_RETURN_IF_ERROR(encode_pictures(options.known + done * item_size_, items, known_));
        EG_RETURN_IF_ERROR(downsample_mask(options.mask + done * item_size_, items));
      } else {
        std::memcpy(known_, options.known + done * sample_size_, elements * sizeof(float));
        std::memcpy(mask_, options.mask + done * sample_size_, elements * sizeof(float));
      }
      run.known = known_;
      run.mask = mask_;
      run.resample = options.resample;
    }
    for (size_t k = 0; k < kScratchBuffers; ++k) run.scratch[k] = scratch_[k];
    if (run_plan.steps > 0) EG_RETURN_IF_ERROR(run_sampler(run, x_));

    float* pictures = out + done * item_size_;
    EG_RETURN_IF_ERROR(decode_samples(x_, items, pictures));
    if (options.known != nullptr && latent_pictures) {
      // The kept pixels are the known picture's own, not their decoded latent.
      const float* known = options.known + done * item_size_;
      const float* mask = options.mask + done * item_size_;
      for (size_t e = 0; e < items * item_size_; ++e) pictures[e] = mask[e] * known[e] + (1.f - mask[e]) * pictures[e];
    }
  }
  sample_ns_ = monotonic_nanoseconds() - sample_start;
  return Status::ok();
}

// mask_ (items * sample_size) from a picture mask (items * item_size): each
// latent pixel keeps when the mean over its block of picture pixels and
// channels is above one half. Needs [C, H, W] samples and [C', fH, fW] pictures.
Status DiffusionPipeline::downsample_mask(const float* mask, size_t items) {
  if (sample_shape_.rank != 3 || item_shape_.rank != 3 || item_shape_.dims[1] % sample_shape_.dims[1] != 0 ||
      item_shape_.dims[2] % sample_shape_.dims[2] != 0)
    return Status::error(StatusCode::kInvalidArgument,
                         "latent in-painting needs [C, H, W] latents and pictures a whole multiple of their size");
  const size_t channels = static_cast<size_t>(sample_shape_.dims[0]);
  const size_t rows = static_cast<size_t>(sample_shape_.dims[1]), columns = static_cast<size_t>(sample_shape_.dims[2]);
  const size_t fy = static_cast<size_t>(item_shape_.dims[1]) / rows, fx = static_cast<size_t>(item_shape_.dims[2]) / columns;
  const size_t picture_channels = static_cast<size_t>(item_shape_.dims[0]);
  for (size_t i = 0; i < items; ++i) {
    const float* from = mask + i * item_size_;
    float* to = mask_ + i * sample_size_;
    for (size_t y = 0; y < rows; ++y)
      for (size_t x = 0; x < columns; ++x) {
        double sum = 0;
        for (size_t c = 0; c < picture_channels; ++c)
          for (size_t v = 0; v < fy; ++v)
            for (size_t u = 0; u < fx; ++u)
              sum += from[(c * rows * fy + y * fy + v) * columns * fx + x * fx + u];
        const float keep = sum / static_cast<double>(picture_channels * fy * fx) > 0.5 ? 1.f : 0.f;
        for (size_t c = 0; c < channels; ++c) to[(c * rows + y) * columns + x] = keep;
      }
  }
  return Status::ok();
}

}  // namespace edgegen
