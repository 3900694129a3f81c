/* edgegen C API: for firmware and for bindings from other languages.
 *
 * Conventions: every fallible call returns an eg_status and writes its
 * results through out-parameters placed last. Options come in structs that
 * carry their own size (set struct_size = sizeof(the struct)), so the API
 * can grow without new function versions. No C++ exception or type crosses
 * this boundary.
 *
 * Memory: the caller owns the model bytes and, optionally, the arena. With
 * an arena given, edgegen never touches the heap; everything (including the
 * pipeline object itself) lives inside it. The model bytes and the arena
 * must outlive the pipeline.
 */
#ifndef EDGEGEN_EDGEGEN_H_
#define EDGEGEN_EDGEGEN_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Same values as edgegen::StatusCode. */
typedef enum eg_status {
  EG_OK = 0,
  EG_INVALID_MODEL = 0x100,
  EG_UNSUPPORTED_VERSION = 0x101,
  EG_UNSUPPORTED_OP = 0x102,
  EG_INVALID_ARGUMENT = 0x200,
  EG_SHAPE_MISMATCH = 0x201,
  EG_NOT_PREPARED = 0x202,
  EG_ARENA_TOO_SMALL = 0x300,
  EG_OUT_OF_MEMORY = 0x301,
  EG_IO_ERROR = 0x400,
  EG_INVALID_DATA = 0x401,
  EG_CANCELLED = 0x500,
  EG_INTERNAL = 0x600
} eg_status;

typedef enum eg_interpolation { EG_INTERPOLATE_LINEAR = 0, EG_INTERPOLATE_SPHERICAL = 1 } eg_interpolation;

typedef struct eg_pipeline eg_pipeline;

typedef enum eg_backend {
  EG_BACKEND_AUTO = 0,      /* XNNPACK when built in and supported by the CPU */
  EG_BACKEND_REFERENCE = 1, /* portable kernels: no heap at all with a caller arena */
  EG_BACKEND_XNNPACK = 2    /* creating uses the heap transiently (and threads); running never */
} eg_backend;

typedef struct eg_pipeline_options {
  size_t struct_size;     /* sizeof(eg_pipeline_options) */
  void* arena;            /* borrowed; NULL: one block is allocated with malloc */
  size_t arena_bytes;     /* size of `arena` */
  char* error_message;    /* optional: receives a message when create fails */
  size_t error_capacity;  /* bytes available at error_message */
  int backend;            /* an eg_backend */
  int threads;            /* XNNPACK worker threads; 0: the performance cores */
} eg_pipeline_options;

/* A short name for a status, e.g. "invalid model". */
const char* eg_status_name(eg_status status);

/* Bytes of arena eg_pipeline_create needs for this model (verifies it). */
eg_status eg_pipeline_arena_bytes(const void* model_data, size_t model_size, size_t* out_bytes);

/* Verifies the model (64-byte aligned bytes of a .egm file) and prepares
 * its pipeline (decoder or vae) inside the arena. */
eg_status eg_pipeline_create(const void* model_data, size_t model_size, const eg_pipeline_options* options,
                             eg_pipeline** out_pipeline);
void eg_pipeline_destroy(eg_pipeline* pipeline);

/* The message of the last failed call on this pipeline ("" if none). */
const char* eg_pipeline_last_error(const eg_pipeline* pipeline);

size_t eg_pipeline_latent_size(const eg_pipeline* pipeline); /* floats per latent */
size_t eg_pipeline_item_size(const eg_pipeline* pipeline);   /* floats per generated item */
/* Item shape without the batch dimension; returns its rank, writes up to
 * `capacity` dims. */
int eg_pipeline_item_shape(const eg_pipeline* pipeline, int64_t* dims, int capacity);
/* [low, high] range of generated values. */
void eg_pipeline_output_range(const eg_pipeline* pipeline, float* low, float* high);

/* Draws `count` latents (seeded, platform-independent) and decodes them into
 * `items` (count * item_size floats). `latents` may be NULL. */
eg_status eg_pipeline_sample(eg_pipeline* pipeline, uint64_t seed, float temperature, size_t count, float* items,
                             float* latents);
eg_status eg_pipeline_decode(eg_pipeline* pipeline, const float* latents, size_t count, float* items);
/* VAE only: posterior mean (and log-variance, if not NULL). */
eg_status eg_pipeline_encode(eg_pipeline* pipeline, const float* items, size_t count, float* mean, float* logvar);

void eg_interpolate_latents(const float* z0, const float* z1, size_t size, float t, eg_interpolation kind, float* out);

#ifdef __cplusplus
}
#endif

#endif /* EDGEGEN_EDGEGEN_H_ */
