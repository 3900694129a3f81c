/* A model linked in by edgegen_embed_model(), as a firmware would have it:
 * a static arena of EG_ARENA_BYTES and the reference kernels.
 *
 *   embedded_sample item.npy     (edgegen sample MODEL --seed 7 -o item.npy)
 *
 * Checks the bytes are 64-byte aligned and the declared arena and item size
 * are right, samples seed 7 and compares with the tool's item (1e-4: the
 * tool ran XNNPACK). */
#include <edgegen/edgegen.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "edgegen_model.h"
#include "npy_floats.h"

static unsigned char arena[EG_ARENA_BYTES] __attribute__((aligned(64)));
static float item[EG_ITEM_FLOATS], expected[EG_ITEM_FLOATS];

int main(int argc, char** argv) {
  eg_pipeline_options options;
  eg_pipeline* pipeline = NULL;
  char message[256] = "";
  size_t i;
  float max_difference = 0.0f;
  eg_status status;
  if (argc != 2 || npy_read_floats(argv[1], expected, EG_ITEM_FLOATS) != EG_ITEM_FLOATS) {
    fprintf(stderr, "usage: embedded_sample item.npy (of %u floats)\n", EG_ITEM_FLOATS);
    return 2;
  }
  if ((uintptr_t)edgegen_model_data % 64 != 0 || edgegen_model_size != EG_MODEL_BYTES) {
    fprintf(stderr, "embedded_sample: the embedded model is misaligned or of the wrong size\n");
    return 1;
  }
  memset(&options, 0, sizeof options);
  options.struct_size = sizeof options;
  options.arena = arena;
  options.arena_bytes = sizeof arena;
  options.error_message = message;
  options.error_capacity = sizeof message;
  options.backend = EG_BACKEND_REFERENCE;
  status = eg_pipeline_create(edgegen_model_data, edgegen_model_size, &options, &pipeline);
  if (status != EG_OK) {
    fprintf(stderr, "embedded_sample: eg_pipeline_create with EG_ARENA_BYTES = %u: %s: %s\n", EG_ARENA_BYTES,
            eg_status_name(status), message);
    return 1;
  }
  if (eg_pipeline_item_size(pipeline) != EG_ITEM_FLOATS) {
    fprintf(stderr, "embedded_sample: item of %lu floats, EG_ITEM_FLOATS %u\n",
            (unsigned long)eg_pipeline_item_size(pipeline), EG_ITEM_FLOATS);
    return 1;
  }
  status = eg_pipeline_sample(pipeline, 7, 1.0f, 1, item, NULL);
  if (status != EG_OK) {
    fprintf(stderr, "embedded_sample: %s\n", eg_pipeline_last_error(pipeline));
    return 1;
  }
  for (i = 0; i < EG_ITEM_FLOATS; ++i) {
    float difference = fabsf(item[i] - expected[i]);
    if (!(difference <= max_difference)) max_difference = difference; /* NaN propagates */
  }
  if (!(max_difference <= 1e-4f)) {
    fprintf(stderr, "embedded_sample: max |item - edgegen sample| = %g > 1e-4\n", max_difference);
    return 1;
  }
  printf("embedded_sample: ok, %u model bytes embedded 64-byte aligned (operators: %s), EG_ARENA_BYTES %u, "
         "max |item - edgegen sample| = %g\n", EG_MODEL_BYTES, EG_OPERATORS, EG_ARENA_BYTES, max_difference);
  eg_pipeline_destroy(pipeline);
  return 0;
}
