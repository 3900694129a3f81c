// libFuzzer: an untrusted model file through everything a device does with
// it, on the reference kernels (the firmware path):
//   Model::from_buffer -> Session::arena_bytes_needed -> prepare in an arena
//   of exactly that size -> run every graph on zeros -> prepare the model's
//   pipeline (and draw one sample from a decoder or VAE).
// Besides ASan and UBSan (misaligned loads included), it checks what the
// runtime promises: a failure is a Status, never a crash; an arena of
// arena_bytes_needed bytes is enough; a run allocates nothing.
#include <sanitizer/allocator_interface.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "edgegen/density.h"
#include "edgegen/diffusion.h"
#include "edgegen/model.h"
#include "edgegen/pipeline.h"
#include "edgegen/session.h"

namespace {

using namespace edgegen;

bool counting_allocations = false;
size_t allocations = 0;

void on_malloc(const volatile void*, size_t) {
  if (counting_allocations) ++allocations;
}
void on_free(const volatile void*) {}

// Aborts (a finding) when a promise of the runtime is broken.
void expect(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz_model: %s\n", what);
    std::abort();
  }
}

const SessionOptions kReference{Backend::kReference};

template <typename PipelineType>
void prepare_pipeline(const Model& model) {
  PipelineType pipeline;
  (void)pipeline.prepare(model, kReference);
}

void exercise_pipeline(const Model& model) {
  switch (model.pipeline_kind()) {
    case PipelineKind::kDecoder:
    case PipelineKind::kVae: {
      Pipeline pipeline;
      if (!pipeline.prepare(model, kReference).is_ok()) return;
      // One item, when it is small: this is about parsing, not about speed.
      if (pipeline.item_size() > (1u << 16) || pipeline.latent_size() > (1u << 16)) return;
      float* items = static_cast<float*>(std::malloc(pipeline.item_size() * sizeof(float) + 1));
      if (items != nullptr) (void)pipeline.sample(1, 1.f, 1, items);
      std::free(items);
      return;
    }
    case PipelineKind::kFlow: prepare_pipeline<FlowPipeline>(model); return;
    case PipelineKind::kDiffusion: prepare_pipeline<DiffusionPipeline>(model); return;
    case PipelineKind::kAutoregressive: prepare_pipeline<AutoregressivePipeline>(model); return;
    case PipelineKind::kEnergy: prepare_pipeline<EnergyPipeline>(model); return;
    case PipelineKind::kGraphsOnly: return;
  }
}

// arena_bytes_needed -> prepare in exactly that -> run every graph on zeros.
void prepare_and_run(const Model& model) {
  Result<size_t> needed = Session::arena_bytes_needed(model, 0, kReference);
  if (!needed.ok()) return;
  // Too large for this machine: allocation fails (ASan's
  // max_allocation_size_mb, see run.sh), the caller's out-of-memory path.
  void* arena = std::malloc(*needed);
  if (arena == nullptr) return;
  {
    Session session;
    Status status = session.prepare(model, arena, *needed, 0, kReference);
    expect(status.code() != StatusCode::kArenaTooSmall, "prepare: arena_bytes_needed was not enough");
    for (size_t graph = 0; status.is_ok() && graph < session.num_graphs(); ++graph) {
      for (size_t i = 0; i < session.num_inputs(graph); ++i)
        std::memset(session.input(graph, i).data, 0, session.input(graph, i).bytes());
      allocations = 0;
      counting_allocations = true;
      // May fail on data (a computed index out of range), never crash.
      (void)session.run(graph);
      counting_allocations = false;
      expect(allocations == 0, "run allocated memory");
    }
  }
  std::free(arena);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // An aligned copy of exactly `size` bytes, so that ASan sees any read
  // past the end of the file.
  void* bytes = nullptr;
  if (posix_memalign(&bytes, kModelAlignment, size > 0 ? size : 1) != 0) return 0;
  if (size > 0) std::memcpy(bytes, data, size);
  Result<Model> model = Model::from_buffer(bytes, size);
  if (model.ok()) {
    prepare_and_run(*model);
    exercise_pipeline(*model);
  }
  std::free(bytes);
  return 0;
}
