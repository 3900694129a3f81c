// Opcodes, their names and their reference kernels, all generated from
// runtime/ops/op_list.inc.
#pragma once

#include <cstdint>

#include "ops/kernel.h"

namespace edgegen {

enum class OpCode : uint32_t {
#define EG_OP(name, id, file) k##name = id,
#include "ops/op_list.inc"
#undef EG_OP
};

// "Conv2d", ...; nullptr for an id that is not in the list.
const char* op_name(uint32_t opcode);
// The reference kernel for `opcode`; nullptr if there is none.
const Kernel* find_reference_kernel(uint32_t opcode);
// Every opcode in list order, for tests and tools.
const uint32_t* all_opcodes(size_t* count);

}  // namespace edgegen
