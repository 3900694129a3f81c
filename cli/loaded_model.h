// A model file as the commands use it: mapped, verified, and prepared into
// a Session or a Program (through edgegen::Module) on request.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "edgegen/mapped_file.h"
#include "edgegen/model.h"
#include "edgegen/module.h"
#include "edgegen/pipeline.h"
#include "edgegen/program.h"
#include "edgegen/session.h"

namespace edgegen::cli {

class LoadedModel {
 public:
  // Maps and verifies `path`. Throws CliError "<path>: <reason>".
  LoadedModel(std::string path, const SessionOptions& options);
  // Not movable: prepared sessions point at the model.
  LoadedModel(const LoadedModel&) = delete;
  LoadedModel& operator=(const LoadedModel&) = delete;

  const std::string& path() const { return path_; }
  const Model& model() const { return module_.model(); }
  const Module& module() const { return module_; }
  const SessionOptions& options() const { return options_; }

  // A session prepared for running graphs directly (finishes verification),
  // with `reserve_bytes` for Session::reserve() (the first call decides).
  Session& session(size_t reserve_bytes = 0);
  // The model's program prepared to offer `capability` (kNone: the kind's
  // first program). Throws CliError "<path>: <reason>" when no program of
  // the model's kind declares it, or when preparing fails.
  Program& program(Capability capability = Capability::kNone);
  // A prepared decoder/vae Pipeline. `command` names the caller in the error
  // thrown when the model's pipeline kind is not decoder or vae.
  Pipeline& pipeline(const std::string& command);
  // Like pipeline(), but requires a VAE (encoder + decoder).
  Pipeline& vae_pipeline(const std::string& command);

  // --prepacked FILE: makes `session` (prepared from this model with
  // options()) read its streamed layers' packed weights from FILE, writing
  // FILE first when it is missing or stale. session() and program() call
  // it; commands that prepare a pipeline themselves call it after.
  void use_prepacked_weights(Session& session) const;

 private:
  std::string path_;
  SessionOptions options_;
  MappedFile file_;
  Module module_;
  Capability prepared_for_ = Capability::kNone;
  std::unique_ptr<Session> session_;
  mutable std::vector<MappedFile> prepacked_;  // --prepacked FILE's mappings (the last is current)
};

// "flow, vae, autoregressive, energy": the kinds whose programs declare
// `capability`, in the order of the runtime's kind table.
std::string kinds_declaring(Capability capability);

}  // namespace edgegen::cli
