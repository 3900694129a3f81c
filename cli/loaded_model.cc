#include "loaded_model.h"

#include <chrono>
#include <filesystem>
#include <iostream>

#include "atomic_file.h"
#include "cli_error.h"
#include "common_options.h"

namespace edgegen::cli {

LoadedModel::LoadedModel(std::string path, const SessionOptions& options)
    : path_(std::move(path)), options_(options) {
  file_ = take_value(MappedFile::open(path_.c_str()));
  // The bytes are a read-only file mapping: weight streaming may drop the
  // pages of weights it has used.
  options_.release_weight_pages = true;
  throw_if_error(module_.load(file_.data(), file_.size()), path_);
}

Session& LoadedModel::session(size_t reserve_bytes) {
  if (!session_) {
    auto session = std::make_unique<Session>();
    throw_if_error(session->prepare(module_.model(), reserve_bytes, options_), path_);
    use_prepacked_weights(*session);
    session_ = std::move(session);
  }
  return *session_;
}

Program& LoadedModel::program(Capability capability) {
  if (module_.program() == nullptr || prepared_for_ != capability) {
    throw_if_error(module_.prepare(options_, capability), path_);
    prepared_for_ = capability;
    use_prepacked_weights(module_.program()->session());
  }
  return *module_.program();
}

void LoadedModel::use_prepacked_weights(Session& session) const {
  const std::string& path = prepacked_weights_path();
  if (path.empty()) return;
  if (options_.stream_weights_min_bytes == 0) throw CliError("--prepacked " + path + ": it needs --low-memory");
  // Every mapping stays until the model goes: a session prepared earlier
  // (session() and then program()) may still read an older one.
  std::error_code error;
  if (prepacked_.empty() && std::filesystem::exists(path, error))
    prepacked_.push_back(take_value(MappedFile::open(path.c_str())));
  if (!prepacked_.empty()) {
    const Status used = session.use_prepacked_weights(prepacked_.back().data(), prepacked_.back().size());
    if (used.is_ok()) return;
    std::cerr << "edgegen: " << path << ": " << used.message() << "; writing it again\n";
  }
  const auto start = std::chrono::steady_clock::now();
  AtomicFile file(path);
  // No exception may cross the runtime (built without them): a failed write becomes a Status.
  auto write = [](void* user, const void* data, size_t bytes) -> Status {
    try {
      static_cast<AtomicFile*>(user)->write(data, bytes);
    } catch (const std::exception& failure) {
      return Status::error(StatusCode::kIoError, "%s", failure.what());
    }
    return Status::ok();
  };
  throw_if_error(session.write_prepacked_weights(Session::ByteWriter{write, &file}), path);
  file.commit();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  prepacked_.push_back(take_value(MappedFile::open(path.c_str())));
  std::cerr << "edgegen: wrote pre-packed weights " << path << " (" << prepacked_.back().size() << " bytes, "
            << seconds << " s)\n";
  throw_if_error(session.use_prepacked_weights(prepacked_.back().data(), prepacked_.back().size()), path);
}

Pipeline& LoadedModel::pipeline(const std::string& command) {
  PipelineKind kind = module_.kind();
  if (kind != PipelineKind::kDecoder && kind != PipelineKind::kVae) {
    std::string hint = kind == PipelineKind::kGraphsOnly ? " (run its graphs with 'edgegen run')"
                       : kind == PipelineKind::kVocoder  ? " (turn mel frames into sound with 'edgegen vocode')"
                                                         : "";
    throw CliError("'" + command + "' needs a model with a decoder or vae pipeline; " + path_ + " has a " +
                   pipeline_kind_name(kind) + " pipeline" + hint);
  }
  // The kind table runs decoder and vae models' decode with Pipeline.
  return static_cast<Pipeline&>(program(Capability::kDecode));
}

Pipeline& LoadedModel::vae_pipeline(const std::string& command) {
  PipelineKind kind = module_.kind();
  if (kind != PipelineKind::kVae)
    throw CliError("'" + command + "' needs a model with a vae pipeline (an encoder); " + path_ + " has a " +
                   pipeline_kind_name(kind) + " pipeline");
  return pipeline(command);
}

std::string kinds_declaring(Capability capability) {
  PipelineKind kinds[16];
  size_t count = edgegen::kinds_declaring(capability, kinds, 16);
  std::string names;
  for (size_t i = 0; i < count && i < 16; ++i) names += (i ? ", " : "") + std::string(pipeline_kind_name(kinds[i]));
  return names;
}

}  // namespace edgegen::cli
