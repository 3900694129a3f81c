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

/* Bytes of arena eg_pipeline_create needs for this model (verifies it) with
 * the default backend (EG_BACKEND_AUTO: XNNPACK where built in, which needs
 * more than the reference backend). For other options use
 * eg_model_arena_bytes, or create once without an arena. */
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
/* The size queries return 0 for a NULL pipeline; item_shape writes nothing
 * when dims is NULL. */
/* [low, high] range of generated values (NULL pointers are skipped). */
void eg_pipeline_output_range(const eg_pipeline* pipeline, float* low, float* high);

/* Draws `count` latents (seeded, platform-independent) and decodes them into
 * `items` (count * item_size floats). `latents` may be NULL. */
eg_status eg_pipeline_sample(eg_pipeline* pipeline, uint64_t seed, float temperature, size_t count, float* items,
                             float* latents);
eg_status eg_pipeline_decode(eg_pipeline* pipeline, const float* latents, size_t count, float* items);
/* VAE only: posterior mean (and log-variance, if not NULL). */
eg_status eg_pipeline_encode(eg_pipeline* pipeline, const float* items, size_t count, float* mean, float* logvar);

void eg_interpolate_latents(const float* z0, const float* z1, size_t size, float t, eg_interpolation kind, float* out);

/* ------------------------------------------------------------------------
 * The model handle: every pipeline kind, over edgegen::Module / Program.
 *
 *   eg_model* model;
 *   eg_model_load(bytes, size, NULL, 0, &model);          verifies the bytes
 *   eg_model_arena_bytes(model, &run_options, EG_CAP_SCORE, &bytes);
 *   eg_model_prepare(model, arena, bytes, &run_options, EG_CAP_SCORE);
 *   eg_model_score(model, NULL, rows, count, log_likelihood);
 *   eg_model_destroy(model);
 *
 * Every function returns a status (or, for the few that cannot fail, says
 * what it returns for NULL) and checks its pointers and sizes before use:
 * it never dereferences a NULL. The message of the last failure on a handle
 * is eg_model_last_error(). Float buffers hold `count` items of the sizes
 * eg_model_event_size() / eg_model_latent_size() report.
 * ------------------------------------------------------------------------ */

/* A short description of a status, e.g. "cancelled"; never NULL. */
const char* eg_status_string(eg_status status);

/* Same values as edgegen::PipelineKind. */
typedef enum eg_pipeline_kind {
  EG_KIND_GRAPHS_ONLY = 1,
  EG_KIND_DECODER = 2,
  EG_KIND_VAE = 3,
  EG_KIND_FLOW = 4,
  EG_KIND_DIFFUSION = 5,
  EG_KIND_AUTOREGRESSIVE = 6,
  EG_KIND_ENERGY = 7,
  EG_KIND_TOKEN_DECODER = 8,
  EG_KIND_VOCODER = 9
} eg_pipeline_kind;
/* "decoder", "vae", ...; "unknown" for anything else. */
const char* eg_pipeline_kind_name(int kind);

/* Capability bits (same values as edgegen::Capability). */
enum {
  EG_CAP_NONE = 0,
  EG_CAP_SAMPLE = 1u << 0,
  EG_CAP_DECODE = 1u << 1,
  EG_CAP_ENCODE = 1u << 2,
  EG_CAP_INTERPOLATE = 1u << 3,
  EG_CAP_SCORE = 1u << 4,
  EG_CAP_IMPUTE = 1u << 5,
  EG_CAP_INPAINT = 1u << 6,
  EG_CAP_CLASS_CONDITIONAL = 1u << 7,
  EG_CAP_GENERATE = 1u << 8,     /* token decoders: eg_model_generate */
  EG_CAP_SCORE_TOKENS = 1u << 9,   /* token decoders: eg_model_score_tokens */
  EG_CAP_VOCODE = 1u << 10,        /* vocoders: eg_model_vocode */
  EG_CAP_IMAGE_TO_IMAGE = 1u << 11 /* diffusion: sample from eg_diffusion_options.init_image (SDEdit) */
};

/* Same values as edgegen::DType. */
typedef enum eg_dtype {
  EG_FLOAT32 = 0,
  EG_FLOAT16 = 1,
  EG_INT8 = 2,
  EG_UINT8 = 3,
  EG_INT32 = 4,
  EG_INT64 = 5,
  EG_BOOL = 6
} eg_dtype;

typedef struct eg_model eg_model;

/* Options of eg_model_arena_bytes / eg_model_prepare. NULL: the defaults. */
typedef struct eg_run_options {
  size_t struct_size; /* sizeof(eg_run_options) */
  int backend;        /* an eg_backend */
  int threads;        /* XNNPACK worker threads; 0: the performance cores */
} eg_run_options;

/* Bytes of caller storage eg_model_load needs for the handle itself. */
size_t eg_model_handle_bytes(void);

/* Verifies `data` (borrowed: the 64-byte aligned bytes of a .egm file,
 * unchanged while the handle lives) and makes a handle. `storage` (borrowed,
 * at least eg_model_handle_bytes() bytes, any alignment) holds the handle;
 * NULL: it is allocated with malloc. Fails with EG_INVALID_MODEL (etc.) on
 * bad bytes; *out_model is then NULL (eg_model_verify says why). */
eg_status eg_model_load(const void* data, size_t size, void* storage, size_t storage_bytes, eg_model** out_model);
/* Verifies `data` as eg_model_load does, without making a handle, and says
 * why it fails: the message (e.g. "graph 'decoder': tensor 7 ...") is written
 * NUL-terminated into `message` (`capacity` bytes, truncated to fit; "" on
 * success). `message` may be NULL when `capacity` is 0. Use it to check a
 * model received over the air before replacing the one in flash. */
eg_status eg_model_verify(const void* data, size_t size, char* message, size_t capacity);
/* Releases what the handle owns (not the caller's storage, bytes or arena). NULL: nothing. */
void eg_model_destroy(eg_model* model);
/* The message of the last failed call on this handle; "" if none or NULL. */
const char* eg_model_last_error(const eg_model* model);

/* The kind the file declares (an eg_pipeline_kind). */
eg_status eg_model_kind(const eg_model* model, int* out_kind);
/* OR of the EG_CAP_ bits the classes of this kind can offer (a prepared
 * model may offer less: see eg_model_capabilities). */
eg_status eg_model_declared_capabilities(const eg_model* model, uint32_t* out_capabilities);
/* The batch the model was converted for. */
eg_status eg_model_batch(const eg_model* model, size_t* out_batch);

/* Graphs and their inputs and outputs, from the verified file (no prepare needed). */
eg_status eg_model_num_graphs(const eg_model* model, size_t* out_count);
eg_status eg_model_graph_name(const eg_model* model, size_t graph, const char** out_name);
/* EG_INVALID_ARGUMENT when there is no graph called `name`. */
eg_status eg_model_find_graph(const eg_model* model, const char* name, size_t* out_graph);

typedef struct eg_tensor_info {
  size_t struct_size; /* sizeof(eg_tensor_info), set by the caller */
  const char* name;   /* borrowed from the model bytes */
  int dtype;          /* an eg_dtype */
  int rank;
  int64_t dims[8];    /* the first `rank` are set */
  size_t bytes;       /* of the whole tensor, batch included */
} eg_tensor_info;
eg_status eg_model_num_inputs(const eg_model* model, size_t graph, size_t* out_count);
eg_status eg_model_num_outputs(const eg_model* model, size_t graph, size_t* out_count);
eg_status eg_model_input_info(const eg_model* model, size_t graph, size_t index, eg_tensor_info* out_info);
eg_status eg_model_output_info(const eg_model* model, size_t graph, size_t index, eg_tensor_info* out_info);

/* Arena bytes eg_model_prepare needs for the same options and capability
 * (EG_CAP_NONE: the kind's first program; for a graphs-only model, a plain
 * session that runs graphs). */
eg_status eg_model_arena_bytes(eg_model* model, const eg_run_options* options, uint32_t capability,
                               size_t* out_bytes);
/* Prepares the program of the model's kind that offers `capability` (one
 * EG_CAP_ bit, or EG_CAP_NONE; anything else is EG_INVALID_ARGUMENT) in
 * `arena` (borrowed, any alignment; it must outlive the handle and the next
 * eg_model_prepare, which destroys the program placed in it), or, with a
 * NULL arena, in one block allocated once. EG_ARENA_TOO_SMALL when
 * arena_bytes is less than eg_model_arena_bytes for the same options and
 * capability, at any alignment of the arena; EG_UNSUPPORTED_OP when the kind
 * does not offer the capability. Preparing again replaces the program.
 * EG_INVALID_ARGUMENT (bad options or capability) changes nothing; any other
 * failure leaves the handle unprepared (calls then return EG_NOT_PREPARED). */
eg_status eg_model_prepare(eg_model* model, void* arena, size_t arena_bytes, const eg_run_options* options,
                           uint32_t capability);

/* After prepare: what the program offers, and its item and latent shapes
 * (without the batch dimension). The shape calls write up to `capacity`
 * dims and the rank to *out_rank. */
eg_status eg_model_capabilities(const eg_model* model, uint32_t* out_capabilities);
eg_status eg_model_event_size(const eg_model* model, size_t* out_floats);
eg_status eg_model_event_shape(const eg_model* model, int64_t* dims, int capacity, int* out_rank);
eg_status eg_model_latent_size(const eg_model* model, size_t* out_floats);

/* Running one graph of a prepared model. Inputs are copied in, outputs
 * copied out, in the file's layout (NCHW); `bytes` must equal the tensor's
 * (EG_SHAPE_MISMATCH otherwise). Running a graph overwrites the outputs of
 * the one run before, and a pipeline call overwrites them too. */
eg_status eg_model_set_input(eg_model* model, size_t graph, size_t index, const void* data, size_t bytes);
eg_status eg_model_set_input_by_name(eg_model* model, size_t graph, const char* name, const void* data, size_t bytes);
eg_status eg_model_run(eg_model* model, size_t graph);
eg_status eg_model_get_output(eg_model* model, size_t graph, size_t index, void* data, size_t bytes);
eg_status eg_model_get_output_by_name(eg_model* model, size_t graph, const char* name, void* data, size_t bytes);

/* Streaming graphs (graphs-only models, prepared with EG_CAP_NONE): before
 * eg_model_arena_bytes and eg_model_prepare, declares that state input
 * `input` of `graph` is fed from its output `output` of the run before. The
 * state is kept in the arena between eg_model_run calls (they then leave
 * the state inputs alone: set only the other inputs); it is zero after
 * prepare and after eg_model_reset_state (a new stream). One graph, at most
 * 32 pairs; a pair that does not fit the graph (unknown name, different
 * dtype or shape, already paired) is EG_INVALID_ARGUMENT / EG_SHAPE_MISMATCH. */
eg_status eg_model_carry_state(eg_model* model, size_t graph, const char* input, const char* output);
eg_status eg_model_reset_state(eg_model* model);

/* Diffusion samplers (same values as edgegen::SamplerKind). */
typedef enum eg_sampler {
  EG_SAMPLER_DDIM = 0,
  EG_SAMPLER_EULER = 1,
  EG_SAMPLER_EULER_ANCESTRAL = 2,
  EG_SAMPLER_HEUN = 3,
  EG_SAMPLER_DPMPP_2M = 4,
  EG_SAMPLER_DPMPP_3M = 5,
  EG_SAMPLER_DDPM = 6,
  EG_SAMPLER_LCM = 7
} eg_sampler;
/* "ddim", "euler", "euler_a", "heun", "dpmpp_2m", "dpmpp_3m", "ddpm", "lcm". */
eg_status eg_sampler_from_name(const char* name, int* out_sampler);

typedef enum eg_timestep_spacing { EG_SPACING_LEADING = 0, EG_SPACING_TRAILING = 1, EG_SPACING_LINSPACE = 2 } eg_timestep_spacing;

/* Called after each sampler step; return 0 to cancel (the call then fails
 * with EG_CANCELLED), nonzero to go on. */
typedef int (*eg_progress_fn)(void* user, size_t step, size_t total, double elapsed_seconds);

/* Diffusion settings; eg_diffusion_options_init fills the defaults. */
typedef struct eg_diffusion_options {
  size_t struct_size; /* sizeof(eg_diffusion_options) */
  int sampler;        /* an eg_sampler (default DPM-Solver++(2M)) */
  size_t steps;       /* 1 .. 1000 (default 20) */
  int spacing;        /* an eg_timestep_spacing (default trailing) */
  int karras;         /* nonzero: Karras sigmas */
  float eta;          /* DDIM only */
  float guidance;     /* classifier-free guidance scale; 1 = none */
  const float* init_noise; /* borrowed, optional: x_T, count * sample floats */
  const float* known; /* borrowed, optional in-painting values, count * event floats */
  const float* mask;  /* borrowed, with known: 1 = keep */
  int resample;       /* in-painting resampling (>= 1) */
  eg_progress_fn progress; /* optional */
  void* progress_user;
  /* Appended (latent diffusion); a caller built against the older struct
   * (a smaller struct_size) gets the defaults for these. */
  const float* context;    /* borrowed, optional: count * tokens * dim floats for a context model */
  const float* unconditional_context; /* borrowed, optional: tokens * dim; NULL = the model's */
  const float* init_image; /* borrowed, optional: image-to-image, count * event floats in the output range */
  float strength;          /* image-to-image: 0 (the picture) .. 1 (noise); default 0.6 */
} eg_diffusion_options;
void eg_diffusion_options_init(eg_diffusion_options* options);

/* Settings of sample and impute; NULL: seed 0, temperature 1. */
typedef struct eg_sampling_options {
  size_t struct_size;  /* sizeof(eg_sampling_options) */
  uint64_t seed;
  float temperature;   /* latent noise scale; autoregressive: logits / T */
  uint32_t top_k;      /* autoregressive categorical: 0 = all values */
  float* latents;      /* decoder, vae: receives count * latent floats; optional */
  const int32_t* labels; /* diffusion: class per item (-1 = null class); optional */
  const eg_diffusion_options* diffusion; /* optional; NULL = defaults */
} eg_sampling_options;
void eg_sampling_options_init(eg_sampling_options* options);

typedef enum eg_vae_bound { EG_BOUND_ELBO = 0, EG_BOUND_IWAE = 1 } eg_vae_bound;
/* Settings of score; NULL: IWAE with 16 samples, seed 0. */
typedef struct eg_scoring_options {
  size_t struct_size; /* sizeof(eg_scoring_options) */
  int bound;          /* VAE: an eg_vae_bound */
  size_t samples;     /* VAE: posterior samples per item (>= 1) */
  uint64_t seed;      /* VAE */
} eg_scoring_options;
void eg_scoring_options_init(eg_scoring_options* options);

/* The pipeline calls below check, in this order: the handle (NULL:
 * EG_INVALID_ARGUMENT), a prepared program (EG_NOT_PREPARED), that the
 * program offers the operation (EG_UNSUPPORTED_OP, whatever the buffers: a
 * decoder asked to encode says so even with NULL buffers), then the buffers,
 * sizes and options (EG_INVALID_ARGUMENT). A count of 0 with NULL buffers is
 * a successful no-op. */

/* `count` new items (count * event floats). */
eg_status eg_model_sample(eg_model* model, const eg_sampling_options* options, size_t count, float* items);
/* Latents (count * latent floats) -> items. */
eg_status eg_model_decode(eg_model* model, const float* latents, size_t count, float* items);
/* Items -> posterior mean and log-variance (count * latent floats each; logvar optional). */
eg_status eg_model_encode(eg_model* model, const float* items, size_t count, float* mean, float* logvar);
/* `count` (>= 2) items along the path from latent z0 to z1, t = i / (count - 1):
 * `latents` (count * latent floats) receives the path, `items` its decoding. */
eg_status eg_model_interpolate(eg_model* model, const float* z0, const float* z1, eg_interpolation kind,
                               size_t count, float* latents, float* items);
/* Log-likelihood in nats (a bound for a vae, -energy for an energy model) of
 * `count` items into log_likelihood[count]. */
eg_status eg_model_score(eg_model* model, const eg_scoring_options* options, const float* items, size_t count,
                         float* log_likelihood);
/* Fills the NaN entries of `count` items in place. */
eg_status eg_model_impute(eg_model* model, const eg_sampling_options* options, size_t count, float* items);

/* --- Token decoders (kind "token_decoder") ------------------------------
 * Prepare with EG_CAP_GENERATE (or EG_CAP_SCORE_TOKENS); the KV cache lives
 * in the arena. Tokens are int32 ids in [0, vocab). */

/* How each token is chosen (edgegen::TokenSamplingOptions): repetition
 * penalty, temperature (0 = greedy), top-k, min-p, top-p, then a draw with
 * Philox uniform i of `seed` for position i (the same tokens at any thread
 * count). eg_generate_options_init: greedy, top_p 1, penalty 1. */
typedef struct eg_generate_options {
  size_t struct_size;        /* sizeof(eg_generate_options) */
  float temperature;         /* >= 0; 0 = greedy */
  uint32_t top_k;            /* 0 = all */
  float top_p;               /* (0, 1] */
  float min_p;               /* [0, 1] */
  float repetition_penalty;  /* > 0; 1 = none */
  uint64_t seed;
} eg_generate_options;
void eg_generate_options_init(eg_generate_options* options);

/* Called with each generated token and its position in the sequence (prompt
 * included); return 0 to stop (the call then returns EG_CANCELLED after
 * the tokens so far), nonzero to go on. */
typedef int (*eg_token_fn)(void* user, int32_t token, size_t position);

/* Why generation stopped (edgegen::StopReason). */
typedef enum eg_stop_reason {
  EG_STOP_TOKEN_COUNT = 0, /* max_new_tokens generated */
  EG_STOP_EOS = 1,         /* the model chose its eos token (not passed to the callback) */
  EG_STOP_MAX_LENGTH = 2,  /* the cache is full */
  EG_STOP_CANCELLED = 3    /* the callback returned 0 */
} eg_stop_reason;

/* Generates up to `max_new_tokens` tokens after `prompt` (at least one
 * token; NULL options: greedy). `on_token` may be NULL; `tokens_out`
 * (optional, capacity max_new_tokens) receives them too. `out_generated`
 * and `out_reason` (both optional) say how many and why it stopped. A
 * cancel returns EG_CANCELLED. */
eg_status eg_model_generate(eg_model* model, const int32_t* prompt, size_t prompt_count, size_t max_new_tokens,
                            const eg_generate_options* options, eg_token_fn on_token, void* user,
                            int32_t* tokens_out, size_t* out_generated, int* out_reason);
/* The log-likelihood in nats of `tokens` (each given the earlier ones;
 * windows of max_length for a longer sequence) and the number of tokens
 * predicted (optional). */
eg_status eg_model_score_tokens(eg_model* model, const int32_t* tokens, size_t count, double* out_nats,
                                size_t* out_predicted);

/* Audio (issue 14). The sample rate of the waveforms a prepared program
 * writes (a vocoder's, or a decoder/vae whose items are waveforms; 0 when
 * they are not audio), and a vocoder's mel channels and samples per frame
 * (0 for other kinds). */
eg_status eg_model_audio_format(const eg_model* model, uint32_t* out_sample_rate, size_t* out_mel_channels,
                                size_t* out_hop_length);
/* Prepare with EG_CAP_VOCODE. The waveform of `frames` (>= 1) conditioning
 * frames `mel` laid out [mel_channels, frames] into `audio` (frames *
 * hop_length floats); any length runs in overlapping windows of the frames
 * the model was converted for, without allocating. */
eg_status eg_model_vocode(eg_model* model, const float* mel, size_t frames, float* audio);

/* The anomaly threshold the command line's --fit-threshold stores: the
 * `fpr`-quantile (0 <= fpr <= 1) of the log-likelihoods of normal items
 * (element floor(fpr * count) of the sorted scores); a row scoring below it
 * is flagged. Sorts `scores` in place. EG_INVALID_ARGUMENT for NULL
 * pointers, count 0, a NaN score or fpr outside [0, 1]. */
eg_status eg_fit_threshold(float* scores, size_t count, double fpr, double* out_threshold);

#ifdef __cplusplus
}
#endif

#endif /* EDGEGEN_EDGEGEN_H_ */
