#pragma once
// Analytic gradient vs finite differences at random unconstrained points: what
// `herd check-gradient` runs and the gradient tests assert on.
#include <cstdint>
#include <string>
#include <vector>

#include "herd/model/model.hpp"

namespace herd {

/// Worst relative error of one parameter block ("adstock_decay", "beta_z", ...).
struct BlockError {
  std::string block;
  double worst = 0;  // max of (|analytic - fd| - what fd cannot resolve) / max(1, |fd|)
  std::string worst_name;  // the coordinate where it happened
  double lp = 0;           // log density at that point
};

struct GradientCheck {
  std::vector<BlockError> blocks;  // in layout order
  double worst = 0;
  int points = 0;
  int nonfinite_points = 0;  // points where the density was not finite (skipped)
};

/// Reference derivative: central differences with Richardson extrapolation, on the
/// double-precision density; error_estimate (optional) gets the reference's own error per
/// coordinate, from the spread of two extrapolations.
std::vector<double> finite_difference_gradient(const Model& model, const std::vector<double>& theta,
                                               std::vector<double>* error_estimate = nullptr);

/// Checks the analytic gradient in `Real` precision against finite_difference_gradient at
/// `points` points drawn uniform(-radius, radius) on the unconstrained scale.
template <class Real>
GradientCheck check_gradient(const Model& model, int points, std::uint64_t seed, double radius = 2.0);

/// Checks at one given point (used for boundary points in tests).
template <class Real>
GradientCheck check_gradient_at(const Model& model, const std::vector<double>& theta);

/// Block name of a coordinate: the parameter name without its label.
std::string block_of(const std::string& param_name);

}  // namespace herd
