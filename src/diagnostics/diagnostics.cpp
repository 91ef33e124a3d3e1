#include "herd/diagnostics/diagnostics.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstddef>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

// Each statistic transcribes the ArviZ 0.23 function named in its comment
// (arviz/stats/diagnostics.py), quirks included, so herd's tables match az.summary.
// tests/data/diagnostics/make_reference.py produces the values the tests compare with.

namespace herd {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A (rows x cols) row-major block: ArviZ's (chain, draw) array.
struct Draws {
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::vector<double> v;

  const double* row(std::size_t r) const { return v.data() + r * cols; }
  std::size_t size() const { return v.size(); }
};

void check_sizes(const double* x, int chains, int draws, const char* who) {
  if (x == nullptr) throw std::invalid_argument(std::string(who) + ": draws pointer is null");
  if (chains < 1 || draws < 1) {
    throw std::invalid_argument(std::string(who) + ": need chains >= 1 and draws >= 1, got " +
                                std::to_string(chains) + " x " + std::to_string(draws));
  }
}

void check_prob(double prob, const char* who) {
  if (!(prob > 0.0 && prob < 1.0)) {
    throw std::invalid_argument(std::string(who) + ": probability must lie in (0, 1), got " +
                                std::to_string(prob));
  }
}

Draws make_draws(const double* x, int chains, int draws, const char* who) {
  check_sizes(x, chains, draws, who);
  Draws d;
  d.rows = static_cast<std::size_t>(chains);
  d.cols = static_cast<std::size_t>(draws);
  d.v.assign(x, x + d.rows * d.cols);
  return d;
}

bool any_nan(const std::vector<double>& v) {
  return std::any_of(v.begin(), v.end(), [](double a) { return std::isnan(a); });
}

// ArviZ's not_valid(): it computes nothing for NaN draws, fewer than 4 draws per chain, or
// fewer than `min_chains` chains (2 for R-hat, 1 for ESS and MCSE).
bool arviz_declines(const Draws& d, std::size_t min_chains) {
  return any_nan(d.v) || d.cols < 4 || d.rows < min_chains;
}

template <class F>
Draws transform(const Draws& d, F f) {
  Draws out = d;
  for (double& a : out.v) a = f(a);
  return out;
}

// _split_chains: first halves of all chains, then last halves; an odd middle draw is dropped.
Draws split_chains(const Draws& d) {
  const std::size_t half = d.cols / 2;
  Draws out;
  out.rows = 2 * d.rows;
  out.cols = half;
  out.v.reserve(out.rows * half);
  for (std::size_t r = 0; r < d.rows; ++r) out.v.insert(out.v.end(), d.row(r), d.row(r) + half);
  for (std::size_t r = 0; r < d.rows; ++r) {
    out.v.insert(out.v.end(), d.row(r) + (d.cols - half), d.row(r) + d.cols);
  }
  return out;
}

double mean_of(const double* p, std::size_t n) {
  double s = 0.0;
  for (std::size_t i = 0; i < n; ++i) s += p[i];
  return s / static_cast<double>(n);
}

double mean_of(const std::vector<double>& v) { return mean_of(v.data(), v.size()); }

// Two-pass variance as numpy's var(ddof=...); 0/0 = NaN when n == ddof, as numpy.
double var_of(const double* p, std::size_t n, double ddof) {
  const double m = mean_of(p, n);
  double ss = 0.0;
  for (std::size_t i = 0; i < n; ++i) ss += (p[i] - m) * (p[i] - m);
  return ss / (static_cast<double>(n) - ddof);
}

double var_of(const std::vector<double>& v, double ddof) { return var_of(v.data(), v.size(), ddof); }

std::vector<double> sorted_copy(const std::vector<double>& v) {
  std::vector<double> s = v;
  std::sort(s.begin(), s.end());
  return s;
}

// numpy.median: the mean of the two middle values for an even count.
double median_of(const std::vector<double>& v) {
  const std::vector<double> s = sorted_copy(v);
  const std::size_t n = s.size();
  return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2.0;
}

// scipy.stats.mstats.mquantiles(alphap=1, betap=1), i.e. R type 7, with the same
// floating-point steps so the tail indicators x <= q agree draw for draw.
double quantile_type7(const std::vector<double>& sorted, double p) {
  const std::size_t n = sorted.size();
  if (n == 1) return sorted[0];
  const double m = 1.0 + p * (1.0 - 1.0 - 1.0);
  const double aleph = static_cast<double>(n) * p + m;
  const double k = std::floor(std::clamp(aleph, 1.0, static_cast<double>(n - 1)));
  const double gamma = std::clamp(aleph - k, 0.0, 1.0);
  const auto ik = static_cast<std::size_t>(k);
  return (1.0 - gamma) * sorted[ik - 1] + gamma * sorted[ik];
}

// Wichura (1988), Algorithm AS 241 (PPND16): the standard normal quantile to about 1e-16
// relative, which is what scipy.stats.norm.ppf delivers.
double inv_norm_cdf(double p) {
  const double q = p - 0.5;
  if (std::fabs(q) <= 0.425) {
    const double r = 0.180625 - q * q;
    const double num =
        ((((((2.5090809287301226727e+3 * r + 3.3430575583588128105e+4) * r +
             6.7265770927008700853e+4) * r + 4.5921953931549871457e+4) * r +
           1.3731693765509461125e+4) * r + 1.9715909503065514427e+3) * r +
         1.3314166789178437745e+2) * r + 3.3871328727963666080e+0;
    const double den =
        ((((((5.2264952788528545610e+3 * r + 2.8729085735721942674e+4) * r +
             3.9307895800092710610e+4) * r + 2.1213794301586595867e+4) * r +
           5.3941960214247511077e+3) * r + 6.8718700749205790830e+2) * r +
         4.2313330701600911252e+1) * r + 1.0;
    return q * num / den;
  }
  double r = std::sqrt(-std::log(q < 0.0 ? p : 1.0 - p));
  double val = 0.0;
  if (r <= 5.0) {
    r -= 1.6;
    const double num =
        ((((((7.74545014278341407640e-4 * r + 2.27238449892691845833e-2) * r +
             2.41780725177450611770e-1) * r + 1.27045825245236838258e+0) * r +
           3.64784832476320460504e+0) * r + 5.76949722146069140550e+0) * r +
         4.63033784615654529590e+0) * r + 1.42343711074968357734e+0;
    const double den =
        ((((((1.05075007164441684324e-9 * r + 5.47593808499534494600e-4) * r +
             1.51986665636164571966e-2) * r + 1.48103976427480074590e-1) * r +
           6.89767334985100004550e-1) * r + 1.67638483018380384940e+0) * r +
         2.05319162663775882187e+0) * r + 1.0;
    val = num / den;
  } else {
    r -= 5.0;
    const double num =
        ((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r +
             1.24266094738807843860e-3) * r + 2.65321895265761230930e-2) * r +
           2.96560571828504891230e-1) * r + 1.78482653991729133580e+0) * r +
         5.46378491116411436990e+0) * r + 6.65790464350110377720e+0;
    const double den =
        ((((((2.04426310338993978564e-15 * r + 1.42151175831644588870e-7) * r +
             1.84631831751005468180e-5) * r + 7.86869131145613259100e-4) * r +
           1.48753612908506148525e-2) * r + 1.36929880922735805310e-1) * r +
         5.99832206555887937690e-1) * r + 1.0;
    val = num / den;
  }
  return q < 0.0 ? -val : val;
}

// scipy.stats.rankdata(method="average"): ties share the mean of the ranks they span.
std::vector<double> average_ranks(const std::vector<double>& v) {
  std::vector<std::size_t> order(v.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
  std::vector<double> rank(v.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i + 1;
    while (j < order.size() && v[order[j]] == v[order[i]]) ++j;
    const double shared = 0.5 * static_cast<double>(i + 1 + j);  // mean of ranks i+1 .. j
    for (std::size_t k = i; k < j; ++k) rank[order[k]] = shared;
    i = j;
  }
  return rank;
}

// _z_scale: ranks over all chains pooled, Blom's offset c = 3/8, then the normal quantile.
Draws z_scale(const Draws& d) {
  constexpr double c = 3.0 / 8.0;
  const std::vector<double> rank = average_ranks(d.v);
  const double denom = static_cast<double>(d.size()) - 2.0 * c + 1.0;
  Draws out = d;
  for (std::size_t i = 0; i < out.v.size(); ++i) out.v[i] = inv_norm_cdf((rank[i] - c) / denom);
  return out;
}

// _rhat: the classic potential scale reduction on whatever chains it is given.
double rhat_plain(const Draws& d) {
  const auto n = static_cast<double>(d.cols);
  std::vector<double> chain_mean(d.rows), chain_var(d.rows);
  for (std::size_t r = 0; r < d.rows; ++r) {
    chain_mean[r] = mean_of(d.row(r), d.cols);
    chain_var[r] = var_of(d.row(r), d.cols, 1.0);
  }
  const double between = n * var_of(chain_mean, 1.0);
  const double within = mean_of(chain_var);
  return std::sqrt((between / within + n - 1.0) / n);
}

// Python's builtin max(a, b): b only when b > a, so a NaN first argument wins.
double python_max(double a, double b) { return b > a ? b : a; }

enum class FoldAround { split_draws, all_draws };

// _rhat_rank (fold around the split draws' median) and _multichain_statistics' r_hat (fold
// around the median of all draws, then split). They differ only when draws is odd.
double rank_rhat(const Draws& d, FoldAround fold) {
  if (arviz_declines(d, 2)) return kNaN;
  const Draws split = split_chains(d);
  const double bulk = rhat_plain(z_scale(split));
  Draws folded;
  if (fold == FoldAround::split_draws) {
    const double med = median_of(split.v);
    folded = transform(split, [med](double a) { return std::fabs(a - med); });
  } else {
    const double med = median_of(d.v);
    folded = split_chains(transform(d, [med](double a) { return std::fabs(a - med); }));
  }
  const double tail = rhat_plain(z_scale(folded));
  return python_max(bulk, tail);
}

// Radix-2 FFT; only the forward transform is needed because the power spectrum is real and
// even, so its inverse transform is the forward one divided by the length.
class Fft {
 public:
  explicit Fft(std::size_t n) : n_(n), twiddle_(n / 2) {
    const double pi = std::acos(-1.0);
    for (std::size_t k = 0; k < n / 2; ++k) {
      twiddle_[k] = std::polar(1.0, -2.0 * pi * static_cast<double>(k) / static_cast<double>(n));
    }
  }

  void forward(std::vector<std::complex<double>>& a) const {
    for (std::size_t i = 1, j = 0; i < n_; ++i) {
      std::size_t bit = n_ >> 1;
      for (; j & bit; bit >>= 1) j ^= bit;
      j ^= bit;
      if (i < j) std::swap(a[i], a[j]);
    }
    for (std::size_t len = 2; len <= n_; len <<= 1) {
      const std::size_t stride = n_ / len;
      for (std::size_t start = 0; start < n_; start += len) {
        for (std::size_t k = 0; k < len / 2; ++k) {
          const std::complex<double> u = a[start + k];
          const std::complex<double> t = a[start + k + len / 2] * twiddle_[k * stride];
          a[start + k] = u + t;
          a[start + k + len / 2] = u - t;
        }
      }
    }
  }

  std::size_t size() const { return n_; }

 private:
  std::size_t n_;
  std::vector<std::complex<double>> twiddle_;
};

std::size_t next_pow2(std::size_t n) {
  std::size_t m = 1;
  while (m < n) m <<= 1;
  return m;
}

// autocov(): the biased (1/n) autocovariance of one chain at every lag, via zero-padded FFT
// so that lags do not wrap around.
void add_autocov(const double* x, std::size_t n, const Fft& fft, std::vector<double>& acc) {
  const double m = mean_of(x, n);
  std::vector<std::complex<double>> buf(fft.size());
  for (std::size_t i = 0; i < n; ++i) buf[i] = x[i] - m;
  fft.forward(buf);
  for (auto& z : buf) z = std::norm(z);
  fft.forward(buf);
  const double scale = 1.0 / (static_cast<double>(fft.size()) * static_cast<double>(n));
  for (std::size_t t = 0; t < n; ++t) acc[t] += buf[t].real() * scale;
}

// _ess: Geyer's initial positive then initial monotone sequence on the multi-chain
// autocorrelation rho_t = 1 - (W - mean_c acov_c(t)) / var_plus. The loop bounds, the
// ">= 0" store and the final odd term reproduce ArviZ exactly, as does the antithetic cap
// tau >= 1 / log10(chains * draws).
double ess_core(const Draws& d) {
  if (any_nan(d.v)) return kNaN;
  const auto [lo, hi] = std::minmax_element(d.v.begin(), d.v.end());
  if (*hi - *lo < 1e-15) return static_cast<double>(d.size());  // np.finfo(float).resolution

  const std::size_t n_chain = d.rows;
  const std::size_t n_draw = d.cols;
  const Fft fft(next_pow2(2 * n_draw));
  std::vector<double> acov(n_draw, 0.0);  // summed over chains, then averaged
  std::vector<double> chain_mean(n_chain);
  for (std::size_t c = 0; c < n_chain; ++c) {
    add_autocov(d.row(c), n_draw, fft, acov);
    chain_mean[c] = mean_of(d.row(c), n_draw);
  }
  for (double& a : acov) a /= static_cast<double>(n_chain);

  const auto n = static_cast<double>(n_draw);
  const double mean_var = acov[0] * n / (n - 1.0);
  double var_plus = mean_var * (n - 1.0) / n;
  if (n_chain > 1) var_plus += var_of(chain_mean, 1.0);
  const auto rho_at = [&](long t) { return 1.0 - (mean_var - acov[t]) / var_plus; };

  std::vector<double> rho(n_draw, 0.0);
  double rho_even = 1.0;
  double rho_odd = rho_at(1);
  rho[0] = rho_even;
  rho[1] = rho_odd;
  const auto nd = static_cast<long>(n_draw);
  long t = 1;
  while (t < nd - 3 && rho_even + rho_odd > 0.0) {
    rho_even = rho_at(t + 1);
    rho_odd = rho_at(t + 2);
    if (rho_even + rho_odd >= 0.0) {
      rho[t + 1] = rho_even;
      rho[t + 2] = rho_odd;
    }
    t += 2;
  }
  const long max_t = t - 2;
  if (rho_even > 0.0) rho[max_t + 1] = rho_even;
  for (t = 1; t <= max_t - 2; t += 2) {
    if (rho[t + 1] + rho[t + 2] > rho[t - 1] + rho[t]) {
      rho[t + 1] = (rho[t - 1] + rho[t]) / 2.0;
      rho[t + 2] = rho[t + 1];
    }
  }

  double head = 0.0;
  for (long i = 0; i <= max_t; ++i) head += rho[i];
  const double total = static_cast<double>(n_chain * n_draw);
  double tau = -1.0 + 2.0 * head + rho[max_t + 1];
  tau = python_max(tau, 1.0 / std::log10(total));
  if (any_nan(rho)) return kNaN;
  return total / tau;
}

double ess_quantile_impl(const Draws& d, double prob) {
  const double q = quantile_type7(sorted_copy(d.v), prob);
  return ess_core(split_chains(transform(d, [q](double a) { return a <= q ? 1.0 : 0.0; })));
}

double ess_tail_impl(const Draws& d) {
  return std::min(ess_quantile_impl(d, 0.05), ess_quantile_impl(d, 0.95));
}

double ess_mean_impl(const Draws& d) { return ess_core(split_chains(d)); }

Draws squared_deviations(const Draws& d) {
  const double m = mean_of(d.v);
  return transform(d, [m](double a) { return (a - m) * (a - m); });
}

// _mcse_sd: delta method for sd = sqrt(E[(x - mean)^2]), with the ESS of the squared deviations.
double mcse_sd_impl(const Draws& d) {
  const Draws sims_c2 = squared_deviations(d);
  const double ess = ess_mean_impl(sims_c2);
  const double evar = mean_of(sims_c2.v);
  double mean_sq = 0.0;
  for (double a : sims_c2.v) mean_sq += a * a;
  mean_sq /= static_cast<double>(sims_c2.size());
  const double varvar = (mean_sq - evar * evar) / ess;
  return std::sqrt(varvar / evar / 4.0);
}

double mcse_mean_impl(const Draws& d) {
  return std::sqrt(var_of(d.v, 1.0)) / std::sqrt(ess_mean_impl(d));
}

// Continued fraction for the regularized incomplete beta (modified Lentz), converging for
// x < (a + 1) / (a + b + 2); it needs O(sqrt(max(a, b))) terms, hence the generous cap.
double beta_continued_fraction(double x, double a, double b) {
  constexpr double tiny = 1e-300;
  constexpr double eps = 1e-16;
  double c = 1.0;
  double d = 1.0 - (a + b) * x / (a + 1.0);
  if (std::fabs(d) < tiny) d = tiny;
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m <= 100000; ++m) {
    const double dm = m;
    const double even = dm * (b - dm) * x / ((a + 2.0 * dm - 1.0) * (a + 2.0 * dm));
    d = 1.0 + even * d;
    if (std::fabs(d) < tiny) d = tiny;
    c = 1.0 + even / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1.0 / d;
    h *= d * c;
    const double odd = -(a + dm) * (a + b + dm) * x / ((a + 2.0 * dm) * (a + 2.0 * dm + 1.0));
    d = 1.0 + odd * d;
    if (std::fabs(d) < tiny) d = tiny;
    c = 1.0 + odd / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1.0 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1.0) < eps) break;
  }
  return h;
}

double incomplete_beta(double x, double a, double b) {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  const double log_front = a * std::log(x) + b * std::log1p(-x) -
                           (std::lgamma(a) + std::lgamma(b) - std::lgamma(a + b));
  if (x < (a + 1.0) / (a + b + 2.0)) {
    return std::exp(log_front) * beta_continued_fraction(x, a, b) / a;
  }
  return 1.0 - std::exp(log_front) * beta_continued_fraction(1.0 - x, b, a) / b;
}

// scipy.stats.beta.ppf by bisection to the last bit: slow-ish but robust for the large
// shape parameters (ESS * prob) met here, and called only twice per mcse_quantile.
double beta_ppf(double p, double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return kNaN;
  double lo = 0.0;
  double hi = 1.0;
  for (int i = 0; i < 2000; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;
    if (incomplete_beta(mid, a, b) < p) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return 0.5 * (lo + hi);
}

// _mcse_quantile: half the distance between the draws at the 15.9% and 84.1% points of a
// Beta(ess * p + 1, ess * (1 - p) + 1) on the quantile's rank.
double mcse_quantile_impl(const Draws& d, double prob) {
  const double ess = ess_quantile_impl(d, prob);
  const double a = ess * prob + 1.0;
  const double b = ess * (1.0 - prob) + 1.0;
  const std::vector<double> sorted = sorted_copy(d.v);
  const auto size = static_cast<double>(sorted.size());
  const double low = beta_ppf(0.1586553, a, b) * size - 1.0;
  const double high = beta_ppf(0.8413447, a, b) * size - 1.0;
  // fmax/fmin skip a NaN as numpy's nanmax/nanmin do.
  const auto i1 = static_cast<std::size_t>(std::floor(std::fmax(low, 0.0)));
  const auto i2 = static_cast<std::size_t>(std::ceil(std::fmin(high, size - 1.0)));
  return (sorted[i2] - sorted[i1]) / 2.0;
}

// _hdi: the narrowest window spanning floor(prob * n) + 1 sorted draws; the first on ties.
void hdi_bounds(const std::vector<double>& v, double prob, double& low, double& high) {
  const std::vector<double> s = sorted_copy(v);
  const std::size_t n = s.size();
  const auto inc = static_cast<std::size_t>(std::floor(prob * static_cast<double>(n)));
  std::size_t best = 0;
  for (std::size_t i = 1; i + inc < n; ++i) {
    if (s[i + inc] - s[i] < s[best + inc] - s[best]) best = i;
  }
  low = s[best];
  high = s[best + inc];
}

}  // namespace

void hdi(const std::vector<double>& v, double prob, double& low, double& high) {
  check_prob(prob, "hdi");
  if (v.empty()) {
    low = high = kNaN;
    return;
  }
  hdi_bounds(v, prob, low, high);
}

double rhat(const double* x, int chains, int draws) {
  return rank_rhat(make_draws(x, chains, draws, "rhat"), FoldAround::split_draws);
}

double ess_bulk(const double* x, int chains, int draws) {
  const Draws d = make_draws(x, chains, draws, "ess_bulk");
  if (arviz_declines(d, 1)) return kNaN;
  return ess_core(z_scale(split_chains(d)));
}

double ess_tail(const double* x, int chains, int draws) {
  const Draws d = make_draws(x, chains, draws, "ess_tail");
  if (arviz_declines(d, 1)) return kNaN;
  return ess_tail_impl(d);
}

double ess_quantile(const double* x, int chains, int draws, double prob) {
  const Draws d = make_draws(x, chains, draws, "ess_quantile");
  check_prob(prob, "ess_quantile");
  if (arviz_declines(d, 1)) return kNaN;
  return ess_quantile_impl(d, prob);
}

double ess_mean(const double* x, int chains, int draws) {
  const Draws d = make_draws(x, chains, draws, "ess_mean");
  if (arviz_declines(d, 1)) return kNaN;
  return ess_mean_impl(d);
}

double ess_sd(const double* x, int chains, int draws) {
  const Draws d = make_draws(x, chains, draws, "ess_sd");
  if (arviz_declines(d, 1)) return kNaN;
  return ess_mean_impl(squared_deviations(d));
}

double mcse_mean(const double* x, int chains, int draws) {
  const Draws d = make_draws(x, chains, draws, "mcse_mean");
  if (arviz_declines(d, 1)) return kNaN;
  return mcse_mean_impl(d);
}

double mcse_sd(const double* x, int chains, int draws) {
  const Draws d = make_draws(x, chains, draws, "mcse_sd");
  if (arviz_declines(d, 1)) return kNaN;
  return mcse_sd_impl(d);
}

double mcse_quantile(const double* x, int chains, int draws, double prob) {
  const Draws d = make_draws(x, chains, draws, "mcse_quantile");
  check_prob(prob, "mcse_quantile");
  if (arviz_declines(d, 1)) return kNaN;
  return mcse_quantile_impl(d, prob);
}

Summary summarize(const double* x, int chains, int draws, double hdi_prob) {
  const Draws d = make_draws(x, chains, draws, "summarize");
  check_prob(hdi_prob, "summarize (hdi_prob)");
  Summary s{kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN};
  if (any_nan(d.v)) return s;
  s.mean = mean_of(d.v);
  s.sd = std::sqrt(var_of(d.v, 1.0));
  hdi_bounds(d.v, hdi_prob, s.hdi_low, s.hdi_high);
  if (arviz_declines(d, 1)) return s;
  s.mcse_mean = mcse_mean_impl(d);
  s.mcse_sd = mcse_sd_impl(d);
  s.ess_bulk = ess_core(z_scale(split_chains(d)));
  s.ess_tail = ess_tail_impl(d);
  s.r_hat = rank_rhat(d, FoldAround::all_draws);
  return s;
}

double ebfmi(const double* energy, int draws) {
  check_sizes(energy, 1, draws, "ebfmi");
  const auto n = static_cast<std::size_t>(draws);
  if (n < 2) return kNaN;  // ArviZ: mean of no differences
  double num = 0.0;
  for (std::size_t i = 1; i < n; ++i) num += (energy[i] - energy[i - 1]) * (energy[i] - energy[i - 1]);
  num /= static_cast<double>(n - 1);
  return num / var_of(energy, n, 1.0);
}

// Margossian, Hoffman, Sountsov, Riou-Durand, Vehtari and Gelman (2024), "Nested R-hat:
// assessing the convergence of Markov chain Monte Carlo when running many short chains",
// Bayesian Analysis, doi:10.1214/24-BA1453. K superchains of M chains of N draws:
//   B_nu    = 1/(K-1) sum_k (fbar_..k - fbar_...)^2              between superchains
//   Btil_k  = 1/(M-1) sum_m (fbar_.mk - fbar_..k)^2 (0 if M = 1)  between chains within k
//   Wtil_k  = 1/M sum_m 1/(N-1) sum_n (f_nmk - fbar_.mk)^2 (0 if N = 1)
//   W_nu    = 1/K sum_k (Btil_k + Wtil_k)
//   nR-hat  = sqrt(1 + B_nu / W_nu)
// No split and no rank normalization, as in the paper and posterior::rhat_nested.
double nested_rhat(const double* x, int chains, int draws, int superchains) {
  check_sizes(x, chains, draws, "nested_rhat");
  if (superchains < 2 || chains % superchains != 0) {
    throw std::invalid_argument("nested_rhat: need superchains >= 2 dividing chains, got " +
                                std::to_string(superchains) + " for " + std::to_string(chains) +
                                " chains");
  }
  const auto k_count = static_cast<std::size_t>(superchains);
  const std::size_t m = static_cast<std::size_t>(chains) / k_count;
  const auto n = static_cast<std::size_t>(draws);
  if (m == 1 && n == 1) {
    throw std::invalid_argument("nested_rhat: one chain of one draw per superchain has no within variance");
  }
  const std::size_t total = static_cast<std::size_t>(chains) * n;
  if (std::any_of(x, x + total, [](double a) { return !std::isfinite(a); })) return kNaN;

  std::vector<double> super_mean(k_count);
  double w_nu = 0.0;
  std::vector<double> chain_mean(m);
  for (std::size_t k = 0; k < k_count; ++k) {
    const double* block = x + k * m * n;
    double within = 0.0;
    for (std::size_t c = 0; c < m; ++c) {
      chain_mean[c] = mean_of(block + c * n, n);
      if (n > 1) within += var_of(block + c * n, n, 1.0);
    }
    super_mean[k] = mean_of(block, m * n);
    double between = 0.0;
    if (m > 1) {
      for (double cm : chain_mean) between += (cm - super_mean[k]) * (cm - super_mean[k]);
      between /= static_cast<double>(m - 1);
    }
    w_nu += between + within / static_cast<double>(m);
  }
  w_nu /= static_cast<double>(k_count);
  const double b_nu = var_of(super_mean, 1.0);
  return std::sqrt(1.0 + b_nu / w_nu);
}

double contraction(double prior_var, double posterior_var) {
  if (!(prior_var > 0.0)) return kNaN;  // a degenerate prior cannot contract
  return 1.0 - posterior_var / prior_var;
}

double prior_shift(double prior_mean, double prior_sd, double posterior_mean) {
  if (!(prior_sd > 0.0)) return kNaN;
  return std::fabs(posterior_mean - prior_mean) / prior_sd;
}

}  // namespace herd
