// Options and checks several commands share.
#pragma once

#include <cstddef>
#include <string>

#include <CLI/CLI.hpp>

#include "edgegen/session.h"
#include "image_grid.h"

namespace edgegen::cli {

// --threads N and --backend auto|xnnpack|reference, for every command that
// runs a model.
void add_runtime_options(CLI::App* command, SessionOptions* options);

// --scale K and --border B for commands that can write PNG pictures.
void add_picture_options(CLI::App* command, GridOptions* grid);

// The largest number of items one command generates: keeps `-n` typos
// from allocating gigabytes.
constexpr size_t kMaxItems = 1 << 16;

// count * size floats, or a CliError if that is unreasonably large.
size_t checked_float_count(size_t count, size_t size, const std::string& what);

}  // namespace edgegen::cli
