/* The C API of an installed edgegen: samples one item of a decoder model with
 * a seed and compares it with what `edgegen sample --seed S -o item.npy` wrote.
 *
 *   c_sample model.egm seed item.npy
 *
 * Prints "c_sample: ok ..." and exits with 0 when every value is within
 * 1e-5 of the tool's and inside the model's output range. */
#include <edgegen/edgegen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "npy_floats.h"

static unsigned char* read_file(const char* path, size_t* size) {
  FILE* file = fopen(path, "rb");
  unsigned char* bytes = NULL;
  long length;
  if (file == NULL || fseek(file, 0, SEEK_END) != 0 || (length = ftell(file)) <= 0 || fseek(file, 0, SEEK_SET) != 0) {
    if (file) fclose(file);
    return NULL;
  }
  /* Model bytes must be 64-byte aligned (weights are read in place). */
  bytes = aligned_alloc(64, ((size_t)length + 63) / 64 * 64);
  if (bytes != NULL && fread(bytes, 1, (size_t)length, file) != (size_t)length) {
    free(bytes);
    bytes = NULL;
  }
  fclose(file);
  *size = (size_t)length;
  return bytes;
}

int main(int argc, char** argv) {
  size_t model_size = 0, arena_bytes = 0, item_size, i;
  unsigned char* model;
  eg_pipeline* pipeline = NULL;
  eg_pipeline_options options = {0};
  char message[256] = "";
  float *item, *expected, low, high, max_difference = 0.0f;
  unsigned long seed;
  eg_status status;
  void* arena;
  if (argc != 4) {
    fprintf(stderr, "usage: c_sample model.egm seed item.npy\n");
    return 2;
  }
  seed = strtoul(argv[2], NULL, 10);
  model = read_file(argv[1], &model_size);
  if (model == NULL) {
    fprintf(stderr, "c_sample: cannot read %s\n", argv[1]);
    return 1;
  }
  status = eg_pipeline_arena_bytes(model, model_size, &arena_bytes);
  if (status != EG_OK) {
    fprintf(stderr, "c_sample: eg_pipeline_arena_bytes: %s\n", eg_status_name(status));
    return 1;
  }
  arena = aligned_alloc(64, (arena_bytes + 63) / 64 * 64);
  options.struct_size = sizeof options;
  options.arena = arena;
  options.arena_bytes = arena_bytes;
  options.error_message = message;
  options.error_capacity = sizeof message;
  status = eg_pipeline_create(model, model_size, &options, &pipeline);
  if (status != EG_OK) {
    fprintf(stderr, "c_sample: eg_pipeline_create: %s: %s\n", eg_status_name(status), message);
    return 1;
  }
  item_size = eg_pipeline_item_size(pipeline);
  item = malloc(item_size * sizeof(float));
  expected = malloc(item_size * sizeof(float));
  status = eg_pipeline_sample(pipeline, (uint64_t)seed, 1.0f, 1, item, NULL);
  if (status != EG_OK) {
    fprintf(stderr, "c_sample: eg_pipeline_sample: %s: %s\n", eg_status_name(status), eg_pipeline_last_error(pipeline));
    return 1;
  }
  if (npy_read_floats(argv[3], expected, (long)item_size) != (long)item_size) {
    fprintf(stderr, "c_sample: %s does not hold %lu floats\n", argv[3], (unsigned long)item_size);
    return 1;
  }
  eg_pipeline_output_range(pipeline, &low, &high);
  for (i = 0; i < item_size; ++i) {
    float difference = fabsf(item[i] - expected[i]);
    if (!(difference <= max_difference)) max_difference = difference; /* NaN propagates */
    if (!(item[i] >= low && item[i] <= high)) {
      fprintf(stderr, "c_sample: value %lu = %g is outside [%g, %g]\n", (unsigned long)i, item[i], low, high);
      return 1;
    }
  }
  if (!(max_difference <= 1e-5f)) {
    fprintf(stderr, "c_sample: max |item - edgegen sample| = %g > 1e-5\n", max_difference);
    return 1;
  }
  printf("c_sample: ok, %lu floats in [%g, %g], max |item - edgegen sample| = %g, arena %lu bytes\n",
         (unsigned long)item_size, low, high, max_difference, (unsigned long)arena_bytes);
  eg_pipeline_destroy(pipeline);
  free(arena);
  free(model);
  free(item);
  free(expected);
  return 0;
}
