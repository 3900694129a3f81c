#include "edgegen/vocoder.h"

#include <cstring>

#include "edgegen_generated.h"

namespace edgegen {
namespace {

Status not_vocoder(const Model& model) {
  return Status::error(StatusCode::kInvalidArgument, "this model is a '%s' pipeline, not a vocoder",
                       pipeline_kind_name(model.pipeline_kind()));
}

}  // namespace

// Window k reads [k * V, k * V + W) with V = W - 2C (the last one ends at
// the sequence's end instead) and keeps what is at least C frames from an
// edge that is not the sequence's own.
VocoderWindow vocoder_window(size_t index, size_t frames, size_t window_frames, size_t context_frames) {
  VocoderWindow window;
  if (frames <= window_frames) {
    window.keep_end = frames;
    return window;
  }
  const size_t stride = window_frames - 2 * context_frames;
  window.start = index * stride;
  window.keep_begin = index == 0 ? 0 : window.start + context_frames;
  if (window.start + window_frames >= frames) {
    window.start = frames - window_frames;
    window.keep_end = frames;
  } else {
    window.keep_end = window.start + window_frames - context_frames;
  }
  return window;
}

size_t vocoder_window_count(size_t frames, size_t window_frames, size_t context_frames) {
  if (frames <= window_frames) return 1;
  const size_t stride = window_frames - 2 * context_frames;
  return (frames - window_frames + stride - 1) / stride + 1;  // the first k with k * V + W >= frames, plus one
}

Result<size_t> VocoderPipeline::arena_bytes_needed(const Model& model, const SessionOptions& options) {
  if (model.pipeline_kind() != PipelineKind::kVocoder) return not_vocoder(model);
  return Session::arena_bytes_needed(model, 0, options);
}

uint32_t VocoderPipeline::capabilities() const { return capability_bit(Capability::kVocode); }

Status VocoderPipeline::prepare(const Model& model, const SessionOptions& options) {
  if (model.pipeline_kind() != PipelineKind::kVocoder) return not_vocoder(model);
  EG_RETURN_IF_ERROR(session_.prepare(model, 0, options));
  return configure(model);
}

Status VocoderPipeline::prepare(const Model& model, void* arena, size_t arena_bytes, const SessionOptions& options) {
  if (model.pipeline_kind() != PipelineKind::kVocoder) return not_vocoder(model);
  EG_RETURN_IF_ERROR(session_.prepare(model, arena, arena_bytes, 0, options));
  return configure(model);
}

// The graph (index verified at load): one float input [b, mels, W], a float
// output of b * W * hop samples ([b, 1, W * hop] or [b, W * hop]).
Status VocoderPipeline::configure(const Model& model) {
  const auto* spec = model.root()->pipeline_as_VocoderPipeline();
  graph_ = spec->graph();
  batch_ = model.batch();
  sample_rate_ = spec->sample_rate();
  hop_length_ = spec->hop_length();
  context_frames_ = spec->context_frames();
  pad_value_ = spec->pad_value();
  if (session_.num_inputs(graph_) != 1 || session_.num_outputs(graph_) < 1)
    return Status::error(StatusCode::kInvalidModel, "vocoder: the graph must have one input (the mel frames) and an output");
  input_ = &session_.input(graph_, 0);
  output_ = &session_.output(graph_, 0);
  const Shape& in = input_->shape;
  char text[128];
  if (input_->dtype != DType::kFloat32 || in.rank != 3 || in.dims[0] != static_cast<int64_t>(batch_))
    return Status::error(StatusCode::kInvalidModel, "vocoder: input '%s' is %s %s; it must be float32 [%zu, mels, frames]",
                         input_->name, dtype_name(input_->dtype), format_shape(in, text, sizeof text), batch_);
  mels_ = static_cast<size_t>(in.dims[1]);
  window_frames_ = static_cast<size_t>(in.dims[2]);
  if (window_frames_ <= 2 * context_frames_)
    return Status::error(StatusCode::kInvalidModel,
                         "vocoder: the graph reads %zu frames, which leaves none between %zu context frames on each "
                         "side; convert it for more frames (--dim)",
                         window_frames_, context_frames_);
  const Shape& out = output_->shape;
  const int64_t samples = static_cast<int64_t>(window_frames_ * hop_length_);
  const bool rank3 = out.rank == 3 && out.dims[1] == 1 && out.dims[2] == samples;
  const bool rank2 = out.rank == 2 && out.dims[1] == samples;
  if (output_->dtype != DType::kFloat32 || out.dims[0] != static_cast<int64_t>(batch_) || !(rank3 || rank2))
    return Status::error(StatusCode::kInvalidModel,
                         "vocoder: output '%s' is %s %s; for %zu frames of hop %zu it must be float32 [%zu, 1, %lld] "
                         "or [%zu, %lld]",
                         output_->name, dtype_name(output_->dtype), format_shape(out, text, sizeof text), window_frames_,
                         hop_length_, batch_, static_cast<long long>(samples), batch_, static_cast<long long>(samples));
  event_shape_ = Shape();
  event_shape_.rank = out.rank - 1;
  for (int d = 1; d < out.rank; ++d) event_shape_.dims[d - 1] = out.dims[d];
  return Status::ok();
}

void VocoderPipeline::load_window(const float* mel, size_t frames, const VocoderWindow& window, size_t slot) {
  float* in = input_->data_as<float>() + slot * mels_ * window_frames_;
  const size_t available = frames - window.start < window_frames_ ? frames - window.start : window_frames_;
  for (size_t m = 0; m < mels_; ++m) {
    float* row = in + m * window_frames_;
    std::memcpy(row, mel + m * frames + window.start, available * sizeof(float));
    for (size_t f = available; f < window_frames_; ++f) row[f] = pad_value_;
  }
}

Status VocoderPipeline::vocode(const float* mel, size_t frames, float* audio) {
  if (!session_.prepared()) return Status::error(StatusCode::kNotPrepared, "vocode() before prepare()");
  if (mel == nullptr || audio == nullptr)
    return Status::error(StatusCode::kInvalidArgument, "vocode: mel and audio must not be null");
  if (frames == 0) return Status::error(StatusCode::kInvalidArgument, "vocode: no frames (frames must be at least 1)");
  const size_t windows = vocoder_window_count(frames, window_frames_, context_frames_);
  const size_t window_samples = window_frames_ * hop_length_;
  for (size_t first = 0; first < windows; first += batch_) {
    const size_t in_run = windows - first < batch_ ? windows - first : batch_;
    for (size_t slot = 0; slot < batch_; ++slot) {
      if (slot < in_run) {
        load_window(mel, frames, vocoder_window(first + slot, frames, window_frames_, context_frames_), slot);
      } else {  // unused slots of the last run: silence, so nothing depends on earlier calls
        float* in = input_->data_as<float>() + slot * mels_ * window_frames_;
        for (size_t i = 0; i < mels_ * window_frames_; ++i) in[i] = pad_value_;
      }
    }
    EG_RETURN_IF_ERROR(session_.run(graph_));
    const float* out = output_->data_as<float>();
    for (size_t slot = 0; slot < in_run; ++slot) {
      const VocoderWindow window = vocoder_window(first + slot, frames, window_frames_, context_frames_);
      std::memcpy(audio + window.keep_begin * hop_length_,
                  out + slot * window_samples + (window.keep_begin - window.start) * hop_length_,
                  (window.keep_end - window.keep_begin) * hop_length_ * sizeof(float));
    }
  }
  return Status::ok();
}

}  // namespace edgegen
