#include "converter/quantize/calibration.h"

#include <cmath>
#include <cstring>
#include <memory>

#include "converter/converter.h"
#include "converter/egm_writer.h"
#include "converter/memory_plan.h"
#include "edgegen/model.h"
#include "edgegen/session.h"

namespace edgegen::converter {
namespace {

// The graphs as a runnable model: the .egm bytes in 64-byte aligned storage
// and a session over them: the reference kernels by default (the file's
// layout, so every operator output can be read right after the operator ran).
class LoadedGraphs {
 public:
  LoadedGraphs(const std::vector<IrGraph>& graphs, uint32_t batch, Backend backend = Backend::kReference) {
    std::vector<GraphPlan> plans;
    for (const IrGraph& graph : graphs) plans.push_back(plan_graph_memory(graph));
    std::vector<uint8_t> bytes = write_egm(graphs, plans, PipelineWriter{}, batch);
    storage_.reset(new Block[bytes.size() / sizeof(Block) + 1]);
    std::memcpy(storage_.get(), bytes.data(), bytes.size());
    Result<Model> model = Model::from_buffer(storage_.get(), bytes.size());
    if (!model.ok()) throw ConversionError(std::string("internal: calibration model: ") + model.status().message());
    model_ = model.value();
    SessionOptions options;
    options.backend = backend;
    Status status = session_.prepare(model_, 0, options);
    if (!status.is_ok()) throw ConversionError(std::string("calibration: ") + status.message());
  }

  Session& session() { return session_; }

  // Copies one batch into graph `g`'s inputs.
  void set_inputs(const IrGraph& graph, size_t g, const CalibrationBatch& batch) {
    if (batch.inputs.size() != session_.num_inputs(g))
      throw ConversionError("calibration data for graph '" + graph.name + "' has " +
                            std::to_string(batch.inputs.size()) + " inputs; the graph has " +
                            std::to_string(session_.num_inputs(g)));
    for (size_t k = 0; k < batch.inputs.size(); ++k) {
      Tensor& input = session_.input(g, k);
      const std::vector<float>& values = batch.inputs[k];
      if (values.size() != input.num_elements())
        throw ConversionError("calibration data for input '" + std::string(input.name) + "' of graph '" + graph.name +
                              "' has " + std::to_string(values.size()) + " values per batch; the input holds " +
                              std::to_string(input.num_elements()));
      for (size_t i = 0; i < values.size(); ++i) {
        switch (input.dtype) {
          case DType::kFloat32: input.data_as<float>()[i] = values[i]; break;
          case DType::kInt64: input.data_as<int64_t>()[i] = static_cast<int64_t>(std::lround(values[i])); break;
          case DType::kInt32: input.data_as<int32_t>()[i] = static_cast<int32_t>(std::lround(values[i])); break;
          default:
            throw ConversionError("calibration: input '" + std::string(input.name) + "' is " + dtype_name(input.dtype) +
                                  "; calibration feeds float32, int32 and int64 inputs");
        }
      }
    }
  }

 private:
  struct alignas(kModelAlignment) Block {
    uint8_t bytes[kModelAlignment];
  };
  std::unique_ptr<Block[]> storage_;
  Model model_;
  Session session_;
};

// What a pass does with one float tensor's values.
struct Observer {
  bool histograms = false;
  std::vector<TensorStatistics>* stats = nullptr;

  void observe(int tensor, const Tensor& values) {
    if (values.dtype != DType::kFloat32) return;
    TensorStatistics& s = (*stats)[static_cast<size_t>(tensor)];
    const float* data = values.data_as<const float>();
    const size_t count = values.num_elements();
    if (!histograms) {
      for (size_t i = 0; i < count; ++i) {
        const float v = data[i];
        if (!std::isfinite(v)) continue;
        if (!s.seen) s.min = s.max = v, s.seen = true;
        s.min = v < s.min ? v : s.min;
        s.max = v > s.max ? v : s.max;
      }
      s.count += count;
      return;
    }
    if (!s.seen) return;
    if (s.histogram.empty()) s.histogram.assign(kHistogramBins, 0);
    const float width = s.max - s.min;
    for (size_t i = 0; i < count; ++i) {
      const float v = data[i];
      if (!std::isfinite(v)) continue;
      int bin = width > 0.f ? static_cast<int>((v - s.min) / width * kHistogramBins) : 0;
      bin = bin < 0 ? 0 : (bin >= kHistogramBins ? kHistogramBins - 1 : bin);
      ++s.histogram[static_cast<size_t>(bin)];
    }
  }
};

void run_pass(LoadedGraphs& loaded, const std::vector<IrGraph>& graphs, const CalibrationPlan& plan,
              GraphStatistics& stats, bool histograms) {
  Session& session = loaded.session();
  for (size_t g = 0; g < graphs.size(); ++g) {
    const IrGraph& graph = graphs[g];
    Observer observer{histograms, &stats[g]};
    struct Context {
      const IrGraph* graph;
      Session* session;
      Observer* observer;
    } context{&graph, &session, &observer};
    OpProfileCallback callback;
    callback.user = &context;
    callback.on_op = [](void* user, int graph_index, size_t op, uint64_t) {
      Context& c = *static_cast<Context*>(user);
      const IrOp& ir_op = c.graph->ops[op];
      for (size_t k = 0; k < ir_op.outputs.size(); ++k)
        c.observer->observe(ir_op.outputs[k], c.session->operator_output(static_cast<size_t>(graph_index), op, k));
    };
    for (const CalibrationBatch& batch : plan[g]) {
      loaded.set_inputs(graph, g, batch);
      for (size_t k = 0; k < graph.inputs.size(); ++k) observer.observe(graph.inputs[k], session.input(g, k));
      Status status = session.run_with_profile(g, callback);
      if (!status.is_ok()) throw ConversionError(std::string("calibration run: ") + status.message());
    }
  }
}

// The float outputs of graph `g` after a run.
std::vector<std::vector<float>> float_outputs(Session& session, size_t g) {
  std::vector<std::vector<float>> outputs(session.num_outputs(g));
  for (size_t k = 0; k < outputs.size(); ++k) {
    const Tensor& output = session.output(g, k);
    if (output.dtype != DType::kFloat32) continue;
    const float* values = output.data_as<const float>();
    outputs[k].assign(values, values + output.num_elements());
  }
  return outputs;
}

}  // namespace

class GraphRunner::Loaded : public LoadedGraphs {
 public:
  using LoadedGraphs::LoadedGraphs;
};

GraphRunner::GraphRunner(const IrGraph& graph, uint32_t batch, Backend backend)
    : graph_(graph), loaded_(std::make_unique<Loaded>(std::vector<IrGraph>{graph}, batch, backend)) {}

GraphRunner::~GraphRunner() = default;

std::vector<std::vector<float>> GraphRunner::run(const CalibrationBatch& batch) {
  loaded_->set_inputs(graph_, 0, batch);
  Status status = loaded_->session().run(0);
  if (!status.is_ok()) throw ConversionError(std::string("calibration run: ") + status.message());
  return float_outputs(loaded_->session(), 0);
}

GraphStatistics collect_statistics(const std::vector<IrGraph>& graphs, const CalibrationPlan& plan, uint32_t batch,
                                   bool histograms) {
  LoadedGraphs loaded(graphs, batch);
  GraphStatistics stats(graphs.size());
  for (size_t g = 0; g < graphs.size(); ++g) stats[g].resize(graphs[g].tensors.size());
  run_pass(loaded, graphs, plan, stats, false);
  if (histograms) run_pass(loaded, graphs, plan, stats, true);
  return stats;
}

std::vector<std::vector<std::vector<float>>> run_outputs(const std::vector<IrGraph>& graphs,
                                                         const CalibrationPlan& plan, uint32_t batch) {
  LoadedGraphs loaded(graphs, batch);
  Session& session = loaded.session();
  std::vector<std::vector<std::vector<float>>> outputs(graphs.size());
  for (size_t g = 0; g < graphs.size(); ++g) {
    outputs[g].resize(session.num_outputs(g));
    for (const CalibrationBatch& batch_data : plan[g]) {
      loaded.set_inputs(graphs[g], g, batch_data);
      Status status = session.run(g);
      if (!status.is_ok()) throw ConversionError(std::string("calibration run: ") + status.message());
      std::vector<std::vector<float>> run = float_outputs(session, g);
      for (size_t k = 0; k < run.size(); ++k) outputs[g][k].insert(outputs[g][k].end(), run[k].begin(), run[k].end());
    }
  }
  return outputs;
}

}  // namespace edgegen::converter
