// A model file as the commands use it: mapped, verified, and prepared into
// a Session or a Pipeline on request.
#pragma once

#include <memory>
#include <string>

#include "edgegen/mapped_file.h"
#include "edgegen/model.h"
#include "edgegen/pipeline.h"
#include "edgegen/session.h"

namespace edgegen::cli {

class LoadedModel {
 public:
  // Maps and verifies `path`. Throws CliError "<path>: <reason>".
  LoadedModel(std::string path, const SessionOptions& options);
  // Not movable: prepared sessions point at model_.
  LoadedModel(const LoadedModel&) = delete;
  LoadedModel& operator=(const LoadedModel&) = delete;

  const std::string& path() const { return path_; }
  const Model& model() const { return model_; }
  const SessionOptions& options() const { return options_; }

  // A session prepared for running graphs directly (finishes verification).
  Session& session();
  // A prepared pipeline. `command` names the caller in the error thrown
  // when the model's pipeline kind is not one of those the runtime runs.
  Pipeline& pipeline(const std::string& command);
  // Like pipeline(), but requires a VAE (encoder + decoder).
  Pipeline& vae_pipeline(const std::string& command);

 private:
  std::string path_;
  SessionOptions options_;
  MappedFile file_;
  Model model_;
  std::unique_ptr<Session> session_;
  std::unique_ptr<Pipeline> pipeline_;
};

}  // namespace edgegen::cli
