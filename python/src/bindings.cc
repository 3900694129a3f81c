// _edgegen: the C++ half of the Python module `edgegen` (python/edgegen/).
//
// A thin, checked layer over edgegen::Module and edgegen::Program. The
// Python half (python/edgegen/__init__.py) turns user arrays into the exact
// buffers this layer takes (C-contiguous float32 of the right shape, cut
// into batches); this layer still checks every size itself, so a call that
// bypasses the Python half gets a ValueError, never a crash.
//
// This is a host tool: it is built with exceptions and RTTI, unlike the
// runtime library it links. A runtime Status becomes a StatusError, which the
// translator below turns into the edgegen.errors class for its code.
//
// Threads. Every call into the runtime releases the GIL and then takes the
// model's mutex: one Model may be shared by Python threads (Dask workers run
// several), and their calls are serialized on it, never interleaved in one
// arena. The mutex is only ever waited for without the GIL, so a thread
// holding the mutex can always take the GIL back (run() copies its outputs so).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "edgegen/carried_state.h"
#include "edgegen/density.h"
#include "edgegen/diffusion.h"
#include "edgegen/mapped_file.h"
#include "edgegen/module.h"
#include "edgegen/program.h"
#include "edgegen/session.h"
#include "edgegen_generated.h"

namespace py = pybind11;

namespace edgegen::python {
namespace {

// A failed runtime call: the status code's stable name and the message.
struct StatusError {
  StatusCode code;
  std::string message;
};

void throw_if_error(const Status& status, const std::string& where) {
  if (!status.is_ok()) throw StatusError{status.code(), where + ": " + status.message()};
}

[[noreturn]] void throw_value_error(const std::string& message) { throw py::value_error(message); }

// Names of the capabilities, of the samplers: read from the runtime's own
// tables (capability_name, sampler_name), not listed again here.
template <typename Visit>
void for_each_capability(Visit visit) {
  for (uint32_t bit = 0; bit < 32; ++bit) {
    Capability capability = static_cast<Capability>(1u << bit);
    if (std::strcmp(capability_name(capability), "unknown") != 0) visit(capability);
  }
}

std::vector<std::string> capability_names(uint32_t bits) {
  std::vector<std::string> names;
  for_each_capability([&](Capability capability) {
    if (bits & capability_bit(capability)) names.emplace_back(capability_name(capability));
  });
  return names;
}

Capability parse_capability(const std::string& name) {
  if (name.empty() || name == "none") return Capability::kNone;
  Capability found = Capability::kNone;
  std::string known;
  for_each_capability([&](Capability capability) {
    if (name == capability_name(capability)) found = capability;
    known += (known.empty() ? "" : ", ") + std::string(capability_name(capability));
  });
  if (found == Capability::kNone) throw_value_error("unknown capability '" + name + "' (known: " + known + ")");
  return found;
}

std::string sampler_names() {
  std::string names;
  for (uint32_t kind = 0; kind < 64; ++kind) {
    const char* name = sampler_name(static_cast<SamplerKind>(kind));
    if (std::strcmp(name, "unknown") != 0) names += (names.empty() ? "" : ", ") + std::string(name);
  }
  return names;
}

SessionOptions session_options(const std::string& backend, int threads) {
  SessionOptions options;
  if (backend == "auto") options.backend = Backend::kAuto;
  else if (backend == "xnnpack") options.backend = Backend::kXnnpack;
  else if (backend == "reference") options.backend = Backend::kReference;
  else throw_value_error("backend='" + backend + "': expected 'auto', 'xnnpack' or 'reference'");
  if (threads < 0 || threads > 1024) throw_value_error("threads=" + std::to_string(threads) + ": expected 1 to 1024 (or None)");
  options.threads = threads;
  return options;
}

std::vector<int64_t> dims_of(const Shape& shape) { return std::vector<int64_t>(shape.dims, shape.dims + shape.rank); }

py::dtype numpy_dtype(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return py::dtype::of<float>();
    case DType::kFloat16: return py::dtype("float16");
    case DType::kInt8: return py::dtype::of<int8_t>();
    case DType::kUInt8: return py::dtype::of<uint8_t>();
    case DType::kInt32: return py::dtype::of<int32_t>();
    case DType::kInt64: return py::dtype::of<int64_t>();
    case DType::kBool: return py::dtype::of<bool>();
  }
  throw StatusError{StatusCode::kInternal, "unknown dtype"};
}

// A C-contiguous float32 array of exactly `count` * `item` values, or a
// ValueError naming `what`.
const float* float_buffer(const py::array& array, size_t count, size_t item, const char* what) {
  if (!py::isinstance<py::array_t<float>>(array))
    throw_value_error(std::string(what) + ": needs float32 values, got " + std::string(py::str(array.dtype())));
  if (!(array.flags() & py::array::c_style)) throw_value_error(std::string(what) + ": needs a C-contiguous array");
  size_t total = 0;
  if (__builtin_mul_overflow(count, item, &total) || static_cast<size_t>(array.size()) != total)
    throw_value_error(std::string(what) + ": holds " + std::to_string(array.size()) + " values; expected " +
                      std::to_string(count) + " x " + std::to_string(item));
  return static_cast<const float*>(array.data());
}

py::array_t<float> new_float_array(size_t count, const std::vector<int64_t>& item_shape) {
  std::vector<py::ssize_t> shape{static_cast<py::ssize_t>(count)};
  for (int64_t dim : item_shape) shape.push_back(static_cast<py::ssize_t>(dim));
  return py::array_t<float>(shape);
}

struct FreeDeleter {
  void operator()(void* pointer) const { std::free(pointer); }
};

// One opened model: its bytes, the Module that reads them, and the programs
// prepared from them so far. A kind may need more than one program (a vae
// samples with Pipeline and scores with VaeScorer); each gets its own Module
// over the same bytes, prepared once and kept, so alternating calls do not
// re-prepare (re-pack weights) every time.
class ModelHandle {
 public:
  static std::unique_ptr<ModelHandle> open(const std::string& path, const std::string& backend, int threads) {
    auto handle = std::unique_ptr<ModelHandle>(new ModelHandle(path, session_options(backend, threads)));
    Result<MappedFile> file = MappedFile::open(path.c_str());
    if (!file.ok()) throw StatusError{file.status().code(), file.status().message()};
    handle->file_ = std::move(file.value());
    handle->load(handle->file_.data(), handle->file_.size());
    return handle;
  }

  static std::unique_ptr<ModelHandle> from_bytes(const py::bytes& bytes, const std::string& backend, int threads) {
    auto handle = std::unique_ptr<ModelHandle>(new ModelHandle("<bytes>", session_options(backend, threads)));
    std::string_view view(bytes);
    // The runtime borrows the bytes and needs them kModelAlignment-aligned:
    // one aligned copy, owned by the handle.
    size_t rounded = (view.size() + kModelAlignment - 1) / kModelAlignment * kModelAlignment;
    handle->bytes_.reset(static_cast<uint8_t*>(std::aligned_alloc(kModelAlignment, rounded == 0 ? kModelAlignment : rounded)));
    if (!handle->bytes_) throw StatusError{StatusCode::kOutOfMemory, "<bytes>: cannot allocate a copy of the model"};
    if (!view.empty()) std::memcpy(handle->bytes_.get(), view.data(), view.size());
    handle->load(handle->bytes_.get(), view.size());
    return handle;
  }

  const std::string& name() const { return name_; }
  std::string kind() const { return pipeline_kind_name(info_.kind()); }
  std::vector<std::string> declared_capabilities() const { return capability_names(info_.declared_capabilities()); }
  uint32_t batch() const { return info_.model().batch(); }
  size_t size() const { return size_; }
  std::string backend() const {
    Result<Backend> backend = Session::resolve_backend(options_);
    throw_if_error(backend.status(), name_);
    return backend_name(backend.value());
  }
  int threads() const { return options_.threads; }

  // Graphs with their inputs and outputs: [{name, inputs: [(name, dtype, shape)], outputs: [...]}].
  py::list graphs() const {
    py::list graphs;
    const Model& model = info_.model();
    for (size_t g = 0; g < model.num_graphs(); ++g) {
      const format::Graph* graph = model.graph(g);
      auto tensors_of = [graph](const flatbuffers::Vector<int32_t>* indices) {
        py::list list;
        if (indices == nullptr) return list;
        for (int32_t index : *indices) {
          const format::Tensor* tensor = graph->tensors()->Get(static_cast<uint32_t>(index));
          std::vector<int64_t> shape;
          if (tensor->shape()) shape.assign(tensor->shape()->begin(), tensor->shape()->end());
          list.append(py::make_tuple(tensor->name() ? tensor->name()->str() : std::string(),
                                     dtype_name(static_cast<DType>(tensor->dtype())), py::tuple(py::cast(shape))));
        }
        return list;
      };
      py::dict entry;
      entry["name"] = model.graph_name(g);
      entry["inputs"] = tensors_of(graph->inputs());
      entry["outputs"] = tensors_of(graph->outputs());
      graphs.append(entry);
    }
    return graphs;
  }

  size_t arena_bytes_needed(const std::string& capability) const {
    Capability needed = parse_capability(capability);
    Result<size_t> bytes = info_.arena_bytes_needed(options_, needed);
    throw_if_error(bytes.status(), name_);
    return bytes.value();
  }

  // What the program serving `capability` offers: {capabilities, event_shape, latent_shape, batch}.
  py::dict program_info(const std::string& capability) {
    Capability needed = parse_capability(capability);
    Program* program = nullptr;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex_);
      program = &program_for(needed);
    }
    py::dict info;
    info["capabilities"] = capability_names(program->capabilities());
    info["event_shape"] = py::tuple(py::cast(dims_of(program->event_shape())));
    info["latent_shape"] = py::tuple(py::cast(dims_of(program->latent_shape())));
    info["batch"] = program->batch();
    if (program->sample_rate() > 0) info["sample_rate"] = program->sample_rate();
    if (program->can(Capability::kVocode)) {
      info["mel_channels"] = program->mel_channels();
      info["hop_length"] = program->hop_length();
    }
    if (program->kind() == PipelineKind::kDiffusion) {
      auto* diffusion = static_cast<DiffusionPipeline*>(program);
      info["num_classes"] = diffusion->num_classes();
      info["sample_shape"] = py::tuple(py::cast(dims_of(diffusion->sample_shape())));
      info["context_shape"] = py::tuple(py::cast(dims_of(diffusion->context_shape())));
    }
    return info;
  }

  // The log-likelihood (float32) of `count` rows of `items` (C-contiguous float32).
  py::array_t<float> score(const py::array& items, size_t count, const std::string& bound, size_t samples,
                           uint64_t seed) {
    ScoringOptions options;
    if (bound == "iwae") options.bound = VaeBound::kIwae;
    else if (bound == "elbo") options.bound = VaeBound::kElbo;
    else throw_value_error("bound='" + bound + "': expected 'iwae' or 'elbo'");
    if (samples < 1) throw_value_error("samples must be at least 1");
    options.samples = samples;
    options.seed = seed;
    Program& program = locked_program(Capability::kScore);
    const float* rows = float_buffer(items, count, program.event_size(), "x");
    py::array_t<float> out(static_cast<py::ssize_t>(count));
    float* scores = out.mutable_data();
    run_locked([&] { return program.score(options, rows, count, scores); });
    return out;
  }

  // `count` new items, and the latents used (decoder/vae) when asked for.
  py::tuple sample(size_t count, uint64_t seed, float temperature, uint32_t top_k, const py::object& diffusion,
                   const py::object& labels, bool want_latents, const py::object& progress) {
    Program& program = locked_program(Capability::kSample);
    SamplingOptions options;
    options.seed = seed;
    options.temperature = temperature;
    options.top_k = top_k;
    py::array_t<float> items = new_float_array(count, dims_of(program.event_shape()));
    py::object latents = py::none();
    if (want_latents) {
      if (program.latent_shape().rank == 0) throw_value_error("return_latents: this " + kind() + " model has no latents");
      py::array_t<float> latent_array = new_float_array(count, dims_of(program.latent_shape()));
      options.latents = latent_array.mutable_data();
      latents = latent_array;
    }
    DiffusionOptions diffusion_options;
    std::vector<int32_t> label_values;
    py::array keep_alive[6];
    ProgressState progress_state{progress};
    if (!diffusion.is_none()) {
      if (program.kind() != PipelineKind::kDiffusion) throw_value_error("diffusion options need a diffusion model");
      auto& pipeline = static_cast<DiffusionPipeline&>(program);
      read_diffusion_options(diffusion.cast<py::dict>(), pipeline, count, &diffusion_options, keep_alive);
      diffusion_options.seed = seed;
      diffusion_options.progress = {on_progress, &progress_state};
      options.diffusion = &diffusion_options;
      if (!labels.is_none()) {
        label_values = labels.cast<std::vector<int32_t>>();
        if (label_values.size() != count)
          throw_value_error("labels: " + std::to_string(label_values.size()) + " given for " + std::to_string(count) +
                            " samples");
        if (!pipeline.has_class_input()) throw_value_error("cls: this diffusion model is not class-conditional");
        for (int32_t label : label_values)
          if (label < -1 || label >= static_cast<int32_t>(pipeline.num_classes()))
            throw_value_error("cls: class " + std::to_string(label) + " is not in [0, " +
                              std::to_string(pipeline.num_classes()) + ") or -1 (unconditional)");
        options.labels = label_values.data();
      }
    }
    float* out = items.mutable_data();
    Status status;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex_);
      status = program.sample(options, count, out);
    }
    // A Python error raised in the progress callback (or Ctrl-C) is what
    // cancelled the run: raise it rather than the runtime's "cancelled".
    if (progress_state.error) throw py::error_already_set();
    throw_if_error(status, name_);
    return py::make_tuple(items, latents);
  }

  // Fills the NaN entries of `items` (C-contiguous float32, modified in place).
  void impute(py::array& items, size_t count, uint64_t seed, float temperature, uint32_t top_k) {
    Program& program = locked_program(Capability::kImpute);
    float_buffer(items, count, program.event_size(), "x");
    if (!items.writeable()) throw_value_error("x: needs a writeable array");
    SamplingOptions options;
    options.seed = seed;
    options.temperature = temperature;
    options.top_k = top_k;
    float* values = static_cast<float*>(items.mutable_data());
    run_locked([&] { return program.impute(options, count, values); });
  }

  py::tuple encode(const py::array& items, size_t count) {
    Program& program = locked_program(Capability::kEncode);
    const float* rows = float_buffer(items, count, program.event_size(), "x");
    std::vector<int64_t> latent = dims_of(program.latent_shape());
    py::array_t<float> mean = new_float_array(count, latent), logvar = new_float_array(count, latent);
    float *mean_out = mean.mutable_data(), *logvar_out = logvar.mutable_data();
    run_locked([&] { return program.encode(rows, count, mean_out, logvar_out); });
    return py::make_tuple(mean, logvar);
  }

  py::array_t<float> decode(const py::array& latents, size_t count) {
    Program& program = locked_program(Capability::kDecode);
    const float* values = float_buffer(latents, count, program.latent_size(), "z");
    py::array_t<float> items = new_float_array(count, dims_of(program.event_shape()));
    float* out = items.mutable_data();
    run_locked([&] { return program.decode(values, count, out); });
    return items;
  }

  // The waveform [frames * hop_length] of `frames` mel frames (C-contiguous float32 [mel_channels, frames]).
  py::array_t<float> vocode(const py::array& mel, size_t frames) {
    Program& program = locked_program(Capability::kVocode);
    if (frames < 1) throw_value_error("mel: needs at least one frame");
    const float* values = float_buffer(mel, program.mel_channels(), frames, "mel");
    py::array_t<float> audio(static_cast<py::ssize_t>(frames * program.hop_length()));
    float* out = audio.mutable_data();
    run_locked([&] { return program.vocode(values, frames, out); });
    return audio;
  }

  // Runs one graph: every input by name (exact dtype and shape), every
  // output copied out. With `carry` ({state input: output}), the graph
  // streams: a session of its own keeps the state from one call to the next
  // (edgegen::CarriedState), and the state inputs may be left out.
  py::dict run(const std::string& graph_name, const py::dict& inputs, const py::dict& carry) {
    std::vector<std::pair<std::string, std::string>> pairs;
    for (auto item : carry) pairs.emplace_back(py::str(item.first), py::str(item.second));
    Session* session = nullptr;
    CarriedState* state = nullptr;
    int graph = info_.model().find_graph(graph_name.c_str());
    if (graph < 0) throw_value_error("no graph '" + graph_name + "' in " + name_ + " (graphs: " + graph_names() + ")");
    const size_t g = static_cast<size_t>(graph);
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex_);
      if (pairs.empty()) {
        if (!session_) {
          auto fresh = std::make_unique<Session>();
          throw_if_error(fresh->prepare(info_.model(), 0, options_), name_);
          session_ = std::move(fresh);
        }
        session = session_.get();
      } else {
        state = &stream_for(g, pairs);
        session = stream_session_.get();
      }
    }
    std::vector<std::pair<void*, py::array>> copies;
    std::string missing;
    for (size_t i = 0; i < session->num_inputs(g); ++i) {
      Tensor& input = session->input(g, i);
      bool is_state = false;
      for (size_t k = 0; state != nullptr && k < state->num_pairs(); ++k) is_state |= state->input_index(k) == i;
      if (!inputs.contains(input.name)) {
        if (!is_state) missing += (missing.empty() ? "" : ", ") + std::string(input.name);
        continue;
      }
      if (is_state)
        throw_value_error("input '" + std::string(input.name) + "' of graph '" + graph_name +
                          "' is carried state: it comes from the run before (reset it with reset_state())");
      py::array array = py::reinterpret_borrow<py::array>(inputs[input.name]);
      std::vector<int64_t> expected = dims_of(input.shape);
      std::vector<int64_t> got(array.shape(), array.shape() + array.ndim());
      if (!array.dtype().equal(numpy_dtype(input.dtype)) || got != expected || !(array.flags() & py::array::c_style))
        throw_value_error("input '" + std::string(input.name) + "' of graph '" + graph_name + "' needs " +
                          dtype_name(input.dtype) + " " + std::string(py::str(py::tuple(py::cast(expected)))) +
                          " (C-contiguous), got " + std::string(py::str(array.dtype())) + " " +
                          std::string(py::str(py::tuple(py::cast(got)))));
      copies.emplace_back(input.data, array);
    }
    if (!missing.empty()) throw_value_error("graph '" + graph_name + "': missing inputs: " + missing);
    for (auto key : inputs) {
      std::string name = py::str(key.first);
      if (session->find_input(g, name.c_str()) < 0)
        throw_value_error("graph '" + graph_name + "' has no input '" + name + "' (inputs: " + input_names(*session, g) + ")");
    }
    py::dict outputs;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto& [data, array] : copies) std::memcpy(data, array.data(), static_cast<size_t>(array.nbytes()));
      throw_if_error(state != nullptr ? state->run() : session->run(g), name_ + ": graph '" + graph_name + "'");
      // Outputs are copied while the lock is held: the next run overwrites the arena.
      py::gil_scoped_acquire acquire;
      for (size_t i = 0; i < session->num_outputs(g); ++i) {
        const Tensor& output = session->output(g, i);
        std::vector<py::ssize_t> shape(output.shape.dims, output.shape.dims + output.shape.rank);
        py::array array(numpy_dtype(output.dtype), shape);
        std::memcpy(array.mutable_data(), output.data, output.bytes());
        outputs[py::str(output.name)] = array;
      }
    }
    return outputs;
  }

  // Zeroes the carried state of run(..., carry): the next run starts a new stream.
  void reset_state() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!stream_state_.bound()) throw_value_error(name_ + ": no carried state yet (run a graph with carry= first)");
    stream_state_.reset();
  }

 private:
  struct ProgressState {
    py::object callback;
    bool error = false;
  };

  ModelHandle(std::string name, const SessionOptions& options) : name_(std::move(name)), options_(options) {}

  void load(const void* data, size_t size) {
    data_ = data;
    size_ = size;
    throw_if_error(info_.load(data, size), name_);
  }

  // The streaming session for `graph` and these pairs, prepared on first
  // use and again when they change (its state then starts at zero). Caller holds mutex_.
  CarriedState& stream_for(size_t graph, const std::vector<std::pair<std::string, std::string>>& names) {
    if (stream_session_ && stream_graph_ == graph && stream_names_ == names) return stream_state_;
    std::vector<StatePair> pairs;
    for (const auto& [input, output] : names) pairs.push_back({input.c_str(), output.c_str()});
    Result<size_t> reserve = CarriedState::reserve_bytes_needed(info_.model(), graph, pairs.data(), pairs.size());
    if (!reserve.ok()) throw_value_error(name_ + ": carry: " + reserve.status().message());
    stream_state_ = CarriedState();
    stream_session_.reset();
    auto fresh = std::make_unique<Session>();
    throw_if_error(fresh->prepare(info_.model(), *reserve, options_), name_);
    throw_if_error(stream_state_.bind(fresh.get(), graph, pairs.data(), pairs.size()), name_);
    stream_session_ = std::move(fresh);
    stream_graph_ = graph;
    stream_names_ = names;
    return stream_state_;
  }

  // The program offering `capability`, preparing one on first use. Caller holds mutex_.
  Program& program_for(Capability capability) {
    for (auto& module : modules_)
      if (capability == Capability::kNone || module->program()->can(capability)) return *module->program();
    if (capability != Capability::kNone && !info_.declares(capability)) {
      PipelineKind kinds[16];
      size_t count = kinds_declaring(capability, kinds, 16);
      std::string names;
      for (size_t i = 0; i < count && i < 16; ++i) names += (i ? ", " : "") + std::string(pipeline_kind_name(kinds[i]));
      throw StatusError{StatusCode::kUnsupportedOp,
                        name_ + ": a '" + kind() + "' model cannot " + capability_name(capability) +
                            (names.empty() ? "" : " (models that can: " + names + ")")};
    }
    auto module = std::make_unique<Module>();
    throw_if_error(module->load(data_, size_), name_);
    throw_if_error(module->prepare(options_, capability), name_);
    if (capability != Capability::kNone && !module->program()->can(capability))
      throw StatusError{StatusCode::kUnsupportedOp, name_ + ": this " + kind() + " model has no graph to " +
                                                        capability_name(capability) + " with"};
    modules_.push_back(std::move(module));
    return *modules_.back()->program();
  }

  Program& locked_program(Capability capability) {
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(mutex_);
    return program_for(capability);
  }

  // Runs `call` without the GIL, under the model's mutex.
  template <typename Call>
  void run_locked(Call call) {
    Status status;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex_);
      status = call();
    }
    throw_if_error(status, name_);
  }

  // Diffusion progress: calls the Python callback (if any) and checks for
  // Ctrl-C; either stopping cancels the run (the pending Python error is
  // then raised instead of the runtime's kCancelled).
  static bool on_progress(void* user, size_t step, size_t total, double elapsed) {
    auto* state = static_cast<ProgressState*>(user);
    py::gil_scoped_acquire acquire;
    if (PyErr_CheckSignals() != 0) {
      state->error = true;
      return false;
    }
    if (state->callback.is_none()) return true;
    try {
      py::object keep_going = state->callback(step, total, elapsed);
      return keep_going.is_none() || keep_going.cast<bool>();
    } catch (py::error_already_set& error) {
      error.restore();
      state->error = true;
      return false;
    }
  }

  void read_diffusion_options(const py::dict& given, const DiffusionPipeline& pipeline, size_t count,
                              DiffusionOptions* options, py::array* keep_alive) {
    for (auto item : given) {
      std::string key = py::str(item.first);
      py::handle value = item.second;
      if (value.is_none()) continue;
      if (key == "sampler") {
        std::string name = py::str(value);
        if (!parse_sampler(name.c_str(), &options->sampler))
          throw_value_error("sampler='" + name + "': unknown (supported: " + sampler_names() + ")");
      } else if (key == "steps") {
        size_t steps = value.cast<size_t>();
        if (steps < 1 || steps > DiffusionPipeline::kMaxSteps)
          throw_value_error("steps=" + std::to_string(steps) + ": expected 1 to " + std::to_string(DiffusionPipeline::kMaxSteps));
        options->steps = steps;
      } else if (key == "spacing") {
        std::string spacing = py::str(value);
        if (spacing == "trailing") options->spacing = TimestepSpacing::kTrailing;
        else if (spacing == "leading") options->spacing = TimestepSpacing::kLeading;
        else if (spacing == "linspace") options->spacing = TimestepSpacing::kLinspace;
        else throw_value_error("spacing='" + spacing + "': expected 'trailing', 'leading' or 'linspace'");
      } else if (key == "karras") {
        options->karras = value.cast<bool>();
      } else if (key == "eta") {
        options->eta = value.cast<float>();
      } else if (key == "guidance") {
        options->guidance = value.cast<float>();
      } else if (key == "resample") {
        options->resample = value.cast<int>();
        if (options->resample < 1 || options->resample > 100) throw_value_error("resample: expected 1 to 100");
      } else if (key == "strength") {
        options->strength = value.cast<float>();
        if (!(options->strength >= 0.f && options->strength <= 1.f)) throw_value_error("strength: expected 0 to 1");
      } else if (key == "init_noise" || key == "known" || key == "mask" || key == "init_image" || key == "context" ||
                 key == "unconditional_context") {
        // Samples (init_noise), pictures (known, mask, init_image: the decoder's output), contexts.
        py::array array = py::reinterpret_borrow<py::array>(value);
        const bool context = key == "context" || key == "unconditional_context";
        if (context && !pipeline.has_context_input()) throw_value_error(key + ": this model takes no context");
        const size_t rows = key == "unconditional_context" ? 1 : count;
        const size_t size = key == "init_noise" ? pipeline.sample_size() : context ? pipeline.context_size() : pipeline.item_size();
        const float* data = float_buffer(array, rows, size, key.c_str());
        if (key == "init_noise") options->init_noise = data, keep_alive[0] = array;
        if (key == "known") options->known = data, keep_alive[1] = array;
        if (key == "mask") options->mask = data, keep_alive[2] = array;
        if (key == "init_image") options->init_image = data, keep_alive[3] = array;
        if (key == "context") options->context = data, keep_alive[4] = array;
        if (key == "unconditional_context") options->unconditional_context = data, keep_alive[5] = array;
      } else {
        throw_value_error("unknown diffusion option '" + key + "'");
      }
    }
    if ((options->known == nullptr) != (options->mask == nullptr))
      throw_value_error("in-painting needs both known and mask");
  }

  std::string graph_names() const {
    std::string names;
    for (size_t i = 0; i < info_.model().num_graphs(); ++i) names += (i ? ", " : "") + std::string(info_.model().graph_name(i));
    return names;
  }
  static std::string input_names(Session& session, size_t graph) {
    std::string names;
    for (size_t i = 0; i < session.num_inputs(graph); ++i) names += (i ? ", " : "") + std::string(session.input(graph, i).name);
    return names;
  }

  std::string name_;  // the path, or "<bytes>"
  SessionOptions options_;
  MappedFile file_;                                 // owned, when opened from a path
  std::unique_ptr<uint8_t, FreeDeleter> bytes_;     // owned, when made from bytes
  const void* data_ = nullptr;                      // borrowed: file_ or bytes_
  size_t size_ = 0;
  Module info_;                                     // loaded, never prepared: kind, graphs, arena sizes
  std::vector<std::unique_ptr<Module>> modules_;    // owned, each prepared for some capability
  std::unique_ptr<Session> session_;                // owned, for run()
  std::unique_ptr<Session> stream_session_;         // owned, for run(..., carry)
  CarriedState stream_state_;                       // bound to stream_session_
  size_t stream_graph_ = 0;
  std::vector<std::pair<std::string, std::string>> stream_names_;
  std::mutex mutex_;
};

// The anomaly threshold: edgegen::fit_threshold, the rule the command
// line's --fit-threshold and the C API use (one definition, not a Python copy).
// Scores are float32 log-likelihoods, as the runtime computes them.
double fit_threshold(const py::array_t<float, py::array::c_style | py::array::forcecast>& scores, double fpr) {
  std::vector<float> values(scores.data(), scores.data() + scores.size());  // it sorts in place
  Result<double> threshold = edgegen::fit_threshold(values.data(), values.size(), fpr);
  if (!threshold.ok()) throw StatusError{threshold.status().code(), threshold.status().message()};
  return *threshold;
}

}  // namespace
}  // namespace edgegen::python

PYBIND11_MODULE(_edgegen, m) {
  using edgegen::python::ModelHandle;
  using edgegen::python::StatusError;
  m.doc() = "edgegen's C++ runtime; use the Python package `edgegen`, not this module.";

  py::register_exception_translator([](std::exception_ptr pointer) {
    try {
      if (pointer) std::rethrow_exception(pointer);
    } catch (const StatusError& error) {
      const char* code = edgegen::status_code_name(error.code);
      try {
        py::object make = py::module_::import("edgegen.errors").attr("from_status");
        py::object exception = make(code, error.message);
        PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exception.ptr())), exception.ptr());
      } catch (py::error_already_set& failure) {
        PyErr_SetString(PyExc_RuntimeError, (std::string(code) + ": " + error.message).c_str());
      }
    }
  });

  m.def("fit_threshold", &edgegen::python::fit_threshold, py::arg("scores"), py::arg("fpr"));

  py::class_<ModelHandle>(m, "ModelHandle")
      .def_static("open", &ModelHandle::open, py::arg("path"), py::arg("backend"), py::arg("threads"))
      .def_static("from_bytes", &ModelHandle::from_bytes, py::arg("data"), py::arg("backend"), py::arg("threads"))
      .def_property_readonly("name", &ModelHandle::name)
      .def_property_readonly("kind", &ModelHandle::kind)
      .def_property_readonly("declared_capabilities", &ModelHandle::declared_capabilities)
      .def_property_readonly("batch", &ModelHandle::batch)
      .def_property_readonly("size", &ModelHandle::size)
      .def_property_readonly("backend", &ModelHandle::backend)
      .def_property_readonly("threads", &ModelHandle::threads)
      .def("graphs", &ModelHandle::graphs)
      .def("arena_bytes_needed", &ModelHandle::arena_bytes_needed, py::arg("capability"))
      .def("program_info", &ModelHandle::program_info, py::arg("capability"))
      .def("score", &ModelHandle::score, py::arg("items"), py::arg("count"), py::arg("bound"), py::arg("samples"),
           py::arg("seed"))
      .def("sample", &ModelHandle::sample, py::arg("count"), py::arg("seed"), py::arg("temperature"), py::arg("top_k"),
           py::arg("diffusion"), py::arg("labels"), py::arg("want_latents"), py::arg("progress"))
      .def("impute", &ModelHandle::impute, py::arg("items"), py::arg("count"), py::arg("seed"), py::arg("temperature"),
           py::arg("top_k"))
      .def("encode", &ModelHandle::encode, py::arg("items"), py::arg("count"))
      .def("decode", &ModelHandle::decode, py::arg("latents"), py::arg("count"))
      .def("vocode", &ModelHandle::vocode, py::arg("mel"), py::arg("frames"))
      .def("run", &ModelHandle::run, py::arg("graph"), py::arg("inputs"), py::arg("carry"))
      .def("reset_state", &ModelHandle::reset_state);
}
