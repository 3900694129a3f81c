#include <cmath>
#include <cstring>
#include <limits>

#include "edgegen/density.h"
#include "edgegen/random.h"
#include "edgegen_generated.h"

namespace edgegen {
namespace {

constexpr double kLogTwoPi = 1.8378770664093454835606594728112;
constexpr double kLn2 = 0.69314718055994530941723212145818;

Status invalid(const char* message, const char* name = "") {
  return Status::error(StatusCode::kInvalidModel, "flow pipeline: %s%s", message, name);
}

// A float32 tensor whose first dimension is the batch and that holds
// `per_item` values per item.
Status check_batched(const Tensor& tensor, size_t batch, size_t per_item, const char* role) {
  if (tensor.dtype != DType::kFloat32 || tensor.shape.rank < 1 || tensor.shape.dims[0] != static_cast<int64_t>(batch) ||
      tensor.num_elements() != batch * per_item) {
    char have[128];
    return Status::error(StatusCode::kInvalidModel,
                         "flow pipeline: %s '%s' is %s %s, expected float32 [%zu, ...] with %zu values per item", role,
                         tensor.name, dtype_name(tensor.dtype), format_shape(tensor.shape, have, sizeof have), batch,
                         per_item);
  }
  return Status::ok();
}

// log of the standard logistic density, stably: -|z| - 2 log(1 + e^-|z|).
double log_logistic(double z) {
  double a = std::fabs(z);
  return -a - 2.0 * std::log1p(std::exp(-a));
}

}  // namespace

double bits_per_dim(double log_prob, size_t dims) { return -log_prob / (static_cast<double>(dims) * kLn2); }

Result<size_t> FlowPipeline::arena_bytes_needed(const Model& model, const SessionOptions& options) {
  if (model.pipeline_kind() != PipelineKind::kFlow)
    return Status::error(StatusCode::kInvalidArgument, "this model is a '%s' pipeline, not a flow",
                         pipeline_kind_name(model.pipeline_kind()));
  return Session::arena_bytes_needed(model, 0, options);
}

uint32_t FlowPipeline::capabilities() const {
  return capability_bit(Capability::kScore) | (can_sample() ? capability_bit(Capability::kSample) : 0u);
}

Status FlowPipeline::sample(const SamplingOptions& options, size_t count, float* items) {
  return sample(options.seed, options.temperature, count, items);
}

Status FlowPipeline::score(const ScoringOptions&, const float* items, size_t count, float* log_likelihood) {
  return log_prob(items, count, log_likelihood);
}

Status FlowPipeline::prepare(const Model& model, const SessionOptions& options) {
  if (model.pipeline_kind() != PipelineKind::kFlow)
    return Status::error(StatusCode::kInvalidArgument, "this model is a '%s' pipeline, not a flow",
                         pipeline_kind_name(model.pipeline_kind()));
  EG_RETURN_IF_ERROR(session_.prepare(model, 0, options));
  return configure(model);
}

Status FlowPipeline::prepare(const Model& model, void* arena, size_t arena_bytes, const SessionOptions& options) {
  if (model.pipeline_kind() != PipelineKind::kFlow)
    return Status::error(StatusCode::kInvalidArgument, "this model is a '%s' pipeline, not a flow",
                         pipeline_kind_name(model.pipeline_kind()));
  EG_RETURN_IF_ERROR(session_.prepare(model, arena, arena_bytes, 0, options));
  return configure(model);
}

Status FlowPipeline::configure(const Model& model) {
  const auto* spec = model.root()->pipeline_as_FlowPipeline();
  batch_ = model.batch();
  // The loader checks the graph references of the kinds it runs itself; a
  // flow's are checked here, before any is used.
  if (spec->forward_graph() >= model.num_graphs()) return invalid("the forward graph does not exist");
  forward_graph_ = static_cast<int>(spec->forward_graph());
  inverse_graph_ = -1;
  if (spec->has_inverse()) {
    if (spec->inverse_graph() >= model.num_graphs()) return invalid("the inverse graph does not exist");
    inverse_graph_ = static_cast<int>(spec->inverse_graph());
  }
  const auto* shape = spec->event_shape();
  if (shape == nullptr || shape->size() == 0 || shape->size() >= static_cast<uint32_t>(kMaxRank))
    return invalid("event_shape is missing or has a bad rank");
  event_shape_ = Shape();
  event_shape_.rank = static_cast<int>(shape->size());
  for (int i = 0; i < event_shape_.rank; ++i) {
    int64_t dim = shape->Get(static_cast<uint32_t>(i));
    if (dim < 1 || dim > (int64_t{1} << 31)) return invalid("event_shape has a dimension < 1 or too large");
    event_shape_.dims[i] = dim;
  }
  event_size_ = static_cast<size_t>(event_shape_.num_elements());
  logistic_base_ = spec->base() == format::FlowBase::Logistic;
  dequantize_scale_ = 0.f;
  logit_alpha_ = -1.f;
  if (const auto* pre = spec->preprocess()) {
    if (!(pre->dequantize_scale() >= 0.f) || !std::isfinite(pre->dequantize_scale()))
      return invalid("preprocess.dequantize_scale must be >= 0 (0 = none)");
    if (!(pre->logit_alpha() < 0.5f) || std::isnan(pre->logit_alpha()))
      return invalid("preprocess.logit_alpha must be < 0.5 (negative = none)");
    dequantize_scale_ = pre->dequantize_scale();
    logit_alpha_ = pre->logit_alpha();
  }

  const size_t forward = static_cast<size_t>(forward_graph_);
  z_output_ = spec->z_output();
  logdet_output_ = spec->logdet_output();
  if (session_.num_inputs(forward) != 1) return invalid("the forward graph must have exactly one input");
  if (z_output_ >= session_.num_outputs(forward) || logdet_output_ >= session_.num_outputs(forward) ||
      z_output_ == logdet_output_)
    return invalid("the z / logdet outputs are not two distinct forward outputs");
  EG_RETURN_IF_ERROR(check_batched(session_.input(forward, 0), batch_, event_size_, "forward input"));
  EG_RETURN_IF_ERROR(check_batched(session_.output(forward, z_output_), batch_, event_size_, "forward output z"));
  EG_RETURN_IF_ERROR(check_batched(session_.output(forward, logdet_output_), batch_, 1, "forward output logdet"));
  if (inverse_graph_ >= 0) {
    const size_t inverse = static_cast<size_t>(inverse_graph_);
    if (session_.num_inputs(inverse) != 1 || session_.num_outputs(inverse) < 1)
      return invalid("the inverse graph must have one input and an output");
    EG_RETURN_IF_ERROR(check_batched(session_.input(inverse, 0), batch_, event_size_, "inverse input"));
    EG_RETURN_IF_ERROR(check_batched(session_.output(inverse, 0), batch_, event_size_, "inverse output"));
  }
  return Status::ok();
}

void FlowPipeline::preprocess_into(const float* in, size_t items, float* input, float* log_jacobian) const {
  const double inv_scale = dequantize_scale_ > 0.f ? 1.0 / dequantize_scale_ : 1.0;
  const bool logit = logit_alpha_ >= 0.f;
  const double alpha = logit ? logit_alpha_ : 0.0;
  // Per item: d/dx [x / scale] = 1 / scale; d/dy logit(alpha + (1 - 2 alpha) y)
  // = (1 - 2 alpha) / (s (1 - s)) with s = alpha + (1 - 2 alpha) y.
  const double constant = static_cast<double>(event_size_) *
                          (std::log(inv_scale) + (logit ? std::log1p(-2.0 * alpha) : 0.0));
  for (size_t item = 0; item < items; ++item) {
    const float* x = in + item * event_size_;
    float* out = input + item * event_size_;
    double sum = constant;
    for (size_t i = 0; i < event_size_; ++i) {
      double y = x[i] * inv_scale;
      if (logit) {
        double s = alpha + (1.0 - 2.0 * alpha) * y;
        if (!(s > 0.0 && s < 1.0)) {  // outside the transform's domain (or NaN)
          sum = -std::numeric_limits<double>::infinity();
          out[i] = 0.f;
          continue;
        }
        double log_s = std::log(s), log_1ms = std::log1p(-s);
        out[i] = static_cast<float>(log_s - log_1ms);
        sum -= log_s + log_1ms;
      } else {
        out[i] = static_cast<float>(y);
      }
    }
    if (log_jacobian != nullptr) log_jacobian[item] = static_cast<float>(sum);
  }
}

void FlowPipeline::postprocess(float* values, size_t count) const {
  const bool logit = logit_alpha_ >= 0.f;
  const double alpha = logit ? logit_alpha_ : 0.0;
  const double scale = dequantize_scale_ > 0.f ? dequantize_scale_ : 1.0;
  for (size_t i = 0; i < count; ++i) {
    double y = values[i];
    if (logit) {
      double s = 1.0 / (1.0 + std::exp(-y));
      y = (s - alpha) / (1.0 - 2.0 * alpha);
    }
    values[i] = static_cast<float>(y * scale);
  }
}

Status FlowPipeline::log_prob(const float* items, size_t count, float* log_prob) {
  if (!session_.prepared()) return Status::error(StatusCode::kNotPrepared, "log_prob() before prepare()");
  const size_t forward = static_cast<size_t>(forward_graph_);
  float* input = session_.input(forward, 0).data_as<float>();
  for (size_t done = 0; done < count; done += batch_) {
    const size_t items_now = count - done < batch_ ? count - done : batch_;
    // The log-Jacobian of the preprocessing goes straight into the output.
    preprocess_into(items + done * event_size_, items_now, input, log_prob + done);
    if (items_now < batch_)
      std::memset(input + items_now * event_size_, 0, (batch_ - items_now) * event_size_ * sizeof(float));
    EG_RETURN_IF_ERROR(session_.run(forward));
    const float* z = session_.output(forward, z_output_).data_as<float>();
    const float* logdet = session_.output(forward, logdet_output_).data_as<float>();
    for (size_t item = 0; item < items_now; ++item) {
      const float* zi = z + item * event_size_;
      double base = 0.0;
      if (logistic_base_) {
        for (size_t i = 0; i < event_size_; ++i) base += log_logistic(zi[i]);
      } else {
        double squares = 0.0;
        for (size_t i = 0; i < event_size_; ++i) squares += static_cast<double>(zi[i]) * zi[i];
        base = -0.5 * squares - 0.5 * static_cast<double>(event_size_) * kLogTwoPi;
      }
      double total = static_cast<double>(log_prob[done + item]) + base + logdet[item];
      log_prob[done + item] = static_cast<float>(total);
    }
  }
  return Status::ok();
}

Status FlowPipeline::forward(const float* items, size_t count, float* latents) {
  if (!session_.prepared()) return Status::error(StatusCode::kNotPrepared, "forward() before prepare()");
  const size_t forward = static_cast<size_t>(forward_graph_);
  float* input = session_.input(forward, 0).data_as<float>();
  for (size_t done = 0; done < count; done += batch_) {
    const size_t items_now = count - done < batch_ ? count - done : batch_;
    preprocess_into(items + done * event_size_, items_now, input, nullptr);
    if (items_now < batch_)
      std::memset(input + items_now * event_size_, 0, (batch_ - items_now) * event_size_ * sizeof(float));
    EG_RETURN_IF_ERROR(session_.run(forward));
    std::memcpy(latents + done * event_size_, session_.output(forward, z_output_).data,
                items_now * event_size_ * sizeof(float));
  }
  return Status::ok();
}

Status FlowPipeline::run_inverse(size_t items, float* out) {
  const size_t inverse = static_cast<size_t>(inverse_graph_);
  EG_RETURN_IF_ERROR(session_.run(inverse));
  std::memcpy(out, session_.output(inverse, 0).data, items * event_size_ * sizeof(float));
  postprocess(out, items * event_size_);
  return Status::ok();
}

Status FlowPipeline::inverse(const float* latents, size_t count, float* items) {
  if (!session_.prepared()) return Status::error(StatusCode::kNotPrepared, "inverse() before prepare()");
  if (inverse_graph_ < 0)
    return Status::error(StatusCode::kInvalidArgument, "this flow has no inverse graph: it scores but cannot sample");
  float* input = session_.input(static_cast<size_t>(inverse_graph_), 0).data_as<float>();
  for (size_t done = 0; done < count; done += batch_) {
    const size_t items_now = count - done < batch_ ? count - done : batch_;
    std::memcpy(input, latents + done * event_size_, items_now * event_size_ * sizeof(float));
    if (items_now < batch_)
      std::memset(input + items_now * event_size_, 0, (batch_ - items_now) * event_size_ * sizeof(float));
    EG_RETURN_IF_ERROR(run_inverse(items_now, items + done * event_size_));
  }
  return Status::ok();
}

Status FlowPipeline::sample(uint64_t seed, float temperature, size_t count, float* items) {
  if (!session_.prepared()) return Status::error(StatusCode::kNotPrepared, "sample() before prepare()");
  if (inverse_graph_ < 0)
    return Status::error(StatusCode::kInvalidArgument, "this flow has no inverse graph: it scores but cannot sample");
  if (!(temperature >= 0.f) || !std::isfinite(temperature))
    return Status::error(StatusCode::kInvalidArgument, "temperature must be finite and >= 0 (got %g)",
                         static_cast<double>(temperature));
  float* input = session_.input(static_cast<size_t>(inverse_graph_), 0).data_as<float>();
  const size_t per_batch = batch_ * event_size_;
  for (size_t done = 0; done < count; done += batch_) {
    const size_t items_now = count - done < batch_ ? count - done : batch_;
    const uint64_t first = static_cast<uint64_t>(done) * event_size_;
    if (logistic_base_) {
      // Inverse CDF of the logistic: z = log u - log(1 - u).
      fill_uniform(seed, 0, first, input, per_batch);
      for (size_t i = 0; i < per_batch; ++i) {
        double u = input[i] > 0.f ? input[i] : 1e-12;
        input[i] = static_cast<float>(std::log(u) - std::log1p(-u));
      }
    } else {
      fill_normal(seed, 0, first, input, per_batch);
    }
    if (temperature != 1.f)
      for (size_t i = 0; i < per_batch; ++i) input[i] *= temperature;
    EG_RETURN_IF_ERROR(run_inverse(items_now, items + done * event_size_));
  }
  return Status::ok();
}

}  // namespace edgegen
