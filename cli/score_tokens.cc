#include "score_tokens.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <vector>

#include "atomic_file.h"
#include "cli_error.h"
#include "edgegen/token_decoder.h"
#include "token_text.h"

namespace edgegen::cli {

void score_token_file(LoadedModel& loaded, const TokenScoreOptions& options) {
  if (options.input_path.empty() || options.output_path.empty())
    throw CliError("scoring with a token decoder needs --input FILE (one sequence per line) and -o SCORES.csv");
  TokenText text(loaded.model(), loaded.path());
  Program& program = loaded.program(Capability::kScoreTokens);
  std::ifstream input(options.input_path, std::ios::binary);
  if (!input) throw CliError("--input " + options.input_path + ": cannot open");
  AtomicFile output(options.output_path);
  const std::string header = "row,tokens,log_likelihood,nats_per_token,bits_per_token\n";
  output.write(header.data(), header.size());
  std::string line;
  uint64_t row = 0;
  double total_nats = 0;
  size_t total_predicted = 0;
  while (std::getline(input, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::vector<int32_t> tokens = options.token_ids
                                      ? parse_token_list(line, options.input_path + " line " + std::to_string(row + 1))
                                      : text.encode(line, true);
    TokenScore score;
    throw_if_error(program.score_tokens(tokens.data(), tokens.size(), &score),
                   options.input_path + " line " + std::to_string(row + 1));
    // Cross-entropy: nats and bits per predicted token (>= 0).
    const double per_token = score.predicted > 0 ? -score.nats / static_cast<double>(score.predicted) : 0.0;
    char buffer[160];
    const int length = std::snprintf(buffer, sizeof buffer, "%llu,%zu,%.9g,%.9g,%.9g\n",
                                     static_cast<unsigned long long>(row), score.predicted, score.nats, per_token,
                                     per_token / std::log(2.0));
    output.write(buffer, static_cast<size_t>(length));
    total_nats += score.nats;
    total_predicted += score.predicted;
    ++row;
  }
  output.commit();
  const double per_token = total_predicted > 0 ? -total_nats / static_cast<double>(total_predicted) : 0.0;
  std::printf("wrote %s: %llu sequences, %zu tokens predicted, %.6g nats per token (%.6g bits per token)\n",
              options.output_path.c_str(), static_cast<unsigned long long>(row), total_predicted, per_token,
              per_token / std::log(2.0));
}

}  // namespace edgegen::cli
