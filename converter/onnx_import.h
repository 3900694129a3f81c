// ONNX ModelProto -> IrGraph: fixes symbolic batch dims, then lowers every
// node in one topological pass (shape inference and constant folding
// included). The graph keeps the ONNX input and output names.
#pragma once

#include <string>

#include "converter/converter.h"
#include "converter/ir.h"
#include "onnx/onnx_pb.h"

namespace edgegen::converter {

// Reads and parses an .onnx file; throws ConversionError when it cannot.
onnx::ModelProto read_onnx_file(const std::string& path);

// Lowers the model's main graph into an IrGraph named `graph_name`.
// `model_dir` resolves external initializer data.
IrGraph import_onnx(const onnx::ModelProto& model, const std::string& graph_name, const std::string& model_dir,
                    const ConvertOptions& options);

}  // namespace edgegen::converter
