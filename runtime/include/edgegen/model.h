// A loaded edgegen model: borrowed, verified bytes of a .egm file.
//
// Loading checks everything that can be checked without working memory:
// the FlatBuffers verifier, the format version, every tensor (rank, dims,
// dtype, byte size of its weights, weight ranges inside the file), every
// operator (known opcode, tensor indices in range, topological order, each
// activation produced once) and the pipeline's graph references.
// Session::prepare then finishes the verification with memory from the
// arena: every operator's shape inference against the stored shapes, and
// the memory plan (in bounds, no two simultaneously live tensors overlap).
// Nothing runs on a model that has not passed both.
#pragma once

#include <cstddef>
#include <cstdint>

#include "edgegen/status.h"

namespace edgegen {
namespace format {
struct Model;
struct Graph;
}  // namespace format

// The generative program a model's graphs form. Same numbering as the
// schema's PipelineSpec union.
enum class PipelineKind : uint32_t {
  kGraphsOnly = 1,
  kDecoder = 2,
  kVae = 3,
  kFlow = 4,
  kDiffusion = 5,
  kAutoregressive = 6,
  kEnergy = 7,
  kTokenDecoder = 8,
  kVocoder = 9,
};
const char* pipeline_kind_name(PipelineKind kind);

// The newest format_version this runtime reads. Version 2 added float16
// constants (float32 weights stored in half precision, widened at prepare);
// the converter writes 2 only for files that hold them. Version 3 added
// persistent state (Graph.state: a token decoder's KV cache updated in
// place); the converter writes 3 only for files that have it.
constexpr uint32_t kFormatVersion = 3;
// Model bytes must start at an address that is a multiple of this.
constexpr size_t kModelAlignment = 64;

class Model {
 public:
  // Verifies `data` and wraps it. The bytes are borrowed: they must stay
  // valid and unchanged while this Model, or any Session prepared from it,
  // is in use. `data` must be kModelAlignment-aligned (a memory-mapped file
  // is). Fails with kInvalidModel, kUnsupportedVersion or kUnsupportedOp and
  // a message naming the graph, tensor or operator at fault.
  static Result<Model> from_buffer(const void* data, size_t size);

  const format::Model* root() const { return root_; }  // the verified FlatBuffer
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

  size_t num_graphs() const;
  const format::Graph* graph(size_t index) const;
  const char* graph_name(size_t index) const;
  // Index of the graph called `name`, or -1.
  int find_graph(const char* name) const;

  PipelineKind pipeline_kind() const;
  // The batch size the model was converted for.
  uint32_t batch() const;
  // Bytes of buffer `index` in the weight segment (index 0: nullptr).
  const void* buffer_data(uint32_t index) const;
  // Total bytes of all weights.
  uint64_t weight_bytes() const;

 private:
  const uint8_t* data_ = nullptr;   // borrowed
  size_t size_ = 0;
  const format::Model* root_ = nullptr;  // borrowed, points into data_
};

}  // namespace edgegen
