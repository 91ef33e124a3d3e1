#pragma once
// MCMC convergence diagnostics for one scalar quantity, matching ArviZ 0.23
// (arviz.stats.diagnostics) to rounding error so that `herd summarize` agrees with
// `az.summary` on the same draws. References: Vehtari, Gelman, Simpson, Carpenter and
// Bürkner (2021), "Rank-normalization, folding, and localization: an improved R-hat",
// Bayesian Analysis 16(2); Margossian et al. (2024), "Nested R-hat", Bayesian Analysis.
//
// Draws are chain-major: x[c * draws + d] for chain c < chains and draw d < draws.
// Every function throws std::invalid_argument for a null pointer or chains < 1 or draws < 1.
// Where ArviZ declines to compute (its shape check: draws < 4, or chains < 2 for R-hat; or
// any NaN draw) the result is NaN, as in ArviZ. Odd draw counts drop the middle draw of each
// chain when splitting, as ArviZ does. Constant draws: every ESS equals the number of split
// draws (ArviZ short-circuits on max - min < 1e-15), R-hat is NaN (0/0), mcse_mean is 0 and
// mcse_sd is NaN; chains that are each constant at different values give R-hat = +inf
// (ArviZ prints a rounding-dependent ~1e16 there).

#include <vector>

namespace herd {

/// Rank-normalized split R-hat: max of bulk and folded (tail) R-hat, as az.rhat(method="rank").
double rhat(const double* x, int chains, int draws);

/// Bulk ESS: ESS of the rank-normalized split chains, as az.ess(method="bulk").
double ess_bulk(const double* x, int chains, int draws);

/// Tail ESS: min of the ESS of I(x <= q05) and I(x <= q95) on split chains, as az.ess(method="tail").
double ess_tail(const double* x, int chains, int draws);

/// ESS of the indicator I(x <= quantile(prob)) on split chains, as az.ess(method="quantile").
double ess_quantile(const double* x, int chains, int draws, double prob);

/// ESS of the raw split draws (for the mean), as az.ess(method="mean").
double ess_mean(const double* x, int chains, int draws);

/// ESS of the split squared deviations (x - mean)^2 (for the sd), as az.ess(method="sd").
double ess_sd(const double* x, int chains, int draws);

/// Monte Carlo standard error of the mean: sd / sqrt(ess_mean), as az.mcse(method="mean").
double mcse_mean(const double* x, int chains, int draws);

/// Monte Carlo standard error of the sd via the delta method on E[(x - mean)^2], as az.mcse(method="sd").
double mcse_sd(const double* x, int chains, int draws);

/// Monte Carlo standard error of the prob-quantile from a Beta posterior on ranks, as az.mcse(method="quantile").
double mcse_quantile(const double* x, int chains, int draws, double prob);

/// One row of az.summary (stat_focus="mean"); hdi_* bound the hdi_prob highest-density interval.
struct Summary {
  double mean, sd, hdi_low, hdi_high, mcse_mean, mcse_sd, ess_bulk, ess_tail, r_hat;
};

/// az.summary's columns for one quantity; hdi_prob must lie in (0, 1). r_hat folds around the
/// median of all draws as az.summary does (az.rhat uses the split draws; they differ only for odd draws).
Summary summarize(const double* x, int chains, int draws, double hdi_prob = 0.94);

/// The prob highest-density interval of pooled draws (az.hdi's rule); NaN for no draws.
void hdi(const std::vector<double>& v, double prob, double& low, double& high);

/// E-BFMI of one chain: sum (E_t - E_{t-1})^2 / sum (E_t - mean E)^2, as az.bfmi; NaN for one draw.
double ebfmi(const double* energy, int draws);

/// Nested R-hat over `superchains` consecutive equal groups of chains (Margossian et al. 2024); NaN if non-finite or constant.
double nested_rhat(const double* x, int chains, int draws, int superchains);

/// Prior-to-posterior contraction 1 - posterior_var / prior_var (Schad, Betancourt, Vasishth 2021).
double contraction(double prior_var, double posterior_var);

/// Posterior shift |posterior_mean - prior_mean| / prior_sd, in prior standard deviations.
double prior_shift(double prior_mean, double prior_sd, double posterior_mean);

}  // namespace herd
