// Unary element-wise ops on int8/uint8 tensors (per-tensor quantization in
// and out): a 256-entry table, one byte per input code, of
//   quantize(f(dequantize(q)))
// with f the op's float function (kernels/unary.cc) and the rounding of
// QuantizeLinear: exactly what dequantize, the float op and quantize compute,
// in one pass. A GELU between two int8 fully connected layers, or a SiLU
// between int8 convolutions, then keeps the chain in int8.
#pragma once

#include <cstdint>

#include "ops/kernel.h"

namespace edgegen {

// The table of the quantized unary op `context` (input 0 and output 0 are
// int8 or uint8, quantized per tensor): table[byte] is the output byte for
// the input byte. Errors as the op's eval would give them.
Status quantized_unary_table(const KernelContext& context, uint8_t table[256]);

}  // namespace edgegen
