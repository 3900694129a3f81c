// edgegen generate MODEL.egm --prompt TEXT | --prompt-tokens 1,5,7 [-n 200]
//   [--temperature T] [--top-k K] [--top-p P] [--min-p P] [--repetition-penalty R]
//   [--seed S] [--stop STRING] [--tokens-out] [--threads N]
//
// Generates tokens with a token decoder (issue 13), streaming the text (or
// the token ids, with --tokens-out) to stdout as each token is chosen. Stops
// after -n tokens, at the model's eos, when the text ends with --stop, or
// when the cache is full (max_length), and says which on stderr with the
// tokens per second.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli_error.h"
#include "commands.h"
#include "common_options.h"
#include "edgegen/token_decoder.h"
#include "loaded_model.h"
#include "token_text.h"

namespace edgegen::cli {
namespace {

struct GenerateOptions {
  std::string model_path;
  std::string prompt;
  std::string prompt_tokens;
  size_t count = 200;
  TokenSamplingOptions sampling;
  std::string stop;
  bool tokens_out = false;
  SessionOptions runtime;
};

// What the callback needs: the text so far (for --stop) and where to write.
struct Stream {
  TokenText* text = nullptr;
  const GenerateOptions* options = nullptr;
  std::string produced;
  bool stopped_by_string = false;
  bool first = true;
};

bool on_token(void* user, int32_t token, size_t /*position*/) {
  Stream& stream = *static_cast<Stream*>(user);
  if (stream.options->tokens_out) {
    std::printf("%s%d", stream.first ? "" : " ", token);
  } else {
    const std::string piece = stream.text->append(token);
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    stream.produced += piece;
  }
  stream.first = false;
  std::fflush(stdout);
  const std::string& stop = stream.options->stop;
  if (!stop.empty() && stream.produced.size() >= stop.size() &&
      stream.produced.compare(stream.produced.size() - stop.size(), stop.size(), stop) == 0) {
    stream.stopped_by_string = true;
    return false;
  }
  return true;
}

void run_generate(const GenerateOptions& options) {
  if (options.prompt.empty() == options.prompt_tokens.empty())
    throw CliError("give one of --prompt TEXT and --prompt-tokens IDS");
  if (!options.stop.empty() && options.tokens_out)
    throw CliError("--stop matches text: it cannot be used with --tokens-out");
  LoadedModel loaded(options.model_path, options.runtime);
  if (!loaded.module().declares(Capability::kGenerate))
    throw CliError(options.model_path + ": generate needs a token_decoder model; this one is a '" +
                   std::string(pipeline_kind_name(loaded.module().kind())) + "' pipeline");
  TokenText text(loaded.model(), options.model_path);
  std::vector<int32_t> prompt = options.prompt.empty() ? parse_token_list(options.prompt_tokens, "--prompt-tokens")
                                                       : text.encode(options.prompt, true);
  if (prompt.empty()) throw CliError("the prompt has no tokens");
  for (int32_t token : prompt)
    if (token < 0 || static_cast<size_t>(token) >= text.vocab_size())
      throw CliError("--prompt-tokens: token " + std::to_string(token) + " is outside the vocabulary [0, " +
                     std::to_string(text.vocab_size()) + ")");
  if (prompt.size() > text.max_length())
    throw CliError("the prompt has " + std::to_string(prompt.size()) + " tokens; the model's max_length is " +
                   std::to_string(text.max_length()));
  Program& program = loaded.program(Capability::kGenerate);

  Stream stream;
  stream.text = &text;
  stream.options = &options;
  TokenCallback callback;
  callback.on_token = on_token;
  callback.user = &stream;
  GenerateResult result;
  const auto start = std::chrono::steady_clock::now();
  throw_if_error(program.generate(prompt.data(), prompt.size(), options.count, options.sampling, callback, &result),
                 options.model_path);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (options.tokens_out || !stream.produced.empty()) std::printf("\n");
  std::fflush(stdout);
  std::string why;
  switch (result.reason) {
    case StopReason::kTokenCount: why = "-n " + std::to_string(options.count) + " tokens generated"; break;
    case StopReason::kEos: why = "the model chose its end token (eos " + std::to_string(text.eos()) + ")"; break;
    case StopReason::kMaxLength:
      why = "the cache is full (max_length " + std::to_string(text.max_length()) + " positions)";
      break;
    case StopReason::kCancelled: why = stream.stopped_by_string ? "--stop text reached" : "cancelled"; break;
  }
  char line[256];
  std::snprintf(line, sizeof line, "edgegen: stopped: %s; %zu tokens after a %zu-token prompt in %.3f s (%.1f tokens/s, prompt included)\n",
                why.c_str(), result.generated, prompt.size(), seconds,
                seconds > 0 ? static_cast<double>(result.generated + prompt.size()) / seconds : 0.0);
  std::fputs(line, stderr);
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto options = std::make_shared<GenerateOptions>();
  CLI::App* command = app.add_subcommand(
      "generate", "Generate text (or tokens) with a token decoder, streaming each token as it is chosen");
  command->add_option("model", options->model_path, "Model file (.egm) with a token_decoder pipeline")->required();
  command->add_option("--prompt", options->prompt, "Prompt text (the model's bos is put first)");
  command->add_option("--prompt-tokens", options->prompt_tokens, "Prompt token ids, e.g. 1,5,7 (as given: no bos added)");
  command->add_option("-n,--tokens", options->count, "Tokens to generate at most")->capture_default_str();
  command->add_option("-t,--temperature", options->sampling.temperature, "Sampling temperature (0 = greedy)")
      ->check(CLI::Range(0.f, 100.f))
      ->capture_default_str();
  command->add_option("--top-k", options->sampling.top_k, "Draw among the k most likely tokens (0 = all)");
  command->add_option("--top-p", options->sampling.top_p, "Draw among the most likely tokens of total probability P")
      ->check(CLI::Range(1e-6f, 1.f));
  command->add_option("--min-p", options->sampling.min_p, "Drop tokens less likely than P times the most likely one")
      ->check(CLI::Range(0.f, 1.f));
  command->add_option("--repetition-penalty", options->sampling.repetition_penalty,
                      "Divide the logits of tokens already in the text by R (> 1 discourages repeats)")
      ->check(CLI::Range(0.01f, 100.f));
  command->add_option("-s,--seed", options->sampling.seed, "Random seed (same seed, same tokens)")->capture_default_str();
  command->add_option("--stop", options->stop, "Stop when the generated text ends with this string");
  command->add_flag("--tokens-out", options->tokens_out, "Print token ids instead of text");
  add_runtime_options(command, &options->runtime);
  command->callback([options] { run_generate(*options); });
}

}  // namespace edgegen::cli
