// Resize's coordinate mapping, shared by the reference kernel and the
// channels-last kernel of the accelerated backend so both sample the same
// pixels. Parameters as in ops/op_params.h (ResizeCoordinate,
// ResizeNearestRounding).
#pragma once

#include <cstdint>

namespace edgegen {

// Maps an output index to a (fractional) input coordinate, clamped to [0, in - 1].
float resize_source_coordinate(int64_t out_index, int64_t in, int64_t out, float scale, int64_t transform);

// ONNX nearest rounding of a non-negative coordinate; exact integers map to themselves.
int64_t resize_round_nearest(float source, int64_t rounding);

}  // namespace edgegen
