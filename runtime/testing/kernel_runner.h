// KernelRunner: runs one reference kernel on small inline tensors, the way
// the runtime does — infer (constant inputs only have data), then eval.
// For tests only: it uses the heap freely.
#pragma once

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "ops/kernel.h"
#include "ops/registry.h"

namespace edgegen {
namespace testing {

class KernelRunner {
 public:
  explicit KernelRunner(OpCode opcode) : opcode_(static_cast<uint32_t>(opcode)) {}

  // Adds a float32 input. `constant` inputs keep their data during infer.
  KernelRunner& input(std::vector<int64_t> shape, std::vector<float> values, bool constant = false) {
    return add_input(DType::kFloat32, shape, values.data(), values.size() * sizeof(float), constant);
  }
  KernelRunner& input_i64(std::vector<int64_t> shape, std::vector<int64_t> values, bool constant = true) {
    return add_input(DType::kInt64, shape, values.data(), values.size() * sizeof(int64_t), constant);
  }
  KernelRunner& input_i32(std::vector<int64_t> shape, std::vector<int32_t> values, bool constant = true) {
    return add_input(DType::kInt32, shape, values.data(), values.size() * sizeof(int32_t), constant);
  }
  KernelRunner& input_typed(DType dtype, std::vector<int64_t> shape, const void* data, size_t bytes,
                            bool constant = false) {
    return add_input(dtype, shape, data, bytes, constant);
  }
  // An optional input that is not given (e.g. a convolution without bias).
  KernelRunner& absent_input() {
    slots_.push_back(nullptr);
    return *this;
  }
  KernelRunner& ints(std::vector<int64_t> values) {
    ints_ = std::move(values);
    return *this;
  }
  KernelRunner& floats(std::vector<float> values) {
    floats_ = std::move(values);
    return *this;
  }
  KernelRunner& activation(ActivationKind kind, float param0 = 0.f, float param1 = 0.f) {
    activation_ = {kind, param0, param1};
    return *this;
  }
  // Int8/uint8 inputs with their quantization (one scale and zero point, or
  // one per slice along `axis`).
  KernelRunner& input_quantized(DType dtype, std::vector<int64_t> shape, const std::vector<int32_t>& values,
                                std::vector<float> scales, std::vector<int64_t> zero_points, int axis = -1,
                                bool constant = false) {
    std::vector<unsigned char> bytes;
    const size_t size = dtype_size(dtype);
    bytes.resize(values.size() * size);
    for (size_t i = 0; i < values.size(); ++i) {
      if (dtype == DType::kInt8) reinterpret_cast<int8_t*>(bytes.data())[i] = static_cast<int8_t>(values[i]);
      else if (dtype == DType::kUInt8) bytes[i] = static_cast<uint8_t>(values[i]);
      else reinterpret_cast<int32_t*>(bytes.data())[i] = values[i];
    }
    add_input(dtype, shape, bytes.data(), bytes.size(), constant);
    Slot& slot = *slots_.back();
    slot.scales = std::move(scales);
    slot.zero_points = std::move(zero_points);
    slot.tensor.quant.scales = slot.scales.data();
    slot.tensor.quant.zero_points = slot.zero_points.data();
    slot.tensor.quant.count = static_cast<uint32_t>(slot.scales.size());
    slot.tensor.quant.axis = axis;
    return *this;
  }
  // The quantization the model declares for output 0.
  KernelRunner& output_quantization(std::vector<float> scales, std::vector<int64_t> zero_points, int axis = -1) {
    output_scales_ = std::move(scales);
    output_zero_points_ = std::move(zero_points);
    output_axis_ = axis;
    return *this;
  }
  KernelRunner& num_outputs(size_t count) {
    num_outputs_ = count;
    return *this;
  }

  // Runs infer only (shape inference and validation).
  Status infer() {
    const Kernel* kernel = find_reference_kernel(opcode_);
    if (kernel == nullptr) return Status::error(StatusCode::kUnsupportedOp, "no kernel for opcode %u", opcode_);
    outputs_.assign(num_outputs_, Tensor{});
    output_ptrs_.clear();
    for (size_t i = 0; i < num_outputs_; ++i) {
      outputs_[i].name = "output";
      output_ptrs_.push_back(&outputs_[i]);
    }
    if (!output_scales_.empty()) {
      outputs_[0].quant.scales = output_scales_.data();
      outputs_[0].quant.zero_points = output_zero_points_.data();
      outputs_[0].quant.count = static_cast<uint32_t>(output_scales_.size());
      outputs_[0].quant.axis = output_axis_;
    }
    input_ptrs_.clear();
    for (size_t i = 0; i < slots_.size(); ++i) {
      if (!slots_[i]) {
        input_ptrs_.push_back(nullptr);
        continue;
      }
      slots_[i]->tensor.data = slots_[i]->constant ? slots_[i]->data.data() : nullptr;
      input_ptrs_.push_back(&slots_[i]->tensor);
    }
    context_ = KernelContext{};
    context_.opcode = opcode_;
    context_.op_name = "test";
    context_.inputs = input_ptrs_.data();
    context_.num_inputs = input_ptrs_.size();
    context_.outputs = output_ptrs_.data();
    context_.num_outputs = output_ptrs_.size();
    context_.attributes.ints = ints_.data();
    context_.attributes.num_ints = ints_.size();
    context_.attributes.floats = floats_.data();
    context_.attributes.num_floats = floats_.size();
    context_.attributes.activation = activation_;
    return kernel->infer(context_);
  }

  // infer, then allocate outputs and scratch, then eval.
  Status run() {
    Status status = infer();
    if (!status.is_ok()) return status;
    for (auto& slot : slots_)
      if (slot) slot->tensor.data = slot->data.data();
    output_data_.assign(num_outputs_, {});
    for (size_t i = 0; i < num_outputs_; ++i) {
      // Poison the output so a kernel that skips an element is caught.
      output_data_[i].assign(outputs_[i].bytes() + 1, static_cast<unsigned char>(0xA5));
      outputs_[i].data = output_data_[i].data();
    }
    scratch_.assign(context_.scratch_bytes + 1, 0);
    context_.scratch = scratch_.data();
    return find_reference_kernel(opcode_)->eval(context_);
  }

  const Tensor& output(size_t i = 0) const { return outputs_[i]; }
  std::vector<int64_t> output_shape(size_t i = 0) const {
    const Shape& s = outputs_[i].shape;
    return std::vector<int64_t>(s.dims, s.dims + s.rank);
  }
  std::vector<float> output_values(size_t i = 0) const {
    const float* p = static_cast<const float*>(outputs_[i].data);
    return std::vector<float>(p, p + outputs_[i].num_elements());
  }
  template <typename T>
  std::vector<T> output_as(size_t i = 0) const {
    const T* p = static_cast<const T*>(outputs_[i].data);
    return std::vector<T>(p, p + outputs_[i].num_elements());
  }
  size_t scratch_bytes() const { return context_.scratch_bytes; }

 private:
  struct Slot {
    Tensor tensor;
    std::vector<unsigned char> data;
    bool constant;
    std::string name;
    std::vector<float> scales;
    std::vector<int64_t> zero_points;
  };

  KernelRunner& add_input(DType dtype, const std::vector<int64_t>& shape, const void* data, size_t bytes,
                          bool constant) {
    auto slot = std::make_unique<Slot>();
    slot->name = "input" + std::to_string(slots_.size());
    slot->tensor.name = slot->name.c_str();
    slot->tensor.dtype = dtype;
    slot->tensor.shape.rank = static_cast<int>(shape.size());
    for (size_t i = 0; i < shape.size(); ++i) slot->tensor.shape.dims[i] = shape[i];
    slot->data.resize(bytes + 1);
    if (bytes) std::memcpy(slot->data.data(), data, bytes);
    slot->constant = constant;
    slots_.push_back(std::move(slot));
    return *this;
  }

  uint32_t opcode_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<const Tensor*> input_ptrs_;
  std::vector<Tensor> outputs_;
  std::vector<Tensor*> output_ptrs_;
  std::vector<std::vector<unsigned char>> output_data_;
  std::vector<unsigned char> scratch_;
  std::vector<int64_t> ints_;
  std::vector<float> floats_;
  FusedActivation activation_;
  size_t num_outputs_ = 1;
  std::vector<float> output_scales_;
  std::vector<int64_t> output_zero_points_;
  int output_axis_ = -1;
  KernelContext context_;
};

}  // namespace testing
}  // namespace edgegen
