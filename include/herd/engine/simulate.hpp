#pragma once
// Drawing from a model's prior and simulating data from it: the ground truth of
// simulation-based calibration and of recovery studies.
#include <cstdint>
#include <vector>

#include "herd/hmc/philox.hpp"
#include "herd/model/model.hpp"

namespace herd {

/// One draw from distribution d restricted to support s (rejection where they differ, e.g. a
/// normal prior on a positive parameter). Throws std::invalid_argument for flat() priors.
double sample_prior(const Distribution& d, const Support& s, Philox& rng);

/// Unconstrained parameters drawn from the model's prior, hierarchy included. Throws
/// std::invalid_argument where the prior is improper or not generative (flat(); a pooled
/// channel's extra effect prior, which multiplies the hierarchy).
std::vector<double> draw_prior(const Model& model, Philox& rng);

/// What an outcome was drawn from: y = scale * h(mu + sigma * eps), h = exp for lognormal, else identity.
struct SimulatedNoise {
  std::vector<double> mu, eps;  // [g * T + t], mu in the model's scaled units (log for lognormal)
  double sigma = 0;
};

/// An outcome series in the user's units drawn from the likelihood at theta, [g * T + t];
/// `noise` (optional) receives mu, sigma and the standardized noise of each observation.
std::vector<double> simulate_outcome(const Model& model, const std::vector<double>& theta, Philox& rng,
                                     SimulatedNoise* noise = nullptr);

/// The same model with the outcome replaced (the scales stay those of the original data, so
/// the parameters keep their meaning).
Model with_outcome(const Model& model, const std::vector<double>& outcome);

}  // namespace herd
