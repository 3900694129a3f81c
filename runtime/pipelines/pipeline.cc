#include "edgegen/pipeline.h"

#include <cmath>
#include <cstring>

#include "edgegen/random.h"
#include "edgegen_generated.h"

namespace edgegen {

void interpolate_latents(const float* z0, const float* z1, size_t size, float t, Interpolation kind, float* out) {
  if (kind == Interpolation::kSpherical) {
    double dot = 0, norm0 = 0, norm1 = 0;
    for (size_t i = 0; i < size; ++i) {
      dot += static_cast<double>(z0[i]) * z1[i];
      norm0 += static_cast<double>(z0[i]) * z0[i];
      norm1 += static_cast<double>(z1[i]) * z1[i];
    }
    double cosine = dot / (std::sqrt(norm0 * norm1) + 1e-30);
    if (cosine > 1) cosine = 1;
    if (cosine < -1) cosine = -1;
    double omega = std::acos(cosine);
    double sine = std::sin(omega);
    // Nearly (anti)parallel latents: slerp's weights are ill-conditioned.
    if (sine > 1e-6) {
      double w0 = std::sin((1.0 - t) * omega) / sine, w1 = std::sin(t * omega) / sine;
      for (size_t i = 0; i < size; ++i) out[i] = static_cast<float>(w0 * z0[i] + w1 * z1[i]);
      return;
    }
  }
  for (size_t i = 0; i < size; ++i) out[i] = (1.f - t) * z0[i] + t * z1[i];
}

namespace {

Shape shape_from(const flatbuffers::Vector<int64_t>* dims) {
  Shape shape;
  shape.rank = static_cast<int>(dims->size());
  for (int i = 0; i < shape.rank; ++i) shape.dims[i] = dims->Get(static_cast<uint32_t>(i));
  return shape;
}

// The shape without its first (batch) dimension.
Shape drop_batch(const Shape& shape) {
  Shape item;
  item.rank = shape.rank - 1;
  for (int i = 1; i < shape.rank; ++i) item.dims[i - 1] = shape.dims[i];
  return item;
}

// A graph input/output that holds `batch` items of `item` floats.
Status check_batched_float(const Tensor& tensor, size_t batch, const Shape& item, const char* role) {
  char have[128], want[128];
  Shape expected;
  expected.rank = item.rank + 1;
  expected.dims[0] = static_cast<int64_t>(batch);
  for (int i = 0; i < item.rank; ++i) expected.dims[i + 1] = item.dims[i];
  if (tensor.dtype != DType::kFloat32 || tensor.shape != expected)
    return Status::error(StatusCode::kInvalidModel, "pipeline: %s '%s' is %s %s, expected float32 %s", role,
                         tensor.name, dtype_name(tensor.dtype), format_shape(tensor.shape, have, sizeof have),
                         format_shape(expected, want, sizeof want));
  return Status::ok();
}

void read_range(const flatbuffers::Vector<float>* range, float* low, float* high) {
  if (range != nullptr && range->size() == 2 && range->Get(0) < range->Get(1)) {
    *low = range->Get(0);
    *high = range->Get(1);
  }
}

}  // namespace

namespace {
Status check_decoder_or_vae(const Model& model) {
  PipelineKind kind = model.pipeline_kind();
  if (kind != PipelineKind::kDecoder && kind != PipelineKind::kVae)
    return Status::error(StatusCode::kUnsupportedOp,
                         "pipeline kind '%s' cannot be run by this version (supported: decoder, vae); run its "
                         "graphs one by one with a Session",
                         pipeline_kind_name(kind));
  return Status::ok();
}
}  // namespace

Result<size_t> Pipeline::arena_bytes_needed(const Model& model, const SessionOptions& options) {
  return arena_bytes_needed(model, options, kHostDataModel);
}

Result<size_t> Pipeline::arena_bytes_needed(const Model& model, const SessionOptions& options,
                                            const DataModel& data_model) {
  EG_RETURN_IF_ERROR(check_decoder_or_vae(model));
  return Session::arena_bytes_needed(model, 0, options, data_model);
}

Status Pipeline::prepare(const Model& model, const SessionOptions& options) {
  EG_RETURN_IF_ERROR(check_decoder_or_vae(model));
  EG_RETURN_IF_ERROR(session_.prepare(model, 0, options));
  return configure(model);
}

Status Pipeline::prepare(const Model& model, void* arena, size_t arena_bytes, const SessionOptions& options) {
  EG_RETURN_IF_ERROR(check_decoder_or_vae(model));
  EG_RETURN_IF_ERROR(session_.prepare(model, arena, arena_bytes, 0, options));
  return configure(model);
}

Status Pipeline::configure(const Model& model) {
  kind_ = model.pipeline_kind();
  batch_ = model.batch();
  const format::Model* root = model.root();
  const flatbuffers::Vector<int64_t>* latent = nullptr;
  const flatbuffers::Vector<float>* range = nullptr;
  switch (kind_) {
    case PipelineKind::kDecoder: {
      const auto* spec = root->pipeline_as_DecoderPipeline();
      decoder_graph_ = static_cast<int>(spec->decoder_graph());
      latent = spec->latent_shape();
      range = spec->output_range();
      sample_rate_ = spec->sample_rate();
      break;
    }
    case PipelineKind::kVae: {
      const auto* spec = root->pipeline_as_VaePipeline();
      encoder_graph_ = static_cast<int>(spec->encoder_graph());
      decoder_graph_ = static_cast<int>(spec->decoder_graph());
      mean_output_ = spec->mean_output();
      logvar_output_ = spec->logvar_output();
      latent = spec->latent_shape();
      range = spec->output_range();
      sample_rate_ = spec->sample_rate();
      break;
    }
    default:
      return Status::error(StatusCode::kUnsupportedOp,
                           "pipeline kind '%s' cannot be run by this version (supported: decoder, vae); run its "
                           "graphs one by one with a Session",
                           pipeline_kind_name(kind_));
  }
  latent_shape_ = shape_from(latent);
  latent_size_ = static_cast<size_t>(latent_shape_.num_elements());
  read_range(range, &output_low_, &output_high_);

  const size_t decoder = static_cast<size_t>(decoder_graph_);
  if (session_.num_inputs(decoder) != 1 || session_.num_outputs(decoder) < 1)
    return Status::error(StatusCode::kInvalidModel, "pipeline: the decoder must have one input and an output");
  EG_RETURN_IF_ERROR(check_batched_float(session_.input(decoder, 0), batch_, latent_shape_, "decoder input"));
  const Tensor& generated = session_.output(decoder, 0);
  if (generated.dtype != DType::kFloat32 || generated.shape.rank < 1 ||
      generated.shape.dims[0] != static_cast<int64_t>(batch_))
    return Status::error(StatusCode::kInvalidModel, "pipeline: decoder output '%s' must be float32 with batch %zu",
                         generated.name, batch_);
  item_shape_ = drop_batch(generated.shape);
  item_size_ = static_cast<size_t>(item_shape_.num_elements());

  if (kind_ == PipelineKind::kVae) {
    const size_t encoder = static_cast<size_t>(encoder_graph_);
    if (session_.num_inputs(encoder) != 1)
      return Status::error(StatusCode::kInvalidModel, "pipeline: the encoder must have exactly one input");
    if (mean_output_ >= session_.num_outputs(encoder) || logvar_output_ >= session_.num_outputs(encoder))
      return Status::error(StatusCode::kInvalidModel, "pipeline: encoder outputs %zu/%zu do not exist", mean_output_,
                           logvar_output_);
    EG_RETURN_IF_ERROR(check_batched_float(session_.input(encoder, 0), batch_, item_shape_, "encoder input"));
    EG_RETURN_IF_ERROR(
        check_batched_float(session_.output(encoder, mean_output_), batch_, latent_shape_, "encoder mean"));
    EG_RETURN_IF_ERROR(
        check_batched_float(session_.output(encoder, logvar_output_), batch_, latent_shape_, "encoder log-variance"));
  }
  return Status::ok();
}

void Pipeline::draw_latents(uint64_t seed, float temperature, size_t count, float* latents) const {
  fill_normal(seed, /*stream=*/0, /*first=*/0, latents, count * latent_size_);
  if (temperature != 1.f)
    for (size_t i = 0; i < count * latent_size_; ++i) latents[i] *= temperature;
}

Status Pipeline::run_graph_batched(size_t graph, const float* in, size_t in_stride, size_t count, size_t num_outputs,
                                   const size_t* output_indices, float* const* outs, const size_t* out_strides) {
  Tensor& input = session_.input(graph, 0);
  float* input_data = input.data_as<float>();
  for (size_t done = 0; done < count; done += batch_) {
    size_t items = count - done < batch_ ? count - done : batch_;
    std::memcpy(input_data, in + done * in_stride, items * in_stride * sizeof(float));
    // A partial last batch: pad with zeros rather than stale data, so results
    // never depend on what ran before.
    if (items < batch_) std::memset(input_data + items * in_stride, 0, (batch_ - items) * in_stride * sizeof(float));
    EG_RETURN_IF_ERROR(session_.run(graph));
    for (size_t k = 0; k < num_outputs; ++k) {
      const float* result = session_.output(graph, output_indices[k]).data_as<float>();
      std::memcpy(outs[k] + done * out_strides[k], result, items * out_strides[k] * sizeof(float));
    }
  }
  return Status::ok();
}

Status Pipeline::decode(const float* latents, size_t count, float* items) {
  if (!session_.prepared()) return Status::error(StatusCode::kNotPrepared, "decode() before prepare()");
  const size_t output_index = 0;
  float* outs[1] = {items};
  const size_t strides[1] = {item_size_};
  return run_graph_batched(static_cast<size_t>(decoder_graph_), latents, latent_size_, count, 1, &output_index, outs,
                           strides);
}

uint32_t Pipeline::capabilities() const {
  uint32_t bits = capability_bit(Capability::kSample) | capability_bit(Capability::kDecode) |
                  capability_bit(Capability::kInterpolate);
  if (kind_ == PipelineKind::kVae) bits |= capability_bit(Capability::kEncode);
  return bits;
}

Status Pipeline::sample(const SamplingOptions& options, size_t count, float* items) {
  return sample(options.seed, options.temperature, count, items, options.latents);
}

Status Pipeline::sample(uint64_t seed, float temperature, size_t count, float* items, float* latents) {
  if (!session_.prepared()) return Status::error(StatusCode::kNotPrepared, "sample() before prepare()");
  // Latents are drawn one batch at a time into the decoder's own input, so
  // sampling needs no caller scratch; each latent still comes from its
  // fixed index of the random stream.
  const size_t decoder = static_cast<size_t>(decoder_graph_);
  float* input = session_.input(decoder, 0).data_as<float>();
  for (size_t done = 0; done < count; done += batch_) {
    size_t chunk = count - done < batch_ ? count - done : batch_;
    fill_normal(seed, 0, done * latent_size_, input, batch_ * latent_size_);
    if (temperature != 1.f)
      for (size_t i = 0; i < batch_ * latent_size_; ++i) input[i] *= temperature;
    if (latents != nullptr) std::memcpy(latents + done * latent_size_, input, chunk * latent_size_ * sizeof(float));
    EG_RETURN_IF_ERROR(session_.run(decoder));
    std::memcpy(items + done * item_size_, session_.output(decoder, 0).data, chunk * item_size_ * sizeof(float));
  }
  return Status::ok();
}

Status Pipeline::encode(const float* items, size_t count, float* mean, float* logvar) {
  if (!session_.prepared()) return Status::error(StatusCode::kNotPrepared, "encode() before prepare()");
  // What the Program interface promises for an operation a kind lacks.
  if (kind_ != PipelineKind::kVae) return unsupported(Capability::kEncode);
  const size_t indices[2] = {mean_output_, logvar_output_};
  float* outs[2] = {mean, logvar};
  const size_t strides[2] = {latent_size_, latent_size_};
  return run_graph_batched(static_cast<size_t>(encoder_graph_), items, item_size_, count, logvar ? 2 : 1, indices,
                           outs, strides);
}

Status Pipeline::reconstruct(const float* items, size_t count, float* out, float* latents_scratch) {
  EG_RETURN_IF_ERROR(encode(items, count, latents_scratch, nullptr));
  return decode(latents_scratch, count, out);
}

}  // namespace edgegen
