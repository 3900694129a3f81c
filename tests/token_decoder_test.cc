// Token decoders (issue 13) end to end, over the class of static-cache
// exports tests/token_decoder/make_models.py builds with PyTorch (cache
// update by ScatterND, ScatterElements and Where; learned and rotary
// positions; LayerNorm and RMSNorm; GELU and SiLU; multi-head and grouped-
// query attention; 1 and 3 layers): ONNX + manifest -> .egm -> TokenDecoder,
// on the backend EDGEGEN_BACKEND picks (CTest runs the file on both).
// Greedy tokens must equal PyTorch's eager loop exactly and the logits of
// every step agree within 1e-4.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <unistd.h>
#include <vector>

#include <nlohmann/json.hpp>

#include "converter/converter.h"
#include "edgegen/module.h"
#include "edgegen/token_decoder.h"
#include "testing/allocation_counter.h"
#include "tests/support/density_test_util.h"

using namespace edgegen;
using testing::LoadedModel;
using testing::load_model;

namespace {

const char* const kModels[] = {"scatter_mha", "where_gqa", "elements_rope", "scatter_deep"};

std::string folder(const std::string& name) { return std::string(EDGEGEN_TOKEN_DECODER_DIR) + "/" + name; }

nlohmann::json reference(const std::string& name) {
  std::ifstream file(folder(name) + "/reference.json");
  REQUIRE(file);
  return nlohmann::json::parse(file);
}

std::vector<int32_t> ints(const nlohmann::json& array) { return array.get<std::vector<int32_t>>(); }

void prepare(const LoadedModel& loaded, TokenDecoder* decoder, SessionOptions options = SessionOptions()) {
  Status prepared = decoder->prepare(loaded.model, options);
  REQUIRE_MESSAGE(prepared.is_ok(), std::string(prepared.message()));
}

struct Collected {
  std::vector<int32_t> tokens;
  size_t stop_after = SIZE_MAX;
};

bool collect(void* user, int32_t token, size_t) {
  Collected& collected = *static_cast<Collected*>(user);
  collected.tokens.push_back(token);
  return collected.tokens.size() < collected.stop_after;
}

std::vector<int32_t> generate(TokenDecoder& decoder, const std::vector<int32_t>& prompt, size_t count,
                              const TokenSamplingOptions& options, GenerateResult* result = nullptr) {
  Collected collected;
  TokenCallback callback;
  callback.on_token = collect;
  callback.user = &collected;
  GenerateResult local;
  Status status = decoder.generate(prompt.data(), prompt.size(), count, options, callback, result ? result : &local);
  REQUIRE_MESSAGE(status.is_ok(), std::string(status.message()));
  return collected.tokens;
}

double max_difference(const float* actual, const nlohmann::json& expected) {
  double worst = 0;
  for (size_t i = 0; i < expected.size(); ++i)
    worst = std::max(worst, std::fabs(static_cast<double>(actual[i]) - expected[i].get<double>()));
  return worst;
}

// A manifest of `name` with `edit` applied, in the temporary directory
// (its graph paths made absolute).
std::string edited_manifest(const std::string& name, const std::function<void(nlohmann::json&)>& edit) {
  std::ifstream file(folder(name) + "/manifest.json");
  nlohmann::json root = nlohmann::json::parse(file);
  for (auto& item : root["graphs"].items()) item.value() = folder(name) + "/" + item.value().get<std::string>();
  edit(root);
  std::string path = (std::filesystem::temp_directory_path() /
                      ("edgegen_token_decoder_" + name + "_" + std::to_string(::getpid()) + ".json"))
                         .string();
  std::ofstream(path) << root.dump();
  return path;
}

std::string conversion_error(const std::string& manifest_path) {
  std::string message;
  try {
    converter::convert(manifest_path, converter::ConvertOptions());
  } catch (const converter::ConversionError& error) {
    message = error.what();
  }
  std::filesystem::remove(manifest_path);
  return message;
}

}  // namespace

TEST_CASE("token decoders: greedy tokens equal PyTorch's exactly, with no heap allocation") {
  for (const char* name : kModels) {
    CAPTURE(std::string(name));
    LoadedModel loaded;
    load_model(folder(name) + "/manifest.json", 1, &loaded);
    TokenDecoder decoder;
    prepare(loaded, &decoder);
    const nlohmann::json ref = reference(name);
    const std::vector<int32_t> prompt = ints(ref["prompt"]);
    const std::vector<int32_t> expected = ints(ref["tokens"]);
    const size_t count = expected.size() - prompt.size();
    std::vector<int32_t> tokens = generate(decoder, prompt, count, TokenSamplingOptions());
    std::vector<int32_t> full = prompt;
    full.insert(full.end(), tokens.begin(), tokens.end());
    CHECK(full == expected);
    // Again, counting allocations: the callback and generate make none.
    std::vector<int32_t> again(count);
    struct Into {
      int32_t* out;
      size_t n;
    } into{again.data(), 0};
    TokenCallback callback;
    callback.on_token = [](void* user, int32_t token, size_t) {
      Into& target = *static_cast<Into*>(user);
      target.out[target.n++] = token;
      return true;
    };
    callback.user = &into;
    GenerateResult result;
    size_t allocations;
    {
      testing::AllocationScope scope;
      REQUIRE(decoder.generate(prompt.data(), prompt.size(), count, TokenSamplingOptions(), callback, &result).is_ok());
      allocations = scope.count();
    }
    CHECK(allocations == 0);
    CHECK(again == tokens);
    CHECK(result.reason == StopReason::kTokenCount);
  }
}

TEST_CASE("token decoders: every step's logits within 1e-4 of PyTorch; prefill's too") {
  for (const char* name : kModels) {
    CAPTURE(std::string(name));
    LoadedModel loaded;
    load_model(folder(name) + "/manifest.json", 1, &loaded);
    TokenDecoder decoder;
    prepare(loaded, &decoder);
    const nlohmann::json ref = reference(name);
    const std::vector<int32_t> tokens = ints(ref["tokens"]);
    const nlohmann::json& steps = ref["step_logits"];
    decoder.reset();
    double worst = 0;
    for (size_t i = 0; i < steps.size(); ++i) {
      REQUIRE(decoder.feed(&tokens[i], 1).is_ok());  // one token: the step graph
      worst = std::max(worst, max_difference(decoder.logits(), steps[i]));
    }
    CHECK(decoder.position() == steps.size());
    CHECK(worst < 1e-4);
    // The prefill graph: T tokens in one run, the last one's logits.
    REQUIRE(decoder.has_prefill());
    const std::vector<int32_t> prompt = ints(ref["prefill_prompt"]);
    REQUIRE(prompt.size() == decoder.prefill_length());
    decoder.reset();
    REQUIRE(decoder.feed(prompt.data(), prompt.size()).is_ok());
    CHECK(max_difference(decoder.logits(), ref["prefill_logits"].back()) < 1e-4);
    // Its cache is the step graph's: stepping on from it matches a step-by-step run.
    decoder.reset();
    for (size_t i = 0; i < prompt.size(); ++i) REQUIRE(decoder.feed(&prompt[i], 1).is_ok());
    std::vector<float> stepped(decoder.logits(), decoder.logits() + decoder.vocab_size());
    CHECK(max_difference(stepped.data(), ref["prefill_logits"].back()) < 1e-4);
  }
}

TEST_CASE("token decoders: the cache is updated in place (each cache output placed on its input)") {
  LoadedModel loaded;
  load_model(folder("scatter_mha") + "/manifest.json", 1, &loaded);
  TokenDecoder decoder;
  prepare(loaded, &decoder);
  Session& session = decoder.session();
  for (const char* graph : {"step", "prefill"}) {
    const int g = session.find_graph(graph);
    REQUIRE(g >= 0);
    for (const char* pair : {"k0", "v0"}) {
      const Tensor& in = session.input(static_cast<size_t>(g), static_cast<size_t>(session.find_input(g, pair)));
      const Tensor& out =
          session.output(static_cast<size_t>(g), static_cast<size_t>(session.find_output(g, (std::string(pair) + "_out").c_str())));
      CHECK(in.data == out.data);
    }
  }
  CHECK(decoder.cache_bytes() == 2 * 4 * 32 * 8 * sizeof(float));
  CHECK(loaded.model.root()->format_version() == 3);
}

TEST_CASE("token decoders: positions past max_length are refused cleanly; generation stops there") {
  LoadedModel loaded;
  load_model(folder("where_gqa") + "/manifest.json", 1, &loaded);
  TokenDecoder decoder;
  prepare(loaded, &decoder);
  const size_t length = decoder.max_length();
  std::vector<int32_t> tokens(length + 1, 65);
  Status too_long = decoder.feed(tokens.data(), length + 1);
  CHECK(too_long.code() == StatusCode::kInvalidArgument);
  CHECK(std::string(too_long.message()).find("max_length") != std::string::npos);
  CHECK(decoder.position() == 0);  // nothing was run
  REQUIRE(decoder.feed(tokens.data(), length).is_ok());
  CHECK(decoder.feed(tokens.data(), 1).code() == StatusCode::kInvalidArgument);
  int32_t outside = static_cast<int32_t>(decoder.vocab_size());
  decoder.reset();
  CHECK(decoder.feed(&outside, 1).code() == StatusCode::kInvalidArgument);
  GenerateResult result;
  std::vector<int32_t> prompt(length - 3, 65);
  std::vector<int32_t> generated = generate(decoder, prompt, 100, TokenSamplingOptions(), &result);
  CHECK(result.reason == StopReason::kMaxLength);
  CHECK(generated.size() == 4);  // positions length-3 .. length-1 are fed, the 4th token has no row left
}

TEST_CASE("token decoders: the arena is exact; one byte less is refused") {
  LoadedModel loaded;
  load_model(folder("elements_rope") + "/manifest.json", 1, &loaded);
  Result<size_t> bytes = TokenDecoder::arena_bytes_needed(loaded.model);
  REQUIRE(bytes.ok());
  std::vector<uint8_t> arena(*bytes + 64);
  uint8_t* aligned = arena.data() + (64 - reinterpret_cast<uintptr_t>(arena.data()) % 64) % 64;
  {
    TokenDecoder decoder;
    Status status = decoder.prepare(loaded.model, aligned, *bytes - 1);
    CHECK(status.code() == StatusCode::kArenaTooSmall);
  }
  TokenDecoder decoder;
  REQUIRE(decoder.prepare(loaded.model, aligned, *bytes).is_ok());
  const nlohmann::json ref = reference("elements_rope");
  std::vector<int32_t> prompt = ints(ref["prompt"]);
  std::vector<int32_t> tokens = generate(decoder, prompt, 3, TokenSamplingOptions());
  CHECK(tokens == std::vector<int32_t>(ref["tokens"].begin() + 6, ref["tokens"].begin() + 9));
}

TEST_CASE("token decoders: sampling controls") {
  LoadedModel loaded;
  load_model(folder("scatter_mha") + "/manifest.json", 1, &loaded);
  TokenDecoder decoder;
  prepare(loaded, &decoder);
  const std::vector<int32_t> prompt = ints(reference("scatter_mha")["prompt"]);
  const std::vector<int32_t> greedy = generate(decoder, prompt, 10, TokenSamplingOptions());
  SUBCASE("top-k 1 is greedy at any temperature") {
    TokenSamplingOptions options;
    options.temperature = 1.5f;
    options.top_k = 1;
    options.seed = 9;
    CHECK(generate(decoder, prompt, 10, options) == greedy);
  }
  SUBCASE("a seed gives the same tokens at 1 and 2 threads, another seed others") {
    TokenSamplingOptions options;
    options.temperature = 1.f;
    options.seed = 42;
    std::vector<int32_t> first = generate(decoder, prompt, 20, options);
    CHECK(generate(decoder, prompt, 20, options) == first);
    SessionOptions two;
    two.threads = 2;
    TokenDecoder threaded;
    prepare(loaded, &threaded, two);
    CHECK(generate(threaded, prompt, 20, options) == first);
    options.seed = 43;
    CHECK(generate(decoder, prompt, 20, options) != first);
  }
  SUBCASE("the callback cancels") {
    Collected collected;
    collected.stop_after = 3;
    TokenCallback callback;
    callback.on_token = collect;
    callback.user = &collected;
    GenerateResult result;
    REQUIRE(decoder.generate(prompt.data(), prompt.size(), 10, TokenSamplingOptions(), callback, &result).is_ok());
    CHECK(result.reason == StopReason::kCancelled);
    CHECK(result.generated == 3);
    CHECK(collected.tokens == std::vector<int32_t>(greedy.begin(), greedy.begin() + 3));
  }
  SUBCASE("bad options and prompts are refused with a message") {
    TokenSamplingOptions options;
    options.top_p = 0.f;
    GenerateResult result;
    CHECK(decoder.generate(prompt.data(), prompt.size(), 1, options, TokenCallback(), &result).code() ==
          StatusCode::kInvalidArgument);
    CHECK(decoder.generate(nullptr, 0, 1, TokenSamplingOptions(), TokenCallback(), &result).code() ==
          StatusCode::kInvalidArgument);
  }
}

TEST_CASE("sample_token: top-p, min-p, repetition penalty and temperature on hand-made logits") {
  // p = softmax(log(0.5, 0.3, 0.15, 0.05)): the candidates in order 0, 1, 2, 3.
  const float logits[4] = {std::log(0.5f), std::log(0.3f), std::log(0.15f), std::log(0.05f)};
  float scratch[8];
  int32_t order[4];
  TokenSamplingOptions options;
  options.temperature = 1.f;
  auto draw = [&](float u, const int32_t* history = nullptr, size_t count = 0) {
    return sample_token(logits, 4, options, history, count, u, scratch, order);
  };
  CHECK(draw(0.f) == 0);
  CHECK(draw(0.49f) == 0);
  CHECK(draw(0.51f) == 1);
  CHECK(draw(0.81f) == 2);
  CHECK(draw(0.99f) == 3);
  options.top_p = 0.75f;  // keeps {0, 1} (0.8 >= 0.75): renormalized 0.625 / 0.375
  CHECK(draw(0.6f) == 0);
  CHECK(draw(0.7f) == 1);
  CHECK(draw(0.999f) == 1);
  options.top_p = 1.f;
  options.min_p = 0.35f;  // keeps p >= 0.175: {0, 1}
  CHECK(draw(0.999f) == 1);
  options.min_p = 0.f;
  options.top_k = 3;
  CHECK(draw(0.999f) == 2);
  options.top_k = 0;
  // Repetition penalty: token 0's logit log(0.5) < 0 is multiplied by 3 (-2.08), below
  // token 1's log(0.3) = -1.20: greedy picks 1.
  options.temperature = 0.f;
  options.repetition_penalty = 3.f;
  const int32_t history[] = {0, 0, 0};
  CHECK(draw(0.f, history, 3) == 1);
  options.repetition_penalty = 1.f;
  CHECK(draw(0.f, history, 3) == 0);
  // A very low temperature concentrates on the most likely token.
  options.temperature = 0.01f;
  CHECK(draw(0.999f) == 0);
}

TEST_CASE("token decoders: score_tokens sums PyTorch's log-softmax of the next token") {
  LoadedModel loaded;
  load_model(folder("scatter_deep") + "/manifest.json", 1, &loaded);
  TokenDecoder decoder;
  prepare(loaded, &decoder);
  const nlohmann::json ref = reference("scatter_deep");
  const std::vector<int32_t> tokens = ints(ref["tokens"]);
  const nlohmann::json& steps = ref["step_logits"];
  double expected = 0;
  for (size_t i = 0; i < steps.size(); ++i) {
    std::vector<double> row = steps[i].get<std::vector<double>>();
    double top = *std::max_element(row.begin(), row.end()), sum = 0;
    for (double v : row) sum += std::exp(v - top);
    expected += row[static_cast<size_t>(tokens[i + 1])] - top - std::log(sum);
  }
  TokenScore score;
  REQUIRE(decoder.score_tokens(tokens.data(), tokens.size(), &score).is_ok());
  CHECK(score.predicted == tokens.size() - 1);
  CHECK(score.windows == 1);
  CHECK(std::fabs(score.nats - expected) < 1e-3);
  // Longer than max_length: windows, each restarting the cache.
  std::vector<int32_t> long_sequence;
  while (long_sequence.size() < 2 * decoder.max_length() + 5) long_sequence.insert(long_sequence.end(), tokens.begin(), tokens.end());
  REQUIRE(decoder.score_tokens(long_sequence.data(), long_sequence.size(), &score).is_ok());
  CHECK(score.windows == 3);
  CHECK(score.predicted == long_sequence.size() - 3);
}

TEST_CASE("token decoders: Module runs them as a Program that can generate") {
  LoadedModel loaded;
  load_model(folder("scatter_mha") + "/manifest.json", 1, &loaded);
  Module module;
  REQUIRE(module.load(loaded.bytes.data(), loaded.bytes.size()).is_ok());
  CHECK(module.declares(Capability::kGenerate));
  CHECK_FALSE(module.declares(Capability::kSample));
  REQUIRE(module.prepare(SessionOptions(), Capability::kGenerate).is_ok());
  Program& program = *module.program();
  CHECK(program.can(Capability::kScoreTokens));
  CHECK(program.sample(SamplingOptions(), 1, nullptr).code() == StatusCode::kUnsupportedOp);
  const nlohmann::json ref = reference("scatter_mha");
  std::vector<int32_t> prompt = ints(ref["prompt"]);
  Collected collected;
  TokenCallback callback;
  callback.on_token = collect;
  callback.user = &collected;
  REQUIRE(program.generate(prompt.data(), prompt.size(), 4, TokenSamplingOptions(), callback, nullptr).is_ok());
  CHECK(collected.tokens == std::vector<int32_t>(ref["tokens"].begin() + 6, ref["tokens"].begin() + 10));
}

TEST_CASE("token decoders: the converter refuses a mismatched pairing with a message") {
  SUBCASE("a cache output that does not exist") {
    std::string message = conversion_error(edited_manifest("scatter_mha", [](nlohmann::json& root) {
      root["outputs"]["cache"][0][1] = "v9_out";
    }));
    CHECK(message.find("'v9_out' is not a graph output") != std::string::npos);
  }
  SUBCASE("max_length disagrees with the cache shape") {
    std::string message = conversion_error(edited_manifest("scatter_mha", [](nlohmann::json& root) {
      root["max_length"] = 16;
    }));
    CHECK(message.find("max_length 16") != std::string::npos);
  }
  SUBCASE("K and V outputs swapped onto the wrong inputs (another layer's cache)") {
    std::string message = conversion_error(edited_manifest("where_gqa", [](nlohmann::json& root) {
      root["outputs"]["cache"][0][0] = "k1_out";
      root["outputs"]["cache"][1][0] = "k0_out";
    }));
    CHECK(message.find("cannot be updated in place") != std::string::npos);
  }
  SUBCASE("layer counts differ") {
    std::string message = conversion_error(edited_manifest("where_gqa", [](nlohmann::json& root) {
      root["outputs"]["cache"].erase(2);
    }));
    CHECK(message.find("each cache input needs its updated output") != std::string::npos);
  }
  SUBCASE("the logits' vocabulary differs") {
    std::string message = conversion_error(edited_manifest("elements_rope", [](nlohmann::json& root) {
      root["vocab_size"] = 300;
    }));
    CHECK(message.find("vocab_size 300") != std::string::npos);
  }
}
