// ModelBuilder: writes small .egm files in memory for runtime tests, without
// the converter (which needs protobuf and so is not built for devices).
// It plans memory with the runtime's own planner and can be told to break
// things, for the corrupted-file tests. Tests only: uses the heap freely.
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <sys/types.h>
#include <unistd.h>

#include "core/memory_planner.h"
#include "edgegen/model.h"
#include "edgegen_generated.h"
#include "ops/registry.h"

namespace edgegen {
namespace testing {

// Model bytes in 64-byte aligned heap memory, as Model::from_buffer wants.
class AlignedBytes {
 public:
  AlignedBytes() = default;
  explicit AlignedBytes(const std::vector<uint8_t>& bytes) { assign(bytes.data(), bytes.size()); }
  void assign(const void* data, size_t size) {
    storage_.assign(size + 64, 0);
    offset_ = (64 - reinterpret_cast<uintptr_t>(storage_.data()) % 64) % 64;
    if (size) std::memcpy(storage_.data() + offset_, data, size);
    size_ = size;
  }
  uint8_t* data() { return storage_.data() + offset_; }
  size_t size() const { return size_; }

 private:
  std::vector<uint8_t> storage_;
  size_t offset_ = 0;
  size_t size_ = 0;
};

class ModelBuilder {
 public:
  struct TensorSpec {
    std::string name;
    std::vector<int64_t> shape;
    DType dtype = DType::kFloat32;
    std::vector<uint8_t> data;  // empty: activation
    // Affine quantization (empty scales: none); one pair per tensor, or per slice along axis.
    std::vector<float> scales;
    std::vector<int64_t> zero_points;
    int32_t axis = -1;
    // Where its bytes start in the weight segment at the least (0: the next
    // free aligned offset); past 4 GiB makes a file with a hole before them.
    uint64_t segment_offset = 0;
  };
  struct OpSpec {
    OpCode opcode;
    std::vector<int32_t> inputs, outputs;
    std::vector<int64_t> ints;
    std::vector<float> floats;
    ActivationKind activation = ActivationKind::kNone;
    float activation_param0 = 0.f, activation_param1 = 0.f;  // Clip's min and max
  };
  struct GraphSpec {
    std::string name;
    std::vector<TensorSpec> tensors;
    std::vector<OpSpec> ops;
    std::vector<int32_t> inputs, outputs;
    std::vector<int32_t> state;  // Graph.state: (input, output) pairs, flattened
  };

  // Starts a new graph; later calls add to it.
  ModelBuilder& graph(const std::string& name) {
    graphs_.push_back({});
    graphs_.back().name = name;
    return *this;
  }
  int32_t activation(const std::string& name, std::vector<int64_t> shape, DType dtype = DType::kFloat32) {
    current().tensors.push_back({name, std::move(shape), dtype, {}, {}, {}});
    return static_cast<int32_t>(current().tensors.size() - 1);
  }
  int32_t constant(const std::string& name, std::vector<int64_t> shape, const std::vector<float>& values) {
    TensorSpec spec{name, std::move(shape), DType::kFloat32, {}, {}, {}};
    spec.data.resize(values.size() * sizeof(float));
    std::memcpy(spec.data.data(), values.data(), spec.data.size());
    current().tensors.push_back(std::move(spec));
    return static_cast<int32_t>(current().tensors.size() - 1);
  }
  // A float constant whose bytes lie at `segment_offset` (a multiple of 64,
  // past the previous constant's) in the weight segment: large-file tests
  // place one past 2 or 4 GiB; write_file() leaves the gap a sparse hole.
  int32_t constant_at(uint64_t segment_offset, const std::string& name, std::vector<int64_t> shape,
                      const std::vector<float>& values) {
    int32_t index = constant(name, std::move(shape), values);
    current().tensors.back().segment_offset = segment_offset;
    return index;
  }
  // A constant of any dtype from raw values (int8 weights, int32 biases).
  template <typename T>
  int32_t constant_of(const std::string& name, std::vector<int64_t> shape, DType dtype, const std::vector<T>& values) {
    TensorSpec spec{name, std::move(shape), dtype, {}};
    spec.data.resize(values.size() * sizeof(T));
    std::memcpy(spec.data.data(), values.data(), spec.data.size());
    current().tensors.push_back(std::move(spec));
    return static_cast<int32_t>(current().tensors.size() - 1);
  }
  // Gives `tensor` scales and zero points (per tensor: axis -1 and one of each).
  ModelBuilder& quantize(int32_t tensor, std::vector<float> scales, std::vector<int64_t> zero_points, int32_t axis = -1) {
    TensorSpec& spec = current().tensors[static_cast<size_t>(tensor)];
    spec.scales = std::move(scales);
    spec.zero_points = std::move(zero_points);
    spec.axis = axis;
    return *this;
  }
  // Makes the last op's fused activation Clip(min, max).
  ModelBuilder& clip(float min, float max) {
    OpSpec& last = current().ops.back();
    last.activation = ActivationKind::kClip;
    last.activation_param0 = min;
    last.activation_param1 = max;
    return *this;
  }
  // Makes the last op's fused activation LeakyRelu(slope).
  ModelBuilder& leaky_relu(float slope) {
    OpSpec& last = current().ops.back();
    last.activation = ActivationKind::kLeakyRelu;
    last.activation_param0 = slope;
    return *this;
  }
  ModelBuilder& op(OpCode opcode, std::vector<int32_t> inputs, std::vector<int32_t> outputs,
                   std::vector<int64_t> ints = {}, std::vector<float> floats = {},
                   ActivationKind activation = ActivationKind::kNone) {
    current().ops.push_back({opcode, std::move(inputs), std::move(outputs), std::move(ints), std::move(floats),
                             activation});
    return *this;
  }
  ModelBuilder& inputs(std::vector<int32_t> indices) {
    current().inputs = std::move(indices);
    return *this;
  }
  ModelBuilder& outputs(std::vector<int32_t> indices) {
    current().outputs = std::move(indices);
    return *this;
  }
  // Persistent state pairs (input, output, input, output, ...); the plan is
  // not adjusted: mutate the offsets to place an output on its input.
  ModelBuilder& state(std::vector<int32_t> pairs) {
    current().state = std::move(pairs);
    return *this;
  }
  // A decoder pipeline over graph 0.
  ModelBuilder& decoder_pipeline(std::vector<int64_t> latent_shape, float low, float high) {
    decoder_latent_ = std::move(latent_shape);
    decoder_range_ = {low, high};
    return *this;
  }
  ModelBuilder& format_version(uint32_t value) {
    format_version_ = value;
    return *this;
  }
  ModelBuilder& batch(uint32_t value) {
    batch_ = value;
    return *this;
  }
  GraphSpec& current() { return graphs_.back(); }
  std::vector<GraphSpec>& graphs() { return graphs_; }

  // A model file in parts: the FlatBuffer padded to segment_offset, then
  // the weight segment as (offset in the segment, bytes) pieces with zeros
  // (or a hole) between them.
  struct Parts {
    std::vector<uint8_t> head;
    std::vector<std::pair<uint64_t, const std::vector<uint8_t>*>> pieces;  // borrowed from the builder
    uint64_t segment_size = 0;
    uint64_t file_size() const { return head.size() + segment_size; }
  };

  // Serializes: planned arena, weight segment, everything aligned. `plan`
  // may be edited (e.g. to corrupt it) through `mutate_plan` before writing.
  std::vector<uint8_t> build(void (*mutate_plan)(std::vector<uint64_t>& offsets, uint64_t& arena) = nullptr) const {
    Parts parts = build_parts(mutate_plan);
    std::vector<uint8_t> file(parts.file_size(), 0);
    std::memcpy(file.data(), parts.head.data(), parts.head.size());
    for (const auto& [offset, data] : parts.pieces)
      if (!data->empty()) std::memcpy(file.data() + parts.head.size() + offset, data->data(), data->size());
    return file;
  }

  Parts build_parts(void (*mutate_plan)(std::vector<uint64_t>& offsets, uint64_t& arena) = nullptr) const {
    Parts parts;
    std::vector<std::pair<uint64_t, uint64_t>> buffers = {{0, 0}};
    auto add_buffer = [&](const TensorSpec& tensor) {
      uint64_t offset = std::max(align_up(parts.segment_size, 64), tensor.segment_offset);
      parts.pieces.push_back({offset, &tensor.data});
      parts.segment_size = offset + tensor.data.size();
      buffers.push_back({offset, tensor.data.size()});
      return static_cast<uint32_t>(buffers.size() - 1);
    };
    struct PlannedGraph {
      std::vector<uint32_t> buffer_of;
      std::vector<uint64_t> offsets;
      uint64_t arena = 0, lower = 0;
    };
    std::vector<PlannedGraph> planned;
    for (const GraphSpec& g : graphs_) {
      PlannedGraph p;
      for (const TensorSpec& t : g.tensors) p.buffer_of.push_back(t.data.empty() ? 0 : add_buffer(t));
      std::vector<PlannedBuffer> plan(g.tensors.size());
      const int32_t n = static_cast<int32_t>(g.ops.size());
      for (size_t t = 0; t < g.tensors.size(); ++t) {
        plan[t].size = p.buffer_of[t] ? 0 : bytes_of(g.tensors[t]);
        plan[t].first_use = INT32_MAX;
        plan[t].last_use = -1;
      }
      // Tests corrupt indices on purpose: plan only the ones in range.
      auto valid = [&](int32_t index) { return index >= 0 && static_cast<size_t>(index) < plan.size(); };
      for (int32_t i : g.inputs)
        if (valid(i)) plan[i].first_use = 0;
      for (int32_t s = 0; s < n; ++s) {
        for (int32_t o : g.ops[s].outputs)
          if (valid(o)) plan[o].first_use = std::min(plan[o].first_use, s);
        for (int32_t i : g.ops[s].inputs)
          if (valid(i)) plan[i].last_use = std::max(plan[i].last_use, s);
      }
      for (int32_t o : g.outputs)
        if (valid(o)) plan[o].last_use = n > 0 ? n - 1 : 0;
      for (auto& b : plan) {
        if (b.first_use == INT32_MAX) b.first_use = 0;
        if (b.last_use < b.first_use) b.last_use = b.first_use;
      }
      std::vector<uint32_t> order(plan.size());
      plan_greedy_by_size(plan.data(), plan.size(), 64, order.data(), &p.arena);
      p.lower = plan_lower_bound(plan.data(), plan.size(), 64);
      for (auto& b : plan) p.offsets.push_back(b.size ? b.offset : 0);
      if (mutate_plan) mutate_plan(p.offsets, p.arena);
      planned.push_back(std::move(p));
    }
    // Built twice: the FlatBuffer holds its own size through segment_offset.
    uint64_t segment_offset = 64;
    for (int pass = 0; pass < 2; ++pass) {
      flatbuffers::FlatBufferBuilder fbb;
      fbb.ForceDefaults(true);
      std::vector<flatbuffers::Offset<format::Graph>> graph_offsets;
      for (size_t gi = 0; gi < graphs_.size(); ++gi) {
        const GraphSpec& g = graphs_[gi];
        std::vector<flatbuffers::Offset<format::Tensor>> tensors;
        for (size_t t = 0; t < g.tensors.size(); ++t) {
          const TensorSpec& spec = g.tensors[t];
          flatbuffers::Offset<format::Quantization> quantization = 0;
          if (!spec.scales.empty())
            quantization = format::CreateQuantizationDirect(fbb, &spec.scales, &spec.zero_points, spec.axis);
          tensors.push_back(format::CreateTensorDirect(fbb, spec.name.c_str(), &spec.shape,
                                                       static_cast<format::DType>(spec.dtype),
                                                       planned[gi].buffer_of[t], quantization));
        }
        std::vector<flatbuffers::Offset<format::Operator>> ops;
        for (const OpSpec& o : g.ops) {
          auto act = format::CreateFusedActivation(fbb, static_cast<format::ActivationKind>(o.activation),
                                                   o.activation_param0, o.activation_param1);
          ops.push_back(format::CreateOperatorDirect(fbb, static_cast<uint32_t>(o.opcode), &o.inputs, &o.outputs,
                                                     &o.ints, &o.floats, act, op_name(static_cast<uint32_t>(o.opcode))));
        }
        auto plan = format::CreateMemoryPlanDirect(fbb, planned[gi].arena, planned[gi].lower, &planned[gi].offsets, 64);
        graph_offsets.push_back(format::CreateGraphDirect(fbb, g.name.c_str(), &tensors, &ops, &g.inputs, &g.outputs, plan,
                                                          g.state.empty() ? nullptr : &g.state));
      }
      std::vector<flatbuffers::Offset<format::Buffer>> buffer_offsets;
      for (auto& b : buffers) buffer_offsets.push_back(format::CreateBuffer(fbb, b.first, b.second));
      flatbuffers::Offset<void> pipeline;
      format::PipelineSpec pipeline_type = format::PipelineSpec::GraphsOnly;
      if (!decoder_latent_.empty()) {
        pipeline = format::CreateDecoderPipelineDirect(fbb, 0, &decoder_latent_, format::Prior::Normal, &decoder_range_).Union();
        pipeline_type = format::PipelineSpec::DecoderPipeline;
      } else {
        pipeline = format::CreateGraphsOnly(fbb).Union();
      }
      auto root = format::CreateModelDirect(fbb, format_version_, "model_builder", &graph_offsets, &buffer_offsets, pipeline_type,
                                            pipeline, segment_offset, parts.segment_size, batch_);
      format::FinishModelBuffer(fbb, root);
      uint64_t real = align_up(fbb.GetSize(), 64);
      if (pass == 0) {
        segment_offset = real;
        continue;
      }
      parts.head.assign(segment_offset, 0);
      std::memcpy(parts.head.data(), fbb.GetBufferPointer(), fbb.GetSize());
      return parts;
    }
    return parts;
  }

  // Writes the model to `path` without materializing the gaps between
  // constants: on a file system with sparse files a model whose weights lie
  // past 4 GiB takes a few KB of disk. Returns false on an I/O error.
  bool write_file(const std::string& path) const {
    Parts parts = build_parts();
    std::FILE* file = std::fopen(path.c_str(), "wb");
    if (file == nullptr) return false;
    bool ok = std::fwrite(parts.head.data(), 1, parts.head.size(), file) == parts.head.size();
    for (const auto& [offset, data] : parts.pieces) {
      ok = ok && fseeko(file, static_cast<off_t>(parts.head.size() + offset), SEEK_SET) == 0;
      ok = ok && std::fwrite(data->data(), 1, data->size(), file) == data->size();
    }
    // A hole at the end (an empty last piece) still counts in the size.
    ok = ok && fflush(file) == 0 && ftruncate(fileno(file), static_cast<off_t>(parts.file_size())) == 0;
    return std::fclose(file) == 0 && ok;
  }

 private:
  static uint64_t bytes_of(const TensorSpec& t) {
    uint64_t n = 1;
    for (int64_t d : t.shape) n *= static_cast<uint64_t>(d);
    return n * dtype_size(t.dtype);
  }

  std::vector<GraphSpec> graphs_;
  std::vector<int64_t> decoder_latent_;
  std::vector<float> decoder_range_;
  uint32_t batch_ = 1;
  uint32_t format_version_ = 1;
};

}  // namespace testing
}  // namespace edgegen
