// `--weights fp16`: float32 weights stored as IEEE float16 in the .egm, which
// the runtime widens back to float32 at prepare (runtime/core/
// widened_weights.h). Operators compute in float32 exactly as on a float32
// model whose weights were rounded to float16; only storage halves.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "converter/ir.h"

namespace edgegen::converter {

// Float32 constants of fewer elements stay float32: biases, normalization
// scales and shifts, scalars. They are a negligible part of the file (a
// convolution's bias is 1/(C_in*kh*kw) of its weight); in float32 they are
// used in place from the file, while every float16 constant costs its
// float32 size in the arena plus a 64-byte-aligned slot in both; and they
// add to or scale outputs directly, so their rounding error is not averaged
// over a dot product as a weight's is.
constexpr int64_t kMinFloat16Elements = 1024;

// `value` rounded to the nearest float16, ties to even; float16 subnormals
// (below 2^-14) are kept, magnitudes below 2^-25 round to a signed zero;
// infinities and NaN (quiet, sign kept) pass through. A finite value that
// rounds beyond float16's largest finite value (65504; |value| >= 65520)
// throws ConversionError whose message names `where` (e.g. "graph
// 'decoder': constant 'w'"): weights are not silently made infinite or
// clamped, which would change the model beyond rounding.
uint16_t float16_weight(float value, const std::string& where);

// What store_float16_weights did, for the converter's notes.
// Constants with identical bytes (shared by graphs) count once, as the file stores them.
struct Float16WeightsReport {
  size_t converted = 0;             // constants now float16
  size_t kept_float32 = 0;          // float32 constants below kMinFloat16Elements
  uint64_t float32_bytes = 0;       // bytes of the converted constants before...
  uint64_t float16_bytes = 0;       // ...and after
  double max_relative_error = 0;    // largest |rounded - x| / |x| over normal-range weights
};

// Converts every float32 constant of at least kMinFloat16Elements elements
// in `graphs` to float16. Integer (int8, int32...) constants of quantized
// graphs are untouched. Run last, right before writing: the IR's kernels
// (shape inference, folding) never see a float16 weight.
Float16WeightsReport store_float16_weights(std::vector<IrGraph>& graphs);

}  // namespace edgegen::converter
