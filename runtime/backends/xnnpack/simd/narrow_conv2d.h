// Direct 2-D convolution, channels-last, for few output channels: the
// register tile behind backends/xnnpack/narrow_conv.h (a detector's FPN
// convolutions of 96 -> 24 channels, a stem of 3 -> 16).
//
// XNNPACK's f32 kernels put 16 output channels in a vector, so 24 channels
// fill 24 of 32 lanes. Here a lane holds one output channel for `pair`
// consecutive input channels (1 or 2): with pairs, 24 channels are 48 lanes
// = 3 whole vectors, and one 64-bit broadcast of two input values feeds all
// of them. The pair's two partial sums are added at the end.
//
// A tile is kPositions output positions (consecutive in the image, across
// row ends) x `vectors` vectors, held in registers; each position reads its
// window through a row pointer per tap (the input, or a row of zeros where
// the window hangs over the padding), so there is no im2col copy. Every
// lane is the same chain of multiply-adds whichever tile its position lands
// in (a padded tap adds 0 * w), so any split of the positions between
// threads gives the same bits.
#pragma once

#include <cstdint>

namespace edgegen {
namespace simd {

constexpr int64_t kNarrowConvLanes = 16;
// At most this many vectors per position (96 lanes: 48 channels in pairs,
// 96 alone); wider outputs fill XNNPACK's tiles anyway.
constexpr int64_t kNarrowConvMaxVectors = 6;

// Lanes used by `out_channels` outputs of `pair` input channels each,
// rounded up to whole vectors.
inline int64_t narrow_conv_vectors(int64_t out_channels, int64_t pair) {
  return (out_channels * pair + kNarrowConvLanes - 1) / kNarrowConvLanes;
}

// The packed weights: [kernel_h][kernel_w][in_channels / pair][vectors * 16],
// lane o * pair + q of step c holding W[o][c * pair + q][ky][kx] (zeros
// past out_channels * pair). Bias: out_channels rounded up to 16, zeros past.
struct NarrowConvPositions {
  const float* image = nullptr;  // one image, [in_h][in_w][in_channels]
  int64_t in_h = 0, in_w = 0, in_channels = 0, out_w = 0;
  int64_t kernel_h = 0, kernel_w = 0, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_left = 0;
  int64_t pair = 1, vectors = 1;
  const float* packed = nullptr;
  const float* bias = nullptr;
  const float* zeros = nullptr;  // kernel_w * in_channels zeros
  int64_t out_channels = 0;
  float* out = nullptr;          // the image's output, position p at out + p * out_stride
  int64_t out_stride = 0;        // 0: out_channels (a block of wider output: its width)
  // A transposed convolution whose kernel is its stride (each input pixel
  // makes its own phases_h x phases_w patch of output pixels) runs as a 1x1
  // convolution of out_channels = phases * patch_channels over the input:
  // channel (qy * phases_w + qx) * patch_channels + o of position (y, x)
  // is channel o of output pixel (y * phases_h + qy, x * phases_w + qx) of
  // an output patch_w pixels wide. phases 1 x 1: a plain convolution.
  int64_t phases_h = 1, phases_w = 1, patch_channels = 0, patch_w = 0;
  int64_t first = 0, count = 0;  // the positions to compute
  bool clamp = false;            // apply [out_min, out_max]
  float out_min = 0.f, out_max = 0.f;
  // A part of the sums (pair 1, no patches): input channels [channel_first,
  // channel_first + channel_count) of every tap; 0: all. With `accumulate`
  // the part starts from the sums `out` holds (an earlier part's, bias
  // included) instead of 0 and adds no bias: a wide layer's weights are
  // split into parts that stay in L2 while a chunk of positions passes.
  int64_t channel_first = 0, channel_count = 0;
  bool accumulate = false;
};

bool has_narrow_conv2d_avx512();
void narrow_conv2d_avx512(const NarrowConvPositions& args);

}  // namespace simd
}  // namespace edgegen
