// Options and checks several commands share.
#pragma once

#include <cstddef>
#include <string>

#include <CLI/CLI.hpp>

#include "edgegen/session.h"
#include "image_grid.h"

namespace edgegen::cli {

// --low-memory streams the weights of layers of at least this many bytes
// (SessionOptions::stream_weights_min_bytes).
constexpr size_t kLowMemoryStreamBytes = size_t{1} << 20;

// --threads N, --backend auto|xnnpack|reference, --low-memory and
// --prepacked FILE, for every command that runs a model.
void add_runtime_options(CLI::App* command, SessionOptions* options);

// --prepacked FILE (with --low-memory): the pre-packed weights file
// (Session::use_prepacked_weights) LoadedModel uses or writes; empty: none.
// One command runs per process, so the option is the process's.
const std::string& prepacked_weights_path();

// --scale K and --border B for commands that can write PNG pictures.
void add_picture_options(CLI::App* command, GridOptions* grid);

// The largest number of items one command generates: keeps `-n` typos
// from allocating gigabytes.
constexpr size_t kMaxItems = 1 << 16;

// count * size floats, or a CliError if that is unreasonably large.
size_t checked_float_count(size_t count, size_t size, const std::string& what);

}  // namespace edgegen::cli
