// The check that this build's types have the sizes its entry in
// edgegen/data_model.h says, which the host tool relies on when it sizes a
// device's arena. On failure, run scripts/data-model-sizes.sh and update
// kDataModel64 / kDataModel32.
#include "edgegen/data_model.h"

#include "core/op_state.h"
#include "edgegen/tensor.h"

namespace edgegen {

static_assert(kHostDataModel.pointer_bytes == sizeof(void*), "kHostDataModel is not this CPU's data model");
static_assert(kHostDataModel.tensor_bytes == sizeof(Tensor) && kHostDataModel.tensor_align == alignof(Tensor),
              "edgegen::Tensor changed size: update edgegen/data_model.h (scripts/data-model-sizes.sh)");
static_assert(kHostDataModel.op_state_bytes == sizeof(OpState) && kHostDataModel.op_state_align == alignof(OpState),
              "edgegen::OpState changed size: update edgegen/data_model.h (scripts/data-model-sizes.sh)");

}  // namespace edgegen
