// Session: runs the graphs of one Model inside one fixed arena.
//
// prepare() finishes verifying the model (shape inference of every operator
// against the stored shapes, the memory plan), places every tensor in the
// arena and resolves every kernel. After prepare, run() makes no heap
// allocation and checks nothing it already checked.
//
// Arena layout (addresses grow to the right):
//
//   arena                                                                  arena + bytes
//   +------------------------+----------------------------------------------+-----------+
//   | persistent             | activations: one region shared by all graphs | XNNPACK:  |
//   | tensor tables, float16 | (graphs run one at a time), sized for the    | packed    |
//   | weights widened to     | largest graph's plan plus its largest kernel | weights,  |
//   | float32, kernel        | scratch; also verification scratch in prepare | operators |
//   | contexts, caller's     |                                              |           |
//   | reservations           |                                              |           |
//   +------------------------+----------------------------------------------+-----------+
//
// The XNNPACK part is measured by arena_bytes_needed (which creates every
// operator once to learn its size); prepare gives XNNPACK what the arena
// has left, so a caller-owned arena is packed only once. A session that
// allocates its own memory (prepare without an arena) skips the measuring:
// XNNPACK's part is then heap blocks the session owns, packed once.
//
// Because graphs share the activation region, running one graph overwrites
// the outputs of the previous one: copy what you need first (pipelines do).
#pragma once

#include <cstddef>
#include <cstdint>

#include "edgegen/data_model.h"
#include "edgegen/model.h"
#include "edgegen/status.h"
#include "edgegen/tensor.h"

namespace edgegen {

struct Kernel;
struct KernelContext;
struct OpState;

// Which kernels run the operators.
enum class Backend : uint32_t {
  kAuto = 0,       // XNNPACK when the build has it and the CPU supports it, else reference;
                   // the environment variable EDGEGEN_BACKEND=reference|xnnpack pins it
  kReference = 1,  // the portable reference kernels (the oracle; the firmware path)
  kXnnpack = 2,    // XNNPACK operators + our vectorized kernels + reference for the rest
};
const char* backend_name(Backend backend);

struct SessionOptions {
  Backend backend = Backend::kAuto;
  // Worker threads for the XNNPACK backend; 0: the number of performance
  // cores (edgegen/../platform/cpu_info.h). The reference backend uses one.
  int threads = 0;
  // Weight streaming, for models whose weights RAM should not hold twice
  // (issue 14: a 3.4 GB UNet). On the XNNPACK backend, a convolution or
  // fully connected layer whose weight is at least this many bytes is not
  // packed at prepare: before each run its weights are packed into one
  // buffer in the arena sized for the largest such layer, and the operator
  // is deleted after it. Costs a repacking per run (a memory-bound copy of
  // the weights); saves the packed copy of every large layer. 0: off.
  size_t stream_weights_min_bytes = 0;
  // With streaming: the model's bytes are a read-only memory-mapped file
  // (MappedFile), so a streamed layer's weight pages may be dropped from
  // the process after it runs (they stay in the page cache and return on
  // the next read): resident memory stays near the arena plus one layer.
  // Never set this for model bytes in heap memory, whose pages it would zero.
  bool release_weight_pages = false;
  // With threads > 1: a graph whose first run takes under 50 ms is timed
  // over its first runs with its larger ops split across the threads, then
  // with every op on the calling thread, and keeps the faster
  // (core/split_trial.h; the results are the same bits either way). false:
  // always split as prepared (tests of the threaded paths).
  bool adapt_thread_split = true;
};

// Timing of one operator, reported by run_with_profile.
struct OpProfileCallback {
  void (*on_op)(void* user, int graph, size_t op_index, uint64_t nanoseconds) = nullptr;
  void* user = nullptr;
};

class Session {
 public:
  Session() = default;
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // The backend prepare() runs with these options (kAuto resolved); fails
  // when the asked-for backend is not available here.
  static Result<Backend> resolve_backend(const SessionOptions& options);

  // Bytes prepare() needs for `model`, plus `reserve_bytes` set aside for
  // the caller (see reserve()). Fails if the model does not verify.
  static Result<size_t> arena_bytes_needed(const Model& model, size_t reserve_bytes = 0,
                                           const SessionOptions& options = SessionOptions());
  // The same for a CPU of another data model (a 32-bit device, sized by
  // the host tool); the reference backend only.
  static Result<size_t> arena_bytes_needed(const Model& model, size_t reserve_bytes, const SessionOptions& options,
                                           const DataModel& data_model);

  // Prepares with a caller-owned arena (borrowed; must outlive the session).
  // `reserve_bytes` of it are kept for the caller's reserve() calls.
  // kArenaTooSmall names the bytes needed. `model` must outlive the session.
  Status prepare(const Model& model, void* arena, size_t arena_bytes, size_t reserve_bytes = 0,
                 const SessionOptions& options = SessionOptions());
  // Prepares with one block the session allocates itself (the only heap
  // allocation it ever makes; freed by the destructor). The XNNPACK backend
  // also starts its worker threads here.
  Status prepare(const Model& model, size_t reserve_bytes = 0, const SessionOptions& options = SessionOptions());

  bool prepared() const { return prepared_; }
  // The backend in use (kAuto resolved) and its thread count.
  Backend backend() const { return backend_; }
  int threads() const { return threads_; }
  // The arena bytes in use, and its parts: the activation region (tensors
  // of the largest graph plus operator scratch, incl. layout conversions)
  // and XNNPACK's packed weights and operators.
  size_t arena_bytes() const { return arena_bytes_; }
  size_t activation_bytes() const { return activation_bytes_; }
  size_t backend_bytes() const { return backend_bytes_; }
  // Hands out `bytes` (64-byte aligned) of the reservation made at prepare;
  // nullptr when the reservation is exhausted.
  void* reserve(size_t bytes);

  const Model& model() const { return *model_; }
  size_t num_graphs() const { return num_graphs_; }
  int find_graph(const char* name) const;

  size_t num_inputs(size_t graph) const;
  size_t num_outputs(size_t graph) const;
  // The graph's input/output tensors; their data points into the arena.
  Tensor& input(size_t graph, size_t index);
  Tensor& output(size_t graph, size_t index);
  // Index of the input/output called `name`, or -1.
  int find_input(size_t graph, const char* name) const;
  int find_output(size_t graph, const char* name) const;
  size_t num_operators(size_t graph) const;
  // Whether the graph's runs keep every op on the calling thread: one
  // thread, or SessionOptions::adapt_thread_split measured that faster than
  // splitting (decided after the graph's first runs; false until then).
  bool runs_on_calling_thread(size_t graph) const;
  // Opcode and node name of an operator, for profiles.
  uint32_t operator_code(size_t graph, size_t op_index) const;
  const char* operator_name(size_t graph, size_t op_index) const;
  // What runs an operator: "xnnpack", "simd" (our vectorized kernels),
  // "qgemm" (our int8 matrix products) or "reference"; and how many layout
  // conversions (NCHW <-> NHWC) it does.
  const char* operator_executor(size_t graph, size_t op_index) const;
  // Output `k` of an operator. Its data holds the op's result from when the
  // op has run (e.g. in run_with_profile's callback) until the arena slot is
  // reused; on the reference backend it is in the file's layout (NCHW).
  // The converter's calibration reads activations this way.
  size_t operator_num_outputs(size_t graph, size_t op_index) const;
  const Tensor& operator_output(size_t graph, size_t op_index, size_t k) const;
  int operator_conversions(size_t graph, size_t op_index) const;

  // Pre-packed weights, for weight streaming (stream_weights_min_bytes):
  // the streamed layers our own convolution kernels run, packed as each run
  // packs them, kept by the caller in a file (format:
  // runtime/core/prepacked_weights.h; the command line's --low-memory
  // --prepacked FILE). Runs then read those layers' packed weights instead
  // of repacking them (repacking 3.4 GB was ~1 s of an SD-1.5 UNet step).
  // The file depends on the model, this CPU and the options: make it where
  // it is used.
  //
  // Writes the file's bytes, in order, through `write` (packing each layer
  // into the stream buffer; with release_weight_pages the model's pages are
  // released after each). A session with nothing to pre-pack writes a
  // header only.
  struct ByteWriter {
    Status (*write)(void* user, const void* data, size_t bytes) = nullptr;
    void* user = nullptr;
  };
  Status write_prepacked_weights(const ByteWriter& writer);
  // Makes runs read the layers' packed weights from `data` (a file
  // write_prepacked_weights wrote, mapped; 64-byte aligned; borrowed until
  // the next prepare or the session's end). With release_weight_pages its
  // pages are released after each layer too: pass mapped file bytes only.
  // A file made for another model, CPU or options is refused (kInvalidArgument,
  // naming the first layer that differs) and nothing changes.
  Status use_prepacked_weights(const void* data, size_t bytes);

  // Runs every operator of `graph` in order.
  Status run(size_t graph);
  // Same, timing each operator (the clock is read between operators only).
  Status run_with_profile(size_t graph, const OpProfileCallback& callback);

 private:
  struct GraphState;
  Status prepare_impl(const Model& model, uint8_t* arena, size_t arena_bytes, size_t reserve_bytes,
                      const SessionOptions& options, bool backend_on_heap);
  Status prepare_placed(const Model& model, uint8_t* arena, size_t arena_bytes, size_t reserve_bytes,
                        const SessionOptions& options, bool backend_on_heap);
  void release_backend();
  OpState* graph_ops(size_t graph, size_t* count) const;

  const Model* model_ = nullptr;          // borrowed
  uint8_t* owned_arena_ = nullptr;        // owned (prepare without an arena)
  void* owned_backend_blocks_ = nullptr;  // owned: XNNPACK's heap blocks then
  uint8_t* reserve_begin_ = nullptr;      // borrowed, inside the arena
  uint8_t* reserve_end_ = nullptr;
  GraphState* graphs_ = nullptr;          // borrowed, inside the arena
  size_t num_graphs_ = 0;
  size_t arena_bytes_ = 0;
  size_t activation_bytes_ = 0;
  size_t backend_bytes_ = 0;
  bool prepared_ = false;
  Backend backend_ = Backend::kReference;
  int threads_ = 1;
  void* threadpool_ = nullptr;  // pthreadpool_t, owned (XNNPACK backend, threads > 1)
};

}  // namespace edgegen
