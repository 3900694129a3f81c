// Options and checks several commands share.
#pragma once

#include <cstddef>
#include <string>

#include <CLI/CLI.hpp>

#include "image_grid.h"

namespace edgegen::cli {

// --threads N: accepted now so scripts keep working when the runtime gains
// threads; validated (N >= 1) and otherwise ignored.
void add_threads_option(CLI::App* command, int* threads);

// --scale K and --border B for commands that can write PNG pictures.
void add_picture_options(CLI::App* command, GridOptions* grid);

// The largest number of items one command generates: keeps `-n` typos
// from allocating gigabytes.
constexpr size_t kMaxItems = 1 << 16;

// count * size floats, or a CliError if that is unreasonably large.
size_t checked_float_count(size_t count, size_t size, const std::string& what);

}  // namespace edgegen::cli
