// edgegen score MODEL.egm --input DATA.npy|DATA.csv -o SCORES.csv [--batch B]
//   [--bound elbo|iwae -k K --seed S]   (vae)
//   [--threshold-file T.json] [--fit-threshold NORMAL.npy --fpr 0.01]
//   [--skip-bad-rows] [--header] [--progress] [--threads N]
// edgegen score LM.egm --input TEXT.txt [--token-ids] -o SCORES.csv   (token decoder)
//
// Scores every row of a data file with a density model (flow: exact log p;
// vae: the ELBO or IWAE lower bound; autoregressive: exact; energy: -E(x),
// unnormalized): one output
// row per input row "row,log_likelihood,bits_per_dim[,anomaly]". The input
// is streamed `--batch` rows at a time through the model's fixed arena, so
// memory does not grow with the file. --fit-threshold scores normal data and
// stores, in --threshold-file, the log-likelihood below which a row is
// flagged so that a fraction --fpr of normal rows would be. A token decoder
// scores each line of a text (or token id) file instead (score_tokens.h).
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "atomic_file.h"
#include "cli_error.h"
#include "commands.h"
#include "common_options.h"
#include "edgegen/density.h"
#include "loaded_model.h"
#include "row_reader.h"
#include "score_tokens.h"

namespace edgegen::cli {
namespace {

struct ScoreOptions {
  std::string model_path;
  std::string input_path;
  std::string output_path;
  size_t batch = 256;
  std::string threshold_path;
  std::string fit_path;
  double fpr = 0.01;
  bool skip_bad_rows = false;
  bool header = false;
  bool progress = false;
  SessionOptions runtime;
  // vae only
  std::string bound = "iwae";
  size_t samples = 16;
  uint64_t seed = 0;
  // token decoders only
  bool token_ids = false;
};

// The density model behind `score`: any program that declares kScore
// (edgegen/program.h), with the VAE options turned into ScoringOptions.
class Scorer {
 public:
  Scorer(const std::string& path, const ScoreOptions& options) : loaded_(path, options.runtime) {
    if (!loaded_.module().declares(Capability::kScore))
      throw CliError(path + ": score needs a density model (" + kinds_declaring(Capability::kScore) +
                     "); this model is a '" + std::string(pipeline_kind_name(loaded_.module().kind())) + "' pipeline");
    program_ = &loaded_.program(Capability::kScore);
    if (!program_->can(Capability::kScore))
      throw CliError(path + ": this " + std::string(pipeline_kind_name(program_->kind())) +
                     " model has no graph to score with");
    scoring_.bound = options.bound == "elbo" ? VaeBound::kElbo : VaeBound::kIwae;
    scoring_.samples = options.samples;
    scoring_.seed = options.seed;
  }
  size_t width() const { return program_->event_size(); }
  void score(const float* rows, size_t count, float* log_likelihood) {
    throw_if_error(program_->score(scoring_, rows, count, log_likelihood), loaded_.path());
  }

 private:
  LoadedModel loaded_;
  Program* program_ = nullptr;  // borrowed from loaded_
  ScoringOptions scoring_;
};

class ScoringProgressBar {
 public:
  explicit ScoringProgressBar(bool enabled) : enabled_(enabled) {}
  void update(uint64_t done, uint64_t total, uint64_t rows) {
    if (!enabled_ || total == 0) return;
    int percent = static_cast<int>(100.0 * static_cast<double>(done) / static_cast<double>(total));
    if (percent == last_) return;
    last_ = percent;
    int filled = percent * 30 / 100;
    std::fprintf(stderr, "\rscoring [%.*s%*s] %3d%%  %llu rows", filled, "##############################",
                 30 - filled, "", percent, static_cast<unsigned long long>(rows));
    std::fflush(stderr);
  }
  void finish() {
    if (enabled_ && last_ >= 0) std::fputc('\n', stderr);
  }

 private:
  bool enabled_;
  int last_ = -1;
};

// Scores every row of `path`; calls on_batch(log_likelihoods, row_numbers, n).
template <typename OnBatch>
uint64_t score_file(Scorer& scorer, const std::string& path, const ScoreOptions& options, bool progress,
                    uint64_t* skipped, OnBatch on_batch) {
  RowReader reader(path, scorer.width(), RowReaderOptions{options.header, options.skip_bad_rows});
  std::vector<float> rows(options.batch * scorer.width());
  std::vector<float> scores(options.batch);
  std::vector<uint64_t> row_numbers(options.batch);
  ScoringProgressBar bar(progress);
  uint64_t total = 0;
  for (;;) {
    size_t count = reader.read(rows.data(), options.batch, row_numbers.data());
    if (count == 0) break;
    scorer.score(rows.data(), count, scores.data());
    on_batch(scores.data(), row_numbers.data(), count);
    total += count;
    bar.update(reader.bytes_read(), reader.file_bytes(), total);
  }
  bar.finish();
  *skipped = reader.skipped_rows();
  return total;
}

double read_threshold(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw CliError("--threshold-file " + path + ": cannot open");
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(file);
  } catch (const nlohmann::json::exception& error) {
    throw CliError("--threshold-file " + path + ": invalid JSON: " + error.what());
  }
  if (!root.is_object() || !root.contains("log_likelihood_threshold") || !root["log_likelihood_threshold"].is_number())
    throw CliError("--threshold-file " + path + ": needs a number 'log_likelihood_threshold'");
  return root["log_likelihood_threshold"].get<double>();
}

void run_score(const ScoreOptions& options) {
  if (options.batch < 1 || options.batch > kMaxItems) throw CliError("--batch must be from 1 to " + std::to_string(kMaxItems));
  if (options.input_path.empty() && options.fit_path.empty())
    throw CliError("nothing to do: give --input DATA (and -o SCORES.csv) and/or --fit-threshold NORMAL");
  if (!options.input_path.empty() && options.output_path.empty()) throw CliError("--input needs -o SCORES.csv");
  if (!options.fit_path.empty() && options.threshold_path.empty())
    throw CliError("--fit-threshold needs --threshold-file PATH to store the threshold in");
  if (!(options.fpr > 0 && options.fpr < 1)) throw CliError("--fpr must be in (0, 1)");
  {
    LoadedModel loaded(options.model_path, options.runtime);
    if (loaded.module().declares(Capability::kScoreTokens)) {
      if (!options.fit_path.empty() || !options.threshold_path.empty())
        throw CliError("thresholds are for density models; a token decoder scores sequences");
      TokenScoreOptions token_options;
      token_options.input_path = options.input_path;
      token_options.output_path = options.output_path;
      token_options.token_ids = options.token_ids;
      score_token_file(loaded, token_options);
      return;
    }
  }
  if (options.token_ids) throw CliError("--token-ids is for token decoders");
  const bool progress = options.progress || isatty(fileno(stderr));
  Scorer scorer(options.model_path, options);
  const size_t dims = scorer.width();

  bool have_threshold = false;
  double threshold = 0;
  if (!options.fit_path.empty()) {
    // Normal data are held in memory (one float per row) to take a quantile.
    std::vector<float> normal;
    uint64_t skipped = 0;
    score_file(scorer, options.fit_path, options, progress, &skipped, [&](const float* scores, const uint64_t*, size_t n) {
      normal.insert(normal.end(), scores, scores + n);
    });
    if (normal.empty()) throw CliError("--fit-threshold " + options.fit_path + ": no rows to fit on");
    // Flag rows whose log-likelihood is below the fpr-quantile of normal rows.
    edgegen::Result<double> fitted = edgegen::fit_threshold(normal.data(), normal.size(), options.fpr);
    if (!fitted.ok()) throw CliError("--fit-threshold " + options.fit_path + ": " + fitted.status().message());
    threshold = *fitted;
    have_threshold = true;
    nlohmann::json root = {{"model", options.model_path},       {"fit_on", options.fit_path},
                           {"rows", normal.size()},             {"skipped_rows", skipped},
                           {"fpr", options.fpr},                {"log_likelihood_threshold", threshold},
                           {"bits_per_dim_threshold", bits_per_dim(threshold, dims)}};
    std::string text = root.dump(2) + "\n";
    write_file_atomically(options.threshold_path, std::vector<uint8_t>(text.begin(), text.end()));
    std::cout << "wrote " << options.threshold_path << ": log-likelihood threshold " << threshold << " (fpr "
              << options.fpr << " on " << normal.size() << " normal rows)\n";
  } else if (!options.threshold_path.empty()) {
    threshold = read_threshold(options.threshold_path);
    have_threshold = true;
  }
  if (options.input_path.empty()) return;

  AtomicFile output(options.output_path);
  std::string header = have_threshold ? "row,log_likelihood,bits_per_dim,anomaly\n" : "row,log_likelihood,bits_per_dim\n";
  output.write(header.data(), header.size());
  std::string text;
  uint64_t anomalies = 0, skipped = 0;
  uint64_t rows = score_file(scorer, options.input_path, options, progress, &skipped,
                             [&](const float* scores, const uint64_t* row_numbers, size_t n) {
                               text.clear();
                               char line[96];
                               for (size_t i = 0; i < n; ++i) {
                                 double bpd = bits_per_dim(scores[i], dims);
                                 int length;
                                 if (have_threshold) {
                                   bool flag = !(scores[i] >= threshold);
                                   anomalies += flag;
                                   length = std::snprintf(line, sizeof line, "%llu,%.9g,%.9g,%d\n",
                                                          static_cast<unsigned long long>(row_numbers[i]),
                                                          static_cast<double>(scores[i]), bpd, flag ? 1 : 0);
                                 } else {
                                   length = std::snprintf(line, sizeof line, "%llu,%.9g,%.9g\n",
                                                          static_cast<unsigned long long>(row_numbers[i]),
                                                          static_cast<double>(scores[i]), bpd);
                                 }
                                 text.append(line, static_cast<size_t>(length));
                               }
                               output.write(text.data(), text.size());
                             });
  output.commit();
  std::cout << "wrote " << options.output_path << ": " << rows << " rows scored";
  if (have_threshold) std::cout << ", " << anomalies << " flagged as anomalies";
  if (skipped > 0) std::cout << ", " << skipped << " bad rows skipped";
  std::cout << "\n";
}

}  // namespace

void add_score_command(CLI::App& app) {
  auto options = std::make_shared<ScoreOptions>();
  CLI::App* command = app.add_subcommand(
      "score", "Log-likelihood (nats and bits/dim) of every row of a .npy/.csv file under a density model; "
               "streams the file in batches, optionally flags anomalies against a fitted threshold. With a "
               "token decoder: the log-likelihood (nats and bits per token) of every line of a text file");
  command->add_option("model", options->model_path, "Model file (.egm): flow, vae, autoregressive, energy or token_decoder pipeline")->required();
  command->add_option("--input", options->input_path, "Rows to score: .npy (2-D) or .csv (one row per line)");
  command->add_option("-o,--output", options->output_path, "Scores (.csv): row,log_likelihood,bits_per_dim[,anomaly]");
  command->add_option("--batch", options->batch, "Rows read and scored at a time (memory is bounded by it)")
      ->capture_default_str();
  command->add_option("--threshold-file", options->threshold_path,
                      "JSON threshold: written by --fit-threshold, read otherwise to flag anomalies");
  command->add_option("--fit-threshold", options->fit_path, "Normal data (.npy/.csv) to choose the threshold on");
  command->add_option("--fpr", options->fpr, "False-positive rate on normal data for --fit-threshold")
      ->capture_default_str();
  command->add_flag("--skip-bad-rows", options->skip_bad_rows,
                    "Skip rows with a wrong width, non-numbers or NaN (and report how many) instead of failing");
  command->add_flag("--header", options->header,
                    "The CSV file's first line is a header (without it, a first line with no number in it is taken "
                    "for one, as pandas and Dask do)");
  command->add_flag("--progress", options->progress, "Show the progress bar even when stderr is not a terminal");
  command->add_option("--bound", options->bound, "VAE only: the bound to report, elbo or iwae (importance weighted)")
      ->check(CLI::IsMember({"elbo", "iwae"}))
      ->capture_default_str();
  command->add_option("-k,--samples", options->samples, "VAE only: posterior samples per row")
      ->check(CLI::Range(size_t{1}, size_t{4096}))
      ->capture_default_str();
  command->add_option("-s,--seed", options->seed, "VAE only: seed of the posterior samples")->capture_default_str();
  command->add_flag("--token-ids", options->token_ids,
                    "Token decoder: each --input line holds token ids (1,5,7) instead of text");
  add_runtime_options(command, &options->runtime);
  command->callback([options] { run_score(*options); });
}

}  // namespace edgegen::cli
