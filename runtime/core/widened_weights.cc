#include "core/widened_weights.h"

#include "core/arena_allocator.h"
#include "core/memory_planner.h"
#include "edgegen_generated.h"
#include "kernels/kernel_util.h"

namespace edgegen {

bool is_widened_constant(const format::Tensor& tensor) {
  return tensor.buffer() != 0 && tensor.dtype() == format::DType::Float16;
}

DType runtime_dtype(const format::Tensor& tensor) {
  return is_widened_constant(tensor) ? DType::kFloat32 : static_cast<DType>(tensor.dtype());
}

namespace {

// Whether a Float16 constant refers to `buffer`. A linear scan, as loading
// does: no working memory, and it runs only for models that hold Float16
// constants (and twice per prepare).
bool widened_buffer(const Model& model, uint32_t buffer) {
  for (size_t g = 0; g < model.num_graphs(); ++g)
    for (const format::Tensor* tensor : *model.graph(g)->tensors())
      if (tensor->buffer() == buffer && is_widened_constant(*tensor)) return true;
  return false;
}

bool any_widened(const Model& model) {
  for (size_t g = 0; g < model.num_graphs(); ++g)
    for (const format::Tensor* tensor : *model.graph(g)->tensors())
      if (is_widened_constant(*tensor)) return true;
  return false;
}

// Load verified that every Float16 tensor on a buffer has exactly 2 bytes per element.
size_t widened_bytes(const Model& model, uint32_t buffer) {
  return static_cast<size_t>(model.root()->buffers()->Get(buffer)->size() / 2 * sizeof(float));
}

size_t table_bytes(const Model& model, size_t pointer_bytes) {
  return static_cast<size_t>(align_up(model.root()->buffers()->size() * pointer_bytes, kArenaAlignment));
}

}  // namespace

size_t WidenedWeights::bytes_needed(const Model& model, size_t pointer_bytes) {
  if (!any_widened(model)) return 0;
  size_t bytes = table_bytes(model, pointer_bytes);
  const uint32_t num_buffers = model.root()->buffers()->size();
  for (uint32_t b = 1; b < num_buffers; ++b)
    if (widened_buffer(model, b)) bytes += static_cast<size_t>(align_up(widened_bytes(model, b), kArenaAlignment));
  return bytes;
}

void WidenedWeights::widen(const Model& model, uint8_t* memory) {
  by_buffer_ = nullptr;
  if (!any_widened(model)) return;
  const uint32_t num_buffers = model.root()->buffers()->size();
  const float** table = reinterpret_cast<const float**>(memory);
  uint8_t* next = memory + table_bytes(model, sizeof(const float*));
  for (uint32_t b = 0; b < num_buffers; ++b) {
    table[b] = nullptr;
    if (b == 0 || !widened_buffer(model, b)) continue;
    const size_t bytes = widened_bytes(model, b);
    const uint16_t* halves = static_cast<const uint16_t*>(model.buffer_data(b));
    float* floats = reinterpret_cast<float*>(next);
    for (size_t i = 0; i < bytes / sizeof(float); ++i) floats[i] = half_to_float(halves[i]);
    table[b] = floats;
    next += align_up(bytes, kArenaAlignment);
  }
  by_buffer_ = table;
}

const void* WidenedWeights::data(const Model& model, uint32_t index) const {
  if (by_buffer_ != nullptr && index != 0 && by_buffer_[index] != nullptr) return by_buffer_[index];
  return model.buffer_data(index);
}

}  // namespace edgegen
