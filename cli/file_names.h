// File names derived from model data or chosen by extension.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace edgegen::cli {

// A tensor name made safe as a file name on every common file system:
// characters other than letters, digits, '-', '_' and '.' become '_', a
// leading '.' becomes '_' (no hidden files, no "." or ".."), an empty name
// becomes "_", and the result is at most 200 bytes.
std::string sanitize_file_name(const std::string& name);

// Sanitized names for all of `names`, made unique by appending "_2", "_3"...
// (two tensor names may sanitize to the same file name).
std::vector<std::string> unique_file_names(const std::vector<std::string>& names);

// One output file per item: [path] for one item, else "stem_0.ext",
// "stem_1.ext", ... (item i is the i-th of the command's items).
std::vector<std::string> item_file_names(const std::string& path, size_t count);

enum class OutputFormat { kPng, kNpy };

// The format an output path asks for by its extension (.png or .npy, any
// case); throws CliError naming `option` otherwise.
OutputFormat output_format_of(const std::string& path, const std::string& option);

}  // namespace edgegen::cli
