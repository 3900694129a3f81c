// Reading and writing the elements of constant tensors, whatever their
// dtype. Used by the converter-side folding of ONNX-only ops (Shape, Range,
// Where, ...) and by passes that rewrite weights.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "converter/ir.h"

namespace edgegen::converter {

bool is_integer_dtype(DType dtype);  // int8/uint8/int32/int64/bool

// Element values of a constant, converted. Throws ConversionError for a
// dtype without a conversion (float16).
std::vector<int64_t> read_int64s(const IrTensor& tensor);
std::vector<double> read_doubles(const IrTensor& tensor);
std::vector<float> read_floats(const IrTensor& tensor);

// A constant of `dtype` holding `values` converted to it.
IrTensor make_constant_from_int64s(const std::string& name, DType dtype, std::vector<int64_t> shape,
                                   const std::vector<int64_t>& values);
IrTensor make_constant_from_doubles(const std::string& name, DType dtype, std::vector<int64_t> shape,
                                    const std::vector<double>& values);
IrTensor make_float_constant(const std::string& name, std::vector<int64_t> shape, const std::vector<float>& values);
IrTensor make_int64_constant(const std::string& name, std::vector<int64_t> shape, const std::vector<int64_t>& values);

}  // namespace edgegen::converter
