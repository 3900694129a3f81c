#include "converter/quantize/quantize_model.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "converter/graph_check.h"
#include "converter/passes/passes.h"
#include "converter/quantize/calibration.h"
#include "converter/quantize/diffusion_calibration.h"
#include "converter/quantize/token_decoder_calibration.h"
#include "converter/quantize/quantize_graph.h"
#include "edgegen/random.h"

namespace edgegen::converter {
namespace {

constexpr int kDefaultGeneratedSamples = 256;
constexpr int kDefaultTokenDecoderSamples = 32;

// Elements of one item of a graph input (its shape without the batch dim).
size_t item_elements(const IrTensor& input, uint32_t batch) {
  const int64_t total = input.num_elements();
  return static_cast<size_t>(input.shape.empty() ? total : total / std::max<int64_t>(1, batch));
}

// Samples for one graph input: `count` items of `item` values each.
struct InputSamples {
  std::vector<float> values;
  size_t count = 0;
};

// A given calibration array as samples of `input` (its leading dimension
// is the sample count; the rest must hold one item of the input).
InputSamples given_samples(const CalibrationArray& array, const IrTensor& input, uint32_t batch, const std::string& key,
                           int max_samples) {
  const size_t item = item_elements(input, batch);
  if (array.shape.empty() || item == 0 || array.values.size() % item != 0 ||
      array.values.size() / item != static_cast<size_t>(array.shape[0]))
    throw ConversionError("calibration data '" + key + "' of shape " + shape_to_string(array.shape) +
                          " does not hold items of input '" + input.name + "' " + shape_to_string(input.shape) +
                          " (expected [N, ...] with " + std::to_string(item) + " values per item)");
  InputSamples samples;
  samples.count = static_cast<size_t>(array.shape[0]);
  if (max_samples > 0) samples.count = std::min(samples.count, static_cast<size_t>(max_samples));
  samples.values.assign(array.values.begin(), array.values.begin() + static_cast<std::ptrdiff_t>(samples.count * item));
  return samples;
}

// Draws from the prior: what a decoder sees when it samples.
InputSamples prior_samples(const IrTensor& input, uint32_t batch, const std::string& prior, int count, uint64_t seed) {
  InputSamples samples;
  samples.count = static_cast<size_t>(count);
  samples.values.resize(samples.count * item_elements(input, batch));
  if (prior == "uniform" || prior == "logistic")
    fill_uniform(seed, 0, 0, samples.values.data(), samples.values.size());
  else
    fill_normal(seed, 0, 0, samples.values.data(), samples.values.size());
  if (prior == "logistic")  // the inverse CDF of the standard logistic
    for (float& v : samples.values) {
      const double u = std::min(std::max(static_cast<double>(v), 1e-7), 1.0 - 1e-7);
      v = static_cast<float>(std::log(u) - std::log1p(-u));
    }
  return samples;
}

// A flow's data as its forward graph sees it: the manifest's preprocess
// (x / scale, then logit(alpha + (1 - 2 alpha) x)), as FlowPipeline applies
// it before every run; values outside the logit's domain become 0 there too.
void preprocess_flow_data(const FlowManifest& flow, std::vector<float>& values) {
  const double inv_scale = flow.dequantize_scale > 0.f ? 1.0 / flow.dequantize_scale : 1.0;
  const bool logit = flow.logit_alpha >= 0.f;
  const double alpha = logit ? flow.logit_alpha : 0.0;
  for (float& v : values) {
    double y = v * inv_scale;
    if (logit) {
      const double s = alpha + (1.0 - 2.0 * alpha) * y;
      y = s > 0.0 && s < 1.0 ? std::log(s) - std::log1p(-s) : 0.0;
    }
    v = static_cast<float>(y);
  }
}

// Cuts the samples of every input of one graph into full batches (the
// remainder that does not fill a batch is left out).
std::vector<CalibrationBatch> batches_of(const IrGraph& graph, const std::vector<InputSamples>& inputs, uint32_t batch) {
  size_t count = std::numeric_limits<size_t>::max();
  for (const InputSamples& samples : inputs) count = std::min(count, samples.count);
  if (count < batch)
    throw ConversionError("graph '" + graph.name + "': " + std::to_string(count) +
                          " calibration samples do not fill one batch of " + std::to_string(batch) +
                          " (give more samples or convert with a smaller --batch)");
  std::vector<CalibrationBatch> result(count / batch);
  for (CalibrationBatch& b : result) b.inputs.resize(inputs.size());
  for (size_t b = 0; b < result.size(); ++b)
    for (size_t k = 0; k < inputs.size(); ++k) {
      const size_t item = item_elements(graph.tensors[static_cast<size_t>(graph.inputs[k])], batch);
      const auto begin = inputs[k].values.begin() + static_cast<std::ptrdiff_t>(b * batch * item);
      result[b].inputs[k].assign(begin, begin + static_cast<std::ptrdiff_t>(batch * item));
    }
  return result;
}

class PlanBuilder {
 public:
  PlanBuilder(const std::vector<IrGraph>& graphs, const Manifest* manifest, const ConvertOptions& options)
      : graphs_(graphs), manifest_(manifest), options_(options), q_(options.quantize) {}

  CalibrationPlan build(std::string* source) {
    CalibrationPlan plan(graphs_.size());
    if (generates_diffusion()) {
      // The denoiser's inputs along the float model's own trajectories; a
      // latent decoder gets the trajectories' ends.
      // Contexts given under the context input's name feed the conditional half.
      const std::string context_name = diffusion_input_name("context");
      auto given = context_name.empty() ? q_.inputs.end() : q_.inputs.find(context_name);
      const std::vector<float> no_contexts;
      const std::vector<float>& contexts = given != q_.inputs.end() ? given->second.values : no_contexts;
      DiffusionCalibration generated =
          diffusion_calibration(graphs_[0], manifest_->diffusion, batch(), generated_count(), q_.seed, contexts);
      const std::string guided = manifest_->diffusion.inputs.count("class") ? ", class and null class"
                                 : context_name.empty()                      ? ""
                                 : given != q_.inputs.end() ? ", the contexts given and the unconditional one"
                                                            : ", N(0, 1) contexts and the unconditional one "
                                                              "(give real ones as --calibration DIR/" + context_name +
                                                              ".npy)";
      note(source, "generated (DDIM trajectories of the float denoiser, timesteps over the whole schedule" + guided + ")");
      plan[0] = std::move(generated.denoiser);
      if (graphs_.size() > 1 && graphs_[1].inputs.size() == 1) {
        InputSamples latents;
        latents.values = std::move(generated.final_samples);
        latents.count = generated.final_count;
        plan[1] = batches_of(graphs_[1], {latents}, batch());
        if (graphs_.size() > 2 && graphs_[2].inputs.size() == 1) plan[2] = encoder_batches(plan[1], source);
      }
      return plan;
    }
    if (manifest_ != nullptr && manifest_->kind == "token_decoder" && !q_.calibration_text.empty()) {
      // Each kept batch holds the whole KV cache: fewer than the default 256.
      const int count = q_.samples > 0 ? q_.samples : kDefaultTokenDecoderSamples;
      note(source, "generated (the float step graph run over the calibration text, " + std::to_string(count) +
                       " positions at most)");
      return token_decoder_calibration(graphs_, manifest_->token_decoder, q_.calibration_text, count);
    }
    if (!q_.calibration_text.empty())
      throw ConversionError("a calibration text is for token decoders; give --calibration FILE.npy or DIR");
    for (size_t g = 0; g < graphs_.size(); ++g) {
      const IrGraph& graph = graphs_[g];
      std::vector<InputSamples> inputs;
      for (size_t k = 0; k < graph.inputs.size(); ++k) inputs.push_back(samples_for(graph, k, source));
      plan[g] = batches_of(graph, inputs, batch());
    }
    return plan;
  }

 private:
  uint32_t batch() const { return static_cast<uint32_t>(options_.batch); }
  int generated_count() const {
    const int count = q_.samples > 0 ? q_.samples : kDefaultGeneratedSamples;
    return std::max(count, options_.batch);
  }

  InputSamples samples_for(const IrGraph& graph, size_t k, std::string* source) {
    const IrTensor& input = graph.tensors[static_cast<size_t>(graph.inputs[k])];
    // Given data: by the input's name; "data" for what a pipeline's data
    // graph reads; "*" for the one input of a one-graph model.
    for (const std::string& key : {input.name, std::string("data"), std::string("*")}) {
      auto found = q_.inputs.find(key);
      if (found == q_.inputs.end()) continue;
      if (key == "*" && (graphs_.size() != 1 || graph.inputs.size() != 1)) continue;
      if (key == "data" && !reads_data(graph)) continue;
      InputSamples samples = given_samples(found->second, input, batch(), key, q_.samples);
      if (manifest_ != nullptr && manifest_->kind == "flow" && graph.name == "forward") {
        preprocess_flow_data(manifest_->flow, samples.values);
        note(source, "given (" + key + ", through the flow's preprocess)");
      } else {
        note(source, "given (" + key + ")");
      }
      return samples;
    }
    if (manifest_ != nullptr && graph.name == "decoder" && k == 0 &&
        (manifest_->kind == "decoder" || manifest_->kind == "vae")) {
      note(source, "generated (" + manifest_->prior + " prior latents)");
      return prior_samples(input, batch(), manifest_->prior, generated_count(), q_.seed);
    }
    if (manifest_ != nullptr && manifest_->kind == "flow" && graph.name == "inverse" && k == 0) {
      note(source, "generated (" + manifest_->flow.base + " base samples for the inverse)");
      return prior_samples(input, batch(), manifest_->flow.base, generated_count(), q_.seed);
    }
    std::string what = manifest_ == nullptr ? "the model's input '" + input.name + "'"
                                            : "input '" + input.name + "' of the " + manifest_->kind + " graph '" +
                                                  graph.name + "'";
    throw ConversionError("--quantize int8 needs calibration data for " + what +
                          ": edgegen generates it only for decoders (latents from the prior), a flow's inverse (its base "
                          "distribution), diffusion models (their own sampling trajectories) and token decoders (from "
                          "--calibration TEXT.txt); give --calibration FILE.npy with samples [N, ...] of the data, or "
                          "DIR with NAME.npy per input");
  }

  // A latent diffusion model's encoder (img2img, in-painting) reads pictures:
  // the given ones by its input's name, else the float decoder's pictures
  // of the trajectories' ends. None when those do not fit the encoder's
  // input (a decoder converted for a tile): the encoder then stays float32.
  std::vector<CalibrationBatch> encoder_batches(const std::vector<CalibrationBatch>& decoder_plan, std::string* source) {
    const IrGraph& encoder = graphs_[2];
    const IrTensor& input = encoder.tensors[static_cast<size_t>(encoder.inputs[0])];
    if (q_.inputs.count(input.name)) return batches_of(encoder, {samples_for(encoder, 0, source)}, batch());
    InputSamples pictures;
    pictures.values = run_outputs({graphs_[1]}, {decoder_plan}, batch())[0][0];
    const size_t item = item_elements(input, batch());
    if (item == 0 || pictures.values.size() % item != 0 || pictures.values.size() / item < batch()) {
      note(source, "none for the encoder (the decoder's pictures do not fit its input): it stays float32");
      return {};
    }
    pictures.count = pictures.values.size() / item;
    note(source, "generated for the encoder (the float decoder's pictures of those latents)");
    return batches_of(encoder, {pictures}, batch());
  }

  // A diffusion model calibrated from its own samples: none of the
  // denoiser's inputs given by name.
  bool generates_diffusion() const {
    if (manifest_ == nullptr || manifest_->kind != "diffusion" || graphs_.empty()) return false;
    // Samples given for the denoiser's inputs replace the trajectories;
    // contexts alone only feed them.
    const std::string context_name = diffusion_input_name("context");
    for (int input : graphs_[0].inputs) {
      const std::string& name = graphs_[0].tensors[static_cast<size_t>(input)].name;
      if (name != context_name && q_.inputs.count(name)) return false;
    }
    return true;
  }

  // The denoiser input the manifest names for `role`, or "".
  std::string diffusion_input_name(const char* role) const {
    auto found = manifest_->diffusion.inputs.find(role);
    return found == manifest_->diffusion.inputs.end() ? std::string() : found->second;
  }

  // Graphs that read the data itself: a VAE's encoder, a flow's forward
  // graph, an autoregressive or energy model's graph, a bare model.
  bool reads_data(const IrGraph& graph) const {
    if (manifest_ == nullptr) return graphs_.size() == 1;
    return graph.name == "encoder" || graph.name == "forward" || manifest_->kind == "autoregressive" ||
           manifest_->kind == "energy";
  }

  static void note(std::string* source, const std::string& what) {
    if (source->find(what) == std::string::npos) *source += (source->empty() ? "" : ", ") + what;
  }

  const std::vector<IrGraph>& graphs_;
  const Manifest* manifest_;
  const ConvertOptions& options_;
  const QuantizeOptions& q_;
};

// Signal-to-noise ratio of `test` against `reference`, in dB (capped).
double snr_db(const std::vector<float>& reference, const std::vector<float>& test) {
  double signal = 0, noise = 0;
  for (size_t i = 0; i < reference.size() && i < test.size(); ++i) {
    signal += static_cast<double>(reference[i]) * reference[i];
    const double error = static_cast<double>(reference[i]) - test[i];
    noise += error * error;
  }
  if (noise <= 0) return 200.0;
  if (signal <= 0) return -200.0;
  return std::min(200.0, 10.0 * std::log10(signal / noise));
}

// The graph with `quantize` in int8, cleaned up and checked.
IrGraph quantized_copy(const IrGraph& graph, const std::vector<size_t>& quantize,
                       const std::vector<TensorStatistics>& stats, const QuantizeOptions& options) {
  IrGraph copy = graph;
  quantize_graph(copy, quantize, stats, options);
  eliminate_dead_code(copy);
  name_quantized_tensors_after_originals(copy);
  check_graph(copy);
  return copy;
}

// The lowest output SNR of `candidate` (graph `g`) against the float outputs.
double worst_snr(size_t g, const IrGraph& candidate, const CalibrationPlan& plan,
                 const std::vector<std::vector<float>>& reference, uint32_t batch, std::vector<double>* per_output) {
  std::vector<IrGraph> one = {candidate};
  CalibrationPlan one_plan = {plan[g]};
  std::vector<std::vector<std::vector<float>>> outputs = run_outputs(one, one_plan, batch);
  double worst = 200.0;
  if (per_output) per_output->clear();
  for (size_t k = 0; k < reference.size(); ++k) {
    if (reference[k].empty()) continue;
    const double snr = snr_db(reference[k], outputs[0][k]);
    if (per_output) per_output->push_back(snr);
    worst = std::min(worst, snr);
  }
  return worst;
}

}  // namespace

QuantizationReport quantize_model(std::vector<IrGraph>& graphs, const Manifest* manifest,
                                  const ConvertOptions& options) {
  const QuantizeOptions& q = options.quantize;
  if (q.method != "minmax" && q.method != "percentile" && q.method != "entropy")
    throw ConversionError("--calibration-method '" + q.method + "' is not supported (minmax, percentile, entropy)");
  if (!(q.percentile > 50.0 && q.percentile <= 100.0))
    throw ConversionError("the calibration percentile must be in (50, 100]");
  for (IrGraph& graph : graphs) split_float_activations(graph);

  QuantizationReport report;
  CalibrationPlan plan = PlanBuilder(graphs, manifest, options).build(&report.calibration);
  const uint32_t batch = static_cast<uint32_t>(options.batch);
  GraphStatistics stats = collect_statistics(graphs, plan, batch, q.method != "minmax");
  std::vector<std::vector<std::vector<float>>> reference = run_outputs(graphs, plan, batch);
  const std::set<std::string> keep(q.keep_float.begin(), q.keep_float.end());

  for (size_t g = 0; g < graphs.size(); ++g) {
    IrGraph& graph = graphs[g];
    QuantizationReport::GraphReport graph_report;
    graph_report.graph = graph.name;
    const std::vector<size_t> candidates = quantizable_ops(graph, keep);
    for (size_t i : quantizable_ops(graph, {}))
      if (std::find(candidates.begin(), candidates.end(), i) == candidates.end())
        graph_report.kept_float.push_back(graph.ops[i].name);
    std::vector<size_t> chosen = candidates;
    if (plan[g].empty()) {  // no calibration data (PlanBuilder said why): float32 as it is
      graph_report.kept_float.clear();
      for (size_t i : candidates) graph_report.kept_float.push_back(graph.ops[i].name);
      graph_report.float_ops = graph_report.kept_float.size();
      report.graphs.push_back(std::move(graph_report));
      continue;
    }
    std::vector<double> per_output;
    IrGraph result = quantized_copy(graph, chosen, stats[g], q);
    double worst = worst_snr(g, result, plan, reference[g], batch, &per_output);
    if (q.quality_budget_db > 0 && worst < q.quality_budget_db) {
      // Each layer's own harm: the output SNR with only that layer in int8.
      std::vector<std::pair<double, size_t>> harm;
      for (size_t op : candidates)
        harm.push_back({worst_snr(g, quantized_copy(graph, {op}, stats[g], q), plan, reference[g], batch,
                                  nullptr),
                        op});
      std::sort(harm.begin(), harm.end());  // most harmful (lowest SNR) first
      for (const auto& [snr, op] : harm) {
        if (worst >= q.quality_budget_db) break;
        chosen.erase(std::find(chosen.begin(), chosen.end(), op));
        graph_report.kept_float.push_back(graph.ops[op].name);
        result = quantized_copy(graph, chosen, stats[g], q);
        worst = worst_snr(g, result, plan, reference[g], batch, &per_output);
      }
    }
    graph_report.int8_ops = chosen.size();
    graph_report.float_ops = graph_report.kept_float.size();
    graph_report.output_snr_db = per_output;
    graph = std::move(result);
    report.graphs.push_back(std::move(graph_report));
  }
  return report;
}

}  // namespace edgegen::converter
