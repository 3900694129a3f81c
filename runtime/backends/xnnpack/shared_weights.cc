#include "backends/xnnpack/shared_weights.h"

#include <cstdlib>

namespace edgegen {
namespace xnnpack {

SharedWeights::~SharedWeights() { std::free(entries_); }

ReorderBuffer::~ReorderBuffer() {
  if (!borrowed_) std::free(data_);
}

float* ReorderBuffer::floats(size_t count) {
  if (count > capacity_) {
    if (borrowed_) return nullptr;
    std::free(data_);
    data_ = static_cast<float*>(std::malloc((count + 1) * sizeof(float)));  // never malloc(0)
    capacity_ = data_ ? count : 0;
  }
  return data_;
}

bool SharedWeights::Key::operator==(const Key& other) const {
  return weights == other.weights && bias == other.bias && input_channels == other.input_channels &&
         output_channels == other.output_channels && output_min == other.output_min &&
         output_max == other.output_max && flags == other.flags;
}

SharedWeights::Entry* SharedWeights::find(const Key& key) {
  for (size_t i = 0; i < size_; ++i)
    if (entries_[i].key == key) return &entries_[i];
  return nullptr;
}

bool SharedWeights::add(const Entry& entry) {
  if (size_ == capacity_) {
    const size_t capacity = capacity_ ? 2 * capacity_ : 16;
    Entry* grown = static_cast<Entry*>(std::realloc(entries_, capacity * sizeof(Entry)));
    if (grown == nullptr) return false;
    entries_ = grown;
    capacity_ = capacity;
  }
  entries_[size_++] = entry;
  return true;
}

}  // namespace xnnpack
}  // namespace edgegen
