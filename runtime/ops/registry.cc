#include "ops/registry.h"

// A runtime built for given models (CMake: EDGEGEN_KERNELS) references only
// their kernels, so the linker leaves the others out; the generated header
// says EG_KEEP_KERNEL_<Op> 1 or 0 for every operator of the list. A model
// that uses a kernel left out is refused at load (kUnsupportedOp), as one
// with an opcode this runtime does not know, but with a message that names
// EDGEGEN_KERNELS.
#if defined(EDGEGEN_KEPT_KERNELS)
#include "edgegen_kept_kernels.h"
#define EG_KERNEL_OF(name) (EG_KEEP_KERNEL_##name ? &k##name##Kernel : nullptr)
#else
#define EG_KERNEL_OF(name) (&k##name##Kernel)
#endif

namespace edgegen {

#define EG_OP(name, id, file) extern const Kernel k##name##Kernel;
#include "ops/op_list.inc"
#undef EG_OP

namespace {

struct Entry {
  uint32_t opcode;
  const char* name;
  const Kernel* kernel;
};

constexpr Entry kEntries[] = {
#define EG_OP(name, id, file) {id, #name, EG_KERNEL_OF(name)},
#include "ops/op_list.inc"
#undef EG_OP
};

constexpr uint32_t kOpcodes[] = {
#define EG_OP(name, id, file) id,
#include "ops/op_list.inc"
#undef EG_OP
};

const Entry* find_entry(uint32_t opcode) {
  for (const Entry& entry : kEntries)
    if (entry.opcode == opcode) return &entry;
  return nullptr;
}

}  // namespace

const char* op_name(uint32_t opcode) {
  const Entry* entry = find_entry(opcode);
  return entry ? entry->name : nullptr;
}

const Kernel* find_reference_kernel(uint32_t opcode) {
  const Entry* entry = find_entry(opcode);
  return entry ? entry->kernel : nullptr;
}

const uint32_t* all_opcodes(size_t* count) {
  *count = sizeof(kOpcodes) / sizeof(kOpcodes[0]);
  return kOpcodes;
}

}  // namespace edgegen
