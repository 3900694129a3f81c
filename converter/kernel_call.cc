#include "converter/kernel_call.h"

#include "converter/converter.h"

namespace edgegen::converter {
namespace {

// A kernel call on heap buffers: the KernelContext and everything it borrows.
class HeapKernelCall {
 public:
  HeapKernelCall(const IrOp& op, const std::vector<const IrTensor*>& inputs, size_t num_outputs,
                 const std::vector<const IrTensor*>& declared_outputs = {})
      : op_(op) {
    kernel_ = find_reference_kernel(static_cast<uint32_t>(op.opcode));
    if (kernel_ == nullptr)
      throw ConversionError("internal: no reference kernel for opcode " +
                            std::to_string(static_cast<uint32_t>(op.opcode)));
    input_tensors_.resize(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (inputs[i] == nullptr) {
        input_ptrs_.push_back(nullptr);
        continue;
      }
      Tensor& tensor = input_tensors_[i];
      tensor.name = inputs[i]->name.c_str();
      tensor.dtype = inputs[i]->dtype;
      tensor.shape = to_shape(*inputs[i]);
      tensor.quant = to_quantization(inputs[i]->quant);
      // An empty constant still needs a non-null pointer to count as constant.
      if (inputs[i]->is_constant)
        tensor.data = inputs[i]->data.empty() ? static_cast<void*>(&empty_constant_)
                                              : const_cast<uint8_t*>(inputs[i]->data.data());
      input_ptrs_.push_back(&tensor);
    }
    output_tensors_.resize(num_outputs);
    for (size_t i = 0; i < num_outputs; ++i) {
      if (i < declared_outputs.size() && declared_outputs[i] != nullptr)
        output_tensors_[i].quant = to_quantization(declared_outputs[i]->quant);
      output_ptrs_.push_back(&output_tensors_[i]);
    }
    context_.opcode = static_cast<uint32_t>(op.opcode);
    context_.op_name = op.name.c_str();
    context_.inputs = input_ptrs_.data();
    context_.num_inputs = input_ptrs_.size();
    context_.outputs = output_ptrs_.data();
    context_.num_outputs = output_ptrs_.size();
    context_.attributes.ints = op.ints.data();
    context_.attributes.num_ints = op.ints.size();
    context_.attributes.floats = op.floats.data();
    context_.attributes.num_floats = op.floats.size();
    context_.attributes.activation = op.activation;
  }

  void infer() { check(kernel_->infer(context_)); }

  std::vector<IrTensor> outputs(const std::vector<std::string>& names, bool with_data) {
    std::vector<IrTensor> result(output_tensors_.size());
    if (with_data) {
      for (size_t i = 0; i < output_tensors_.size(); ++i) {
        result[i].shape.assign(output_tensors_[i].shape.dims, output_tensors_[i].shape.dims + output_tensors_[i].shape.rank);
        result[i].dtype = output_tensors_[i].dtype;
        result[i].allocate_data();
        output_tensors_[i].data = result[i].data.empty() ? static_cast<void*>(&empty_constant_) : result[i].data.data();
      }
      std::vector<uint8_t> scratch(context_.scratch_bytes + 1);
      context_.scratch = scratch.data();
      check(kernel_->eval(context_));
    }
    for (size_t i = 0; i < output_tensors_.size(); ++i) {
      result[i].name = i < names.size() ? names[i] : op_.name + ":" + std::to_string(i);
      result[i].dtype = output_tensors_[i].dtype;
      const Shape& shape = output_tensors_[i].shape;
      result[i].shape.assign(shape.dims, shape.dims + shape.rank);
      result[i].is_constant = with_data;
      const Quantization& quant = output_tensors_[i].quant;
      if (quant.present()) {
        result[i].quant.scales.assign(quant.scales, quant.scales + quant.count);
        result[i].quant.zero_points.assign(quant.zero_points, quant.zero_points + quant.count);
        result[i].quant.axis = quant.axis;
      }
    }
    return result;
  }

 private:
  static Quantization to_quantization(const IrQuantization& ir) {
    Quantization quant;
    if (!ir.present()) return quant;
    if (ir.zero_points.size() != ir.scales.size())
      throw ConversionError("internal: quantization with " + std::to_string(ir.scales.size()) + " scales and " +
                            std::to_string(ir.zero_points.size()) + " zero points");
    quant.scales = ir.scales.data();
    quant.zero_points = ir.zero_points.data();
    quant.count = static_cast<uint32_t>(ir.scales.size());
    quant.axis = ir.axis;
    return quant;
  }

  static Shape to_shape(const IrTensor& tensor) {
    if (tensor.shape.size() > static_cast<size_t>(kMaxRank))
      throw ConversionError("tensor '" + tensor.name + "' has rank " + std::to_string(tensor.shape.size()) +
                            "; edgegen supports rank up to " + std::to_string(kMaxRank));
    Shape shape;
    shape.rank = static_cast<int>(tensor.shape.size());
    for (int i = 0; i < shape.rank; ++i) shape.dims[i] = tensor.shape[i];
    return shape;
  }
  void check(const Status& status) {
    if (!status.is_ok()) throw ConversionError(status.message());
  }

  const IrOp& op_;
  const Kernel* kernel_ = nullptr;
  std::vector<Tensor> input_tensors_;
  std::vector<const Tensor*> input_ptrs_;
  std::vector<Tensor> output_tensors_;
  std::vector<Tensor*> output_ptrs_;
  KernelContext context_;
  uint64_t empty_constant_ = 0;
};

}  // namespace

std::vector<IrTensor> infer_op(const IrOp& op, const std::vector<const IrTensor*>& inputs,
                               const std::vector<std::string>& output_names,
                               const std::vector<const IrTensor*>& declared_outputs) {
  HeapKernelCall call(op, inputs, op.outputs.size(), declared_outputs);
  call.infer();
  return call.outputs(output_names, false);
}

std::vector<IrTensor> evaluate_op(const IrOp& op, const std::vector<const IrTensor*>& inputs,
                                  const std::vector<std::string>& output_names) {
  HeapKernelCall call(op, inputs, op.outputs.size());
  call.infer();
  return call.outputs(output_names, true);
}

}  // namespace edgegen::converter
