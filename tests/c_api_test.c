/* The C API's model handle (eg_model_*), compiled as C: every function and
 * every error path (bad model bytes, an arena one byte short, a wrong input
 * size, NULL arguments, a cancelled sampler) over models of every kind that
 * CMake converted with the edgegen tool into the directory given as argv[1]:
 *
 *   gan.egm (decoder)  vae.egm  flow.egm  made.egm (autoregressive)
 *   energy.egm  diffusion.egm (class-conditional)  graphs.egm (graphs only)
 *   streaming.egm (a GRU whose state input h0 is fed from its output h)
 *
 * Prints one line per failed check and exits with 1 if any failed. */
#include <edgegen/edgegen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;
static int checks = 0;

#define CHECK(cond)                                                  \
  do {                                                               \
    ++checks;                                                        \
    if (!(cond)) {                                                   \
      ++failures;                                                    \
      fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
    }                                                                \
  } while (0)
#define CHECK_STATUS(expr, expected)                                                                  \
  do {                                                                                               \
    eg_status got_ = (expr);                                                                         \
    ++checks;                                                                                        \
    if (got_ != (expected)) {                                                                        \
      ++failures;                                                                                    \
      fprintf(stderr, "%s:%d: %s returned '%s', expected '%s'\n", __FILE__, __LINE__, #expr,        \
              eg_status_string(got_), eg_status_string(expected));                                   \
    }                                                                                                \
  } while (0)
#define CHECK_OK(model, expr)                                                                             \
  do {                                                                                                   \
    eg_status got_ = (expr);                                                                             \
    ++checks;                                                                                            \
    if (got_ != EG_OK) {                                                                                 \
      ++failures;                                                                                        \
      fprintf(stderr, "%s:%d: %s failed: %s: %s\n", __FILE__, __LINE__, #expr, eg_status_string(got_), \
              eg_model_last_error(model));                                                               \
    }                                                                                                    \
  } while (0)

static const char* models_dir;

typedef struct Bytes {
  unsigned char* data;
  size_t size;
} Bytes;

/* The file's bytes, 64-byte aligned (weights are read in place). */
static Bytes read_model(const char* name) {
  Bytes bytes = {NULL, 0};
  char path[1024];
  long length;
  FILE* file;
  snprintf(path, sizeof path, "%s/%s", models_dir, name);
  file = fopen(path, "rb");
  if (file == NULL || fseek(file, 0, SEEK_END) != 0 || (length = ftell(file)) <= 0 || fseek(file, 0, SEEK_SET) != 0) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(2);
  }
  bytes.data = aligned_alloc(64, ((size_t)length + 63) / 64 * 64);
  if (bytes.data == NULL || fread(bytes.data, 1, (size_t)length, file) != (size_t)length) exit(2);
  fclose(file);
  bytes.size = (size_t)length;
  return bytes;
}

static float* floats(size_t count) {
  float* p = calloc(count > 0 ? count : 1, sizeof(float));
  if (p == NULL) exit(2);
  return p;
}

static int all_finite(const float* values, size_t count) {
  size_t i;
  for (i = 0; i < count; ++i)
    if (!isfinite(values[i])) return 0;
  return 1;
}

/* Loads with malloc'ed storage and prepares for `capability` in a malloc'ed
 * arena of exactly the bytes asked for (reference backend). */
static eg_model* open_prepared(Bytes bytes, uint32_t capability, void** arena) {
  eg_model* model = NULL;
  size_t needed = 0;
  eg_run_options run = {sizeof(eg_run_options), EG_BACKEND_REFERENCE, 1};
  CHECK_STATUS(eg_model_load(bytes.data, bytes.size, NULL, 0, &model), EG_OK);
  if (model == NULL) exit(1);
  CHECK_OK(model, eg_model_arena_bytes(model, &run, capability, &needed));
  *arena = malloc(needed);
  CHECK_OK(model, eg_model_prepare(model, *arena, needed, &run, capability));
  return model;
}

static void test_status_strings(void) {
  CHECK(strcmp(eg_status_string(EG_OK), "ok") == 0);
  CHECK(strcmp(eg_status_string(EG_CANCELLED), "cancelled") == 0);
  CHECK(strcmp(eg_status_string(EG_INVALID_MODEL), "invalid model") == 0);
  CHECK(eg_status_string((eg_status)12345) != NULL);
  CHECK(strcmp(eg_status_name(EG_CANCELLED), "cancelled") == 0);
  CHECK(strcmp(eg_pipeline_kind_name(EG_KIND_FLOW), "flow") == 0);
  CHECK(strcmp(eg_pipeline_kind_name(99), "unknown") == 0);
}

static void test_bad_model_bytes(void) {
  static _Alignas(64) unsigned char garbage[512];
  static _Alignas(64) unsigned char storage[4096];
  eg_model* model = (eg_model*)1;
  Bytes gan = read_model("gan.egm");
  unsigned char* truncated;
  size_t i;
  for (i = 0; i < sizeof garbage; ++i) garbage[i] = (unsigned char)(i * 37 + 11);
  CHECK(eg_status_string(eg_model_load(garbage, sizeof garbage, NULL, 0, &model)) != NULL);
  CHECK_STATUS(eg_model_load(garbage, sizeof garbage, NULL, 0, &model), EG_INVALID_MODEL);
  CHECK(model == NULL);
  /* A real model cut short, and one with its identifier broken. */
  truncated = aligned_alloc(64, (gan.size / 2 + 63) / 64 * 64);
  memcpy(truncated, gan.data, gan.size / 2);
  CHECK_STATUS(eg_model_load(truncated, gan.size / 2, NULL, 0, &model), EG_INVALID_MODEL);
  CHECK(model == NULL);
  free(truncated);
  gan.data[4] ^= 0xff;
  CHECK(eg_model_load(gan.data, gan.size, NULL, 0, &model) != EG_OK);
  CHECK(model == NULL);
  gan.data[4] ^= 0xff;
  /* Bytes not 64-byte aligned (weights are read in place), and no bytes. */
  truncated = aligned_alloc(64, (gan.size + 64 + 63) / 64 * 64);
  memcpy(truncated + 1, gan.data, gan.size);
  CHECK_STATUS(eg_model_load(truncated + 1, gan.size, NULL, 0, &model), EG_INVALID_ARGUMENT);
  CHECK(model == NULL);
  free(truncated);
  CHECK_STATUS(eg_model_load(gan.data, 0, NULL, 0, &model), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_load(gan.data, 7, NULL, 0, &model), EG_INVALID_MODEL);
  /* eg_model_verify says why, in the caller's buffer, truncated to fit. */
  {
    char message[256];
    char tiny[8];
    memset(message, 'x', sizeof message);
    CHECK_STATUS(eg_model_verify(garbage, sizeof garbage, message, sizeof message), EG_INVALID_MODEL);
    CHECK(strlen(message) > 10 && strlen(message) < sizeof message);
    CHECK_STATUS(eg_model_verify(gan.data, 7, tiny, sizeof tiny), EG_INVALID_MODEL);
    CHECK(strlen(tiny) == sizeof tiny - 1);
    CHECK_STATUS(eg_model_verify(gan.data, 0, message, sizeof message), EG_INVALID_ARGUMENT);
    CHECK(strstr(message, "no model bytes") != NULL);
    CHECK_STATUS(eg_model_verify(NULL, 64, message, sizeof message), EG_INVALID_ARGUMENT);
    CHECK_STATUS(eg_model_verify(gan.data, gan.size, NULL, 16), EG_INVALID_ARGUMENT);
    CHECK_STATUS(eg_model_verify(gan.data, gan.size, NULL, 0), EG_OK);
    CHECK_STATUS(eg_model_verify(gan.data, gan.size, message, sizeof message), EG_OK);
    CHECK(message[0] == '\0');
  }
  /* Handle storage: one byte short fails, the size asked for works off alignment. */
  CHECK(eg_model_handle_bytes() + 1 <= sizeof storage);
  CHECK_STATUS(eg_model_load(gan.data, gan.size, storage + 1, eg_model_handle_bytes() - 1, &model), EG_ARENA_TOO_SMALL);
  CHECK_STATUS(eg_model_load(gan.data, gan.size, storage + 1, eg_model_handle_bytes(), &model), EG_OK);
  CHECK(model != NULL);
  eg_model_destroy(model);
  free(gan.data);
}

static void test_null_arguments(void) {
  eg_model* model = NULL;
  Bytes gan = read_model("gan.egm");
  size_t n = 0;
  int i = 0;
  uint32_t caps = 0;
  const char* name = NULL;
  eg_tensor_info info;
  float x[4] = {0, 0, 0, 0};
  double threshold = 0;
  int64_t dims[4];
  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;

  CHECK_STATUS(eg_model_load(NULL, 100, NULL, 0, &model), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_load(gan.data, gan.size, NULL, 0, NULL), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_kind(NULL, &i), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_declared_capabilities(NULL, &caps), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_batch(NULL, &n), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_num_graphs(NULL, &n), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_graph_name(NULL, 0, &name), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_find_graph(NULL, "decoder", &n), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_num_inputs(NULL, 0, &n), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_num_outputs(NULL, 0, &n), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_input_info(NULL, 0, 0, &info), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_output_info(NULL, 0, 0, &info), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_arena_bytes(NULL, NULL, 0, &n), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_prepare(NULL, NULL, 0, NULL, 0), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_capabilities(NULL, &caps), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_event_size(NULL, &n), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_event_shape(NULL, dims, 4, &i), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_latent_size(NULL, &n), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_set_input(NULL, 0, 0, x, sizeof x), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_set_input_by_name(NULL, 0, "z", x, sizeof x), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_run(NULL, 0), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_get_output(NULL, 0, 0, x, sizeof x), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_get_output_by_name(NULL, 0, "x", x, sizeof x), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_sample(NULL, NULL, 1, x), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_decode(NULL, x, 1, x), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_encode(NULL, x, 1, x, x), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_interpolate(NULL, x, x, EG_INTERPOLATE_LINEAR, 2, x, x), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_score(NULL, NULL, x, 1, x), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_impute(NULL, NULL, 1, x), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_sampler_from_name(NULL, &i), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_sampler_from_name("euler", NULL), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_fit_threshold(NULL, 4, 0.1, &threshold), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_fit_threshold(x, 4, 0.1, NULL), EG_INVALID_ARGUMENT);
  eg_model_destroy(NULL);
  CHECK(strcmp(eg_model_last_error(NULL), "") == 0);
  eg_sampling_options_init(NULL);
  eg_scoring_options_init(NULL);
  eg_diffusion_options_init(NULL);

  /* NULL outputs and buffers on a live, prepared handle. */
  CHECK_STATUS(eg_model_load(gan.data, gan.size, NULL, 0, &model), EG_OK);
  CHECK_STATUS(eg_model_kind(model, NULL), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_declared_capabilities(model, NULL), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_batch(model, NULL), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_num_graphs(model, NULL), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_graph_name(model, 0, NULL), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_graph_name(model, 99, &name), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_find_graph(model, NULL, &n), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_find_graph(model, "decoder", NULL), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_find_graph(model, "no such graph", &n), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_num_inputs(model, 0, NULL), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_num_inputs(model, 99, &n), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_num_outputs(model, 0, NULL), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_input_info(model, 0, 0, NULL), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_input_info(model, 0, 99, &info), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_output_info(model, 99, 0, &info), EG_INVALID_ARGUMENT);
  info.struct_size = 1; /* too small a struct */
  CHECK_STATUS(eg_model_input_info(model, 0, 0, &info), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_arena_bytes(model, NULL, 0, NULL), EG_INVALID_ARGUMENT);
  /* Before prepare: nothing runs. */
  CHECK_STATUS(eg_model_capabilities(model, &caps), EG_NOT_PREPARED);
  CHECK_STATUS(eg_model_event_size(model, &n), EG_NOT_PREPARED);
  CHECK_STATUS(eg_model_sample(model, NULL, 1, x), EG_NOT_PREPARED);
  CHECK_STATUS(eg_model_run(model, 0), EG_NOT_PREPARED);
  CHECK_STATUS(eg_model_set_input(model, 0, 0, x, sizeof x), EG_NOT_PREPARED);
  CHECK(strlen(eg_model_last_error(model)) > 0);
  CHECK_OK(model, eg_model_prepare(model, NULL, 0, NULL, EG_CAP_SAMPLE));
  CHECK_STATUS(eg_model_capabilities(model, NULL), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_event_size(model, NULL), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_latent_size(model, NULL), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_event_shape(model, dims, 4, NULL), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_event_shape(model, NULL, 4, &i), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_event_shape(model, dims, -1, &i), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_event_shape(model, NULL, 0, &i), EG_OK);
  CHECK_STATUS(eg_model_set_input(model, 0, 0, NULL, 16), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_set_input_by_name(model, 0, NULL, x, sizeof x), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_get_output(model, 0, 0, NULL, 16), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_get_output_by_name(model, 0, NULL, x, sizeof x), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_sample(model, NULL, 1, NULL), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_sample(model, NULL, 0, NULL), EG_OK);
  CHECK_STATUS(eg_model_decode(model, NULL, 1, x), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_decode(model, x, 1, NULL), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_interpolate(model, NULL, x, EG_INTERPOLATE_LINEAR, 2, x, x), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_interpolate(model, x, NULL, EG_INTERPOLATE_LINEAR, 2, x, x), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_interpolate(model, x, x, EG_INTERPOLATE_LINEAR, 2, NULL, x), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_interpolate(model, x, x, EG_INTERPOLATE_LINEAR, 2, x, NULL), EG_INVALID_ARGUMENT);
  CHECK(strstr(eg_model_last_error(model), "NULL") != NULL);
  /* The capability comes before the buffers: a decoder cannot encode, score
   * or impute, whatever it is given (NULL buffers are checked on the kinds
   * that can, below). */
  CHECK_STATUS(eg_model_encode(model, NULL, 1, x, x), EG_UNSUPPORTED_OP);
  CHECK_STATUS(eg_model_score(model, NULL, NULL, 1, x), EG_UNSUPPORTED_OP);
  CHECK_STATUS(eg_model_score(model, NULL, x, 1, NULL), EG_UNSUPPORTED_OP);
  CHECK_STATUS(eg_model_impute(model, NULL, 1, NULL), EG_UNSUPPORTED_OP);
  CHECK(strstr(eg_model_last_error(model), "cannot impute") != NULL);
  /* Capabilities are asked for one at a time. */
  CHECK_STATUS(eg_model_arena_bytes(model, NULL, EG_CAP_SAMPLE | EG_CAP_DECODE, &n), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_arena_bytes(model, NULL, 1u << 20, &n), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_prepare(model, NULL, 0, NULL, EG_CAP_SAMPLE | EG_CAP_DECODE), EG_INVALID_ARGUMENT);
  CHECK(strstr(eg_model_last_error(model), "capability") != NULL);
  eg_model_destroy(model);
  free(gan.data);
}

static void test_decoder_and_graphs(void) {
  static _Alignas(64) unsigned char storage[8192];
  Bytes gan = read_model("gan.egm");
  eg_model* model = NULL;
  eg_run_options run = {sizeof(eg_run_options), EG_BACKEND_REFERENCE, 1};
  eg_run_options bad_run = {sizeof(eg_run_options), 7, 1};
  eg_run_options short_run = {4, EG_BACKEND_REFERENCE, 1};
  eg_sampling_options sampling;
  eg_tensor_info in_info, out_info;
  size_t graphs = 0, graph = 99, n_in = 0, n_out = 0, needed = 0, event = 0, latent = 0, batch = 0, i;
  int kind = 0, rank = 0;
  uint32_t declared = 0, caps = 0;
  const char* name = NULL;
  int64_t dims[8];
  unsigned char* arena;
  float *items, *latents, *decoded, *path, *path_items, *graph_out, *mean;
  const size_t count = 3;

  CHECK(eg_model_handle_bytes() <= sizeof storage);
  CHECK_STATUS(eg_model_load(gan.data, gan.size, storage, sizeof storage, &model), EG_OK);
  CHECK_OK(model, eg_model_kind(model, &kind));
  CHECK(kind == EG_KIND_DECODER);
  CHECK_OK(model, eg_model_declared_capabilities(model, &declared));
  CHECK(declared == (EG_CAP_SAMPLE | EG_CAP_DECODE | EG_CAP_INTERPOLATE));
  CHECK_OK(model, eg_model_batch(model, &batch));
  CHECK(batch == 2);
  CHECK_OK(model, eg_model_num_graphs(model, &graphs));
  CHECK(graphs == 1);
  CHECK_OK(model, eg_model_graph_name(model, 0, &name));
  CHECK(name != NULL && strcmp(name, "decoder") == 0);
  CHECK_OK(model, eg_model_find_graph(model, "decoder", &graph));
  CHECK(graph == 0);
  CHECK_OK(model, eg_model_num_inputs(model, 0, &n_in));
  CHECK_OK(model, eg_model_num_outputs(model, 0, &n_out));
  CHECK(n_in == 1 && n_out == 1);
  memset(&in_info, 0, sizeof in_info);
  in_info.struct_size = sizeof in_info;
  out_info = in_info;
  CHECK_OK(model, eg_model_input_info(model, 0, 0, &in_info));
  CHECK_OK(model, eg_model_output_info(model, 0, 0, &out_info));
  CHECK(in_info.dtype == EG_FLOAT32 && out_info.dtype == EG_FLOAT32);
  CHECK(in_info.rank == 4 && in_info.dims[0] == 2 && in_info.dims[1] == 64);
  CHECK(in_info.bytes == 2 * 64 * sizeof(float));
  CHECK(strlen(in_info.name) > 0 && strlen(out_info.name) > 0);

  /* Options: bad backend, a short struct; a kind without the capability. */
  CHECK_STATUS(eg_model_arena_bytes(model, &bad_run, EG_CAP_SAMPLE, &needed), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_arena_bytes(model, &short_run, EG_CAP_SAMPLE, &needed), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_arena_bytes(model, &run, EG_CAP_SCORE, &needed), EG_UNSUPPORTED_OP);
  CHECK_STATUS(eg_model_prepare(model, NULL, 0, &run, EG_CAP_SCORE), EG_UNSUPPORTED_OP);
  CHECK(strstr(eg_model_last_error(model), "score") != NULL);
  CHECK_STATUS(eg_model_prepare(model, NULL, 0, &bad_run, EG_CAP_SAMPLE), EG_INVALID_ARGUMENT);

  /* The arena: one byte short fails, the bytes asked for work off alignment. */
  CHECK_OK(model, eg_model_arena_bytes(model, &run, EG_CAP_SAMPLE, &needed));
  arena = malloc(needed + 1);
  CHECK_STATUS(eg_model_prepare(model, arena + 1, needed - 1, &run, EG_CAP_SAMPLE), EG_ARENA_TOO_SMALL);
  CHECK_STATUS(eg_model_capabilities(model, &caps), EG_NOT_PREPARED);
  CHECK_OK(model, eg_model_prepare(model, arena + 1, needed, &run, EG_CAP_SAMPLE));
  CHECK_OK(model, eg_model_capabilities(model, &caps));
  CHECK(caps == declared);
  CHECK_OK(model, eg_model_event_size(model, &event));
  CHECK_OK(model, eg_model_latent_size(model, &latent));
  CHECK(latent == 64 && event == 256);
  CHECK_OK(model, eg_model_event_shape(model, dims, 8, &rank));
  CHECK(rank == 3 && dims[0] == 1 && dims[1] == 16 && dims[2] == 16);

  /* sample -> decode of the same latents gives the same items. */
  items = floats(count * event);
  decoded = floats(count * event);
  latents = floats(count * latent);
  eg_sampling_options_init(&sampling);
  sampling.seed = 7;
  sampling.latents = latents;
  CHECK_OK(model, eg_model_sample(model, &sampling, count, items));
  CHECK(all_finite(items, count * event));
  CHECK_OK(model, eg_model_decode(model, latents, count, decoded));
  CHECK(memcmp(items, decoded, count * event * sizeof(float)) == 0);
  sampling.struct_size = 8;
  CHECK_STATUS(eg_model_sample(model, &sampling, count, items), EG_INVALID_ARGUMENT);

  /* interpolate: the ends are the two latents. */
  path = floats(4 * latent);
  path_items = floats(4 * event);
  CHECK_OK(model, eg_model_interpolate(model, latents, latents + latent, EG_INTERPOLATE_SPHERICAL, 4, path,
                                       path_items));
  CHECK(memcmp(path_items, decoded, event * sizeof(float)) == 0);
  CHECK_STATUS(eg_model_interpolate(model, latents, latents, EG_INTERPOLATE_LINEAR, 1, path, path_items),
               EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_interpolate(model, latents, latents, (eg_interpolation)9, 2, path, path_items),
               EG_INVALID_ARGUMENT);
  /* What a decoder does not do. */
  mean = floats(count * latent);
  CHECK_STATUS(eg_model_encode(model, items, count, mean, NULL), EG_UNSUPPORTED_OP);
  CHECK_STATUS(eg_model_score(model, NULL, items, count, mean), EG_UNSUPPORTED_OP);
  CHECK_STATUS(eg_model_impute(model, NULL, count, items), EG_UNSUPPORTED_OP);

  /* Run the graph by hand: the first two latents give the first two items. */
  graph_out = floats(2 * event);
  CHECK_STATUS(eg_model_set_input(model, 0, 0, latents, in_info.bytes - 4), EG_SHAPE_MISMATCH);
  CHECK(strlen(eg_model_last_error(model)) > 0);
  CHECK_STATUS(eg_model_set_input(model, 0, 1, latents, in_info.bytes), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_set_input(model, 5, 0, latents, in_info.bytes), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_set_input_by_name(model, 0, "no such input", latents, in_info.bytes), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_run(model, 5), EG_INVALID_ARGUMENT);
  CHECK_OK(model, eg_model_set_input(model, 0, 0, latents, in_info.bytes));
  CHECK_OK(model, eg_model_run(model, 0));
  CHECK_OK(model, eg_model_get_output(model, 0, 0, graph_out, out_info.bytes));
  for (i = 0; i < 2 * event; ++i) CHECK(fabsf(graph_out[i] - items[i]) <= 1e-5f);
  memset(graph_out, 0, 2 * event * sizeof(float));
  CHECK_OK(model, eg_model_set_input_by_name(model, 0, in_info.name, latents, in_info.bytes));
  CHECK_OK(model, eg_model_run(model, 0));
  CHECK_STATUS(eg_model_get_output_by_name(model, 0, out_info.name, graph_out, out_info.bytes + 4), EG_SHAPE_MISMATCH);
  CHECK_STATUS(eg_model_get_output_by_name(model, 0, "no such output", graph_out, out_info.bytes), EG_INVALID_ARGUMENT);
  CHECK_OK(model, eg_model_get_output_by_name(model, 0, out_info.name, graph_out, out_info.bytes));
  for (i = 0; i < 2 * event; ++i) CHECK(fabsf(graph_out[i] - items[i]) <= 1e-5f);

  /* The old decoder API still works on the same bytes. */
  {
    eg_pipeline* pipeline = NULL;
    float old_items[256];
    CHECK_STATUS(eg_pipeline_create(gan.data, gan.size, NULL, &pipeline), EG_OK);
    CHECK_STATUS(eg_pipeline_decode(pipeline, latents, 1, old_items), EG_OK);
    for (i = 0; i < event; ++i) CHECK(fabsf(old_items[i] - items[i]) <= 1e-4f);
    eg_pipeline_destroy(pipeline);
  }

  eg_model_destroy(model); /* storage is the caller's: nothing to free */
  free(arena);
  free(items);
  free(decoded);
  free(latents);
  free(path);
  free(path_items);
  free(graph_out);
  free(mean);
  free(gan.data);
}

static void test_vae(void) {
  Bytes bytes = read_model("vae.egm");
  void* arena = NULL;
  eg_model* model = open_prepared(bytes, EG_CAP_ENCODE, &arena);
  eg_scoring_options scoring;
  size_t event = 0, latent = 0, i;
  const size_t count = 3;
  float *items, *mean, *logvar, *scores;
  uint32_t caps = 0;
  CHECK_OK(model, eg_model_event_size(model, &event));
  CHECK_OK(model, eg_model_latent_size(model, &latent));
  CHECK(event == 64 && latent == 8);
  CHECK_OK(model, eg_model_capabilities(model, &caps));
  CHECK((caps & EG_CAP_ENCODE) != 0);
  items = floats(count * event);
  for (i = 0; i < count * event; ++i) items[i] = (float)((i * 7) % 5) / 4.f;
  mean = floats(count * latent);
  logvar = floats(count * latent);
  scores = floats(count);
  CHECK_OK(model, eg_model_encode(model, items, count, mean, logvar));
  CHECK(all_finite(mean, count * latent) && all_finite(logvar, count * latent));
  CHECK_OK(model, eg_model_encode(model, items, count, mean, NULL));
  CHECK_STATUS(eg_model_encode(model, NULL, count, mean, logvar), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_encode(model, items, count, NULL, logvar), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_encode(model, NULL, 0, NULL, NULL), EG_OK);
  /* The encoding class does not score: say so, and how to get one that does. */
  CHECK_STATUS(eg_model_score(model, NULL, items, count, scores), EG_UNSUPPORTED_OP);
  CHECK(strstr(eg_model_last_error(model), "eg_model_prepare") != NULL);
  /* Scoring is another class of the same kind: prepare again. The arena
   * holds the encoding program until then, so it is freed only after. */
  CHECK_OK(model, eg_model_arena_bytes(model, NULL, EG_CAP_SCORE, &i));
  CHECK_OK(model, eg_model_prepare(model, NULL, 0, NULL, EG_CAP_SCORE));
  free(arena);
  CHECK_STATUS(eg_model_encode(model, items, count, mean, logvar), EG_UNSUPPORTED_OP);
  CHECK_STATUS(eg_model_score(model, NULL, NULL, count, scores), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_score(model, NULL, items, count, NULL), EG_INVALID_ARGUMENT);
  eg_scoring_options_init(&scoring);
  scoring.bound = EG_BOUND_ELBO;
  scoring.samples = 2;
  CHECK_OK(model, eg_model_score(model, &scoring, items, count, scores));
  CHECK(all_finite(scores, count));
  CHECK_OK(model, eg_model_score(model, NULL, items, count, scores));
  scoring.samples = 0;
  CHECK_STATUS(eg_model_score(model, &scoring, items, count, scores), EG_INVALID_ARGUMENT);
  scoring.samples = 2;
  scoring.bound = 5;
  CHECK_STATUS(eg_model_score(model, &scoring, items, count, scores), EG_INVALID_ARGUMENT);
  scoring.bound = EG_BOUND_IWAE;
  scoring.struct_size = 3;
  CHECK_STATUS(eg_model_score(model, &scoring, items, count, scores), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_prepare(model, NULL, 0, NULL, EG_CAP_IMPUTE), EG_UNSUPPORTED_OP);
  eg_model_destroy(model);
  free(items);
  free(mean);
  free(logvar);
  free(scores);
  free(bytes.data);
}

static void test_flow_and_threshold(void) {
  Bytes bytes = read_model("flow.egm");
  void* arena = NULL;
  eg_model* model = open_prepared(bytes, EG_CAP_SCORE, &arena);
  eg_sampling_options sampling;
  size_t event = 0, i;
  const size_t count = 5;
  float *items, *scores;
  double threshold = 0;
  int kind = 0;
  CHECK_OK(model, eg_model_kind(model, &kind));
  CHECK(kind == EG_KIND_FLOW);
  CHECK_OK(model, eg_model_event_size(model, &event));
  items = floats(count * event);
  scores = floats(count);
  eg_sampling_options_init(&sampling);
  sampling.seed = 3;
  CHECK_OK(model, eg_model_sample(model, &sampling, count, items));
  CHECK(all_finite(items, count * event));
  CHECK_OK(model, eg_model_score(model, NULL, items, count, scores));
  CHECK(all_finite(scores, count));
  CHECK_STATUS(eg_model_impute(model, NULL, count, items), EG_UNSUPPORTED_OP);
  /* The threshold is the fpr-quantile: 0.4 of 5 sorted scores is the third. */
  CHECK_OK(model, eg_fit_threshold(scores, count, 0.4, &threshold));
  for (i = 1; i < count; ++i) CHECK(scores[i - 1] <= scores[i]);
  CHECK(threshold == scores[2]);
  CHECK_OK(model, eg_fit_threshold(scores, count, 1.0, &threshold));
  CHECK(threshold == scores[count - 1]);
  CHECK_STATUS(eg_fit_threshold(scores, count, 1.5, &threshold), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_fit_threshold(scores, 0, 0.1, &threshold), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_fit_threshold(scores, count, -0.1, &threshold), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_fit_threshold(scores, count, NAN, &threshold), EG_INVALID_ARGUMENT);
  scores[1] = NAN; /* no place in the order: refused, not sorted */
  CHECK_STATUS(eg_fit_threshold(scores, count, 0.4, &threshold), EG_INVALID_ARGUMENT);
  CHECK(isnan(scores[1]));
  /* Wrong input sizes and NULL buffers on a model that scores. */
  CHECK_STATUS(eg_model_score(model, NULL, NULL, count, scores), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_score(model, NULL, items, count, NULL), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_score(model, NULL, NULL, 0, NULL), EG_OK);
  eg_model_destroy(model);
  free(arena);
  free(items);
  free(scores);
  free(bytes.data);
}

static void test_autoregressive_impute(void) {
  Bytes bytes = read_model("made.egm");
  void* arena = NULL;
  eg_model* model = open_prepared(bytes, EG_CAP_IMPUTE, &arena);
  eg_sampling_options sampling;
  size_t event = 0, i;
  const size_t count = 3;
  float *items, *scores;
  uint32_t caps = 0;
  CHECK_OK(model, eg_model_capabilities(model, &caps));
  CHECK((caps & (EG_CAP_IMPUTE | EG_CAP_SCORE | EG_CAP_SAMPLE)) == (EG_CAP_IMPUTE | EG_CAP_SCORE | EG_CAP_SAMPLE));
  CHECK_OK(model, eg_model_event_size(model, &event));
  items = floats(count * event);
  scores = floats(count);
  eg_sampling_options_init(&sampling);
  sampling.seed = 11;
  sampling.top_k = 3;
  CHECK_OK(model, eg_model_sample(model, &sampling, count, items));
  CHECK(all_finite(items, count * event));
  CHECK_OK(model, eg_model_score(model, NULL, items, count, scores));
  CHECK(all_finite(scores, count));
  for (i = 0; i < count * event; i += 3) items[i] = NAN;
  CHECK_OK(model, eg_model_impute(model, &sampling, count, items));
  CHECK(all_finite(items, count * event));
  CHECK_STATUS(eg_model_impute(model, &sampling, count, NULL), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_impute(model, NULL, 0, NULL), EG_OK);
  sampling.struct_size = 4;
  CHECK_STATUS(eg_model_impute(model, &sampling, count, items), EG_INVALID_ARGUMENT);
  sampling.struct_size = sizeof sampling;
  /* What an autoregressive model does not do. */
  CHECK_STATUS(eg_model_decode(model, items, count, items), EG_UNSUPPORTED_OP);
  CHECK_STATUS(eg_model_encode(model, items, count, items, NULL), EG_UNSUPPORTED_OP);
  {
    const int32_t prompt[] = {1};
    CHECK_STATUS(eg_model_generate(model, prompt, 1, 1, NULL, NULL, NULL, NULL, NULL, NULL), EG_UNSUPPORTED_OP);
    CHECK(strstr(eg_model_last_error(model), "cannot generate") != NULL);
  }
  eg_model_destroy(model);
  free(arena);
  free(items);
  free(scores);
  free(bytes.data);
}

/* Stops after `*(size_t*)user` tokens. */
static int stop_after(void* user, int32_t token, size_t position) {
  size_t* left = (size_t*)user;
  (void)token;
  (void)position;
  return --*left > 0;
}

static void test_token_decoder(void) {
  /* tests/token_decoder/scatter_mha: PyTorch's greedy tokens after the prompt. */
  static const int32_t prompt[] = {1, 72, 101, 108, 108, 111};
  static const int32_t expected[] = {139, 201, 173, 146, 33, 166};
  Bytes bytes = read_model("token_decoder.egm");
  void* arena = NULL;
  eg_model* model = open_prepared(bytes, EG_CAP_GENERATE, &arena);
  eg_generate_options options;
  int32_t tokens[8];
  size_t generated = 0, left = 2, predicted = 0;
  int reason = -1, kind = 0;
  uint32_t caps = 0;
  double nats = 0;
  CHECK_OK(model, eg_model_kind(model, &kind));
  CHECK(kind == EG_KIND_TOKEN_DECODER);
  CHECK(strcmp(eg_pipeline_kind_name(EG_KIND_TOKEN_DECODER), "token_decoder") == 0);
  CHECK_OK(model, eg_model_capabilities(model, &caps));
  CHECK(caps == (EG_CAP_GENERATE | EG_CAP_SCORE_TOKENS));
  CHECK_OK(model, eg_model_generate(model, prompt, 6, 6, NULL, NULL, NULL, tokens, &generated, &reason));
  CHECK(generated == 6 && reason == EG_STOP_TOKEN_COUNT);
  CHECK(memcmp(tokens, expected, sizeof expected) == 0);
  /* Top-k 1 is greedy; a callback returning 0 cancels. */
  eg_generate_options_init(&options);
  options.temperature = 0.8f;
  options.top_k = 1;
  options.seed = 3;
  memset(tokens, 0, sizeof tokens);
  CHECK_STATUS(eg_model_generate(model, prompt, 6, 6, &options, stop_after, &left, tokens, &generated, &reason),
               EG_CANCELLED);
  CHECK(generated == 2 && reason == EG_STOP_CANCELLED);
  CHECK(tokens[0] == expected[0] && tokens[1] == expected[1]);
  CHECK(strstr(eg_model_last_error(model), "cancelled") != NULL);
  /* NULLs, bad options and sizes. */
  CHECK_STATUS(eg_model_generate(NULL, prompt, 6, 1, NULL, NULL, NULL, NULL, NULL, NULL), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_generate(model, NULL, 6, 1, NULL, NULL, NULL, NULL, NULL, NULL), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_generate(model, prompt, 0, 1, NULL, NULL, NULL, NULL, NULL, NULL), EG_INVALID_ARGUMENT);
  options.struct_size = 4;
  CHECK_STATUS(eg_model_generate(model, prompt, 6, 1, &options, NULL, NULL, NULL, NULL, NULL), EG_INVALID_ARGUMENT);
  eg_generate_options_init(&options);
  options.top_p = 0.f;
  CHECK_STATUS(eg_model_generate(model, prompt, 6, 1, &options, NULL, NULL, NULL, NULL, NULL), EG_INVALID_ARGUMENT);
  eg_generate_options_init(NULL);
  /* One program generates and scores (prepared for either capability). */
  CHECK_OK(model, eg_model_score_tokens(model, prompt, 6, &nats, &predicted));
  CHECK(predicted == 5 && nats < 0 && isfinite(nats));
  CHECK_STATUS(eg_model_score_tokens(NULL, prompt, 6, &nats, &predicted), EG_INVALID_ARGUMENT);
  eg_model_destroy(model);
  free(arena);
  model = open_prepared(bytes, EG_CAP_SCORE_TOKENS, &arena);
  CHECK_OK(model, eg_model_score_tokens(model, prompt, 6, &nats, &predicted));
  CHECK(predicted == 5 && nats < 0 && isfinite(nats));
  CHECK_OK(model, eg_model_score_tokens(model, prompt, 6, &nats, NULL));
  CHECK_STATUS(eg_model_score_tokens(model, prompt, 6, NULL, NULL), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_score_tokens(model, NULL, 6, &nats, NULL), EG_INVALID_ARGUMENT);
  /* What a token decoder does not do. */
  CHECK_STATUS(eg_model_sample(model, NULL, 1, (float*)tokens), EG_UNSUPPORTED_OP);
  eg_model_destroy(model);
  free(arena);
  free(bytes.data);
}

static void test_energy(void) {
  Bytes bytes = read_model("energy.egm");
  void* arena = NULL;
  eg_model* model = open_prepared(bytes, EG_CAP_NONE, &arena);
  size_t event = 0;
  const size_t count = 3;
  float items[3 * 2], scores[3];
  int kind = 0;
  CHECK_OK(model, eg_model_kind(model, &kind));
  CHECK(kind == EG_KIND_ENERGY);
  CHECK_OK(model, eg_model_event_size(model, &event));
  CHECK(event == 2);
  CHECK_OK(model, eg_model_sample(model, NULL, count, items));
  CHECK(all_finite(items, count * event));
  CHECK_OK(model, eg_model_score(model, NULL, items, count, scores));
  CHECK(all_finite(scores, count));
  eg_model_destroy(model);
  free(arena);
  free(bytes.data);
}

typedef struct Progress {
  size_t calls;
  size_t last_total;
  size_t cancel_at; /* 0: never */
} Progress;

static int on_progress(void* user, size_t step, size_t total, double elapsed_seconds) {
  Progress* progress = (Progress*)user;
  ++progress->calls;
  progress->last_total = total;
  (void)elapsed_seconds;
  return progress->cancel_at == 0 || step < progress->cancel_at;
}

static void test_diffusion(void) {
  Bytes bytes = read_model("diffusion.egm");
  void* arena = NULL;
  eg_model* model = open_prepared(bytes, EG_CAP_INPAINT, &arena);
  eg_sampling_options sampling;
  eg_diffusion_options diffusion;
  Progress progress = {0, 0, 0};
  size_t event = 0, i;
  const size_t count = 2;
  int32_t labels[2] = {3, -1};
  float *items, *again, *noise, *known, *mask;
  uint32_t caps = 0;
  int sampler = -1;
  CHECK_OK(model, eg_model_capabilities(model, &caps));
  CHECK((caps & (EG_CAP_SAMPLE | EG_CAP_INPAINT | EG_CAP_CLASS_CONDITIONAL)) ==
        (EG_CAP_SAMPLE | EG_CAP_INPAINT | EG_CAP_CLASS_CONDITIONAL));
  CHECK_OK(model, eg_model_event_size(model, &event));
  CHECK(event == 256);
  items = floats(count * event);
  again = floats(count * event);
  noise = floats(count * event);
  known = floats(count * event);
  mask = floats(count * event);
  for (i = 0; i < count * event; ++i) {
    noise[i] = (float)((int)(i % 7) - 3) / 3.f;
    known[i] = 0.5f;
    mask[i] = i % event < event / 2 ? 1.f : 0.f; /* keep the top half */
  }

  CHECK_STATUS(eg_sampler_from_name("euler", &sampler), EG_OK);
  CHECK(sampler == EG_SAMPLER_EULER);
  CHECK_STATUS(eg_sampler_from_name("no such sampler", &sampler), EG_INVALID_ARGUMENT);
  eg_diffusion_options_init(&diffusion);
  CHECK(diffusion.steps == 20 && diffusion.guidance == 1.f && diffusion.resample == 1);
  CHECK(diffusion.strength == 0.6f && diffusion.context == NULL && diffusion.init_image == NULL);
  diffusion.sampler = sampler;
  diffusion.steps = 3;
  diffusion.guidance = 2.f;
  diffusion.init_noise = noise;
  diffusion.progress = on_progress;
  diffusion.progress_user = &progress;
  eg_sampling_options_init(&sampling);
  sampling.seed = 5;
  sampling.labels = labels;
  sampling.diffusion = &diffusion;
  CHECK_OK(model, eg_model_sample(model, &sampling, count, items));
  CHECK(all_finite(items, count * event));
  CHECK(progress.calls >= 3 && progress.last_total >= 3);
  /* The same init noise gives the same items. */
  CHECK_OK(model, eg_model_sample(model, &sampling, count, again));
  CHECK(memcmp(items, again, count * event * sizeof(float)) == 0);

  /* In-painting keeps the known half. */
  diffusion.known = known;
  diffusion.mask = mask;
  diffusion.resample = 2;
  diffusion.init_noise = NULL;
  CHECK_OK(model, eg_model_sample(model, &sampling, count, items));
  for (i = 0; i < event / 2; ++i) CHECK(fabsf(items[i] - 0.5f) < 1e-4f);
  diffusion.mask = NULL;
  CHECK_STATUS(eg_model_sample(model, &sampling, count, items), EG_INVALID_ARGUMENT);
  diffusion.mask = mask;
  diffusion.resample = 0;
  CHECK_STATUS(eg_model_sample(model, &sampling, count, items), EG_INVALID_ARGUMENT);
  diffusion.resample = 1;
  diffusion.known = NULL;
  diffusion.mask = NULL;

  /* A cancelled sampler. */
  progress.calls = 0;
  progress.cancel_at = 1;
  CHECK_STATUS(eg_model_sample(model, &sampling, count, items), EG_CANCELLED);
  CHECK(progress.calls == 1);
  CHECK(strstr(eg_model_last_error(model), "cancel") != NULL);
  progress.cancel_at = 0;

  /* Bad diffusion options. */
  diffusion.sampler = 42;
  CHECK_STATUS(eg_model_sample(model, &sampling, count, items), EG_INVALID_ARGUMENT);
  diffusion.sampler = EG_SAMPLER_DDIM;
  diffusion.steps = 0;
  CHECK_STATUS(eg_model_sample(model, &sampling, count, items), EG_INVALID_ARGUMENT);
  diffusion.steps = 100000;
  CHECK_STATUS(eg_model_sample(model, &sampling, count, items), EG_INVALID_ARGUMENT);
  diffusion.steps = 2;
  diffusion.spacing = 9;
  CHECK_STATUS(eg_model_sample(model, &sampling, count, items), EG_INVALID_ARGUMENT);
  diffusion.spacing = EG_SPACING_LEADING;
  diffusion.struct_size = 16;
  CHECK_STATUS(eg_model_sample(model, &sampling, count, items), EG_INVALID_ARGUMENT);
  diffusion.struct_size = sizeof diffusion;
  diffusion.karras = 1;
  CHECK_OK(model, eg_model_sample(model, &sampling, count, items));
  CHECK_STATUS(eg_model_score(model, NULL, items, count, again), EG_UNSUPPORTED_OP);
  eg_model_destroy(model);
  free(arena);
  free(items);
  free(again);
  free(noise);
  free(known);
  free(mask);
  free(bytes.data);
}

/* A streaming graph: the state is carried from one eg_model_run to the next. */
static void test_carried_state(void) {
  Bytes bytes = read_model("streaming.egm");
  eg_model* model = NULL;
  size_t plain = 0, needed = 0, i;
  float x[4 * 5], first[4], second[4], again[4];
  CHECK_STATUS(eg_model_load(bytes.data, bytes.size, NULL, 0, &model), EG_OK);
  CHECK_STATUS(eg_model_carry_state(NULL, 0, "h0", "h"), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_carry_state(model, 0, NULL, "h"), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_carry_state(model, 0, "h0", NULL), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_carry_state(model, 1, "h0", "h"), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_carry_state(model, 0, "hx", "h"), EG_INVALID_ARGUMENT);
  CHECK(strstr(eg_model_last_error(model), "'hx'") != NULL);
  CHECK_STATUS(eg_model_carry_state(model, 0, "h0", "p"), EG_SHAPE_MISMATCH);
  CHECK_STATUS(eg_model_reset_state(model), EG_NOT_PREPARED);
  CHECK_OK(model, eg_model_arena_bytes(model, NULL, EG_CAP_NONE, &plain));
  CHECK_OK(model, eg_model_carry_state(model, 0, "h0", "h"));
  CHECK_STATUS(eg_model_carry_state(model, 0, "h0", "h"), EG_INVALID_ARGUMENT); /* paired twice */
  CHECK_OK(model, eg_model_arena_bytes(model, NULL, EG_CAP_NONE, &needed));
  CHECK(needed == plain + 64); /* the state: 8 floats in one 64-byte block */
  CHECK_OK(model, eg_model_prepare(model, NULL, 0, NULL, EG_CAP_NONE));
  for (i = 0; i < 20; ++i) x[i] = 0.1f * (float)i - 1.f;
  CHECK_OK(model, eg_model_set_input_by_name(model, 0, "x", x, sizeof x));
  CHECK_OK(model, eg_model_run(model, 0));
  CHECK_OK(model, eg_model_get_output_by_name(model, 0, "p", first, sizeof first));
  /* The same frames again: the state from the first run changes the answer. */
  CHECK_OK(model, eg_model_set_input_by_name(model, 0, "x", x, sizeof x));
  CHECK_OK(model, eg_model_run(model, 0));
  CHECK_OK(model, eg_model_get_output_by_name(model, 0, "p", second, sizeof second));
  CHECK(memcmp(first, second, sizeof first) != 0);
  /* A new stream starts from zeros: the first answer again. */
  CHECK_OK(model, eg_model_reset_state(model));
  CHECK_OK(model, eg_model_set_input_by_name(model, 0, "x", x, sizeof x));
  CHECK_OK(model, eg_model_run(model, 0));
  CHECK_OK(model, eg_model_get_output_by_name(model, 0, "p", again, sizeof again));
  CHECK(memcmp(first, again, sizeof first) == 0);
  eg_model_destroy(model);
  free(bytes.data);
}

/* A graphs-only model: no program, but its graphs run. */
static void test_graphs_only(void) {
  Bytes bytes = read_model("graphs.egm");
  eg_model* model = NULL;
  size_t needed = 0, graphs = 0, g, k, n;
  int kind = 0;
  uint32_t declared = 1, caps = 1;
  unsigned char* arena;
  float x[4] = {0, 0, 0, 0};
  CHECK_STATUS(eg_model_load(bytes.data, bytes.size, NULL, 0, &model), EG_OK);
  CHECK_OK(model, eg_model_kind(model, &kind));
  CHECK(kind == EG_KIND_GRAPHS_ONLY);
  CHECK_OK(model, eg_model_declared_capabilities(model, &declared));
  CHECK(declared == 0);
  CHECK_STATUS(eg_model_arena_bytes(model, NULL, EG_CAP_SAMPLE, &needed), EG_UNSUPPORTED_OP);
  CHECK_OK(model, eg_model_arena_bytes(model, NULL, EG_CAP_NONE, &needed));
  arena = malloc(needed);
  CHECK_STATUS(eg_model_prepare(model, arena, needed - 1, NULL, EG_CAP_NONE), EG_ARENA_TOO_SMALL);
  CHECK_OK(model, eg_model_prepare(model, arena, needed, NULL, EG_CAP_NONE));
  CHECK_OK(model, eg_model_capabilities(model, &caps));
  CHECK(caps == 0);
  CHECK_STATUS(eg_model_sample(model, NULL, 1, x), EG_NOT_PREPARED);
  CHECK_OK(model, eg_model_num_graphs(model, &graphs));
  CHECK(graphs >= 1);
  for (g = 0; g < graphs; ++g) {
    CHECK_OK(model, eg_model_num_inputs(model, g, &n));
    for (k = 0; k < n; ++k) {
      eg_tensor_info info;
      unsigned char* data;
      memset(&info, 0, sizeof info);
      info.struct_size = sizeof info;
      CHECK_OK(model, eg_model_input_info(model, g, k, &info));
      data = calloc(info.bytes + 1, 1);
      if (info.dtype == EG_FLOAT32) {
        size_t e;
        for (e = 0; e < info.bytes / 4; ++e) ((float*)data)[e] = 0.25f + (float)e * 0.01f;
      }
      CHECK_STATUS(eg_model_set_input(model, g, k, data, info.bytes + 1), EG_SHAPE_MISMATCH);
      CHECK_OK(model, eg_model_set_input(model, g, k, data, info.bytes));
      free(data);
    }
    CHECK_OK(model, eg_model_run(model, g));
    CHECK_OK(model, eg_model_num_outputs(model, g, &n));
    for (k = 0; k < n; ++k) {
      eg_tensor_info info;
      unsigned char* data;
      memset(&info, 0, sizeof info);
      info.struct_size = sizeof info;
      CHECK_OK(model, eg_model_output_info(model, g, k, &info));
      data = calloc(info.bytes + 1, 1);
      CHECK_OK(model, eg_model_get_output(model, g, k, data, info.bytes));
      if (info.dtype == EG_FLOAT32) CHECK(all_finite((const float*)data, info.bytes / 4));
      free(data);
    }
  }
  eg_model_destroy(model);
  free(arena);
  free(bytes.data);
}

/* The older decoder/VAE calls: unchanged, and safe with NULL. */
static void test_pipeline_api(void) {
  Bytes gan = read_model("gan.egm");
  eg_pipeline* pipeline = NULL;
  size_t needed = 0;
  char error[256] = "";
  unsigned char* arena;
  eg_pipeline_options options;
  int64_t dims[4];
  float low = 0, high = 0, z0[64], z1[64], mid[64], items[2 * 256], latents[2 * 64], mean[64];
  size_t i;
  CHECK(eg_pipeline_latent_size(NULL) == 0);
  CHECK(eg_pipeline_item_size(NULL) == 0);
  CHECK(eg_pipeline_item_shape(NULL, dims, 4) == 0);
  eg_pipeline_output_range(NULL, &low, &high);
  eg_interpolate_latents(NULL, NULL, 4, 0.5f, EG_INTERPOLATE_LINEAR, NULL);
  CHECK(strcmp(eg_pipeline_last_error(NULL), "") == 0);
  eg_pipeline_destroy(NULL);
  CHECK_STATUS(eg_pipeline_arena_bytes(gan.data, gan.size, NULL), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_pipeline_create(gan.data, gan.size, NULL, NULL), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_pipeline_sample(NULL, 1, 1.f, 1, items, NULL), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_pipeline_decode(NULL, latents, 1, items), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_pipeline_encode(NULL, items, 1, mean, NULL), EG_INVALID_ARGUMENT);

  CHECK_STATUS(eg_pipeline_arena_bytes(gan.data, gan.size, &needed), EG_OK);
  arena = aligned_alloc(64, (needed + 63) / 64 * 64);
  memset(&options, 0, sizeof options);
  options.struct_size = sizeof options;
  options.arena = arena;
  options.arena_bytes = needed - 1;
  options.error_message = error;
  options.error_capacity = sizeof error;
  /* eg_pipeline_arena_bytes sizes for the default backend (as the firmware
   * demo uses it): one byte short of that is refused. */
  options.backend = EG_BACKEND_AUTO;
  options.threads = 1;
  CHECK_STATUS(eg_pipeline_create(gan.data, gan.size, &options, &pipeline), EG_ARENA_TOO_SMALL);
  CHECK(pipeline == NULL && strlen(error) > 0);
  options.arena_bytes = needed;
  CHECK_STATUS(eg_pipeline_create(gan.data, gan.size, &options, &pipeline), EG_OK);
  CHECK(eg_pipeline_latent_size(pipeline) == 64 && eg_pipeline_item_size(pipeline) == 256);
  CHECK(eg_pipeline_item_shape(pipeline, dims, 4) == 3 && dims[1] == 16);
  CHECK(eg_pipeline_item_shape(pipeline, NULL, 4) == 3);
  eg_pipeline_output_range(pipeline, &low, &high);
  CHECK(low == -1.f && high == 1.f);
  eg_pipeline_output_range(pipeline, NULL, NULL);
  CHECK_STATUS(eg_pipeline_sample(pipeline, 1, 1.f, 2, items, latents), EG_OK);
  CHECK_STATUS(eg_pipeline_decode(pipeline, latents, 1, items + 256), EG_OK);
  CHECK(memcmp(items, items + 256, 256 * sizeof(float)) == 0);
  CHECK_STATUS(eg_pipeline_encode(pipeline, items, 1, mean, NULL), EG_UNSUPPORTED_OP);
  CHECK(strlen(eg_pipeline_last_error(pipeline)) > 0);
  for (i = 0; i < 64; ++i) {
    z0[i] = (float)i;
    z1[i] = -(float)i;
  }
  eg_interpolate_latents(z0, z1, 64, 0.5f, EG_INTERPOLATE_LINEAR, mid);
  CHECK(mid[10] == 0.f);
  eg_pipeline_destroy(pipeline);
  free(arena);
  free(gan.data);
}

static void test_vocoder(void) {
  /* examples/vocoder (80 mels, hop 256, 22050 Hz), batch 2: 150 frames take
   * several windows, two per graph run. */
  enum { kMels = 80, kFrames = 150, kHop = 256 };
  Bytes bytes = read_model("vocoder.egm");
  Bytes gan_bytes = read_model("gan.egm");
  void* arena = NULL;
  eg_model* model = open_prepared(bytes, EG_CAP_VOCODE, &arena);
  float* mel = floats(kMels * kFrames);
  float* audio = floats(kFrames * kHop);
  float* again = floats(kFrames * kHop);
  uint32_t caps = 0, rate = 0;
  size_t mels = 0, hop = 0, i;
  int kind = 0;
  for (i = 0; i < (size_t)kMels * kFrames; ++i) mel[i] = -6.f + 3.f * sinf(0.05f * (float)i);
  CHECK_OK(model, eg_model_kind(model, &kind));
  CHECK(kind == EG_KIND_VOCODER);
  CHECK(strcmp(eg_pipeline_kind_name(EG_KIND_VOCODER), "vocoder") == 0);
  CHECK_OK(model, eg_model_capabilities(model, &caps));
  CHECK(caps == EG_CAP_VOCODE);
  CHECK_OK(model, eg_model_audio_format(model, &rate, &mels, &hop));
  CHECK(rate == 22050 && mels == kMels && hop == kHop);
  CHECK_OK(model, eg_model_audio_format(model, NULL, NULL, NULL));
  CHECK_OK(model, eg_model_vocode(model, mel, kFrames, audio));
  CHECK(all_finite(audio, kFrames * kHop));
  /* Deterministic: the same call gives the same bits. */
  CHECK_OK(model, eg_model_vocode(model, mel, kFrames, again));
  CHECK(memcmp(audio, again, sizeof(float) * kFrames * kHop) == 0);
  /* NULLs and no frames. */
  CHECK_STATUS(eg_model_vocode(NULL, mel, kFrames, audio), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_vocode(model, NULL, kFrames, audio), EG_INVALID_ARGUMENT);
  CHECK(strstr(eg_model_last_error(model), "eg_model_vocode: mel is NULL") != NULL);
  CHECK_STATUS(eg_model_vocode(model, mel, kFrames, NULL), EG_INVALID_ARGUMENT);
  CHECK_STATUS(eg_model_vocode(model, mel, 0, audio), EG_INVALID_ARGUMENT);
  CHECK(strstr(eg_model_last_error(model), "frames") != NULL);
  CHECK_STATUS(eg_model_audio_format(NULL, &rate, &mels, &hop), EG_INVALID_ARGUMENT);
  /* What a vocoder does not do, and a GAN cannot vocode. */
  CHECK_STATUS(eg_model_sample(model, NULL, 1, audio), EG_UNSUPPORTED_OP);
  eg_model_destroy(model);
  free(arena);
  model = open_prepared(gan_bytes, EG_CAP_NONE, &arena);
  CHECK_STATUS(eg_model_vocode(model, mel, kFrames, audio), EG_UNSUPPORTED_OP);
  CHECK_OK(model, eg_model_audio_format(model, &rate, &mels, &hop));
  CHECK(rate == 0 && mels == 0 && hop == 0);
  eg_model_destroy(model);
  free(arena);
  free(mel);
  free(audio);
  free(again);
  free(bytes.data);
  free(gan_bytes.data);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s MODELS_DIR\n", argv[0]);
    return 2;
  }
  models_dir = argv[1];
  test_status_strings();
  test_bad_model_bytes();
  test_null_arguments();
  test_decoder_and_graphs();
  test_pipeline_api();
  test_vae();
  test_flow_and_threshold();
  test_autoregressive_impute();
  test_energy();
  test_token_decoder();
  test_vocoder();
  test_diffusion();
  test_graphs_only();
  test_carried_state();
  printf("c_api_test: %d checks, %d failed\n", checks, failures);
  return failures == 0 ? 0 : 1;
}
