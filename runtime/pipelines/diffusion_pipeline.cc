// The diffusion pipeline: the denoiser graph called by a sampler loop
// (runtime/samplers/), classifier-free guidance in one batched call, and an
// optional latent decoder. Every buffer is reserved in the session's arena
// at prepare; sample() allocates nothing.
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
  return capability_bit(Capability::kSample) | capability_bit(Capability::kInpaint) |
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
  if (sample_input_ >= inputs || timestep_input_ >= inputs || sample_input_ == timestep_input_ ||
      class_input_ < -1 || class_input_ >= static_cast<int>(inputs) ||
      (class_input_ >= 0 && (static_cast<size_t>(class_input_) == sample_input_ ||
                             static_cast<size_t>(class_input_) == timestep_input_)))
    return invalid("the sample/timestep/class input indices do not name distinct denoiser inputs");
  if (inputs != (class_input_ >= 0 ? 3u : 2u)) return invalid("the denoiser has inputs the pipeline does not feed");
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

  // Output: the decoder's, or the sample itself.
  if (decoder_graph_ >= 0) {
    const size_t decoder = static_cast<size_t>(decoder_graph_);
    if (session_.num_inputs(decoder) != 1 || session_.input(decoder, 0).dtype != DType::kFloat32 ||
        session_.input(decoder, 0).shape != expected)
      return invalid("the decoder must have one float32 input [batch, sample_shape]");
    const Tensor& out = session_.output(decoder, 0);
    if (out.dtype != DType::kFloat32 || out.shape.rank < 2 || out.shape.dims[0] != static_cast<int64_t>(batch_))
      return invalid("the decoder output must be float32 with the model's batch");
    item_shape_.rank = out.shape.rank - 1;
    for (int i = 1; i < out.shape.rank; ++i) item_shape_.dims[i - 1] = out.shape.dims[i];
    item_size_ = static_cast<size_t>(item_shape_.num_elements());
  } else {
    item_shape_ = sample_shape_;
    item_size_ = sample_size_;
  }
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
  if (slot_labels_ == nullptr || alphas_cumprod_ == nullptr)
    return Status::error(StatusCode::kArenaTooSmall, "diffusion pipeline: the arena reservation is too small");
  return compute_alphas_cumprod(schedule_spec, alphas_cumprod_);
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
    const uint64_t start = monotonic_nanoseconds();
    Status status = session_.run(graph);
    graph_ns_ += monotonic_nanoseconds() - start;
    EG_RETURN_IF_ERROR(status);
    std::memcpy(out + done * sample_size_, session_.output(graph, 0).data, items * sample_size_ * sizeof(float));
  }
  return Status::ok();
}

Status DiffusionPipeline::denoise(const float* x, size_t count, float sigma, float timestep, const int32_t* labels,
                                  float guidance, float* x0) {
  const bool guided = guidance != 1.f;
  if (count > batch_) return Status::error(StatusCode::kInvalidArgument, "denoise: %zu items > batch %zu", count, batch_);
  if (guided && (class_input_ < 0 || null_class_ < 0))
    return Status::error(StatusCode::kInvalidArgument,
                         "guidance %g needs a class-conditional model with a null class (this one has %s)",
                         static_cast<double>(guidance), class_input_ < 0 ? "no class input" : "no null class");
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
  size_t count;
  size_t first_item;
  size_t sample_size;
  size_t done_steps;  // steps of earlier chunks, for progress
  size_t total_steps;
};

Status denoise_callback(void* user, const float* x, float sigma, float timestep, float* x0) {
  auto* context = static_cast<RunContext*>(user);
  return context->pipeline->denoise(x, context->count, sigma, timestep, context->labels, context->options->guidance,
                                    x0);
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

Status DiffusionPipeline::sample(const DiffusionOptions& options, size_t count, const int32_t* labels, float* out) {
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
  const uint64_t sample_start = monotonic_nanoseconds();
  graph_ns_ = 0;
  StepPlan plan;
  plan.sigmas = sigmas_;
  plan.timesteps = timesteps_;
  EG_RETURN_IF_ERROR(make_step_plan(alphas_cumprod_, train_steps_, options.steps, options.spacing, options.karras, &plan));

  const bool guided = options.guidance != 1.f;
  const size_t chunk = guided && batch_ >= 2 ? batch_ / 2 : batch_;
  const size_t chunks = (count + chunk - 1) / chunk;
  for (size_t done = 0; done < count; done += chunk) {
    const size_t items = count - done < chunk ? count - done : chunk;
    const size_t elements = items * sample_size_;
    // x_T: unit-variance noise at the model's scale, in the VE scale.
    if (options.init_noise != nullptr)
      std::memcpy(x_, options.init_noise + done * sample_size_, elements * sizeof(float));
    else
      fill_normal(options.seed, 0, done * sample_size_, x_, elements);
    const float start_scale = static_cast<float>(std::sqrt(1.0 + static_cast<double>(sigmas_[0]) * sigmas_[0]));
    for (size_t e = 0; e < elements; ++e) x_[e] *= start_scale;

    RunContext context{this, &options, nullptr, items, done, sample_size_, (done / chunk) * options.steps,
                       chunks * options.steps};
    context.labels = labels != nullptr ? labels + done : nullptr;

    SamplerRun run;
    run.kind = options.sampler;
    run.plan = &plan;
    run.alphas_cumprod = alphas_cumprod_;
    run.train_steps = train_steps_;
    run.elements = elements;
    run.eta = options.eta;
    run.denoise = {denoise_callback, &context};
    run.noise = {noise_callback, &context};
    if (options.progress.on_step != nullptr) run.progress = {progress_callback, &context};
    if (options.known != nullptr) {
      std::memcpy(known_, options.known + done * sample_size_, elements * sizeof(float));
      std::memcpy(mask_, options.mask + done * sample_size_, elements * sizeof(float));
      run.known = known_;
      run.mask = mask_;
      run.resample = options.resample;
    }
    for (size_t k = 0; k < kScratchBuffers; ++k) run.scratch[k] = scratch_[k];
    EG_RETURN_IF_ERROR(run_sampler(run, x_));

    if (decoder_graph_ < 0) {
      std::memcpy(out + done * item_size_, x_, elements * sizeof(float));
      continue;
    }
    const size_t decoder = static_cast<size_t>(decoder_graph_);
    float* z = session_.input(decoder, 0).data_as<float>();
    for (size_t first = 0; first < items; first += batch_) {
      const size_t n = items - first < batch_ ? items - first : batch_;
      std::memcpy(z, x_ + first * sample_size_, n * sample_size_ * sizeof(float));
      if (n < batch_) std::memset(z + n * sample_size_, 0, (batch_ - n) * sample_size_ * sizeof(float));
      const uint64_t start = monotonic_nanoseconds();
      Status status = session_.run(decoder);
      graph_ns_ += monotonic_nanoseconds() - start;
      EG_RETURN_IF_ERROR(status);
      std::memcpy(out + (done + first) * item_size_, session_.output(decoder, 0).data, n * item_size_ * sizeof(float));
    }
  }
  sample_ns_ = monotonic_nanoseconds() - sample_start;
  return Status::ok();
}

}  // namespace edgegen
