#include "loaded_model.h"

#include "cli_error.h"

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
    session_ = std::move(session);
  }
  return *session_;
}

Program& LoadedModel::program(Capability capability) {
  if (module_.program() == nullptr || prepared_for_ != capability) {
    throw_if_error(module_.prepare(options_, capability), path_);
    prepared_for_ = capability;
  }
  return *module_.program();
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
