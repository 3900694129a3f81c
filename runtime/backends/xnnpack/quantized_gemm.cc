#include "backends/xnnpack/quantized_gemm.h"

#include <pthreadpool.h>

#include <cstring>

#include "kernels/quantization.h"
#include "ops/op_params.h"

namespace edgegen {
namespace xnnpack {

namespace {

// Below this many multiply-adds a product runs on the calling thread (a
// dispatch to the pool costs a few microseconds).
constexpr size_t kMinParallelMacs = size_t{1} << 18;
// The same for col2im's additions and the requantization.
constexpr size_t kMinParallelElements = size_t{1} << 14;

size_t round_up_64(size_t bytes) { return (bytes + 63) / 64 * 64; }

size_t task_count(pthreadpool_t pool) {
  if (pool == nullptr) return 1;
  const size_t threads = pthreadpool_get_threads_count(pool);
  return threads < kQGemmMaxTasks ? threads : kQGemmMaxTasks;
}

// Runs `task(context, t)` for t in [0, tasks): on the pool when there is more than one.
void parallelize(pthreadpool_t pool, pthreadpool_task_1d_t task, void* context, size_t tasks) {
  if (tasks <= 1 || pool == nullptr) {
    for (size_t t = 0; t < tasks; ++t) task(context, t);
    return;
  }
  pthreadpool_parallelize_1d(pool, task, context, tasks, 0);
}

void* task_scratch(const QuantizedGemm& plan, size_t task) {
  return plan.scratch + plan.task_offset + task * plan.task_bytes;
}

// One product [m, k] x [k, n], split into `tasks` row ranges or column-block ranges.
struct GemmJob {
  const QuantizedGemm* plan;
  const int8_t* a;
  size_t m;
  int32_t* c32;  // int32 output, or
  int8_t* c8;    // requantized output
  size_t ldc;
  size_t tasks = 1;
  bool by_rows = true;
  size_t n_block = 1;
};

void gemm_task(void* context, size_t t) {
  const GemmJob& job = *static_cast<const GemmJob*>(context);
  const QuantizedGemm& plan = *job.plan;
  size_t m_begin = 0, m_end = job.m, n_begin = 0, n_end = plan.n;
  if (job.by_rows) {
    m_begin = job.m * t / job.tasks;
    m_end = job.m * (t + 1) / job.tasks;
  } else {
    const size_t blocks = (plan.n + job.n_block - 1) / job.n_block;
    n_begin = blocks * t / job.tasks * job.n_block;
    n_end = blocks * (t + 1) / job.tasks * job.n_block;
    if (n_end > plan.n) n_end = plan.n;
  }
  if (m_begin >= m_end || n_begin >= n_end) return;
  if (job.c8 != nullptr)
    simd::qgemm_int8(plan.packed, job.a, plan.k, m_begin, m_end, n_begin, n_end, plan.requantization, job.c8, job.ldc,
                     task_scratch(plan, t));
  else
    simd::qgemm_int32(plan.packed, job.a, plan.k, m_begin, m_end, n_begin, n_end, job.c32, job.ldc,
                      task_scratch(plan, t));
}

// Splits by rows when each task gets a few (the A panel is packed once per
// tile row), otherwise by the packing's column blocks (one row: a decoder's
// first fully connected layer).
void run_gemm(GemmJob job, pthreadpool_t pool) {
  const QuantizedGemm& plan = *job.plan;
  size_t tasks = job.m * plan.n * plan.k < kMinParallelMacs ? 1 : task_count(pool);
  job.n_block = simd::qgemm_n_block(plan.packed);
  const size_t blocks = (plan.n + job.n_block - 1) / job.n_block;
  job.by_rows = job.m >= 4 * tasks || job.m >= blocks;
  const size_t parts = job.by_rows ? job.m : blocks;
  job.tasks = tasks < parts ? tasks : parts;
  parallelize(pool, gemm_task, &job, job.tasks);
}

// Conv2d: output pixels [first, first + pixels) of one image, split by rows.
struct ConvBand {
  const QuantizedGemm* plan;
  const int8_t* x;  // the image's input, NHWC
  int8_t* y;        // the image's output, NCHW or NHWC (plan->output_nhwc)
  int64_t first, pixels;
  size_t tasks;
};

// Copies the short runs of im2col (a tap's or a row of taps' channels,
// often 16-128 bytes) inline, 16 bytes at a time: a memcpy call per run cost
// more than the run (a decoder's last layer, 2 runs of 64 bytes per row).
inline void copy_run(int8_t* dst, const int8_t* src, size_t bytes) {
  size_t i = 0;
  for (; i + 16 <= bytes; i += 16) __builtin_memcpy(dst + i, src + i, 16);
  for (; i < bytes; ++i) dst[i] = src[i];
}

// One im2col row, K in (kh, kw, c) order, from the image in NHWC: each tap
// is C contiguous bytes, and a row of taps inside the image kw * C.
void im2col_row(const QuantizedGemm& p, const int8_t* nhwc, int64_t pixel, int8_t* row) {
  const int64_t oh = pixel / p.out_w, ow = pixel % p.out_w;
  const int64_t ih0 = oh * p.stride_h - p.pad_top, iw0 = ow * p.stride_w - p.pad_left;
  const size_t channels = static_cast<size_t>(p.in_channels);
  const int zero = p.x_zero_point;
  const bool row_inside = iw0 >= 0 && iw0 + (p.kernel_w - 1) * p.dilation_w < p.in_w;
  for (int64_t kh = 0; kh < p.kernel_h; ++kh) {
    const int64_t ih = ih0 + kh * p.dilation_h;
    if (ih < 0 || ih >= p.in_h) {
      std::memset(row, zero, static_cast<size_t>(p.kernel_w) * channels);
    } else if (row_inside && p.dilation_w == 1) {
      copy_run(row, nhwc + (ih * p.in_w + iw0) * p.in_channels, static_cast<size_t>(p.kernel_w) * channels);
    } else {
      for (int64_t kw = 0; kw < p.kernel_w; ++kw) {
        const int64_t iw = iw0 + kw * p.dilation_w;
        if (iw < 0 || iw >= p.in_w) std::memset(row + kw * p.in_channels, zero, channels);
        else copy_run(row + kw * p.in_channels, nhwc + (ih * p.in_w + iw) * p.in_channels, channels);
      }
    }
    row += p.kernel_w * p.in_channels;
  }
}

bool pointwise(const QuantizedGemm& p) {
  return p.kernel_h == 1 && p.kernel_w == 1 && p.stride_h == 1 && p.stride_w == 1 && p.pad_top == 0 &&
         p.pad_left == 0 && p.out_h == p.in_h && p.out_w == p.in_w;
}

// [C, pixels] -> [pixels, C].
void transpose_to_rows(const int8_t* in, int64_t channels, int64_t pixels, int8_t* out) {
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t i = 0; i < pixels; ++i) out[i * channels + c] = in[c * pixels + i];
}

// Width of the channels-last copy of the input (window rows: with their pads).
int64_t padded_width(const QuantizedGemm& p) { return p.window_pad_lo + p.in_w + p.window_pad_hi; }

// Calls gemm(r, count) on the pieces of rows [begin, end) of a band (pixel
// first + r) that stay within one row of `row_length` pixels.
template <typename Gemm>
void by_output_row(int64_t first, size_t begin, size_t end, int64_t row_length, Gemm gemm) {
  for (size_t r = begin; r < end;) {
    const size_t in_row = static_cast<size_t>(row_length - (first + static_cast<int64_t>(r)) % row_length);
    const size_t count = end - r < in_row ? end - r : in_row;
    gemm(r, count);
    r += count;
  }
}

void conv_band_task(void* context, size_t t) {
  const ConvBand& band = *static_cast<const ConvBand*>(context);
  const QuantizedGemm& p = *band.plan;
  const size_t begin = static_cast<size_t>(band.pixels) * t / band.tasks;
  const size_t end = static_cast<size_t>(band.pixels) * (t + 1) / band.tasks;
  if (begin >= end) return;
  const int8_t* nhwc = band.x;
  int8_t* c = reinterpret_cast<int8_t*>(p.scratch + p.c_offset);
  if (p.window_rows) {
    // Along an output row, row r's window starts stride_w pixels after row
    // r - 1's; its kernel_h runs are dilation_h padded image rows apart.
    const int64_t width = padded_width(p);
    const simd::QGemmRowRuns runs{static_cast<size_t>(p.kernel_h),
                                  static_cast<size_t>(p.dilation_h * width * p.in_channels), p.in_place_windows};
    const size_t lda = static_cast<size_t>(p.stride_w * p.in_channels);
    by_output_row(band.first, begin, end, p.out_w, [&](size_t r, size_t count) {
      const int64_t pixel = band.first + static_cast<int64_t>(r);
      const int64_t ih = pixel / p.out_w * p.stride_h - p.pad_top, iw = pixel % p.out_w * p.stride_w - p.pad_left;
      const int8_t* a = nhwc + (ih * width + iw) * p.in_channels;
      if (p.output_nhwc)
        simd::qgemm_int8_runs(p.packed, a, lda, runs, 0, count, 0, p.n, p.requantization,
                              band.y + pixel * p.out_channels, p.n, task_scratch(p, t));
      else
        simd::qgemm_int8_runs(p.packed, a, lda, runs, 0, count, 0, p.n, p.requantization, c + r * p.n, p.n,
                              task_scratch(p, t));
    });
  } else {
    const int8_t* a = nhwc + band.first * p.in_channels;  // a 1x1 convolution's rows are the pixels
    if (!pointwise(p)) {
      int8_t* rows = reinterpret_cast<int8_t*>(p.scratch + p.a_offset);
      for (size_t r = begin; r < end; ++r) im2col_row(p, nhwc, band.first + static_cast<int64_t>(r), rows + r * p.k);
      a = rows;
    }
    // [pixels, O] is the channels-last image itself, or rows of the scratch.
    if (p.output_nhwc)
      simd::qgemm_int8(p.packed, a, p.k, begin, end, 0, p.n, p.requantization,
                       band.y + band.first * p.out_channels, p.n, task_scratch(p, t));
    else
      simd::qgemm_int8(p.packed, a, p.k, begin, end, 0, p.n, p.requantization, c, p.n, task_scratch(p, t));
  }
  if (p.output_nhwc) return;
  // [pixels, O] -> NCHW.
  const size_t out_plane = static_cast<size_t>(p.out_h * p.out_w);
  for (size_t o = 0; o < p.n; ++o) {
    int8_t* out = band.y + o * out_plane + band.first;
    for (size_t r = begin; r < end; ++r) out[r] = c[r * p.n + o];
  }
}

// to[i] = from[i] + 128 as unsigned bytes (the sign bit flipped).
void copy_flipped(const int8_t* from, int8_t* to, size_t n) {
  for (size_t i = 0; i < n; ++i) to[i] = static_cast<int8_t>(static_cast<uint8_t>(from[i]) ^ 0x80);
}

// The image's input as the GEMM reads it, channels-last: as it is, or
// transposed from NCHW into the scratch; for window rows, copied inside
// borders of the zero point, and the pointer is to input pixel (0, 0) (the
// rows padded_width() pixels apart).
const int8_t* nhwc_image(const QuantizedGemm& p, const int8_t* x, int64_t image) {
  const int64_t in_plane = p.in_h * p.in_w;
  const int8_t* input = x + image * p.in_channels * in_plane;
  if (p.input_nhwc && !p.window_rows) return input;
  int8_t* nhwc = reinterpret_cast<int8_t*>(p.scratch + p.nhwc_offset);
  if (!p.window_rows) {
    transpose_to_rows(input, p.in_channels, in_plane, nhwc);
    return nhwc;
  }
  const int64_t width = padded_width(p), channels = p.in_channels;
  const size_t row_bytes = static_cast<size_t>(width * channels);
  // Stored +128 (the sign bit flipped) where the products read it in place.
  const uint8_t flip = p.unsigned_image ? 0x80 : 0;
  const int8_t zero = static_cast<int8_t>(static_cast<uint8_t>(p.x_zero_point) ^ flip);
  std::memset(nhwc, zero, static_cast<size_t>(p.window_pad_top) * row_bytes);
  int8_t* row = nhwc + p.window_pad_top * width * channels;
  for (int64_t h = 0; h < p.in_h; ++h, row += width * channels) {
    std::memset(row, zero, static_cast<size_t>(p.window_pad_lo * channels));
    int8_t* pixels = row + p.window_pad_lo * channels;
    if (p.input_nhwc && flip) {
      copy_flipped(input + h * p.in_w * channels, pixels, static_cast<size_t>(p.in_w * channels));
    } else if (p.input_nhwc) {
      std::memcpy(pixels, input + h * p.in_w * channels, static_cast<size_t>(p.in_w * channels));
    } else {
      for (int64_t c = 0; c < channels; ++c)
        for (int64_t w = 0; w < p.in_w; ++w)
          pixels[w * channels + c] = static_cast<int8_t>(static_cast<uint8_t>(input[c * in_plane + h * p.in_w + w]) ^ flip);
    }
    std::memset(pixels + p.in_w * channels, zero, static_cast<size_t>(p.window_pad_hi * channels));
  }
  std::memset(row, zero, static_cast<size_t>(p.window_pad_bottom) * row_bytes);
  return nhwc + (p.window_pad_top * width + p.window_pad_lo) * channels;
}

void run_conv(const QuantizedGemm& p, const int8_t* x, int8_t* y, pthreadpool_t pool) {
  const int64_t out_plane = p.out_h * p.out_w;
  for (int64_t image = 0; image < p.batch; ++image) {
    const int8_t* nhwc = nhwc_image(p, x, image);
    for (int64_t first = 0; first < out_plane; first += p.band_pixels) {
      ConvBand band{&p, nhwc, y + image * p.out_channels * out_plane, first,
                    out_plane - first < p.band_pixels ? out_plane - first : p.band_pixels, 1};
      const size_t macs = static_cast<size_t>(band.pixels) * p.k * p.n;
      const size_t tasks = macs < kMinParallelMacs ? 1 : task_count(pool);
      band.tasks = tasks < static_cast<size_t>(band.pixels) ? tasks : static_cast<size_t>(band.pixels);
      parallelize(pool, conv_band_task, &band, band.tasks);
    }
  }
}

// ConvTranspose2d: col2im of a band's columns, or the requantization, over
// a range of output channels per task (their planes are disjoint).
struct DeconvChannels {
  const QuantizedGemm* plan;
  const int32_t* columns;  // the band's, [pixels, C_out * taps]
  int64_t first, pixels;   // the band's input pixels
  int8_t* y;               // null: col2im; else requantize into this image
  size_t tasks;
};

void deconv_channels_task(void* context, size_t t) {
  const DeconvChannels& job = *static_cast<const DeconvChannels*>(context);
  const QuantizedGemm& p = *job.plan;
  const int64_t c_begin = p.out_channels * static_cast<int64_t>(t) / static_cast<int64_t>(job.tasks);
  const int64_t c_end = p.out_channels * static_cast<int64_t>(t + 1) / static_cast<int64_t>(job.tasks);
  int32_t* acc = reinterpret_cast<int32_t*>(p.scratch + p.acc_offset);
  const int64_t out_plane = p.out_h * p.out_w, taps = p.kernel_h * p.kernel_w;
  if (job.y != nullptr) {
    const simd::QGemmRequantization& q = p.requantization;
    for (int64_t c = c_begin; c < c_end; ++c) {
      Requantize requantize;
      requantize.scale = q.scale[c];
      requantize.negative_slope = q.negative_slope;
      requantize.low = static_cast<float>(q.output_min - q.zero_point);
      requantize.high = static_cast<float>(q.output_max - q.zero_point);
      requantize.zero_point = q.zero_point;
      const int32_t* plane = acc + c * out_plane;
      int8_t* out = job.y + c * out_plane;
      for (int64_t i = 0; i < out_plane; ++i) out[i] = static_cast<int8_t>(requantize(plane[i]));
    }
    return;
  }
  for (int64_t pixel = 0; pixel < job.pixels; ++pixel) {
    const int64_t ih = (job.first + pixel) / p.in_w, iw = (job.first + pixel) % p.in_w;
    const int64_t oh0 = ih * p.stride_h - p.pad_top, ow0 = iw * p.stride_w - p.pad_left;
    // The taps that land inside the output, found once for every channel.
    int64_t kh_begin = 0, kh_end = p.kernel_h, kw_begin = 0, kw_end = p.kernel_w;
    while (kh_begin < kh_end && oh0 + kh_begin * p.dilation_h < 0) ++kh_begin;
    while (kh_end > kh_begin && oh0 + (kh_end - 1) * p.dilation_h >= p.out_h) --kh_end;
    while (kw_begin < kw_end && ow0 + kw_begin * p.dilation_w < 0) ++kw_begin;
    while (kw_end > kw_begin && ow0 + (kw_end - 1) * p.dilation_w >= p.out_w) --kw_end;
    const int32_t* column = job.columns + pixel * static_cast<int64_t>(p.n);
    for (int64_t c = c_begin; c < c_end; ++c) {
      const int32_t* tap = column + c * taps;
      // Indices, not pointers: the window's origin may lie outside the plane.
      const int64_t origin = c * out_plane + oh0 * p.out_w + ow0;
      for (int64_t kh = kh_begin; kh < kh_end; ++kh) {
        const int64_t row = origin + kh * p.dilation_h * p.out_w;
        const int32_t* row_taps = tap + kh * p.kernel_w;
        for (int64_t kw = kw_begin; kw < kw_end; ++kw) acc[row + kw * p.dilation_w] += row_taps[kw];
      }
    }
  }
}

void run_deconv(const QuantizedGemm& p, const int8_t* x, int8_t* y, pthreadpool_t pool) {
  const int64_t in_plane = p.in_h * p.in_w, out_plane = p.out_h * p.out_w;
  int8_t* a = reinterpret_cast<int8_t*>(p.scratch + p.a_offset);
  int32_t* columns = reinterpret_cast<int32_t*>(p.scratch + p.c_offset);
  int32_t* acc = reinterpret_cast<int32_t*>(p.scratch + p.acc_offset);
  const size_t threads = task_count(pool);
  auto tasks_for = [&](size_t elements) {
    const size_t tasks = elements < kMinParallelElements ? 1 : threads;
    return tasks < static_cast<size_t>(p.out_channels) ? tasks : static_cast<size_t>(p.out_channels);
  };
  for (int64_t image = 0; image < p.batch; ++image) {
    // [C_in, pixels] -> [pixels, C_in]: the GEMM's rows.
    transpose_to_rows(x + image * p.in_channels * in_plane, p.in_channels, in_plane, a);
    for (int64_t c = 0; c < p.out_channels; ++c) {
      const int32_t start = p.bias != nullptr ? p.bias[c] : 0;
      for (int64_t i = 0; i < out_plane; ++i) acc[c * out_plane + i] = start;
    }
    for (int64_t first = 0; first < in_plane; first += p.band_pixels) {
      const int64_t pixels = in_plane - first < p.band_pixels ? in_plane - first : p.band_pixels;
      GemmJob job{&p, a + first * p.in_channels, static_cast<size_t>(pixels), columns, nullptr, p.n};
      run_gemm(job, pool);
      DeconvChannels col2im{&p, columns, first, pixels, nullptr, tasks_for(static_cast<size_t>(pixels) * p.n)};
      parallelize(pool, deconv_channels_task, &col2im, col2im.tasks);
    }
    DeconvChannels requantize{&p, nullptr, 0, 0, y + image * p.out_channels * out_plane,
                              tasks_for(static_cast<size_t>(p.out_channels * out_plane))};
    parallelize(pool, deconv_channels_task, &requantize, requantize.tasks);
  }
}

// ConvTranspose2d by phases: output pixels [first, first + pixels) of one
// phase of one image, split by rows among the tasks.
struct PhaseBand {
  const QuantizedGemm* plan;
  const DeconvPhase* phase;
  const int8_t* x;  // the image's input, NHWC
  int8_t* y;        // the image's output, NCHW or NHWC (plan->output_nhwc)
  int64_t first, pixels;
  size_t tasks;
};

// One im2col row of a phase: taps_h x taps_w input pixels ending at the
// output pixel's (base_h, base_w), each C bytes from the NHWC image.
void phase_im2col_row(const QuantizedGemm& p, const DeconvPhase& phase, const int8_t* nhwc, int64_t pixel,
                      int8_t* row) {
  const int64_t oh = phase.first_h + pixel / phase.rows_w * p.stride_h;
  const int64_t ow = phase.first_w + pixel % phase.rows_w * p.stride_w;
  const int64_t ih0 = (oh + p.pad_top - phase.r_h) / p.stride_h - (phase.taps_h - 1);
  const int64_t iw0 = (ow + p.pad_left - phase.r_w) / p.stride_w - (phase.taps_w - 1);
  const size_t channels = static_cast<size_t>(p.in_channels);
  const size_t run = static_cast<size_t>(phase.taps_w) * channels;
  const bool row_inside = iw0 >= 0 && iw0 + phase.taps_w <= p.in_w;
  for (int64_t t = 0; t < phase.taps_h; ++t, row += run) {
    const int64_t ih = ih0 + t;
    if (ih < 0 || ih >= p.in_h) {
      std::memset(row, p.x_zero_point, run);
    } else if (row_inside) {
      copy_run(row, nhwc + (ih * p.in_w + iw0) * p.in_channels, run);
    } else {
      for (int64_t u = 0; u < phase.taps_w; ++u) {
        const int64_t iw = iw0 + u;
        int8_t* tap = row + u * p.in_channels;
        if (iw < 0 || iw >= p.in_w) std::memset(tap, p.x_zero_point, channels);
        else copy_run(tap, nhwc + (ih * p.in_w + iw) * p.in_channels, channels);
      }
    }
  }
}

// Pixels [begin, end) of the band, with task `t`'s GEMM scratch.
void run_phase_rows(const PhaseBand& band, size_t begin, size_t end, size_t t) {
  const QuantizedGemm& p = *band.plan;
  const DeconvPhase& phase = *band.phase;
  const int8_t* nhwc = band.x;
  const void* packed = static_cast<const uint8_t*>(p.packed) + phase.packed_offset;
  int8_t* c = reinterpret_cast<int8_t*>(p.scratch + p.c_offset);
  // Where the phase's output pixel lands (oh * out_w + ow).
  auto output_offset = [&](int64_t pixel) {
    return (phase.first_h + pixel / phase.rows_w * p.stride_h) * p.out_w + phase.first_w +
           pixel % phase.rows_w * p.stride_w;
  };
  // The phase's pixels along an output row are stride_w pixels apart in a
  // channels-last output: the GEMM writes each row's piece in place.
  const size_t nhwc_ldc = static_cast<size_t>(p.stride_w * p.out_channels);
  if (p.window_rows) {
    // Along a phase row, pixel j's window starts one input pixel after
    // pixel j - 1's (phase_im2col_row); its taps_h runs are image rows apart.
    const int64_t width = padded_width(p);
    const simd::QGemmRowRuns runs{static_cast<size_t>(phase.taps_h), static_cast<size_t>(width * p.in_channels),
                                  p.in_place_windows};
    const size_t lda = static_cast<size_t>(p.in_channels);
    by_output_row(band.first, begin, end, phase.rows_w, [&](size_t r, size_t count) {
      const int64_t pixel = band.first + static_cast<int64_t>(r);
      const int64_t oh = phase.first_h + pixel / phase.rows_w * p.stride_h;
      const int64_t ih = (oh + p.pad_top - phase.r_h) / p.stride_h - (phase.taps_h - 1);
      const int64_t iw = (phase.first_w + p.pad_left - phase.r_w) / p.stride_w - (phase.taps_w - 1) +
                         pixel % phase.rows_w;
      const int8_t* a = nhwc + (ih * width + iw) * p.in_channels;
      if (p.output_nhwc)
        simd::qgemm_int8_runs(packed, a, lda, runs, 0, count, 0, p.n, p.requantization,
                              band.y + output_offset(pixel) * p.out_channels, nhwc_ldc, task_scratch(p, t));
      else
        simd::qgemm_int8_runs(packed, a, lda, runs, 0, count, 0, p.n, p.requantization, c + r * p.n, p.n,
                              task_scratch(p, t));
    });
  } else {
    int8_t* rows = reinterpret_cast<int8_t*>(p.scratch + p.a_offset);
    for (size_t r = begin; r < end; ++r)
      phase_im2col_row(p, phase, nhwc, band.first + static_cast<int64_t>(r), rows + r * phase.k);
    if (p.output_nhwc)
      by_output_row(band.first, begin, end, phase.rows_w, [&](size_t r, size_t count) {
        simd::qgemm_int8(packed, rows + r * phase.k, phase.k, 0, count, 0, p.n, p.requantization,
                         band.y + output_offset(band.first + static_cast<int64_t>(r)) * p.out_channels, nhwc_ldc,
                         task_scratch(p, t));
      });
    else
      simd::qgemm_int8(packed, rows, phase.k, begin, end, 0, p.n, p.requantization, c, p.n, task_scratch(p, t));
  }
  if (p.output_nhwc) return;
  // [pixels, O] -> every stride-th pixel of the NCHW planes, a plane at a
  // time for a chunk of pixels: planes are often a multiple of 4 KiB apart,
  // and stores that hop from plane to plane keep evicting each other (this
  // loop took 57% of a vocoder's time that way).
  const int64_t out_plane = p.out_h * p.out_w;
  constexpr size_t kChunk = 256;
  int64_t offset[kChunk];
  for (size_t r0 = begin; r0 < end; r0 += kChunk) {
    const size_t count = end - r0 < kChunk ? end - r0 : kChunk;
    for (size_t i = 0; i < count; ++i) offset[i] = output_offset(band.first + static_cast<int64_t>(r0 + i));
    for (size_t o = 0; o < p.n; ++o) {
      int8_t* plane = band.y + static_cast<int64_t>(o) * out_plane;
      const int8_t* from = c + r0 * p.n + o;
      for (size_t i = 0; i < count; ++i) plane[offset[i]] = from[i * p.n];
    }
  }
}

void phase_band_task(void* context, size_t t) {
  const PhaseBand& band = *static_cast<const PhaseBand*>(context);
  const size_t begin = static_cast<size_t>(band.pixels) * t / band.tasks;
  const size_t end = static_cast<size_t>(band.pixels) * (t + 1) / band.tasks;
  if (begin < end) run_phase_rows(band, begin, end, t);
}

// Whole phases per task, for a transposed convolution whose phases each
// fit one band and write their output in place: one hand-off to the
// threads for the op instead of one per phase. The phases of a small
// decoder layer (4 of 0.5 M multiply-adds) gained nothing split row-wise,
// one after the other. Every pixel is the same integer sum either way.
struct PhaseSet {
  const QuantizedGemm* plan;
  const int8_t* x;  // the image's input, NHWC (padded, windows in place)
  int8_t* y;        // the image's output, NHWC
  size_t tasks;
};

void phase_set_task(void* context, size_t t) {
  const PhaseSet& set = *static_cast<const PhaseSet*>(context);
  const QuantizedGemm& p = *set.plan;
  const int64_t first = p.phase_count * static_cast<int64_t>(t) / static_cast<int64_t>(set.tasks);
  const int64_t last = p.phase_count * static_cast<int64_t>(t + 1) / static_cast<int64_t>(set.tasks);
  for (int64_t i = first; i < last; ++i) {
    const DeconvPhase& phase = p.phases[i];
    const int64_t pixels = phase.rows_h * phase.rows_w;
    PhaseBand band{&p, &phase, set.x, set.y, 0, pixels, 1};
    if (pixels > 0) run_phase_rows(band, 0, static_cast<size_t>(pixels), t);
  }
}

// Whether phase_set_task can run `p`, and with how many tasks (0: no):
// where its phases are too small to split row-wise with profit (below
// kMinPhaseSplitMacs each; larger ones measured faster split row-wise, as
// a 64x64 decoder layer's) and large enough together to hand off. A layer
// of few columns counts as 16: the narrow variant's work is its rows
// (packing them, one product per 16), not its multiply-adds.
constexpr size_t kMinPhaseSplitMacs = size_t{1} << 20;

size_t phase_set_tasks(const QuantizedGemm& p, pthreadpool_t pool) {
  const size_t threads = task_count(pool);
  if (threads < 2 || !p.window_rows || !p.output_nhwc || p.phase_count < static_cast<int64_t>(threads)) return 0;
  size_t macs = 0;
  for (int64_t i = 0; i < p.phase_count; ++i) {
    const DeconvPhase& phase = p.phases[i];
    const size_t phase_macs = static_cast<size_t>(phase.rows_h * phase.rows_w) * phase.k * (p.n < 16 ? 16 : p.n);
    if (phase.rows_h * phase.rows_w > p.band_pixels || phase_macs >= kMinPhaseSplitMacs) return 0;
    macs += phase_macs;
  }
  return macs < kMinParallelMacs ? 0 : threads;
}

void run_deconv_phases(const QuantizedGemm& p, const int8_t* x, int8_t* y, pthreadpool_t pool) {
  const int64_t out_plane = p.out_h * p.out_w;
  const size_t set_tasks = phase_set_tasks(p, pool);
  for (int64_t image = 0; image < p.batch; ++image) {
    const int8_t* nhwc = nhwc_image(p, x, image);
    if (set_tasks > 0) {
      PhaseSet set{&p, nhwc, y + image * p.out_channels * out_plane, set_tasks};
      parallelize(pool, phase_set_task, &set, set_tasks);
      continue;
    }
    for (int64_t i = 0; i < p.phase_count; ++i) {
      const DeconvPhase& phase = p.phases[i];
      const int64_t pixels = phase.rows_h * phase.rows_w;
      for (int64_t first = 0; first < pixels; first += p.band_pixels) {
        PhaseBand band{&p, &phase, nhwc, y + image * p.out_channels * out_plane, first,
                       pixels - first < p.band_pixels ? pixels - first : p.band_pixels, 1};
        const size_t macs = static_cast<size_t>(band.pixels) * phase.k * p.n;
        const size_t tasks = macs < kMinParallelMacs ? 1 : task_count(pool);
        band.tasks = tasks < static_cast<size_t>(band.pixels) ? tasks : static_cast<size_t>(band.pixels);
        parallelize(pool, phase_band_task, &band, band.tasks);
      }
    }
  }
}

// Bands as large as the budget allows, evened out so that the last one is not a sliver.
int64_t band_of(int64_t total, size_t bytes_per_pixel) {
  int64_t band = static_cast<int64_t>(kQGemmBandBudget / (bytes_per_pixel > 0 ? bytes_per_pixel : 1));
  if (band < 1) band = 1;
  if (band >= total) return total;
  const int64_t bands = (total + band - 1) / band;
  return (total + bands - 1) / bands;
}

// The phases of a transposed convolution, when it is worth running that
// way: dilation 1, every phase with at least one tap (stride <= kernel), at
// most kMaxDeconvPhases, and no more than twice the col2im product's
// multiply-adds (the phases multiply the zero padding around the input too:
// a 1x1 latent projected by a 4x4 kernel would do 16 times the work), and
// at least 8 output channels (the phases' N: an image layer's 1 or 3
// channels would leave the GEMM's 16- or 64-column blocks nearly empty,
// where col2im's N is the channels times the taps) unless the CPU has the
// narrow variant, whose blocks are one column (then the layer before
// keeps its output channels-last too: vae64_decoder's 64 -> 32 channels
// layer 0.054 -> 0.038 ms, the 3-channel one as fast as by col2im).
bool plan_deconv_phases(QuantizedGemm* p) {
  if (p->dilation_h != 1 || p->dilation_w != 1) return false;
  if (p->out_channels < 8 &&
      simd::qgemm_auto_isa(static_cast<size_t>(p->out_channels)) != simd::QGemmIsa::kAvx512VnniNarrow)
    return false;
  if (p->stride_h > p->kernel_h || p->stride_w > p->kernel_w) return false;
  if (p->stride_h * p->stride_w > kMaxDeconvPhases) return false;
  auto first_of = [](int64_t r, int64_t pad, int64_t stride) { return ((r - pad) % stride + stride) % stride; };
  size_t phase_macs = 0, k_max = 0;
  int64_t count = 0;
  for (int64_t r_h = 0; r_h < p->stride_h; ++r_h) {
    for (int64_t r_w = 0; r_w < p->stride_w; ++r_w) {
      DeconvPhase phase;
      phase.r_h = r_h;
      phase.r_w = r_w;
      phase.first_h = first_of(r_h, p->pad_top, p->stride_h);
      phase.first_w = first_of(r_w, p->pad_left, p->stride_w);
      phase.rows_h = phase.first_h < p->out_h ? (p->out_h - 1 - phase.first_h) / p->stride_h + 1 : 0;
      phase.rows_w = phase.first_w < p->out_w ? (p->out_w - 1 - phase.first_w) / p->stride_w + 1 : 0;
      if (phase.rows_h == 0 || phase.rows_w == 0) continue;
      phase.taps_h = (p->kernel_h - 1 - r_h) / p->stride_h + 1;
      phase.taps_w = (p->kernel_w - 1 - r_w) / p->stride_w + 1;
      phase.k = static_cast<size_t>(phase.taps_h * phase.taps_w * p->in_channels);
      phase_macs += static_cast<size_t>(phase.rows_h * phase.rows_w) * phase.k;
      if (phase.k > k_max) k_max = phase.k;
      p->phases[count++] = phase;
    }
  }
  const size_t col2im_macs = static_cast<size_t>(p->in_h * p->in_w * p->kernel_h * p->kernel_w * p->in_channels);
  if (count == 0 || phase_macs > 2 * col2im_macs || k_max > 65536) return false;
  p->phase_count = count;
  p->k = k_max;
  p->n = static_cast<size_t>(p->out_channels);
  p->rows = static_cast<size_t>(p->out_h * p->out_w);
  p->packed_bytes = 0;
  for (int64_t i = 0; i < count; ++i) {
    p->phases[i].packed_offset = p->packed_bytes;
    p->packed_bytes += simd::qgemm_packed_bytes(p->phases[i].k, p->n);
  }
  p->kind = QGemmKind::kDeconvPhases;
  return true;
}

// Window rows (quantized_gemm.h) for a conv or deconv phases with dilation
// 1 along w and more than one tap (a pointwise conv reads its rows as they
// are), 1-D or 2-D (every qgemm variant reads rows in runs).
// The zero-point pixels the windows reach on each side.
void plan_window_rows(QuantizedGemm* p) {
  if (p->dilation_w != 1 || pointwise(*p)) return;
  const bool one_d = p->in_h == 1 && p->out_h == 1 && p->kernel_h == 1;
  if (!one_d && !simd::qgemm_isa_reads_row_runs(simd::qgemm_auto_isa(p->n))) return;
  int64_t top = 0, bottom = 0, lo = 0, hi = 0;
  auto reach = [](int64_t first, int64_t last, int64_t size, int64_t* before, int64_t* after) {
    if (-first > *before) *before = -first;
    if (last - (size - 1) > *after) *after = last - (size - 1);
  };
  if (p->kind == QGemmKind::kConv) {
    reach(-p->pad_top, (p->out_h - 1) * p->stride_h - p->pad_top + (p->kernel_h - 1) * p->dilation_h, p->in_h, &top,
          &bottom);
    reach(-p->pad_left, (p->out_w - 1) * p->stride_w - p->pad_left + p->kernel_w - 1, p->in_w, &lo, &hi);
  } else {
    for (int64_t i = 0; i < p->phase_count; ++i) {
      const DeconvPhase& phase = p->phases[i];
      const int64_t ih0 = (phase.first_h + p->pad_top - phase.r_h) / p->stride_h - (phase.taps_h - 1);
      const int64_t iw0 = (phase.first_w + p->pad_left - phase.r_w) / p->stride_w - (phase.taps_w - 1);
      reach(ih0, ih0 + phase.rows_h - 1 + phase.taps_h - 1, p->in_h, &top, &bottom);
      reach(iw0, iw0 + phase.rows_w - 1 + phase.taps_w - 1, p->in_w, &lo, &hi);
    }
  }
  p->window_rows = true;
  p->window_pad_top = top;
  p->window_pad_bottom = bottom;
  p->window_pad_lo = lo;
  p->window_pad_hi = hi;
}

// Bytes of the channels-last copy of one input image (with window rows' borders).
size_t padded_image_bytes(const QuantizedGemm& p) {
  return static_cast<size_t>(p.in_channels * (p.window_pad_top + p.in_h + p.window_pad_bottom) *
                             (p.window_pad_lo + p.in_w + p.window_pad_hi));
}

}  // namespace

bool quantized_gemm_supported(const OpView& v) {
  const OpCode code = v.code();
  if (code != OpCode::kFullyConnected && code != OpCode::kConv2d && code != OpCode::kConvTranspose2d) return false;
  auto dtype = [](const format::Tensor& t) { return static_cast<DType>(t.dtype()); };
  if (dtype(v.input(0)) != DType::kInt8 || dtype(v.output(0)) != DType::kInt8) return false;
  if (!v.is_constant(1) || dtype(v.input(1)) != DType::kInt8) return false;
  // Symmetric weights only (ONNX QLinearConv may bring others; the reference kernel runs those).
  const format::Quantization* weight_quant = v.input(1).quantization();
  if (weight_quant != nullptr && weight_quant->zero_point() != nullptr)
    for (int64_t zero_point : *weight_quant->zero_point())
      if (zero_point != 0) return false;
  if (v.has_input(2) && (!v.is_constant(2) || dtype(v.input(2)) != DType::kInt32)) return false;
  const ActivationKind act = v.activation().kind;
  if (act != ActivationKind::kNone && act != ActivationKind::kRelu && act != ActivationKind::kClip &&
      act != ActivationKind::kLeakyRelu)
    return false;
  if (code != OpCode::kFullyConnected && v.int_param(params::kGroups) != 1) return false;
  const QuantizedGemm plan = quantized_gemm_plan(v);
  // The products' int32 sums are exact up to K = 65793 (qgemm.h).
  return plan.k >= 1 && plan.k <= 65536 && plan.n >= 1 && plan.rows >= 1;
}

bool quantized_gemm_channels_last(const OpView& v) {
  if (!quantized_gemm_supported(v) || v.code() == OpCode::kFullyConnected) return false;
  const QGemmKind kind = quantized_gemm_plan(v).kind;
  return kind == QGemmKind::kConv || kind == QGemmKind::kDeconvPhases;
}

QuantizedGemm quantized_gemm_plan(const OpView& v, bool input_nhwc, bool output_nhwc) {
  using namespace params;
  QuantizedGemm p;
  const Shape x = shape_of(v.input(0)), w = shape_of(v.input(1));
  size_t offset = 0;
  auto take = [&offset](size_t bytes) {
    const size_t at = offset;
    offset += round_up_64(bytes);
    return at;
  };
  if (v.code() == OpCode::kFullyConnected) {
    p.kind = QGemmKind::kFullyConnected;
    p.k = static_cast<size_t>(w.dims[1]);
    p.n = static_cast<size_t>(w.dims[0]);
    p.rows = p.k ? static_cast<size_t>(x.num_elements()) / p.k : 0;
  } else {
    p.kind = v.code() == OpCode::kConv2d ? QGemmKind::kConv : QGemmKind::kDeconv;
    static_cast<ConvSizes&>(p) = conv_sizes(v);
    const int64_t taps = p.kernel_h * p.kernel_w;
    // Channels-last operands only where the backend chose them (conv, phases).
    p.input_nhwc = input_nhwc;
    p.output_nhwc = output_nhwc;
    if (p.kind == QGemmKind::kConv) {
      p.k = static_cast<size_t>(p.in_channels * taps);
      p.n = static_cast<size_t>(p.out_channels);
      p.rows = static_cast<size_t>(p.out_h * p.out_w);
      p.band_pixels = band_of(p.out_h * p.out_w, p.k + p.n);
      plan_window_rows(&p);
      p.nhwc_offset = input_nhwc && !p.window_rows ? 0 : take(padded_image_bytes(p));
      p.a_offset = pointwise(p) || p.window_rows ? 0 : take(static_cast<size_t>(p.band_pixels) * p.k);
      p.c_offset = output_nhwc ? 0 : take(static_cast<size_t>(p.band_pixels) * p.n);
    } else if (plan_deconv_phases(&p)) {
      p.band_pixels = band_of(p.out_h * p.out_w, p.k + p.n);
      plan_window_rows(&p);
      p.nhwc_offset = input_nhwc && !p.window_rows ? 0 : take(padded_image_bytes(p));
      p.a_offset = p.window_rows ? 0 : take(static_cast<size_t>(p.band_pixels) * p.k);
      p.c_offset = output_nhwc ? 0 : take(static_cast<size_t>(p.band_pixels) * p.n);
    } else {
      p.input_nhwc = p.output_nhwc = false;  // col2im reads [pixels, C_in] rows and writes NCHW planes
      p.k = static_cast<size_t>(p.in_channels);
      p.n = static_cast<size_t>(p.out_channels * taps);
      p.rows = static_cast<size_t>(p.in_h * p.in_w);
      p.band_pixels = band_of(p.in_h * p.in_w, p.n * sizeof(int32_t));
      p.a_offset = take(p.rows * p.k);
      p.c_offset = take(static_cast<size_t>(p.band_pixels) * p.n * sizeof(int32_t));
      p.acc_offset = take(static_cast<size_t>(p.out_channels * p.out_h * p.out_w) * sizeof(int32_t));
    }
  }
  p.task_bytes = p.k ? round_up_64(simd::qgemm_scratch_bytes(p.k)) : 0;
  p.task_offset = take(p.task_bytes * kQGemmMaxTasks);
  p.scratch_bytes = offset;
  return p;
}

size_t quantized_gemm_packed_bytes(const QuantizedGemm& plan) {
  return plan.kind == QGemmKind::kDeconvPhases ? plan.packed_bytes : simd::qgemm_packed_bytes(plan.k, plan.n);
}

size_t quantized_gemm_scale_count(const QuantizedGemm& plan) {
  return plan.kind == QGemmKind::kDeconv ? static_cast<size_t>(plan.out_channels) : plan.n;
}

Status prepare_quantized_gemm(const KernelContext& context, void* packed, float* scales, int8_t* reorder,
                              QuantizedGemm* plan) {
  const Tensor& x = context.input(0);
  const Tensor& w = context.input(1);
  const Tensor& y = context.output(0);
  const int32_t* bias = context.has_input(2) ? context.input(2).data_as<const int32_t>() : nullptr;
  QuantizedRange range;
  EG_RETURN_IF_ERROR(quantized_output_range(context, y, &range));
  plan->x_zero_point = x.quant.zero_point();
  const size_t channels = quantized_gemm_scale_count(*plan);
  for (size_t c = 0; c < channels; ++c)
    scales[c] = channel_requantize(x, w, y, static_cast<int64_t>(c), range).scale;
  plan->requantization.scale = scales;
  plan->requantization.zero_point = y.quant.zero_point();
  plan->requantization.output_min = range.min;
  plan->requantization.output_max = range.max;
  plan->requantization.negative_slope = range.negative_slope;
  const int8_t* weights = w.data_as<const int8_t>();
  if (plan->kind == QGemmKind::kDeconvPhases) {
    // Each phase's slice of [C_in, C_out, kh, kw] as [N = C_out, K] with K
    // in its im2col order (t_h, t_w, c); tap t reads kernel index
    // r + (taps - 1 - t) * stride (the input pixels ascend, the taps descend).
    const int64_t c_in = plan->in_channels, c_out = plan->out_channels;
    for (int64_t i = 0; i < plan->phase_count; ++i) {
      const DeconvPhase& phase = plan->phases[i];
      for (int64_t o = 0; o < c_out; ++o) {
        int8_t* row = reorder + static_cast<size_t>(o) * phase.k;
        for (int64_t t_h = 0; t_h < phase.taps_h; ++t_h) {
          const int64_t kh = phase.r_h + (phase.taps_h - 1 - t_h) * plan->stride_h;
          for (int64_t t_w = 0; t_w < phase.taps_w; ++t_w) {
            const int64_t kw = phase.r_w + (phase.taps_w - 1 - t_w) * plan->stride_w;
            for (int64_t c = 0; c < c_in; ++c)
              *row++ = weights[((c * c_out + o) * plan->kernel_h + kh) * plan->kernel_w + kw];
          }
        }
      }
      simd::qgemm_pack(reorder, simd::QGemmWeightLayout::kNK, phase.k, plan->n, bias, plan->x_zero_point,
                       static_cast<uint8_t*>(packed) + phase.packed_offset);
    }
  } else if (plan->kind == QGemmKind::kDeconv) {
    // [C_in, C_out, kh, kw] is [K, N] with the columns (c_out, kh, kw); the
    // bias starts the accumulators instead (it is per channel, not column).
    plan->bias = bias;
    simd::qgemm_pack(weights, simd::QGemmWeightLayout::kKN, plan->k, plan->n, nullptr, plan->x_zero_point, packed);
  } else {
    if (plan->kind == QGemmKind::kConv) {
      // [O, C, kh, kw] -> [O, kh, kw, C]: im2col's order (quantized_gemm.h).
      const int64_t taps = plan->kernel_h * plan->kernel_w, channels = plan->in_channels;
      for (size_t o = 0; o < plan->n; ++o)
        for (int64_t c = 0; c < channels; ++c)
          for (int64_t t = 0; t < taps; ++t)
            reorder[o * plan->k + static_cast<size_t>(t * channels + c)] =
                weights[o * plan->k + static_cast<size_t>(c * taps + t)];
      weights = reorder;
    }
    // FullyConnected [N, K]; Conv2d [O, kh, kw, C] is [N, K] with K in im2col's order.
    simd::qgemm_pack(weights, simd::QGemmWeightLayout::kNK, plan->k, plan->n, bias, plan->x_zero_point, packed);
  }
  plan->packed = packed;
  // The windows read in place from the padded image where every product
  // can (each phase's run is its taps_w pixels), the image stored +128 for
  // the variants that multiply unsigned bytes: no panel copy.
  if (plan->window_rows && (plan->kind == QGemmKind::kConv || plan->kind == QGemmKind::kDeconvPhases)) {
    bool in_place = true;
    if (plan->kind == QGemmKind::kConv)
      in_place = simd::qgemm_reads_runs_in_place(packed, static_cast<size_t>(plan->kernel_h));
    for (int64_t i = 0; i < plan->phase_count && plan->kind == QGemmKind::kDeconvPhases; ++i)
      in_place = in_place && simd::qgemm_reads_runs_in_place(static_cast<const uint8_t*>(packed) +
                                                                 plan->phases[i].packed_offset,
                                                             static_cast<size_t>(plan->phases[i].taps_h));
    plan->in_place_windows = in_place;
    plan->unsigned_image = in_place && simd::qgemm_in_place_unsigned(packed);
  }
  return Status::ok();
}

void run_quantized_gemm(const QuantizedGemm& plan, const int8_t* x, int8_t* y, pthreadpool_t pool) {
  switch (plan.kind) {
    case QGemmKind::kFullyConnected:
      run_gemm(GemmJob{&plan, x, plan.rows, nullptr, y, plan.n}, pool);
      break;
    case QGemmKind::kConv:
      run_conv(plan, x, y, pool);
      break;
    case QGemmKind::kDeconv:
      run_deconv(plan, x, y, pool);
      break;
    case QGemmKind::kDeconvPhases:
      run_deconv_phases(plan, x, y, pool);
      break;
  }
}

}  // namespace xnnpack
}  // namespace edgegen
