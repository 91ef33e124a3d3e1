// PSIS-LOO as ArviZ 0.23 computes it (arviz/stats/stats.py: loo, psislw, _psislw, _gpdfit,
// _gpinv), ported step by step so that each floating-point operation happens in the same
// order; only summation order differs (numpy sums pairwise), which moves results by 1e-14 at most.
#include "herd/diagnostics/loo.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>

namespace herd {
namespace {

constexpr double kEps = std::numeric_limits<double>::epsilon();

// ArviZ's logsumexp: shift by the max so that exp cannot overflow.
double logsumexp(const std::vector<double>& x) {
  double m = -std::numeric_limits<double>::infinity();
  for (double v : x) m = std::max(m, v);
  double s = 0.0;
  for (double v : x) s += std::exp(v - m);
  return std::log(s) + m;
}

double mean_log1p_scaled(double b, const std::vector<double>& x) {
  double s = 0.0;
  for (double v : x) s += std::log1p(-b * v);
  return s / static_cast<double>(x.size());
}

struct GpdFit {
  double k, sigma;
};

// Zhang and Stephens (2009) posterior-mean estimate of the generalized Pareto parameters over a
// grid of m candidate b = -k/sigma, with ArviZ's constants. `x` is the tail (exceedances over
// the cutoff), sorted ascending.
GpdFit gpdfit(const std::vector<double>& x) {
  constexpr double prior_bs = 3.0;
  constexpr double prior_k = 10.0;
  const std::size_t n = x.size();
  const double nd = static_cast<double>(n);
  const int m = 30 + static_cast<int>(std::sqrt(nd));

  // Grid centered on 1/x_max, spread in units of the first quartile (ArviZ's int(n/4 + 0.5)).
  const double quartile = x[static_cast<std::size_t>(nd / 4.0 + 0.5) - 1];
  std::vector<double> b(static_cast<std::size_t>(m)), len_scale(static_cast<std::size_t>(m));
  for (int j = 0; j < m; ++j) {
    double bj = 1.0 - std::sqrt(static_cast<double>(m) / (static_cast<double>(j + 1) - 0.5));
    bj /= prior_bs * quartile;
    bj += 1.0 / x[n - 1];
    b[static_cast<std::size_t>(j)] = bj;
    // Profile log likelihood of b, with k at its conditional maximum.
    const double kj = mean_log1p_scaled(bj, x);
    len_scale[static_cast<std::size_t>(j)] = nd * (std::log(-(bj / kj)) - kj - 1.0);
  }
  // Normalized likelihood weights, written as 1 / sum exp(difference) so none overflows.
  std::vector<double> w(static_cast<std::size_t>(m));
  for (std::size_t j = 0; j < w.size(); ++j) {
    double s = 0.0;
    for (std::size_t l = 0; l < w.size(); ++l) s += std::exp(len_scale[l] - len_scale[j]);
    w[j] = 1.0 / s;
  }
  // ArviZ drops negligible weights before normalizing; kept identical so sums match.
  double wsum = 0.0;
  for (double wj : w)
    if (wj >= 10.0 * kEps) wsum += wj;
  double b_post = 0.0;
  for (std::size_t j = 0; j < w.size(); ++j)
    if (w[j] >= 10.0 * kEps) b_post += b[j] * (w[j] / wsum);

  double k = mean_log1p_scaled(b_post, x);
  const double sigma = -k / b_post;  // from the unregularized k, as ArviZ
  // Weakly informative prior pulling k towards 0.5 (Vehtari et al. 2024, appendix C).
  k = (nd * k + prior_k * 0.5) / (nd + prior_k);
  return {k, sigma};
}

// Inverse GPD cdf; p is always strictly inside (0, 1) here, so ArviZ's boundary cases never arise.
double gpinv(double p, double k, double sigma) {
  if (sigma <= 0.0) return std::numeric_limits<double>::quiet_NaN();  // a NaN sigma falls through to NaN, as in numpy
  double x;
  if (std::fabs(k) < kEps) {
    x = -std::log1p(-p);
  } else {
    x = std::expm1(-k * std::log1p(-p)) / k;
  }
  return x * sigma;
}

// Tail length M = ceil(min(S/5, 3 sqrt(S / reff))) with reff = 1 (see the header).
std::size_t tail_length(std::size_t s) {
  const double sd = static_cast<double>(s);
  return static_cast<std::size_t>(std::ceil(std::min(sd / 5.0, 3.0 * std::sqrt(sd))));
}

// _psislw with normalize=True. `scratch` and `tail` are buffers reused across observations.
double smooth(std::vector<double>& x, std::vector<double>& scratch, std::vector<std::size_t>& tail) {
  const std::size_t s = x.size();
  // Shift so the largest raw weight is exp(0): keeps exp finite and sets the truncation level.
  const double max_x = *std::max_element(x.begin(), x.end());
  for (double& v : x) v -= max_x;

  // The cutoff is the (M+1)-th largest weight; the tail is whatever lies strictly above it.
  const std::size_t cut = s - tail_length(s) - 1;
  scratch.assign(x.begin(), x.end());
  std::nth_element(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(cut), scratch.end());
  const double xcutoff = std::max(scratch[cut], std::log(std::numeric_limits<double>::min()));
  const double expxcutoff = std::exp(xcutoff);

  tail.clear();
  for (std::size_t i = 0; i < s; ++i)
    if (x[i] > xcutoff) tail.push_back(i);
  double k;
  if (tail.size() <= 4) {
    k = std::numeric_limits<double>::infinity();  // too few points to fit; ArviZ leaves them raw
  } else {
    std::sort(tail.begin(), tail.end(), [&x](std::size_t a, std::size_t b) { return x[a] < x[b]; });
    scratch.resize(tail.size());
    for (std::size_t j = 0; j < tail.size(); ++j) scratch[j] = std::exp(x[tail[j]]) - expxcutoff;
    const GpdFit fit = gpdfit(scratch);
    k = fit.k;
    if (std::isfinite(k)) {
      // Replace the tail by the fitted GPD's expected order statistics.
      const double len = static_cast<double>(tail.size());
      for (std::size_t j = 0; j < tail.size(); ++j) {
        const double p = (0.5 + static_cast<double>(j)) / len;
        x[tail[j]] = std::log(gpinv(p, k, fit.sigma) + expxcutoff);
      }
      // No smoothed weight may exceed the largest raw one (0 after the shift).
      for (double& v : x)
        if (v > 0.0) v = 0.0;
    }
  }
  const double norm = logsumexp(x);
  for (double& v : x) v -= norm;
  return k;
}

void check_finite(const std::vector<double>& x, const char* what) {
  for (double v : x)
    if (!std::isfinite(v)) throw std::invalid_argument(std::string(what) + ": non-finite value");
}

double population_variance(const std::vector<double>& x) {
  double mean = 0.0;
  for (double v : x) mean += v;
  mean /= static_cast<double>(x.size());
  double ss = 0.0;
  for (double v : x) ss += (v - mean) * (v - mean);
  return ss / static_cast<double>(x.size());
}

}  // namespace

double psis_smooth(std::vector<double>& log_weights) {
  if (log_weights.size() < 2) throw std::invalid_argument("psis_smooth: need at least 2 weights");
  check_finite(log_weights, "psis_smooth");
  std::vector<double> scratch;
  std::vector<std::size_t> tail;
  return smooth(log_weights, scratch, tail);
}

LooResult psis_loo(const double* log_lik, int draws, int n_obs) {
  if (log_lik == nullptr) throw std::invalid_argument("psis_loo: null log_lik");
  if (draws < 2) throw std::invalid_argument("psis_loo: need at least 2 draws");
  if (n_obs < 1) throw std::invalid_argument("psis_loo: need at least 1 observation");
  const std::size_t s = static_cast<std::size_t>(draws);
  const std::size_t n = static_cast<std::size_t>(n_obs);
  const double sd = static_cast<double>(s);

  LooResult r;
  r.pointwise.resize(n);
  r.pareto_k.resize(n);
  r.k_threshold = std::min(1.0 - 1.0 / std::log10(sd), 0.7);

  std::vector<double> ll(s), lw(s), scratch;
  std::vector<std::size_t> tail;
  double lppd = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t d = 0; d < s; ++d) ll[d] = log_lik[d * n + i];
    check_finite(ll, "psis_loo");
    for (std::size_t d = 0; d < s; ++d) lw[d] = -ll[d];
    r.pareto_k[i] = smooth(lw, scratch, tail);
    // elpd_i = log sum_s w_s p(y_i | theta_s) with normalized smoothed weights.
    for (std::size_t d = 0; d < s; ++d) lw[d] += ll[d];
    r.pointwise[i] = logsumexp(lw);
    // lppd_i = log mean_s p(y_i | theta_s), ArviZ's logsumexp(b_inv=S) order of operations.
    double m = -std::numeric_limits<double>::infinity();
    for (double v : ll) m = std::max(m, v);
    double e = 0.0;
    for (double v : ll) e += std::exp(v - m);
    lppd += std::log(e) + (m - std::log(sd));
  }
  for (double v : r.pointwise) r.elpd_loo += v;
  r.se = std::sqrt(static_cast<double>(n) * population_variance(r.pointwise));
  r.p_loo = lppd - r.elpd_loo;
  r.looic = -2.0 * r.elpd_loo;
  r.n_bad_k = static_cast<int>(
      std::count_if(r.pareto_k.begin(), r.pareto_k.end(), [&r](double k) { return k > r.k_threshold; }));
  return r;
}

LooDiff loo_compare(const LooResult& a, const LooResult& b) {
  if (a.pointwise.size() != b.pointwise.size() || a.pointwise.empty())
    throw std::invalid_argument("loo_compare: models must cover the same (non-zero) number of observations");
  std::vector<double> diff(a.pointwise.size());
  for (std::size_t i = 0; i < diff.size(); ++i) diff[i] = a.pointwise[i] - b.pointwise[i];
  LooDiff out;
  for (double v : diff) out.elpd_diff += v;
  out.se = std::sqrt(static_cast<double>(diff.size()) * population_variance(diff));
  return out;
}

}  // namespace herd
