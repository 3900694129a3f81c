// The sizes of the runtime's own tables in an arena, which depend on the
// CPU's pointer size: a 32-bit device needs fewer arena bytes than the
// 64-bit host for the same model. The host tool sizes a device's arena with
// the device's data model (edgegen info, edgegen_embed_model), so a
// firmware reserves exactly what eg_pipeline_arena_bytes() says on the
// device. Every build checks the entry of its own data model against its
// real types (core/data_model.cc), so a changed struct fails to compile
// rather than giving a wrong size: scripts/data-model-sizes.sh prints the
// figures for each ABI.
#pragma once

#include <cstddef>
#include <cstdint>

namespace edgegen {

struct DataModel {
  const char* name;              // "64-bit" (LP64) or "32-bit" (ILP32, AAPCS)
  uint32_t pointer_bytes;
  uint32_t tensor_bytes;         // edgegen::Tensor, one per graph tensor
  uint32_t tensor_align;
  uint32_t op_state_bytes;       // the kernel and context of one operator
  uint32_t op_state_align;
  uint32_t c_pipeline_handle_bytes;  // eg_pipeline at the arena's start, rounded as the C API does
};

inline constexpr DataModel kDataModel64{"64-bit", 8, 120, 8, 128, 8, 704};
inline constexpr DataModel kDataModel32{"32-bit", 4, 104, 8, 68, 4, 640};
inline constexpr const DataModel& kHostDataModel = sizeof(void*) == 8 ? kDataModel64 : kDataModel32;

inline bool same_data_model(const DataModel& a, const DataModel& b) { return a.pointer_bytes == b.pointer_bytes; }

}  // namespace edgegen
