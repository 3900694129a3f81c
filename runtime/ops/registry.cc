#include "ops/registry.h"

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
#define EG_OP(name, id, file) {id, #name, &k##name##Kernel},
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
