// Prepare-time helpers of the XNNPACK backend, one of each per prepare,
// shared by the graphs it builds.
#pragma once

#include <cstddef>
#include <cstdint>

typedef struct xnn_operator* xnn_operator_t;

namespace edgegen {
namespace xnnpack {

struct AcceleratedOp;

// The fully connected operators packed so far during one prepare, across
// graphs: an op whose weights, bias and clamp match an earlier one's runs
// that operator (set up again before each run) instead of packing the same
// weights again. Flows share every weight between their forward and
// inverse graphs, and a MAF inverse calls the same layer once per
// dimension: without this the packed copies grew to 17x the weights.
// Lives on the heap during prepare only.
class SharedWeights {
 public:
  SharedWeights() = default;
  ~SharedWeights();
  SharedWeights(const SharedWeights&) = delete;
  SharedWeights& operator=(const SharedWeights&) = delete;

  struct Key {
    const float* weights;
    const float* bias;
    size_t input_channels, output_channels;
    float output_min, output_max;
    uint32_t flags;
    bool operator==(const Key& other) const;
  };
  struct Entry {
    Key key;
    xnn_operator_t op;     // placing mode; stale while counting (never used then)
    AcceleratedOp* owner;  // placing mode: the op that packed it
  };
  Entry* find(const Key& key);
  bool add(const Entry& entry);  // false: out of memory

 private:
  Entry* entries_ = nullptr;
  size_t size_ = 0, capacity_ = 0;
};

// Weights are reordered into the layout XNNPACK packs from in a temporary
// buffer; one buffer, grown as needed, serves every operator of a prepare
// (a fresh allocation per operator page-faulted megabytes each time and
// was a fifth of a cold prepare).
class ReorderBuffer {
 public:
  ReorderBuffer() = default;
  // Over borrowed memory of `capacity` floats (weight streaming, while
  // running): never allocates; floats() of more returns null.
  ReorderBuffer(float* memory, size_t capacity) : data_(memory), capacity_(capacity), borrowed_(true) {}
  ~ReorderBuffer();
  ReorderBuffer(const ReorderBuffer&) = delete;
  ReorderBuffer& operator=(const ReorderBuffer&) = delete;
  // `count` floats, valid until the next call; null when out of memory.
  float* floats(size_t count);

 private:
  float* data_ = nullptr;  // owned unless borrowed_
  size_t capacity_ = 0;
  bool borrowed_ = false;
};

}  // namespace xnnpack
}  // namespace edgegen
