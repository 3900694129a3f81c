#include "edgegen/program.h"

namespace edgegen {

const char* capability_name(Capability capability) {
  switch (capability) {
    case Capability::kNone: return "none";
    case Capability::kSample: return "sample";
    case Capability::kDecode: return "decode";
    case Capability::kEncode: return "encode";
    case Capability::kInterpolate: return "interpolate";
    case Capability::kScore: return "score";
    case Capability::kImpute: return "impute";
    case Capability::kInpaint: return "inpaint";
    case Capability::kClassConditional: return "class_conditional";
    case Capability::kGenerate: return "generate";
    case Capability::kScoreTokens: return "score_tokens";
    case Capability::kVocode: return "vocode";
    case Capability::kImageToImage: return "img2img";
  }
  return "unknown";
}

const Shape& Program::latent_shape() const {
  static const Shape kNoLatent;
  return kNoLatent;
}

size_t Program::latent_size() const {
  const Shape& shape = latent_shape();
  return shape.rank == 0 ? 0 : static_cast<size_t>(shape.num_elements());
}

Status Program::unsupported(Capability capability) const {
  return Status::error(StatusCode::kUnsupportedOp, "a '%s' pipeline cannot %s", pipeline_kind_name(kind()),
                       capability_name(capability));
}

Status Program::sample(const SamplingOptions&, size_t, float*) { return unsupported(Capability::kSample); }
Status Program::score(const ScoringOptions&, const float*, size_t, float*) { return unsupported(Capability::kScore); }
Status Program::impute(const SamplingOptions&, size_t, float*) { return unsupported(Capability::kImpute); }
Status Program::decode(const float*, size_t, float*) { return unsupported(Capability::kDecode); }
Status Program::encode(const float*, size_t, float*, float*) { return unsupported(Capability::kEncode); }
Status Program::generate(const int32_t*, size_t, size_t, const TokenSamplingOptions&, const TokenCallback&,
                         GenerateResult*) {
  return unsupported(Capability::kGenerate);
}
Status Program::score_tokens(const int32_t*, size_t, TokenScore*) { return unsupported(Capability::kScoreTokens); }
Status Program::vocode(const float*, size_t, float*) { return unsupported(Capability::kVocode); }

}  // namespace edgegen
