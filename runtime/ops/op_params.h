// Attribute layouts of every operator: the contract between the converter,
// which writes Operator.int_params / float_params, and the kernels, which
// read them. Kernels check the lengths in their infer step, so a malformed
// file is rejected at load, never read out of bounds.
//
// Conventions: all inputs and outputs are in the layout ONNX declares (NCHW).
// Axes are already normalized to be non-negative by the converter.
#pragma once

#include <cstdint>

namespace edgegen {
namespace params {

// LeakyRelu, Elu: floats {alpha}. HardSigmoid: floats {alpha, beta}.
// Clip: floats {min, max}. Gelu: ints {approximate} (0 = erf, 1 = tanh).
enum UnaryFloat : int { kAlpha = 0, kBeta = 1 };
enum ClipFloat : int { kClipMin = 0, kClipMax = 1 };
enum GeluInt : int { kGeluApproximate = 0 };

// Cast: ints {to}, a DType value.
enum CastInt : int { kCastTo = 0 };

// QuantizeLinear: inputs {x float32}; ints {to} (Int8 or UInt8). The scale
// and zero point are the output tensor's quantization (per tensor or per
// slice along its axis). DequantizeLinear: inputs {x int8, uint8 or int32
// with quantization}; output float32; no attributes.
enum QuantizeInt : int { kQuantizeTo = 0 };

// FullyConnected: inputs {x [..., K], weight [N, K], bias [N] or absent};
// output [..., N]. No attributes. Fused activation allowed.
// MatMul: inputs {a [..., M, K], b [..., K, N]} with broadcast batch dims
// (rank-1 operands as in numpy.matmul). No attributes.

// Conv2d: inputs {x [N, C, H, W] or [N, C, L], weight [O, C/groups, kH, kW]
// (or [O, C/groups, kL] for 1-D), bias [O] or absent}. A 1-D convolution has
// stride_h = dilation_h = 1 and zero top/bottom padding.
// ConvTranspose2d: weight [C, O/groups, kH, kW] (ONNX layout), and the two
// output_padding entries; the output size is
//   (in - 1) * stride - pad_begin - pad_end + dilation * (k - 1) + output_padding + 1.
enum ConvInt : int {
  kStrideH = 0, kStrideW, kDilationH, kDilationW,
  kPadTop, kPadLeft, kPadBottom, kPadRight,
  kGroups,
  kConvIntCount,
  kOutputPadH = kConvIntCount, kOutputPadW,
  kConvTransposeIntCount,
};

// Quantized Conv2d, FullyConnected and MatMul may carry one more int after
// their attributes, `int32_output`: 1 = the output is the int32 accumulator
//   sum (x - x_zp) * (w - w_zp) [+ bias]
// itself, not requantized (ONNX ConvInteger, MatMulInteger); absent or 0 =
// requantized to x's dtype.
enum Int32OutputInt : int {
  kFullyConnectedInt32Output = 0,
  kMatMulInt32Output = 0,
  kConvInt32Output = kConvIntCount,
};

// BatchNorm: inputs {x [N, C, ...], scale [C], shift [C]}: y = x * scale + shift
// (the converter folds mean, variance and epsilon into scale and shift).
// InstanceNorm, GroupNorm: inputs {x [N, C, ...], gamma [C], beta [C]}.
// LayerNorm: inputs {x, gamma, beta} (gamma/beta over the normalized dims,
// beta may be absent); normalizes over dims [axis, rank).
enum NormInt : int { kNormGroups = 0, kNormAxis = 0 };
enum NormFloat : int { kEpsilon = 0 };

// Reshape: ints = the output shape (every dimension explicit). Any dtype.
// Expand: ints = the output shape; input broadcast to it (numpy rules).
// Transpose: ints = perm.
// Concat: ints {axis}; 1..n inputs.
// Split: ints {axis, size_0, size_1, ...}; one output per size.
// Slice: ints = {start, end, step} per input dim (3 * rank entries), already
// clamped like numpy (end may be -1 for a negative step that runs to the start).
// Gather: inputs {data, indices (int32/int64, any shape)}; ints {axis}.
// Pad: ints {mode, begin_0..begin_{r-1}, end_0..end_{r-1}}; floats {value}.
enum AxisInt : int { kAxis = 0 };
// GatherElements: inputs {data, indices (int32/int64, data's rank)}; ints {axis}.
// ScatterND: inputs {data, indices [..., k], updates}; no attributes.
// ScatterElements: inputs {data, indices, updates (indices' shape)}; ints {axis}.
// CumSum: ints {axis, exclusive (0/1), reverse (0/1)}.
enum CumSumInt : int { kCumSumAxis = 0, kCumSumExclusive = 1, kCumSumReverse = 2 };
enum PadInt : int { kPadMode = 0, kPadBegin = 1 };
enum PadMode : int64_t { kPadConstant = 0, kPadReflect = 1, kPadEdge = 2 };

// Resize (4-D NCHW, or 3-D NCL): ints {mode, coordinate_transform, nearest_mode,
// out_h, out_w}; floats {scale_h, scale_w} used by the coordinate transform
// (ONNX semantics: output/input ratio when sizes were given).
enum ResizeInt : int { kResizeMode = 0, kResizeCoordinate, kResizeNearest, kResizeOutH, kResizeOutW };
enum ResizeFloat : int { kResizeScaleH = 0, kResizeScaleW };
enum ResizeMode : int64_t { kResizeNearestMode = 0, kResizeLinear = 1 };
enum ResizeCoordinate : int64_t {
  kHalfPixel = 0, kAsymmetric = 1, kAlignCorners = 2, kPytorchHalfPixel = 3,
};
enum ResizeNearestRounding : int64_t {
  kRoundPreferFloor = 0, kRoundPreferCeil = 1, kNearestFloor = 2, kNearestCeil = 3,
};

// MaxPool2d, AveragePool2d: x [N, C, H, W] or [N, C, L].
enum PoolInt : int {
  kPoolKernelH = 0, kPoolKernelW, kPoolStrideH, kPoolStrideW,
  kPoolDilationH, kPoolDilationW,
  kPoolPadTop, kPoolPadLeft, kPoolPadBottom, kPoolPadRight,
  kPoolCeilMode, kPoolCountIncludePad,
  kPoolIntCount,
};

// Softmax, LogSoftmax: ints {axis_begin, axis_end}: normalizes over the
// contiguous dims [axis_begin, axis_end) (opset >= 13: one axis; older opsets
// flatten from axis to the end).
enum SoftmaxInt : int { kSoftmaxBegin = 0, kSoftmaxEnd = 1 };

// ReduceMean/Sum/Max/Min: ints {keepdims, axis...} (no axes = all dims).
enum ReduceInt : int { kKeepDims = 0, kReduceAxes = 1 };

// --- Issue 12 ---------------------------------------------------------------
// IsInf: ints {detect_negative, detect_positive} (0/1). IsNaN: none.
enum IsInfInt : int { kIsInfDetectNegative = 0, kIsInfDetectPositive = 1 };
// Mod: inputs {a, b} (same dtype f32, i8, u8, i32 or i64; broadcast); ints {fmod}:
// 0 = the remainder takes the divisor's sign (integers only), 1 = C fmod.
// An integer divisor of 0 gives 0.
enum ModInt : int { kModFmod = 0 };
// ArgMax, ArgMin: x f32/i32/i64 -> int64; ints {axis, keepdims, select_last_index}.
enum ArgReduceInt : int { kArgAxis = 0, kArgKeepDims = 1, kArgSelectLast = 2 };
// TopK: x f32/i32/i64 -> {values, indices int64}; ints {axis, k, largest, sorted}.
// Equal values keep their index order (the lower index first).
enum TopKInt : int { kTopKAxis = 0, kTopKK = 1, kTopKLargest = 2, kTopKSorted = 3 };
// OneHot: inputs {indices f32/i32/i64, values [off, on] f32/i32/i64}; ints
// {axis (of the output), depth}; negative indices count from depth, others
// outside [0, depth) give an all-off row.
enum OneHotInt : int { kOneHotAxis = 0, kOneHotDepth = 1 };
// Trilu: inputs {x (rank >= 2, any dtype), k (int64/int32 scalar, may be
// computed at run time) or absent}; ints {upper}.
enum TriluInt : int { kTriluUpper = 0 };
// Hardmax: f32; ints {axis_begin, axis_end} as Softmax: 1 at the first
// maximum over the flattened dims [axis_begin, axis_end), 0 elsewhere.
// LSTM, GRU, RNN: inputs {X, W, R, B, sequence_lens (run-time int32/int64
// [batch], absent when constant), initial_h, initial_c, P}
// (the last two LSTM only; optional ones may be absent); ints {direction
// (0 forward, 1 reverse, 2 bidirectional), hidden_size, linear_before_reset,
// has_sequence_lens, one length per batch item if has_sequence_lens};
// floats {clip} (0 = none). Shapes and semantics: kernels/recurrent.cc.
enum RecurrentInt : int {
  kRecurrentDirection = 0, kRecurrentHidden = 1, kRecurrentLinearBeforeReset = 2,
  kRecurrentHasLengths = 3, kRecurrentLengths = 4,
};
enum RecurrentFloat : int { kRecurrentClip = 0 };

}  // namespace params
}  // namespace edgegen
