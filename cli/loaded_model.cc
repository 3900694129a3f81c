#include "loaded_model.h"

#include "cli_error.h"

namespace edgegen::cli {

LoadedModel::LoadedModel(std::string path, const SessionOptions& options)
    : path_(std::move(path)), options_(options) {
  file_ = take_value(MappedFile::open(path_.c_str()));
  model_ = take_value(Model::from_buffer(file_.data(), file_.size()), path_);
}

Session& LoadedModel::session() {
  if (!session_) {
    auto session = std::make_unique<Session>();
    throw_if_error(session->prepare(model_, 0, options_), path_);
    session_ = std::move(session);
  }
  return *session_;
}

Pipeline& LoadedModel::pipeline(const std::string& command) {
  PipelineKind kind = model_.pipeline_kind();
  if (kind != PipelineKind::kDecoder && kind != PipelineKind::kVae) {
    std::string hint = kind == PipelineKind::kGraphsOnly ? " (run its graphs with 'edgegen run')" : "";
    throw CliError("'" + command + "' needs a model with a decoder or vae pipeline; " + path_ + " has a " +
                   pipeline_kind_name(kind) + " pipeline" + hint);
  }
  if (!pipeline_) {
    auto pipeline = std::make_unique<Pipeline>();
    throw_if_error(pipeline->prepare(model_, options_), path_);
    pipeline_ = std::move(pipeline);
  }
  return *pipeline_;
}

Pipeline& LoadedModel::vae_pipeline(const std::string& command) {
  PipelineKind kind = model_.pipeline_kind();
  if (kind != PipelineKind::kVae)
    throw CliError("'" + command + "' needs a model with a vae pipeline (an encoder); " + path_ + " has a " +
                   pipeline_kind_name(kind) + " pipeline");
  return pipeline(command);
}

}  // namespace edgegen::cli
