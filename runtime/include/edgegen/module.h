// Module: the one front door. Opens any .egm (verified) and gives the
// Program (edgegen/program.h) its file declares, without the caller
// switching on the pipeline kind (as ExecuTorch's Module over
// Program/Method).
//
//   edgegen::Module module;
//   EG_RETURN_IF_ERROR(module.load(bytes, size));           // or load_file(path)
//   EG_RETURN_IF_ERROR(module.prepare(options, edgegen::Capability::kScore));
//   edgegen::Program& program = *module.program();
//   if (program.can(edgegen::Capability::kScore))
//     EG_RETURN_IF_ERROR(program.score(edgegen::ScoringOptions(), rows, count, log_likelihood));
//
// Which class runs which kind is one table (runtime/pipelines/program_kinds.inc).
// A kind may be run by more than one class (a vae generates with Pipeline
// and scores with VaeScorer, each with its own arena): prepare() takes the
// first class of the kind that declares the capability asked for.
//
// Memory. With a caller arena the program object itself is placed at its
// start (so a device needs no heap at all); arena_bytes_needed() counts it.
// Without one, prepare() allocates the object and its arena once. Nothing
// is allocated after prepare().
#pragma once

#include <cstddef>
#include <cstdint>

#include "edgegen/mapped_file.h"
#include "edgegen/model.h"
#include "edgegen/program.h"
#include "edgegen/session.h"
#include "edgegen/status.h"

namespace edgegen {

// Writes into `kinds` (up to `capacity`) the kinds some class of which
// declares `capability`, each once, in table order; returns how many there are.
size_t kinds_declaring(Capability capability, PipelineKind* kinds, size_t capacity);

class Module {
 public:
  Module() = default;
  ~Module();
  // Not copyable or movable: the program points at model_.
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Verifies `data` (borrowed: it must outlive this Module and stay
  // unchanged; kModelAlignment-aligned). Fails as Model::from_buffer does.
  Status load(const void* data, size_t size);
  // Maps `path` read-only (the mapping is owned) and verifies it (POSIX hosts).
  Status load_file(const char* path);
  bool loaded() const { return model_.root() != nullptr; }

  const Model& model() const { return model_; }
  PipelineKind kind() const { return model_.pipeline_kind(); }
  // What the classes of this kind can offer (OR of capability_bit()). A
  // prepared program may offer less (a flow without an inverse graph does
  // not sample): ask program()->can() for the exact answer.
  uint32_t declared_capabilities() const;
  bool declares(Capability capability) const {
    return (declared_capabilities() & capability_bit(capability)) != 0;
  }

  // Arena bytes prepare(arena, ...) needs for the same options and capability.
  Result<size_t> arena_bytes_needed(const SessionOptions& options = SessionOptions(),
                                    Capability needed = Capability::kNone) const;
  // Prepares the program of the model's kind that declares `needed` (kNone:
  // the kind's first). Fails with kNotPrepared before load, kUnsupportedOp
  // when no class of the kind runs it or declares `needed` ("a 'flow'
  // pipeline cannot impute"), and as the class's own prepare otherwise.
  // `arena` is borrowed and must outlive this Module. Preparing again
  // replaces the previous program.
  Status prepare(void* arena, size_t arena_bytes, const SessionOptions& options = SessionOptions(),
                 Capability needed = Capability::kNone);
  Status prepare(const SessionOptions& options = SessionOptions(), Capability needed = Capability::kNone);

  // The prepared program, or null before a successful prepare().
  Program* program() { return program_; }
  const Program* program() const { return program_; }

 private:
  void release_program();

  MappedFile file_;  // owned when loaded with load_file()
  Model model_;
  Program* program_ = nullptr;  // owned object; its memory is heap_program_ or the caller's arena
  void* heap_program_ = nullptr;  // owned, or null when the program lives in the caller's arena
};

}  // namespace edgegen
