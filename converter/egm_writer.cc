#include "converter/egm_writer.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <unordered_map>

#include "converter/branch_targets.h"
#include "converter/converter.h"

namespace edgegen::converter {
namespace {

// Assigns weight-segment buffers to constants, sharing identical bytes.
// Holds pointers to the constants' data, not copies: a 3.4 GB UNet's
// weights exist once in the converter, and stream to the file from there.
class WeightSegment {
 public:
  WeightSegment() { buffers_.push_back({0, 0, nullptr}); }  // buffers[0]: the "no data" sentinel

  // The buffer index holding `data`, added if no identical buffer exists.
  // `data` must outlive the segment and not change.
  uint32_t add(const std::vector<uint8_t>& data) {
    uint64_t hash = fnv1a(data);
    for (uint32_t index : by_hash_[hash]) {
      const Range& range = buffers_[index];
      if (range.size == data.size() && (data.empty() || std::memcmp(range.data->data(), data.data(), data.size()) == 0))
        return index;
    }
    uint64_t offset = align(size_);
    buffers_.push_back({offset, data.size(), &data});
    size_ = offset + data.size();
    uint32_t index = static_cast<uint32_t>(buffers_.size() - 1);
    by_hash_[hash].push_back(index);
    return index;
  }

  struct Range {
    uint64_t offset;
    uint64_t size;
    const std::vector<uint8_t>* data;  // borrowed
  };
  const std::vector<Range>& buffers() const { return buffers_; }
  uint64_t size() const { return size_; }
  static uint64_t align(uint64_t value) { return (value + kSegmentAlignment - 1) / kSegmentAlignment * kSegmentAlignment; }

  // Sends the segment's bytes (buffers in offset order, zero padding between).
  void write(const ByteSink& sink) const {
    static const uint8_t kZeros[kSegmentAlignment] = {};
    uint64_t written = 0;
    for (const Range& range : buffers_) {
      if (range.size == 0) continue;
      sink(kZeros, static_cast<size_t>(range.offset - written));
      sink(range.data->data(), static_cast<size_t>(range.size));
      written = range.offset + range.size;
    }
  }

 private:
  static uint64_t fnv1a(const std::vector<uint8_t>& data) {
    uint64_t hash = 1469598103934665603ull;
    for (uint8_t byte : data) hash = (hash ^ byte) * 1099511628211ull;
    return hash;
  }

  std::vector<Range> buffers_;
  uint64_t size_ = 0;
  std::unordered_map<uint64_t, std::vector<uint32_t>> by_hash_;
};

// Writes each distinct vector, string or small table once and refers to it
// from every place that holds the same values (FlatBuffers allows shared
// sub-objects): tensors repeat shapes (an int8 tensor has its float twin's),
// operators repeat parameters, twins repeat quantization. A small model's
// description is a sizeable part of its int8 file.
class SharedObjects {
 public:
  explicit SharedObjects(flatbuffers::FlatBufferBuilder& builder) : builder_(builder) {}

  template <typename T>
  flatbuffers::Offset<flatbuffers::Vector<T>> vector(const std::vector<T>& values) {
    const std::string key = bytes_key('v', sizeof(T), values);
    return flatbuffers::Offset<flatbuffers::Vector<T>>(
        offset_of(key, [&] { return builder_.CreateVector(values).o; }));
  }

  flatbuffers::Offset<flatbuffers::String> string(const std::string& text) { return builder_.CreateSharedString(text); }

  flatbuffers::Offset<format::Quantization> quantization(const std::vector<float>& scales,
                                                         const std::vector<int64_t>& zero_points, int32_t axis) {
    const std::string key = bytes_key('q', 4, scales) + bytes_key('z', 8, zero_points) + bytes_key('a', 4, std::vector{axis});
    return flatbuffers::Offset<format::Quantization>(offset_of(key, [&] {
      return format::CreateQuantization(builder_, vector(scales), vector(zero_points), axis).o;
    }));
  }

  flatbuffers::Offset<format::FusedActivation> activation(const FusedActivation& act) {
    const std::string key = bytes_key('f', 4, std::vector{static_cast<float>(act.kind), act.param0, act.param1});
    return flatbuffers::Offset<format::FusedActivation>(offset_of(key, [&] {
      return format::CreateFusedActivation(builder_, static_cast<format::ActivationKind>(act.kind), act.param0,
                                           act.param1)
          .o;
    }));
  }

 private:
  // The values' bytes (floats compare by bits, NaN included), tagged by kind and element size.
  template <typename T>
  static std::string bytes_key(char kind, size_t size, const std::vector<T>& values) {
    std::string key{kind, static_cast<char>(size)};
    key.append(std::to_string(values.size())).push_back(':');
    key.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
    return key;
  }

  template <typename Make>
  uint32_t offset_of(const std::string& key, Make make) {
    auto found = offsets_.find(key);
    if (found != offsets_.end()) return found->second;
    const uint32_t offset = make();
    offsets_.emplace(key, offset);
    return offset;
  }

  flatbuffers::FlatBufferBuilder& builder_;
  std::unordered_map<std::string, uint32_t> offsets_;
};

flatbuffers::Offset<format::Graph> build_graph(flatbuffers::FlatBufferBuilder& builder, const IrGraph& graph,
                                               const GraphPlan& plan, const std::vector<uint32_t>& buffer_of_tensor) {
  SharedObjects shared(builder);
  std::vector<flatbuffers::Offset<format::Tensor>> tensors;
  for (size_t i = 0; i < graph.tensors.size(); ++i) {
    const IrTensor& tensor = graph.tensors[i];
    flatbuffers::Offset<format::Quantization> quantization = 0;
    if (tensor.quant.present()) {
      // Per-axis slices that share one zero point (symmetric weights: all 0)
      // store it once: 8 bytes per output channel less.
      const std::vector<int64_t>& zero_points = tensor.quant.zero_points;
      const bool one_zero_point = tensor.quant.axis >= 0 && zero_points.size() > 1 &&
                                  std::all_of(zero_points.begin(), zero_points.end(),
                                              [&](int64_t z) { return z == zero_points.front(); });
      const std::vector<int64_t> one{zero_points.empty() ? 0 : zero_points.front()};
      quantization = shared.quantization(tensor.quant.scales, one_zero_point ? one : zero_points, tensor.quant.axis);
    }
    tensors.push_back(format::CreateTensor(builder, shared.string(tensor.name), shared.vector(tensor.shape),
                                           static_cast<format::DType>(tensor.dtype), buffer_of_tensor[i],
                                           quantization));
  }
  std::vector<flatbuffers::Offset<format::Operator>> operators;
  const std::vector<int64_t> targets = branch_targets(graph);
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    const IrOp& op = graph.ops[i];
    // An If's and an Else's last int_param is the index of the marker it jumps to.
    std::vector<int64_t> ints = op.ints;
    if (targets[i] >= 0 && !ints.empty()) ints.back() = targets[i];
    flatbuffers::Offset<format::FusedActivation> activation = 0;
    if (op.activation.kind != ActivationKind::kNone) activation = shared.activation(op.activation);
    operators.push_back(format::CreateOperator(builder, static_cast<uint32_t>(op.opcode), shared.vector(op.inputs),
                                               shared.vector(op.outputs), shared.vector(ints), shared.vector(op.floats),
                                               activation, shared.string(op.name)));
  }
  auto memory_plan = format::CreateMemoryPlanDirect(builder, plan.arena_bytes, plan.lower_bound_bytes, &plan.offsets,
                                                    static_cast<uint32_t>(kArenaAlignment));
  std::vector<int32_t> state;
  for (const auto& [input, output] : graph.state_pairs) state.insert(state.end(), {input, output});
  return format::CreateGraphDirect(builder, graph.name.c_str(), &tensors, &operators, &graph.inputs, &graph.outputs,
                                   memory_plan, state.empty() ? nullptr : &state);
}

}  // namespace

uint64_t write_egm(const std::vector<IrGraph>& graphs, const std::vector<GraphPlan>& plans,
                   const PipelineWriter& pipeline, uint32_t batch, const ByteSink& sink) {
  WeightSegment segment;
  std::vector<std::vector<uint32_t>> buffer_of_tensor(graphs.size());
  uint32_t format_version = kFormatVersion;
  for (size_t g = 0; g < graphs.size(); ++g)
    for (const IrTensor& tensor : graphs[g].tensors) {
      if (tensor.is_constant && tensor.data.size() != tensor.bytes())
        throw ConversionError("internal: constant '" + tensor.name + "' has the wrong number of bytes");
      if (tensor.is_constant && tensor.dtype == DType::kFloat16) format_version = kFormatVersionFloat16Weights;
      buffer_of_tensor[g].push_back(tensor.is_constant ? segment.add(tensor.data) : 0);
    }
  for (const IrGraph& graph : graphs)
    if (!graph.state_pairs.empty()) format_version = kFormatVersionState;
  const uint64_t segment_size = segment.size();

  // The FlatBuffer stores its own size rounded up (segment_offset), so build
  // it twice: once with a placeholder of the same encoded size, once for real.
  auto build = [&](uint64_t segment_offset) {
    flatbuffers::FlatBufferBuilder builder(1024);
    std::vector<flatbuffers::Offset<format::Graph>> graph_offsets;
    for (size_t g = 0; g < graphs.size(); ++g)
      graph_offsets.push_back(build_graph(builder, graphs[g], plans[g], buffer_of_tensor[g]));
    std::vector<flatbuffers::Offset<format::Buffer>> buffers;
    for (const auto& range : segment.buffers()) buffers.push_back(format::CreateBuffer(builder, range.offset, range.size));
    auto pipeline_offset = pipeline.build ? pipeline.build(builder) : format::CreateGraphsOnly(builder).Union();
    auto model = format::CreateModel(builder, format_version, builder.CreateString(kProducer),
                                     builder.CreateVector(graph_offsets), builder.CreateVector(buffers), pipeline.type,
                                     pipeline_offset, segment_offset, segment_size, batch);
    format::FinishModelBuffer(builder, model);
    return std::vector<uint8_t>(builder.GetBufferPointer(), builder.GetBufferPointer() + builder.GetSize());
  };
  std::vector<uint8_t> draft = build(kSegmentAlignment);  // non-zero, so the field is stored
  uint64_t segment_offset = WeightSegment::align(draft.size());
  std::vector<uint8_t> file = build(segment_offset);
  if (file.size() != draft.size()) throw ConversionError("internal: the FlatBuffer changed size between builds");

  file.resize(segment_offset, 0);
  flatbuffers::Verifier verifier(file.data(), segment_offset);
  if (!format::VerifyModelBuffer(verifier)) throw ConversionError("internal: the written FlatBuffer does not verify");
  sink(file.data(), file.size());
  segment.write(sink);
  return segment_offset + segment_size;
}

std::vector<uint8_t> write_egm(const std::vector<IrGraph>& graphs, const std::vector<GraphPlan>& plans,
                               const PipelineWriter& pipeline, uint32_t batch) {
  std::vector<uint8_t> file;
  write_egm(graphs, plans, pipeline, batch, [&](const void* data, size_t size) {
    const uint8_t* bytes = static_cast<const uint8_t*>(data);
    file.insert(file.end(), bytes, bytes + size);
  });
  return file;
}

}  // namespace edgegen::converter
