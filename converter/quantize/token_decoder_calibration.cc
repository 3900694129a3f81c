#include "converter/quantize/token_decoder_calibration.h"

#include <algorithm>

#include "converter/converter.h"

namespace edgegen::converter {
namespace {

int input_index(const IrGraph& graph, const std::string& name) {
  for (size_t i = 0; i < graph.inputs.size(); ++i)
    if (graph.tensors[static_cast<size_t>(graph.inputs[i])].name == name) return static_cast<int>(i);
  throw ConversionError("calibration: graph '" + graph.name + "' has no input '" + name + "'");
}

int output_index(const IrGraph& graph, const std::string& name) {
  for (size_t i = 0; i < graph.outputs.size(); ++i)
    if (graph.tensors[static_cast<size_t>(graph.outputs[i])].name == name) return static_cast<int>(i);
  throw ConversionError("calibration: graph '" + graph.name + "' has no output '" + name + "'");
}

// Where the pipeline's tensors are among one graph's inputs (and outputs).
struct Slots {
  int tokens = 0, position = 0;
  std::vector<int> cache_inputs, cache_outputs;  // layer by layer, K then V
};

Slots slots_of(const IrGraph& graph, const TokenDecoderManifest& decoder) {
  Slots slots;
  slots.tokens = input_index(graph, decoder.tokens_input);
  slots.position = input_index(graph, decoder.position_input);
  for (size_t layer = 0; layer < decoder.cache_inputs.size(); ++layer) {
    slots.cache_inputs.push_back(input_index(graph, decoder.cache_inputs[layer].first));
    slots.cache_inputs.push_back(input_index(graph, decoder.cache_inputs[layer].second));
    slots.cache_outputs.push_back(output_index(graph, decoder.cache_outputs[layer].first));
    slots.cache_outputs.push_back(output_index(graph, decoder.cache_outputs[layer].second));
  }
  return slots;
}

CalibrationBatch batch_of(const IrGraph& graph, const Slots& slots, const std::vector<int32_t>& tokens, size_t first,
                          size_t count, const std::vector<std::vector<float>>& caches) {
  CalibrationBatch batch;
  batch.inputs.resize(graph.inputs.size());
  for (size_t k = 0; k < graph.inputs.size(); ++k)
    batch.inputs[k].assign(static_cast<size_t>(graph.tensors[static_cast<size_t>(graph.inputs[k])].num_elements()), 0.f);
  std::vector<float>& token_values = batch.inputs[static_cast<size_t>(slots.tokens)];
  for (size_t i = 0; i < token_values.size() && i < count; ++i) token_values[i] = static_cast<float>(tokens[first + i]);
  std::vector<float>& position = batch.inputs[static_cast<size_t>(slots.position)];
  std::fill(position.begin(), position.end(), static_cast<float>(first));
  for (size_t c = 0; c < slots.cache_inputs.size(); ++c) batch.inputs[static_cast<size_t>(slots.cache_inputs[c])] = caches[c];
  return batch;
}

}  // namespace

CalibrationPlan token_decoder_calibration(const std::vector<IrGraph>& graphs, const TokenDecoderManifest& decoder,
                                          const std::string& text, int count) {
  if (decoder.tokenizer != "bytes")
    throw ConversionError("calibration from text needs the bytes tokenizer; give --calibration DIR with NAME.npy per input");
  std::vector<int32_t> tokens;
  if (decoder.bos >= 0) tokens.push_back(static_cast<int32_t>(decoder.bos));
  for (unsigned char byte : text) tokens.push_back(static_cast<int32_t>(byte + decoder.byte_offset));
  if (tokens.size() > static_cast<size_t>(decoder.max_length)) tokens.resize(static_cast<size_t>(decoder.max_length));
  if (tokens.size() < 2) throw ConversionError("calibration text: it holds no text to run the model on");

  const IrGraph& step = graphs[0];
  const Slots step_slots = slots_of(step, decoder);
  const bool has_prefill = graphs.size() > 1;
  Slots prefill_slots;
  size_t prefill_length = 0;
  if (has_prefill) {
    prefill_slots = slots_of(graphs[1], decoder);
    prefill_length = static_cast<size_t>(graphs[1].tensors[static_cast<size_t>(graphs[1].inputs[static_cast<size_t>(prefill_slots.tokens)])].num_elements());
  }
  std::vector<std::vector<float>> caches;
  for (int input : step_slots.cache_inputs)
    caches.emplace_back(static_cast<size_t>(step.tensors[static_cast<size_t>(step.inputs[static_cast<size_t>(input)])].num_elements()), 0.f);

  // Evenly spread positions: every `stride`-th step is kept.
  const size_t wanted = static_cast<size_t>(std::max(1, count));
  const size_t stride = std::max<size_t>(1, tokens.size() / wanted);
  CalibrationPlan plan(graphs.size());
  GraphRunner runner(step, 1);
  for (size_t position = 0; position < tokens.size(); ++position) {
    if (has_prefill && position % stride == 0 && position + prefill_length <= tokens.size() &&
        plan[1].size() < wanted)
      plan[1].push_back(batch_of(graphs[1], prefill_slots, tokens, position, prefill_length, caches));
    CalibrationBatch batch = batch_of(step, step_slots, tokens, position, 1, caches);
    std::vector<std::vector<float>> outputs = runner.run(batch);
    for (size_t c = 0; c < caches.size(); ++c) caches[c] = std::move(outputs.at(static_cast<size_t>(step_slots.cache_outputs[c])));
    if (position % stride == 0 && plan[0].size() < wanted) plan[0].push_back(std::move(batch));
  }
  return plan;
}

}  // namespace edgegen::converter
