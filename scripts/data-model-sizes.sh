#!/usr/bin/env bash
# Prints the sizes edgegen/data_model.h records for each data model, as the
# compilers of this machine lay the runtime's types out: run it after
# changing Tensor, OpState or the C API's pipeline handle (a build whose
# figures are stale fails with a static_assert naming this script).
set -euo pipefail
cd "$(dirname "$0")/.."
probe=$(mktemp --suffix=.cc)
trap 'rm -f "$probe"' EXIT
cat >"$probe" <<'PROBE'
#define EDGEGEN_DATA_MODEL_PROBE 1
#include "c_api/edgegen_c.cc"
#include "core/op_state.h"
extern "C" const unsigned long eg_probe[] = {
    sizeof(void*), sizeof(edgegen::Tensor), alignof(edgegen::Tensor), sizeof(edgegen::OpState),
    alignof(edgegen::OpState), kHandleBytes};
PROBE
for compiler in g++ arm-none-eabi-g++ arm-linux-gnueabihf-g++ aarch64-linux-gnu-g++; do
  command -v "$compiler" >/dev/null || continue
  # The values are read from the assembly: nothing runs on the target.
  values=$("$compiler" -std=c++17 -fno-exceptions -fno-rtti -Iruntime/include -Iruntime -S -o - "$probe" |
           sed -n '/^eg_probe:/,/\.size/p' | awk '$1 == ".quad" || $1 == ".word" || $1 == ".xword" {print $2}' |
           paste -sd' ')
  printf '%-26s pointer tensor/align op_state/align c_handle: %s\n' "$compiler" "$values"
done
