// Calibration data for a token decoder, generated from the float model
// itself: the step graph is run token by token over a text (with the cache
// it builds), and what each graph sees at evenly spread positions is kept —
// tokens, position and the cache as it is at that position — so the
// activations' ranges cover early and late positions alike. The prefill
// graph, when there is one, gets the same: T tokens at a position with the
// cache before it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "converter/ir.h"
#include "converter/manifest_token_decoder.h"
#include "converter/quantize/calibration.h"

namespace edgegen::converter {

// Batches for graphs[0] (step) and, when present, graphs[1] (prefill): at
// most `count` each, from the bytes of `text` (bos first, as the bytes
// tokenizer encodes; at most max_length tokens are run). Throws
// ConversionError when the text is empty or the tokenizer is not bytes.
CalibrationPlan token_decoder_calibration(const std::vector<IrGraph>& graphs, const TokenDecoderManifest& decoder,
                                          const std::string& text, int count);

}  // namespace edgegen::converter
