// The log-likelihood of data under the output distributions of a density
// model, summed over an item's values: what `edgegen score` evaluates for
// every item (and, for a VAE, every latent sample), the hot loops after the
// graphs themselves (a libm log1p or exp per value before).
//
// Vectorized in float32 (core/vector_math.h's exp, log and log1p, about
// 1 ulp each), summed in double: within ~1e-6 of the double-precision
// formulas per value.
#pragma once

#include <cstddef>
#include <cstdint>

namespace edgegen {

// Independent Bernoulli outputs given as logits l, data x in [0, 1]:
// sum_i x_i l_i - softplus(l_i).
double bernoulli_logit_log_likelihood(const float* x, const float* logits, size_t n);

// `dims` categorical outputs of `categories` logits each ([dims, categories]
// row-major), data x_d an integer in [0, categories) (the caller checks):
// sum_d logits[d][x_d] - log sum_c exp(logits[d][c]).
double categorical_log_likelihood(const float* x, const float* logits, size_t dims, size_t categories);

}  // namespace edgegen
