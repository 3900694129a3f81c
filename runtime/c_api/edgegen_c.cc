// The C API over Model + Pipeline. The handle lives at the start of the
// arena, so a caller-provided arena means no heap use at all.
#include "edgegen/edgegen.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include "core/arena_allocator.h"
#include "core/memory_planner.h"
#include "edgegen/data_model.h"
#include "edgegen/model.h"
#include "edgegen/pipeline.h"

struct eg_pipeline {
  edgegen::Model model;
  edgegen::Pipeline pipeline;
  void* owned_block = nullptr;  // owned when the caller gave no arena
  char last_error[edgegen::Status::kMaxMessage] = "";
};

namespace {

constexpr size_t kHandleBytes = (sizeof(eg_pipeline) + edgegen::kArenaAlignment - 1) / edgegen::kArenaAlignment *
                                edgegen::kArenaAlignment + edgegen::kArenaAlignment;
// The host tool sizes a device's arena with this figure (edgegen/data_model.h).
#if !defined(EDGEGEN_DATA_MODEL_PROBE)
static_assert(kHandleBytes == edgegen::kHostDataModel.c_pipeline_handle_bytes,
              "eg_pipeline changed size: update edgegen/data_model.h (scripts/data-model-sizes.sh)");
#endif

eg_status to_c(const edgegen::Status& status) { return static_cast<eg_status>(status.code()); }

eg_status remember(eg_pipeline* pipeline, const edgegen::Status& status) {
  if (!status.is_ok()) std::snprintf(pipeline->last_error, sizeof pipeline->last_error, "%s", status.message());
  return to_c(status);
}

void report(const eg_pipeline_options* options, const edgegen::Status& status) {
  if (options != nullptr && options->struct_size >= sizeof(eg_pipeline_options) && options->error_message != nullptr &&
      options->error_capacity > 0)
    std::snprintf(options->error_message, options->error_capacity, "%s", status.message());
}

}  // namespace

extern "C" {

const char* eg_status_name(eg_status status) {
  return edgegen::status_code_name(static_cast<edgegen::StatusCode>(status));
}

eg_status eg_pipeline_arena_bytes(const void* model_data, size_t model_size, size_t* out_bytes) {
  if (out_bytes == nullptr) return EG_INVALID_ARGUMENT;
  edgegen::Result<edgegen::Model> model = edgegen::Model::from_buffer(model_data, model_size);
  if (!model.ok()) return to_c(model.status());
  edgegen::Result<size_t> bytes = edgegen::Pipeline::arena_bytes_needed(*model);
  if (!bytes.ok()) return to_c(bytes.status());
  *out_bytes = kHandleBytes + *bytes;
  return EG_OK;
}

eg_status eg_pipeline_create(const void* model_data, size_t model_size, const eg_pipeline_options* options,
                             eg_pipeline** out_pipeline) {
  using edgegen::Status;
  using edgegen::StatusCode;
  if (out_pipeline == nullptr) return EG_INVALID_ARGUMENT;
  *out_pipeline = nullptr;
  // Older callers may pass a shorter struct: only the fields it has are read.
  if (options != nullptr && options->struct_size < offsetof(eg_pipeline_options, error_message))
    return EG_INVALID_ARGUMENT;
  edgegen::Result<edgegen::Model> model = edgegen::Model::from_buffer(model_data, model_size);
  if (!model.ok()) {
    report(options, model.status());
    return to_c(model.status());
  }
  edgegen::SessionOptions session_options;
  if (options != nullptr && options->struct_size >= offsetof(eg_pipeline_options, threads) + sizeof(int)) {
    if (options->backend < EG_BACKEND_AUTO || options->backend > EG_BACKEND_XNNPACK || options->threads < 0) {
      Status status = Status::error(StatusCode::kInvalidArgument, "unknown backend %d or negative threads %d",
                                    options->backend, options->threads);
      report(options, status);
      return to_c(status);
    }
    session_options.backend = static_cast<edgegen::Backend>(options->backend);
    session_options.threads = options->threads;
  }
  edgegen::Result<size_t> pipeline_bytes = edgegen::Pipeline::arena_bytes_needed(*model, session_options);
  if (!pipeline_bytes.ok()) {
    report(options, pipeline_bytes.status());
    return to_c(pipeline_bytes.status());
  }
  const size_t needed = kHandleBytes + *pipeline_bytes;
  void* arena = options ? options->arena : nullptr;
  size_t arena_bytes = options ? options->arena_bytes : 0;
  void* owned = nullptr;
  if (arena == nullptr) {
    owned = std::malloc(needed);
    if (owned == nullptr) {
      Status status = Status::error(StatusCode::kOutOfMemory, "cannot allocate a %zu-byte arena", needed);
      report(options, status);
      return to_c(status);
    }
    arena = owned;
    arena_bytes = needed;
  }
  if (arena_bytes < needed) {
    Status status = Status::error(StatusCode::kArenaTooSmall, "the arena has %zu bytes but this model needs %zu",
                                  arena_bytes, needed);
    report(options, status);
    return to_c(status);
  }
  uint8_t* base = reinterpret_cast<uint8_t*>(edgegen::align_up(reinterpret_cast<uintptr_t>(arena), 64));
  eg_pipeline* handle = new (base) eg_pipeline();
  handle->model = *model;
  handle->owned_block = owned;
  uint8_t* rest = base + kHandleBytes - edgegen::kArenaAlignment;
  size_t rest_bytes = arena_bytes - static_cast<size_t>(rest - static_cast<uint8_t*>(arena));
  Status status = handle->pipeline.prepare(handle->model, rest, rest_bytes, session_options);
  if (!status.is_ok()) {
    report(options, status);
    handle->~eg_pipeline();
    std::free(owned);
    return to_c(status);
  }
  *out_pipeline = handle;
  return EG_OK;
}

void eg_pipeline_destroy(eg_pipeline* pipeline) {
  if (pipeline == nullptr) return;
  void* owned = pipeline->owned_block;
  pipeline->~eg_pipeline();
  std::free(owned);
}

const char* eg_pipeline_last_error(const eg_pipeline* pipeline) { return pipeline ? pipeline->last_error : ""; }

size_t eg_pipeline_latent_size(const eg_pipeline* pipeline) { return pipeline ? pipeline->pipeline.latent_size() : 0; }
size_t eg_pipeline_item_size(const eg_pipeline* pipeline) { return pipeline ? pipeline->pipeline.item_size() : 0; }

int eg_pipeline_item_shape(const eg_pipeline* pipeline, int64_t* dims, int capacity) {
  if (pipeline == nullptr) return 0;
  const edgegen::Shape& shape = pipeline->pipeline.item_shape();
  if (dims == nullptr) capacity = 0;
  for (int i = 0; i < shape.rank && i < capacity; ++i) dims[i] = shape.dims[i];
  return shape.rank;
}

void eg_pipeline_output_range(const eg_pipeline* pipeline, float* low, float* high) {
  if (pipeline == nullptr) return;
  if (low != nullptr) *low = pipeline->pipeline.output_low();
  if (high != nullptr) *high = pipeline->pipeline.output_high();
}

eg_status eg_pipeline_sample(eg_pipeline* pipeline, uint64_t seed, float temperature, size_t count, float* items,
                             float* latents) {
  if (pipeline == nullptr || (items == nullptr && count > 0)) return EG_INVALID_ARGUMENT;
  return remember(pipeline, pipeline->pipeline.sample(seed, temperature, count, items, latents));
}

eg_status eg_pipeline_decode(eg_pipeline* pipeline, const float* latents, size_t count, float* items) {
  if (pipeline == nullptr || ((latents == nullptr || items == nullptr) && count > 0)) return EG_INVALID_ARGUMENT;
  return remember(pipeline, pipeline->pipeline.decode(latents, count, items));
}

eg_status eg_pipeline_encode(eg_pipeline* pipeline, const float* items, size_t count, float* mean, float* logvar) {
  if (pipeline == nullptr || ((items == nullptr || mean == nullptr) && count > 0)) return EG_INVALID_ARGUMENT;
  return remember(pipeline, pipeline->pipeline.encode(items, count, mean, logvar));
}

void eg_interpolate_latents(const float* z0, const float* z1, size_t size, float t, eg_interpolation kind,
                            float* out) {
  if (z0 == nullptr || z1 == nullptr || out == nullptr) return;
  edgegen::interpolate_latents(z0, z1, size, t, static_cast<edgegen::Interpolation>(kind), out);
}

}  // extern "C"
