// edgegen score on a token decoder: the log-likelihood of each line of a
// text file (or of token ids, --token-ids), through the model's KV cache.
#pragma once

#include <string>

#include "loaded_model.h"

namespace edgegen::cli {

struct TokenScoreOptions {
  std::string input_path;   // one sequence per line
  // CSV: row,tokens (predicted),log_likelihood (nats, <= 0),nats_per_token,bits_per_token (cross-entropy, >= 0)
  std::string output_path;
  bool token_ids = false;   // lines are token ids ("1,5,7" or "1 5 7"), not text
};

// Streams the input line by line (memory bounded by the longest line); a
// line longer than max_length is scored in windows of max_length tokens.
void score_token_file(LoadedModel& loaded, const TokenScoreOptions& options);

}  // namespace edgegen::cli
