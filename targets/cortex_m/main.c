/* edgegen on a bare-metal Cortex-M: a GAN generator from flash, a static
 * arena in RAM, the C API only.
 *
 * Creates the pipeline of the embedded model inside a static arena, samples
 * one item with a fixed seed, and prints the latent and the item as exact
 * float bits (for run.sh to compare with the host), the item as ASCII art
 * and the stack and heap the run used. Exits with status 0 on success.
 */
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "edgegen/edgegen.h"
#include "firmware_config.h" /* generated: arena and buffer sizes, seed */

/* model_blob.S: the .egm bytes, 64-byte aligned, in flash. */
extern const unsigned char edgegen_model_data[];
extern const unsigned int edgegen_model_size;

/* All of edgegen's memory, including the pipeline object itself. */
static unsigned char arena[EG_FIRMWARE_ARENA_BYTES] __attribute__((aligned(64)));

/* The sample's latent and item (sizes from the model, firmware_config.h). */
static float latent[EG_FIRMWARE_MAX_LATENT_FLOATS];
static float item[EG_FIRMWARE_MAX_ITEM_FLOATS];

static uint32_t float_bits(float value) {
  uint32_t bits;
  memcpy(&bits, &value, sizeof bits);
  return bits;
}

/* FNV-1a (32 bit) over the little-endian bytes of each float's bits. */
static uint32_t fnv1a_floats(const float* values, size_t count) {
  uint32_t hash = 2166136261u;
  for (size_t i = 0; i < count; ++i) {
    uint32_t bits = float_bits(values[i]);
    for (int byte = 0; byte < 4; ++byte) {
      hash ^= (bits >> (8 * byte)) & 0xFFu;
      hash *= 16777619u;
    }
  }
  return hash;
}

/* "name (N floats, float32 bits):" then 8 hex words a line. */
static void print_bits(const char* name, const float* values, size_t count) {
  console_printf("%s (%lu floats, float32 bits):\n", name, (unsigned long)count);
  for (size_t i = 0; i < count; i += 8) {
    char line[8 * 9 + 2];
    size_t used = 0;
    for (size_t j = i; j < count && j < i + 8; ++j) {
      static const char kHex[] = "0123456789abcdef";
      uint32_t bits = float_bits(values[j]);
      line[used++] = ' ';
      for (int shift = 28; shift >= 0; shift -= 4) line[used++] = kHex[(bits >> shift) & 0xFu];
    }
    line[used++] = '\n';
    line[used] = '\0';
    console_write(line);
  }
}

/* One character per pixel, doubled horizontally for a square look. The
 * ramp and the rounding are repeated by run.sh's host check. */
static void print_ascii_art(const float* pixels, int height, int width, float low, float high) {
  static const char kRamp[] = " .:-=+*#%@";
  const int levels = (int)sizeof kRamp - 1;
  char line[2 * 64 + 4];
  if (width > 64) width = 64;
  line[0] = '+';
  memset(line + 1, '-', (size_t)(2 * width));
  line[2 * width + 1] = '+';
  line[2 * width + 2] = '\n';
  line[2 * width + 3] = '\0';
  console_write(line);
  for (int y = 0; y < height; ++y) {
    char row[2 * 64 + 4];
    row[0] = '|';
    for (int x = 0; x < width; ++x) {
      float t = (pixels[y * width + x] - low) / (high - low);
      int level = (int)(t * (float)levels);
      if (level < 0) level = 0;
      if (level > levels - 1) level = levels - 1;
      row[1 + 2 * x] = row[2 + 2 * x] = kRamp[level];
    }
    row[2 * width + 1] = '|';
    row[2 * width + 2] = '\n';
    row[2 * width + 3] = '\0';
    console_write(row);
  }
  console_write(line);
}

/* `value` with 6 decimals, without printf's floating-point support (which
 * is large, and allocates in newlib). |value| < 4e9. */
static const char* format_fixed6(double value, char out[24]) {
  double scaled = value * 1e6;
  long long millionths = (long long)(scaled + (scaled >= 0 ? 0.5 : -0.5));
  unsigned long long magnitude = (unsigned long long)(millionths < 0 ? -millionths : millionths);
  char digits[24];
  int length = 0;
  do {
    digits[length++] = (char)('0' + magnitude % 10u);
    magnitude /= 10u;
  } while (magnitude > 0 || length < 7);
  int used = 0;
  if (millionths < 0) out[used++] = '-';
  while (length > 0) {
    out[used++] = digits[--length];
    if (length == 6) out[used++] = '.';
  }
  out[used] = '\0';
  return out;
}

/* The sum of the values (in double), for a quick look; run.sh compares the
 * values themselves. */
static void print_sum(const char* name, const float* values, size_t count) {
  double sum = 0;
  for (size_t i = 0; i < count; ++i) sum += values[i];
  char text[24];
  console_printf("%s sum: %s\n", name, format_fixed6(sum, text));
}

static int fail(const char* what, eg_status status, const char* message) {
  console_printf("error: %s: %s: %s\n", what, eg_status_name(status), message);
  console_write("status: failed\n");
  return 1;
}

int main(void) {
  console_write("edgegen firmware demo (" EG_FIRMWARE_BOARD ")\n");
  console_printf("model: %u bytes at 0x%08lx\n", edgegen_model_size, (unsigned long)(uintptr_t)edgegen_model_data);

  size_t needed = 0;
  eg_status status = eg_pipeline_arena_bytes(edgegen_model_data, edgegen_model_size, &needed);
  if (status != EG_OK) return fail("eg_pipeline_arena_bytes", status, "the model does not verify");
  console_printf("arena: %lu bytes needed, %lu reserved at 0x%08lx\n", (unsigned long)needed,
                 (unsigned long)sizeof arena, (unsigned long)(uintptr_t)arena);

  char error[256] = "";
  eg_pipeline_options options;
  memset(&options, 0, sizeof options);
  options.struct_size = sizeof options;
  options.arena = arena;
  options.error_message = error;
  options.error_capacity = sizeof error;
  eg_pipeline* pipeline = NULL;

  /* Errors are values with a message, also on the device: too small an arena
   * is refused, and nothing is left to clean up. */
  options.arena_bytes = 1024;
  status = eg_pipeline_create(edgegen_model_data, edgegen_model_size, &options, &pipeline);
  if (status != EG_ARENA_TOO_SMALL || pipeline != NULL)
    return fail("eg_pipeline_create with a 1024-byte arena", status, "expected EG_ARENA_TOO_SMALL");
  console_printf("refused: %s: %s\n", eg_status_name(status), error);

  stack_paint();
  options.arena_bytes = sizeof arena;
  status = eg_pipeline_create(edgegen_model_data, edgegen_model_size, &options, &pipeline);
  if (status != EG_OK) return fail("eg_pipeline_create", status, error);
  const size_t create_stack = stack_bytes_used();

  size_t latent_size = eg_pipeline_latent_size(pipeline);
  size_t item_size = eg_pipeline_item_size(pipeline);
  int64_t dims[8];
  int rank = eg_pipeline_item_shape(pipeline, dims, 8);
  float low, high;
  eg_pipeline_output_range(pipeline, &low, &high);
  console_printf("pipeline: latent %lu floats, item %lu floats, rank %d\n", (unsigned long)latent_size,
                 (unsigned long)item_size, rank);
  if (latent_size > EG_FIRMWARE_MAX_LATENT_FLOATS || item_size > EG_FIRMWARE_MAX_ITEM_FLOATS)
    return fail("buffers", EG_INVALID_ARGUMENT, "the latent or item is larger than firmware_config.h says");

  const uint64_t seed = EG_FIRMWARE_SEED;
  stack_paint();
  status = eg_pipeline_sample(pipeline, seed, 1.0f, 1, item, latent);
  const size_t sample_stack = stack_bytes_used();
  if (status != EG_OK) return fail("eg_pipeline_sample", status, eg_pipeline_last_error(pipeline));

  console_printf("seed: %lu\n", (unsigned long)seed);
  print_bits("latent", latent, latent_size);
  console_printf("latent fnv1a32: 0x%08lx\n", (unsigned long)fnv1a_floats(latent, latent_size));

  /* An image if the item is [channels, height, width]: the first channel. */
  if (rank == 3 && dims[1] <= 64 && dims[2] <= 64) {
    char low_text[24], high_text[24];
    console_printf("image: %ld x %ld, range [%s, %s]\n", (long)dims[1], (long)dims[2], format_fixed6(low, low_text),
                   format_fixed6(high, high_text));
    print_ascii_art(item, (int)dims[1], (int)dims[2], low, high);
  }
  print_bits("item", item, item_size);
  print_sum("item", item, item_size);
  console_printf("item fnv1a32: 0x%08lx (bits of this platform's libm)\n", (unsigned long)fnv1a_floats(item, item_size));

  eg_pipeline_destroy(pipeline);
  /* Stack depth measured from the top, so it includes main's own frame. */
  console_printf("stack: %lu bytes in eg_pipeline_create, %lu in eg_pipeline_sample (of %lu)\n",
                 (unsigned long)create_stack, (unsigned long)sample_stack, (unsigned long)stack_bytes_total());
  console_printf("heap: %lu of %lu bytes used\n", (unsigned long)heap_bytes_used(), (unsigned long)heap_bytes_total());
  console_write("status: ok\n");
  return 0;
}
