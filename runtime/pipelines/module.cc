#include "edgegen/module.h"

#include <cstdlib>
#include <stdlib.h>  // ::aligned_alloc: newlib's <cstdlib> has no std::aligned_alloc
#include <new>

#include "core/arena_allocator.h"
#include "core/memory_planner.h"
#include "edgegen/density.h"
#include "edgegen/diffusion.h"
#include "edgegen/pipeline.h"
#include "edgegen/token_decoder.h"
#include "edgegen/vocoder.h"

namespace edgegen {
namespace {

// One row of program_kinds.inc, with the class reached through plain
// function pointers (no RTTI, no kind switch).
struct ProgramClass {
  PipelineKind kind;
  uint32_t capabilities;
  size_t object_bytes;  // sizeof the class, rounded up to kArenaAlignment
  Result<size_t> (*arena_bytes_needed)(const Model& model, const SessionOptions& options);
  Program* (*construct)(void* memory);
  // Prepares into `arena` (or, when it is null, into one block it allocates).
  Status (*prepare)(Program* program, const Model& model, void* arena, size_t arena_bytes,
                    const SessionOptions& options);
};

template <typename T>
Program* construct(void* memory) {
  return new (memory) T();
}

template <typename T>
Status prepare_as(Program* program, const Model& model, void* arena, size_t arena_bytes,
                  const SessionOptions& options) {
  T* typed = static_cast<T*>(program);  // the object construct<T> made
  return arena != nullptr ? typed->prepare(model, arena, arena_bytes, options) : typed->prepare(model, options);
}

template <typename T>
constexpr size_t object_bytes() {
  return (sizeof(T) + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
}

#define EDGEGEN_PROGRAM_KIND(kind_name, Class, caps) \
  {PipelineKind::kind_name, caps, object_bytes<Class>(), &Class::arena_bytes_needed, &construct<Class>, &prepare_as<Class>},
const ProgramClass kProgramClasses[] = {
#include "pipelines/program_kinds.inc"
};
#undef EDGEGEN_PROGRAM_KIND

// The first class of `kind` that declares `needed` (any for kNone), or null.
const ProgramClass* find_class(PipelineKind kind, Capability needed) {
  for (const ProgramClass& entry : kProgramClasses)
    if (entry.kind == kind && (needed == Capability::kNone || (entry.capabilities & capability_bit(needed)) != 0))
      return &entry;
  return nullptr;
}

Status no_class(PipelineKind kind, Capability needed) {
  if (needed == Capability::kNone || find_class(kind, Capability::kNone) == nullptr)
    return Status::error(StatusCode::kUnsupportedOp,
                         "a '%s' pipeline is not a program this runtime runs; run its graphs one by one with a Session",
                         pipeline_kind_name(kind));
  return Status::error(StatusCode::kUnsupportedOp, "a '%s' pipeline cannot %s", pipeline_kind_name(kind),
                       capability_name(needed));
}

Status not_loaded() { return Status::error(StatusCode::kNotPrepared, "the module has no model: load() it first"); }

}  // namespace

size_t kinds_declaring(Capability capability, PipelineKind* kinds, size_t capacity) {
  size_t count = 0;
  for (const ProgramClass& entry : kProgramClasses) {
    if ((entry.capabilities & capability_bit(capability)) == 0) continue;
    bool seen = false;
    for (const ProgramClass& earlier : kProgramClasses) {
      if (&earlier == &entry) break;
      seen = seen || (earlier.kind == entry.kind && (earlier.capabilities & capability_bit(capability)) != 0);
    }
    if (seen) continue;
    if (count < capacity) kinds[count] = entry.kind;
    ++count;
  }
  return count;
}

Module::~Module() { release_program(); }

void Module::release_program() {
  if (program_ != nullptr) program_->~Program();
  program_ = nullptr;
  std::free(heap_program_);
  heap_program_ = nullptr;
}

Status Module::load(const void* data, size_t size) {
  release_program();
  file_ = MappedFile();
  model_ = Model();
  Result<Model> model = Model::from_buffer(data, size);
  if (!model.ok()) return model.status();
  model_ = *model;
  return Status::ok();
}

Status Module::load_file(const char* path) {
  release_program();
  model_ = Model();
  Result<MappedFile> file = MappedFile::open(path);
  if (!file.ok()) return file.status();
  file_ = static_cast<MappedFile&&>(*file);
  Result<Model> model = Model::from_buffer(file_.data(), file_.size());
  if (!model.ok()) return model.status();
  model_ = *model;
  return Status::ok();
}

uint32_t Module::declared_capabilities() const {
  uint32_t bits = 0;
  if (!loaded()) return bits;
  for (const ProgramClass& entry : kProgramClasses)
    if (entry.kind == kind()) bits |= entry.capabilities;
  return bits;
}

Result<size_t> Module::arena_bytes_needed(const SessionOptions& options, Capability needed) const {
  if (!loaded()) return not_loaded();
  const ProgramClass* entry = find_class(kind(), needed);
  if (entry == nullptr) return no_class(kind(), needed);
  Result<size_t> bytes = entry->arena_bytes_needed(model_, options);
  if (!bytes.ok()) return bytes.status();
  // The object sits at the arena's start, which may itself be unaligned.
  return entry->object_bytes + kArenaAlignment + *bytes;
}

Status Module::prepare(void* arena, size_t arena_bytes, const SessionOptions& options, Capability needed) {
  release_program();
  if (!loaded()) return not_loaded();
  const ProgramClass* entry = find_class(kind(), needed);
  if (entry == nullptr) return no_class(kind(), needed);
  Program* program = nullptr;
  void* rest = nullptr;
  size_t rest_bytes = 0;
  if (arena != nullptr) {
    // arena_bytes_needed() counts a whole kArenaAlignment of slack for the
    // object, whatever the arena's actual alignment; the program is given
    // what is left after that full slack, so that one byte less than
    // arena_bytes_needed() fails at every alignment (the Session counts its
    // own slack the same way).
    if (arena_bytes < kArenaAlignment + entry->object_bytes)
      return Status::error(StatusCode::kArenaTooSmall,
                           "the arena has %zu bytes, less than the %zu the '%s' program object needs", arena_bytes,
                           kArenaAlignment + entry->object_bytes, pipeline_kind_name(kind()));
    uintptr_t start = reinterpret_cast<uintptr_t>(arena);
    size_t skip = static_cast<size_t>(align_up(start, kArenaAlignment) - start);  // < kArenaAlignment
    program = entry->construct(static_cast<uint8_t*>(arena) + skip);
    rest = static_cast<uint8_t*>(arena) + skip + entry->object_bytes;
    rest_bytes = arena_bytes - kArenaAlignment - entry->object_bytes;
  } else {
    heap_program_ = ::aligned_alloc(kArenaAlignment, entry->object_bytes);
    if (heap_program_ == nullptr)
      return Status::error(StatusCode::kOutOfMemory, "cannot allocate the %zu-byte program object", entry->object_bytes);
    program = entry->construct(heap_program_);
  }
  program_ = program;
  Status status = entry->prepare(program, model_, rest, rest_bytes, options);
  if (!status.is_ok()) release_program();
  if (status.code() == StatusCode::kArenaTooSmall && arena != nullptr)
    return Status::error(StatusCode::kArenaTooSmall,
                         "the arena has %zu bytes, less than arena_bytes_needed() for this '%s' program (%zu go to "
                         "the program object and its alignment; the rest: %s)",
                         arena_bytes, pipeline_kind_name(kind()), kArenaAlignment + entry->object_bytes,
                         status.message());
  return status;
}

Status Module::prepare(const SessionOptions& options, Capability needed) {
  return prepare(nullptr, 0, options, needed);
}

}  // namespace edgegen
