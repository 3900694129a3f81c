// Float16 constants: float32 weights that the file stores in half precision
// (`edgegen convert --weights fp16`), to halve the download or the flash.
//
// The format defines a Float16 *constant* (a tensor with a buffer) as
// storage only: operators never see float16 weights. prepare widens each
// such buffer once, exactly (every half is a float), into the persistent
// part of the arena, and every tensor that refers to the buffer sees a
// float32 tensor there; arena_bytes_needed counts the same bytes. Float16
// *activations* (a Cast's output) stay float16.
//
// Persistent region this adds (after the session's graph table):
//
//   +--------------------------+-------------------+-------------------+---
//   | table: one const float*  | buffer b1 widened | buffer b2 widened | ...
//   | per model buffer (null:  | to float32        | (each 64-byte     |
//   | not widened)             |                   |  aligned)         |
//   +--------------------------+-------------------+-------------------+---
//
// A buffer that several tensors or graphs share (a flow's forward and
// inverse) is widened once. With no Float16 constant the region is empty.
#pragma once

#include <cstddef>
#include <cstdint>

#include "edgegen/model.h"
#include "edgegen/tensor.h"

namespace edgegen {
namespace format {
struct Tensor;
}

// A constant stored as float16, which operators see as float32.
bool is_widened_constant(const format::Tensor& tensor);
// The dtype operators see: float32 for a widened constant, else the stored one.
DType runtime_dtype(const format::Tensor& tensor);

class WidenedWeights {
 public:
  // Bytes of the region for `model` (a multiple of 64; 0 without Float16
  // constants). The model must be verified (Model::from_buffer).
  // pointer_bytes: of the CPU the arena is for (its table holds pointers).
  static size_t bytes_needed(const Model& model, size_t pointer_bytes = sizeof(void*));

  // Widens every Float16 constant buffer of `model` into `memory`
  // (bytes_needed(model) bytes, 64-byte aligned, borrowed: it must outlive
  // this object). Nothing to do when bytes_needed is 0.
  void widen(const Model& model, uint8_t* memory);

  // The bytes of buffer `index` as operators read them: the widened floats
  // of a Float16 constant buffer, else the model's own bytes (nullptr for 0).
  // Before widen() (counting a layout) always the model's bytes.
  const void* data(const Model& model, uint32_t index) const;

 private:
  const float* const* by_buffer_ = nullptr;  // borrowed, the region's table; null: nothing widened
};

}  // namespace edgegen
