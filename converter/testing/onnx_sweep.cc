// ONNX backend conformance sweep: converts every test case's model.onnx,
// runs each test_data_set through the written .egm and compares with the
// expected outputs. A case that does not convert is "unsupported" (fine); a
// converted case giving a different answer is "wrong" (a bug).
//
//   edgegen_onnx_sweep [-v] [case_dir | suite_dir]...
// Default: the node/, pytorch-converted/, pytorch-operator/ and simple/
// suites of libonnx-testdata.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "converter/converter.h"
#include "converter/onnx_import.h"
#include "converter/onnx_tensor.h"
#include "converter/testing/egm_evaluator.h"
#include "edgegen_generated.h"
#include "ops/registry.h"

namespace fs = std::filesystem;
using namespace edgegen;
using namespace edgegen::converter;

namespace {

testing::HostTensor read_tensor_file(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream contents;
  contents << file.rdbuf();
  onnx::TensorProto proto;
  if (!proto.ParseFromString(contents.str())) throw std::runtime_error("cannot parse " + path.string());
  IrTensor tensor = tensor_from_onnx(proto, "");
  return {tensor.name, tensor.dtype, tensor.shape, tensor.data};
}

std::vector<fs::path> sorted_files(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().filename().string().rfind(prefix, 0) == 0) files.push_back(entry.path());
  std::sort(files.begin(), files.end(), [](const fs::path& a, const fs::path& b) {
    auto number = [](const fs::path& p) {
      std::string s = p.stem().string();
      return std::stoi(s.substr(s.rfind('_') + 1));
    };
    return number(a) < number(b);
  });
  return files;
}

// "" when equal within tolerance, else a description of the first mismatch.
std::string compare(const testing::HostTensor& got, const testing::HostTensor& expected) {
  if (got.dtype != expected.dtype) return std::string("dtype ") + dtype_name(got.dtype) + " vs " + dtype_name(expected.dtype);
  if (got.shape != expected.shape) return "shape " + shape_to_string(got.shape) + " vs " + shape_to_string(expected.shape);
  if (got.dtype != DType::kFloat32) return got.data == expected.data ? "" : "integer values differ";
  size_t count = got.data.size() / 4;
  const float* a = reinterpret_cast<const float*>(got.data.data());
  const float* b = reinterpret_cast<const float*>(expected.data.data());
  for (size_t i = 0; i < count; ++i) {
    if (std::isnan(a[i]) && std::isnan(b[i])) continue;
    if (std::isinf(b[i]) && a[i] == b[i]) continue;
    if (!(std::fabs(a[i] - b[i]) <= 1e-4f + 1e-3f * std::fabs(b[i])))
      return "element " + std::to_string(i) + ": " + std::to_string(a[i]) + " vs " + std::to_string(b[i]);
  }
  return "";
}

// A short reason for grouping unsupported cases.
std::string reason_key(const std::string& message) {
  std::string text = message;
  size_t quote = text.find("': ");
  if (quote != std::string::npos) text = text.substr(quote + 3);
  size_t supported = text.find(" (supported");
  if (supported != std::string::npos) text = text.substr(0, supported);
  size_t opset = text.find(", opset ");
  if (opset != std::string::npos) {
    size_t colon = text.find(": ", opset);
    std::string node = text.substr(0, opset);
    size_t paren = node.rfind('(');
    text = (paren != std::string::npos ? node.substr(paren) : node) + " " + (colon != std::string::npos ? text.substr(colon + 2) : "");
  }
  return text.substr(0, 110);
}

// Writes a copy of the case's model with graph inputs [first_frozen, n) turned
// into initializers holding `inputs` (data set 0), so the lowering of ops
// whose parameters ONNX's tests feed as inputs (Reshape, Slice, Resize...)
// is exercised too. Returns the new model's path.
std::string freeze_inputs(const fs::path& dir, const std::vector<testing::HostTensor>& inputs, size_t first_frozen) {
  onnx::ModelProto model = read_onnx_file((dir / "model.onnx").string());
  auto* graph = model.mutable_graph();
  std::vector<std::string> initializers;
  for (const auto& initializer : graph->initializer()) initializers.push_back(initializer.name());
  size_t runtime_index = 0;
  for (const auto& input : graph->input()) {
    if (std::find(initializers.begin(), initializers.end(), input.name()) != initializers.end()) continue;
    if (runtime_index >= first_frozen && runtime_index < inputs.size()) {
      const testing::HostTensor& value = inputs[runtime_index];
      auto* tensor = graph->add_initializer();
      tensor->set_name(input.name());
      tensor->set_data_type(input.type().tensor_type().elem_type());
      for (int64_t dim : value.shape) tensor->add_dims(dim);
      tensor->set_raw_data(value.data.data(), value.data.size());
    }
    ++runtime_index;
  }
  fs::path path = fs::temp_directory_path() / ("edgegen_sweep_" + dir.filename().string() + ".onnx");
  std::ofstream file(path, std::ios::binary);
  model.SerializeToOstream(&file);
  return path.string();
}

// Prints the graphs of a converted model, one operator a line.
void dump(const std::string& path) {
  std::vector<uint8_t> file = convert(path, {});
  const format::Model* model = format::GetModel(file.data());
  std::printf("%zu bytes, segment at %llu (%llu bytes), %u buffers, pipeline %s\n", file.size(),
              static_cast<unsigned long long>(model->segment_offset()), static_cast<unsigned long long>(model->segment_size()),
              model->buffers()->size(), format::EnumNamePipelineSpec(model->pipeline_type()));
  for (const format::Graph* graph : *model->graphs()) {
    std::printf("graph '%s': %u tensors, arena %llu bytes (lower bound %llu)\n", graph->name()->c_str(), graph->tensors()->size(),
                static_cast<unsigned long long>(graph->plan()->arena_bytes()),
                static_cast<unsigned long long>(graph->plan()->lower_bound_bytes()));
    for (const format::Operator* op : *graph->operators()) {
      const format::Tensor* out = graph->tensors()->Get(static_cast<flatbuffers::uoffset_t>(op->outputs()->Get(0)));
      std::vector<int64_t> shape(out->shape()->begin(), out->shape()->end());
      std::printf("  %-16s %-10s -> %-24s %s\n", op_name(op->opcode()),
                  op->activation() ? format::EnumNameActivationKind(op->activation()->kind()) : "",
                  shape_to_string(shape).c_str(), out->name()->c_str());
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  bool verbose = false, freeze = false;
  std::vector<fs::path> roots;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "-v") == 0) verbose = true;
    else if (std::strcmp(argv[i], "--freeze") == 0) freeze = true;
    else if (std::strcmp(argv[i], "--dump") == 0 && i + 1 < argc) {
      dump(argv[i + 1]);
      return 0;
    }
    else roots.emplace_back(argv[i]);
  }
  if (roots.empty()) {
    for (const char* suite : {"node", "pytorch-converted", "pytorch-operator", "simple"})
      roots.push_back(fs::path("/usr/share/libonnx-testdata/data") / suite);
  }
  std::vector<fs::path> cases;
  for (const fs::path& root : roots) {
    if (fs::exists(root / "model.onnx")) {
      cases.push_back(root);
      continue;
    }
    for (const auto& entry : fs::directory_iterator(root))
      if (fs::exists(entry.path() / "model.onnx")) cases.push_back(entry.path());
  }
  std::sort(cases.begin(), cases.end());

  int converted = 0, matched = 0, wrong = 0, unsupported = 0;
  std::map<std::string, int> reasons;
  std::vector<std::string> wrong_cases;
  for (const fs::path& dir : cases) {
    std::string name = dir.filename().string();
    std::vector<fs::path> data_sets = sorted_files(dir, "test_data_set_");
    std::vector<std::vector<testing::HostTensor>> all_inputs, all_outputs;
    try {
      for (const fs::path& set : data_sets) {
        std::vector<testing::HostTensor> inputs, outputs;
        for (const fs::path& file : sorted_files(set, "input_")) inputs.push_back(read_tensor_file(file));
        for (const fs::path& file : sorted_files(set, "output_")) outputs.push_back(read_tensor_file(file));
        all_inputs.push_back(std::move(inputs));
        all_outputs.push_back(std::move(outputs));
      }
    } catch (const std::exception& error) {
      ++unsupported;
      ++reasons[std::string("test data: ") + reason_key(error.what())];
      if (verbose) std::printf("UNSUPPORTED %s: test data: %s\n", name.c_str(), error.what());
      continue;
    }
    ConvertOptions options;
    if (!all_inputs.empty() && !all_inputs[0].empty() && !all_inputs[0][0].shape.empty())
      options.batch = static_cast<int>(std::max<int64_t>(1, all_inputs[0][0].shape[0]));
    std::vector<uint8_t> file;
    try {
      file = convert((dir / "model.onnx").string(), options);
    } catch (const ConversionError& error) {
      // With --freeze, retry with inputs 1.. (then all inputs) as constants.
      bool frozen = false;
      for (size_t first_frozen : {size_t{1}, size_t{0}}) {
        if (!freeze || all_inputs.empty() || all_inputs[0].size() <= first_frozen) continue;
        try {
          file = convert(freeze_inputs(dir, all_inputs[0], first_frozen), options);
        } catch (const std::exception&) {
          continue;
        }
        all_inputs.resize(1);
        all_outputs.resize(1);
        all_inputs[0].resize(first_frozen);
        name += first_frozen ? " (frozen 1..)" : " (all frozen)";
        frozen = true;
        break;
      }
      if (!frozen) {
        ++unsupported;
        ++reasons[reason_key(error.what())];
        if (verbose) std::printf("UNSUPPORTED %s: %s\n", name.c_str(), error.what());
        continue;
      }
    }
    ++converted;
    std::string failure;
    try {
      for (size_t s = 0; s < all_inputs.size() && failure.empty(); ++s) {
        std::vector<testing::HostTensor> got = testing::run_egm_graph(file, 0, all_inputs[s]);
        if (got.size() != all_outputs[s].size()) {
          failure = "output count " + std::to_string(got.size()) + " vs " + std::to_string(all_outputs[s].size());
          break;
        }
        for (size_t k = 0; k < got.size() && failure.empty(); ++k) {
          std::string mismatch = compare(got[k], all_outputs[s][k]);
          if (!mismatch.empty()) failure = "data set " + std::to_string(s) + " output " + std::to_string(k) + ": " + mismatch;
        }
      }
    } catch (const std::exception& error) {
      failure = std::string("run failed: ") + error.what();
    }
    if (failure.empty()) {
      ++matched;
      if (verbose) std::printf("OK %s\n", name.c_str());
    } else {
      ++wrong;
      wrong_cases.push_back(name + ": " + failure);
      std::printf("WRONG %s: %s\n", name.c_str(), failure.c_str());
    }
  }

  std::vector<std::pair<int, std::string>> by_count;
  for (const auto& [reason, count] : reasons) by_count.emplace_back(count, reason);
  std::sort(by_count.rbegin(), by_count.rend());
  std::printf("\nunsupported reasons (top 40):\n");
  for (size_t i = 0; i < by_count.size() && i < 40; ++i) std::printf("  %4d  %s\n", by_count[i].first, by_count[i].second.c_str());
  std::printf("\ncases %zu: converted %d, matched %d, wrong %d, unsupported %d\n", cases.size(), converted, matched, wrong,
              unsupported);
  return wrong == 0 ? 0 : 1;
}
