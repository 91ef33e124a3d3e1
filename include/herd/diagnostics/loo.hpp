#pragma once
// PSIS-LOO: Pareto-smoothed importance sampling leave-one-out cross-validation, matching
// ArviZ 0.23's az.loo(..., pointwise=True, reff=1.0, scale="log") to rounding error so that
// herd's model comparisons agree with the ArviZ numbers users check them against.
// References: Vehtari, Gelman and Gabry (2017), "Practical Bayesian model evaluation using
// leave-one-out cross-validation and WAIC", Statistics and Computing 27; Vehtari, Simpson,
// Gelman, Yao and Gabry (2024), "Pareto smoothed importance sampling", JMLR 25(72); Zhang and
// Stephens (2009), "A new and efficient estimation method for the generalized Pareto
// distribution", Technometrics 51(3).
//
// Relative efficiency: ArviZ sets the Pareto tail length to ceil(min(S / 5, 3 sqrt(S / reff)))
// and, for several chains, estimates reff from the posterior's mean ESS. herd always uses
// reff = 1 (tail length ceil(min(S / 5, 3 sqrt(S)))): the result equals az.loo(..., reff=1.0),
// or a default az.loo on a single chain. A default az.loo on several autocorrelated chains has
// reff < 1, a longer tail, and so slightly different k-hats and elpd.
//
// Where fewer than 5 draws lie strictly above the tail cutoff (for instance a log likelihood
// that is constant over draws) ArviZ cannot fit the tail: k-hat is +inf (counted as bad) and
// the weights are only normalized, as in ArviZ. Inputs must be finite: psis_loo and
// psis_smooth throw std::invalid_argument otherwise (ArviZ would silently return NaN).

#include <vector>

namespace herd {

/// PSIS-LOO of one model from its pointwise log likelihood.
struct LooResult {
  /// Sum of the pointwise elpd; higher is better, as az.loo's scale="log".
  double elpd_loo = 0.0;
  /// sqrt(n * var(pointwise)) with the population variance, as ArviZ (not the sample variance).
  double se = 0.0;
  /// lppd - elpd_loo: the effective number of parameters that the LOO correction implies.
  double p_loo = 0.0;
  /// -2 elpd_loo, ArviZ's scale="deviance", for readers used to information criteria.
  double looic = 0.0;
  /// elpd_loo_i per observation; differences of these between models give loo_compare's SE.
  std::vector<double> pointwise;
  /// k-hat per observation; above k_threshold the importance-sampling estimate is unreliable.
  std::vector<double> pareto_k;
  /// How many k-hat exceed k_threshold (ArviZ warns when any does).
  int n_bad_k = 0;
  /// min(1 - 1/log10(S), 0.7), ArviZ 0.23's good_k: smaller S cannot support heavier tails.
  double k_threshold = 0.0;
};

/// log_lik[s * n_obs + i] for S draws (all chains pooled, chain-major) and n_obs observations.
/// Throws std::invalid_argument for a null pointer, draws < 2, n_obs < 1 or a non-finite value.
LooResult psis_loo(const double* log_lik, int draws, int n_obs);

/// Pareto-smoothed log weights of one observation (exposed for tests): smooths the tail in place, returns k-hat.
/// Output is normalized (logsumexp 0), as az.psislw(normalize=True) with reff = 1; needs >= 2 finite weights.
double psis_smooth(std::vector<double>& log_weights);

/// elpd difference a - b with the SE of the pointwise differences (as az.compare's dse).
struct LooDiff {
  /// a.elpd_loo - b.elpd_loo: positive when a predicts better.
  double elpd_diff = 0.0;
  /// sqrt(n * var(a_i - b_i)): paired, so much smaller than either model's own se.
  double se = 0.0;
};

/// Compares two models of the same observations; throws std::invalid_argument if their n differ.
LooDiff loo_compare(const LooResult& a, const LooResult& b);

}  // namespace herd
