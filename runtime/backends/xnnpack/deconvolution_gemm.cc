#include "backends/xnnpack/deconvolution_gemm.h"

#include <pthreadpool.h>
#include <xnnpack.h>

#include <cstring>

#include "ops/op_params.h"

namespace edgegen {
namespace xnnpack {

namespace {

// col2im of one band on the worker threads. Input rows ih and ih + R, with
// R = ceil(kernel_h / stride_h), write disjoint output rows: the rows of one
// class (ih mod R) are added in parallel, the classes one after another.
struct Col2ImRows {
  const float* columns;  // of the band's first pixel
  int64_t first, pixels, columns_per_pixel, first_row, row_step;
  const simd::Col2ImGeometry* geometry;
  float* out;
};

void col2im_row(void* context, size_t index) {
  const Col2ImRows& task = *static_cast<const Col2ImRows*>(context);
  const int64_t row = task.first_row + static_cast<int64_t>(index) * task.row_step;
  const int64_t in_w = task.geometry->in_w;
  int64_t begin = row * in_w, end = begin + in_w;
  if (begin < task.first) begin = task.first;
  if (end > task.first + task.pixels) end = task.first + task.pixels;
  if (begin >= end) return;
  simd::col2im_add_nhwc(task.columns + (begin - task.first) * task.columns_per_pixel, begin, end - begin,
                        *task.geometry, task.out);
}

// One thread adds the rows in the same order as several (class by class),
// so that every output is the same sum in the same order whatever the
// thread count: a seed gives the same bits at --threads 1 and 2.
void col2im_band(const float* columns, int64_t first, int64_t pixels, const simd::Col2ImGeometry& g, float* out,
                 pthreadpool_t pool) {
  const int64_t first_row = first / g.in_w, last_row = (first + pixels - 1) / g.in_w;
  if (last_row == first_row) {
    simd::col2im_add_nhwc(columns, first, pixels, g, out);
    return;
  }
  const int64_t classes = (g.kernel_h + g.stride_h - 1) / g.stride_h;
  for (int64_t c = 0; c < classes && first_row + c <= last_row; ++c) {
    Col2ImRows task{columns, first, pixels, g.kernel_h * g.kernel_w * g.channels, first_row + c, classes, &g, out};
    const size_t rows = static_cast<size_t>((last_row - task.first_row) / classes + 1);
    if (pool != nullptr) {
      pthreadpool_parallelize_1d(pool, col2im_row, &task, rows, 0);
    } else {
      for (size_t row = 0; row < rows; ++row) col2im_row(&task, row);
    }
  }
}

}  // namespace

bool one_pixel_deconv(const OpView& v) {
  using namespace params;
  const Shape x = shape_of(v.input(0));
  return spatial_of(x) == 1 && v.int_param(kGroups) == 1 && v.int_param(kDilationH) == 1 &&
         v.int_param(kDilationW) == 1 && v.int_param(kPadTop) == 0 && v.int_param(kPadLeft) == 0 &&
         v.int_param(kPadBottom) == 0 && v.int_param(kPadRight) == 0 && v.int_param(kOutputPadH) == 0 &&
         v.int_param(kOutputPadW) == 0;
}

bool gemm_deconv(const OpView& v) {
  using namespace params;
  return v.code() == OpCode::kConvTranspose2d && !one_pixel_deconv(v) && v.int_param(kGroups) == 1 &&
         v.int_param(kDilationH) == 1 && v.int_param(kDilationW) == 1;
}

DeconvGemm deconv_gemm_plan(const OpView& v) {
  using namespace params;
  const Shape x = shape_of(v.input(0)), w = shape_of(v.input(1)), y = shape_of(v.output(0));
  const bool one_d = x.rank == 3;
  DeconvGemm plan;
  simd::Col2ImGeometry& g = plan.geometry;
  g.in_w = x.dims[x.rank - 1];
  g.out_h = one_d ? 1 : y.dims[2];
  g.out_w = y.dims[y.rank - 1];
  g.channels = y.dims[1];
  g.kernel_h = one_d ? 1 : w.dims[2];
  g.kernel_w = w.dims[w.rank - 1];
  g.stride_h = one_d ? 1 : v.int_param(kStrideH);
  g.stride_w = v.int_param(kStrideW);
  g.pad_top = one_d ? 0 : v.int_param(kPadTop);
  g.pad_left = v.int_param(kPadLeft);
  plan.batch = x.dims[0];
  plan.in_pixels = spatial_of(x);
  plan.in_channels = x.dims[1];
  // Bands as large as the budget allows (the GEMM is fastest on many rows),
  // then evened out so that the last band is not a sliver.
  const int64_t columns_bytes = g.kernel_h * g.kernel_w * g.channels * static_cast<int64_t>(sizeof(float));
  int64_t band = static_cast<int64_t>(kDeconvColumnsBudget) / (columns_bytes > 0 ? columns_bytes : 1);
  if (band < 1) band = 1;
  if (band >= plan.in_pixels) {
    band = plan.in_pixels;
  } else {
    const int64_t bands = (plan.in_pixels + band - 1) / band;
    band = (plan.in_pixels + bands - 1) / bands;
  }
  plan.band_pixels = band;
  return plan;
}

size_t deconv_columns_bytes(const DeconvGemm& plan) {
  const simd::Col2ImGeometry& g = plan.geometry;
  return static_cast<size_t>(plan.band_pixels * g.kernel_h * g.kernel_w * g.channels) * sizeof(float) +
         XNN_EXTRA_BYTES;
}

// ONNX transposed-convolution weight [C_in, C_out, taps] (groups 1) as the
// fully connected weight [taps * C_out, C_in] that computes every tap's
// contribution of an input pixel. In tiles of 16 input channels x 16 taps:
// the tile's rows are read whole and written out transposed (an element at
// a time, a loop over C_in strides by C_out * taps floats; reordering was
// the largest part of preparing the benchmark's DCGAN, and tiles halve it).
void pack_deconv_columns(const float* w, float* out, int64_t in_channels, int64_t out_channels, int64_t taps) {
  constexpr int64_t kTile = 16;
  float tile[kTile][kTile];
  for (int64_t c0 = 0; c0 < in_channels; c0 += kTile) {
    const int64_t channels = in_channels - c0 < kTile ? in_channels - c0 : kTile;
    for (int64_t o = 0; o < out_channels; ++o)
      for (int64_t t0 = 0; t0 < taps; t0 += kTile) {
        const int64_t count = taps - t0 < kTile ? taps - t0 : kTile;
        for (int64_t c = 0; c < channels; ++c)
          std::memcpy(tile[c], w + ((c0 + c) * out_channels + o) * taps + t0, static_cast<size_t>(count) * sizeof(float));
        for (int64_t t = 0; t < count; ++t) {
          float* row = out + ((t0 + t) * out_channels + o) * in_channels + c0;
          for (int64_t c = 0; c < channels; ++c) row[c] = tile[c][t];
        }
      }
  }
}

Status run_deconv_gemm(const DeconvGemm& plan, xnn_operator_t op, pthreadpool_t pool, float* columns,
                       const float* x, float* y, const char* op_label) {
  const simd::Col2ImGeometry& g = plan.geometry;
  const int64_t out_pixels = g.out_h * g.out_w;
  const bool set_up = plan.batch == 1 && plan.band_pixels == plan.in_pixels;  // in prepare
  for (int64_t n = 0; n < plan.batch; ++n) {
    const float* image = x + n * plan.in_pixels * plan.in_channels;
    float* out = y + n * out_pixels * g.channels;
    simd::fill_channels(plan.bias, out, static_cast<size_t>(out_pixels), static_cast<size_t>(g.channels));
    for (int64_t first = 0; first < plan.in_pixels; first += plan.band_pixels) {
      const int64_t pixels = plan.in_pixels - first < plan.band_pixels ? plan.in_pixels - first : plan.band_pixels;
      if (!set_up && xnn_setup_fully_connected_nc_f32(op, static_cast<size_t>(pixels), image + first * plan.in_channels,
                                                      columns, pool) != xnn_status_success)
        return Status::error(StatusCode::kInternal, "XNNPACK failed to set up ConvTranspose2d '%s'", op_label);
      if (xnn_run_operator(op, pool) != xnn_status_success)
        return Status::error(StatusCode::kInternal, "XNNPACK failed to run ConvTranspose2d '%s'", op_label);
      col2im_band(columns, first, pixels, g, out, pool);
    }
  }
  return Status::ok();
}

}  // namespace xnnpack
}  // namespace edgegen
