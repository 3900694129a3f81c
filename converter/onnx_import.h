// ONNX ModelProto -> IrGraph: fixes symbolic batch dims, then lowers every
// node in one topological pass (shape inference and constant folding
// included). The graph keeps the ONNX input and output names.
#pragma once

#include <set>
#include <string>

#include "converter/converter.h"
#include "converter/ir.h"
#include "onnx/onnx_pb.h"

namespace edgegen::converter {

// Reads and parses an .onnx file; throws ConversionError when it cannot.
onnx::ModelProto read_onnx_file(const std::string& path);

// The graph inputs and symbolic dimension names import_onnx saw, so that
// the caller can refuse an input shape or a dimension that matched nothing
// (a typo would otherwise be ignored).
struct GraphInputNames {
  std::set<std::string> inputs;
  std::set<std::string> symbols;
  bool narrowed_double = false;  // the graph had double tensors, converted to float32
};

// Lowers the model's main graph into an IrGraph named `graph_name`.
// `model_dir` resolves external initializer data. Graph input shapes come
// from the model, options.input_shapes, options.dims and options.batch;
// `seen` (optional) collects what the graph's inputs have.
IrGraph import_onnx(const onnx::ModelProto& model, const std::string& graph_name, const std::string& model_dir,
                    const ConvertOptions& options, GraphInputNames* seen = nullptr);

// "'a', 'b'": the names for an error message, "none" when empty.
std::string quoted_list(const std::set<std::string>& names);

}  // namespace edgegen::converter
