// The accelerated execution of a graph: XNNPACK operators where XNNPACK has
// them, our own vectorized kernels (backends/xnnpack/simd) for what it lacks, the
// reference kernels for the rest.
//
// Layout: the model file is NCHW (the reference kernels' and ONNX's layout).
// XNNPACK's convolutions are channels-last, so at prepare the backend
// chooses a storage layout per activation: chains of channels-last-capable
// operators (convolutions, pooling, GroupNorm, channel Concat, element-wise
// ops) keep their tensors NHWC in the tensors' own planned slots, and
// operands are converted only where a chain meets an NCHW-only operator, a
// graph input or a graph output. A conversion writes to the operator's
// scratch, which is counted in the arena like any kernel scratch. When a
// tensor has one channel or one pixel the two layouts are the same bytes and
// nothing is converted.
//
// All operators are created, their weights packed and set up (pointers are
// fixed by the memory plan) in prepare; running is a loop of
// xnn_run_operator and our kernels, with no allocation.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/arena_allocator.h"
#include "core/op_state.h"
#include "edgegen/model.h"
#include "edgegen/status.h"
#include "backends/xnnpack/shared_weights.h"
#include "core/widened_weights.h"

typedef struct pthreadpool* pthreadpool_t;

namespace edgegen {
namespace xnnpack {

class MemoryRegion;
struct AcceleratedOp;

// Everything build_graph needs. In counting mode (ops == nullptr) nothing
// is placed: `persistent` counts, `region` counts, scratch is measured, and
// the XNNPACK operators created to measure their memory are deleted again.
struct GraphBuild {
  const Model* model = nullptr;
  const format::Graph* graph = nullptr;
  pthreadpool_t threadpool = nullptr;
  ArenaAllocator* persistent = nullptr;
  MemoryRegion* region = nullptr;
  OpState* ops = nullptr;      // the session's (contexts already filled); null: counting
  Tensor* tensors = nullptr;   // the session's tensors; null: counting
  uint8_t* scratch = nullptr;  // the op scratch area (after the plan); null: counting
  size_t scratch_offset = 0;   // bytes of it the reference kernels use (ours follow)
  // Counting mode only: also create the XNNPACK operators to measure the
  // region (packing weights is the expensive part of prepare).
  bool measure_region = true;
  SharedWeights* shared = nullptr;  // one per prepare (or count), shared by its graphs
  ReorderBuffer* reorder = nullptr;  // the same; required
  // Float16 constants' float32 values (core/widened_weights.h); in counting
  // mode without measure_region not widened (then only their addresses count).
  const WidenedWeights* widened = nullptr;
  // SessionOptions::stream_weights_min_bytes and release_weight_pages.
  size_t stream_weights_min_bytes = 0;
  bool release_weight_pages = false;
};

// Builds the accelerated execution of one graph; returns the scratch bytes
// its operators need after scratch_offset (the largest over its operators).
Result<size_t> build_graph(const GraphBuild& build);

// Ops with less work than these (multiply-adds of a product, elements of
// anything else) run on the calling thread: handing them to the workers
// costs more than it saves (a few microseconds). Tests set 0 to run every
// op's threaded path.
constexpr int64_t kMinParallelMacs = int64_t{1} << 18;
constexpr int64_t kMinParallelElements = int64_t{1} << 15;
void set_parallel_thresholds_for_testing(int64_t macs, int64_t elements);

// Runs one operator (conversions, the op, its unfused activation); with
// `serial`, on the calling thread even where it was prepared to split.
Status run(const OpState& op, bool serial = false);

// Whether the op was prepared to split its work across the worker threads.
bool splits_work(const OpState& op);

// Pre-packed weights (core/prepacked_weights.h). A streamed layer that our
// own kernels run can take its packed weights from a file: its layout key
// and the packed bytes (from its plan, no I/O). False: not such a layer.
struct PrepackableLayer {
  uint64_t layout_key = 0;
  size_t bytes = 0;
};
bool prepackable_layer(const OpState& op, PrepackableLayer* layer);
// Such a layer's prepacked_sample_fingerprint of its weights and bias
// (reads samples of the mapped model, then releases their pages).
uint64_t prepacked_weights_fingerprint(const OpState& op);
// Packs such a layer's weights into the stream buffer (as a run would) and
// returns them; `pool` packs on the worker threads (null: this thread).
const void* pack_streamed_layer(OpState& op, pthreadpool_t pool);
// Runs read the layer's `bytes` of packed weights from `data` (64-byte
// aligned, the caller's, e.g. a mapped file); null: repack before each run.
void use_prepacked_layer(OpState& op, const void* data, size_t bytes);

// "xnnpack", "im2col", "simd", "qgemm" (int8 products) or "reference", and the number
// of layout conversions.
const char* executor_name(const OpState& op);
int num_conversions(const OpState& op);

}  // namespace xnnpack
}  // namespace edgegen
