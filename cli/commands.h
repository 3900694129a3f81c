// Each subcommand of `edgegen` registers itself on the app; its file holds
// its options, its help text and what it does.
#pragma once

#include <CLI/CLI.hpp>

namespace edgegen::cli {

void add_convert_command(CLI::App& app);
void add_info_command(CLI::App& app);
void add_run_command(CLI::App& app);
void add_sample_command(CLI::App& app);
void add_encode_command(CLI::App& app);
void add_reconstruct_command(CLI::App& app);
void add_interpolate_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_score_command(CLI::App& app);
void add_impute_command(CLI::App& app);
void add_inpaint_command(CLI::App& app);  // diffusion_options.h
void add_generate_command(CLI::App& app);
void add_vocode_command(CLI::App& app);  // command_vocode.cc: vocoders, WAV output
void add_img2img_command(CLI::App& app);  // command_img2img.cc, diffusion_options.h

}  // namespace edgegen::cli
