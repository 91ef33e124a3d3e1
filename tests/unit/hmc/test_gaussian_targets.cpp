// NUTS with Stan's warmup on Gaussian targets with known moments: every mean and variance
// within 4 Monte Carlo standard errors (fixed seeds, so the outcome is deterministic).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "herd/diagnostics/diagnostics.hpp"
#include "herd/engine/fit_target.hpp"

namespace herd {
namespace {

// N(mu, Sigma) with precision matrix P = Sigma^-1 given densely.
struct DenseGaussian {
  int n;
  std::vector<double> mu, P;
  double operator()(const double* q, double* g, double*) const {
    double lp = 0;
    for (int i = 0; i < n; ++i) {
      double acc = 0;
      for (int j = 0; j < n; ++j) acc += P[static_cast<size_t>(i * n + j)] * (q[j] - mu[static_cast<size_t>(j)]);
      g[i] = -acc;
      lp -= 0.5 * (q[i] - mu[static_cast<size_t>(i)]) * acc;
    }
    return lp;
  }
};

struct IidGaussian {
  int n;
  std::vector<double> mu, sd;
  double operator()(const double* q, double* g, double*) const {
    double lp = 0;
    for (int i = 0; i < n; ++i) {
      const double z = (q[i] - mu[static_cast<size_t>(i)]) / sd[static_cast<size_t>(i)];
      g[i] = -z / sd[static_cast<size_t>(i)];
      lp -= 0.5 * z * z;
    }
    return lp;
  }
};

// Column i of the draws of all chains, chain-major.
std::vector<double> column(const FitResult& r, int i) {
  std::vector<double> x;
  for (const auto& c : r.chains)
    for (int d = 0; d < r.draws; ++d) x.push_back(c.theta[static_cast<size_t>(d * r.dim + i)]);
  return x;
}

// Means and variances of every coordinate within 4 MCSE of the truth. The variance is checked
// as the mean of (x - mu)^2, whose MCSE comes from its own ESS.
// Convergence: split R-hat < 1.01 for a few long chains; for many short chains (superchains > 0)
// the nested R-hat of Margossian et al. over that many superchains, which is what it is for.
void expect_moments(const FitResult& r, const std::vector<double>& mu, const std::vector<double>& var,
                    int superchains = 0) {
  const int C = static_cast<int>(r.chains.size());
  int checked = 0;
  for (int i = 0; i < r.dim; ++i) {
    std::vector<double> x = column(r, i), sq(x.size());
    double m = 0, v = 0;
    for (size_t k = 0; k < x.size(); ++k) {
      m += x[k] / static_cast<double>(x.size());
      sq[k] = (x[k] - mu[static_cast<size_t>(i)]) * (x[k] - mu[static_cast<size_t>(i)]);
      v += sq[k] / static_cast<double>(x.size());
    }
    const double se_m = mcse_mean(x.data(), C, r.draws), se_v = mcse_mean(sq.data(), C, r.draws);
    EXPECT_LT(std::abs(m - mu[static_cast<size_t>(i)]), 4 * se_m) << "mean of coordinate " << i;
    EXPECT_LT(std::abs(v - var[static_cast<size_t>(i)]), 4 * se_v) << "variance of coordinate " << i;
    const double rh = superchains > 0 ? nested_rhat(x.data(), C, r.draws, superchains) : rhat(x.data(), C, r.draws);
    EXPECT_LT(rh, 1.01) << "coordinate " << i;
    ++checked;
  }
  EXPECT_EQ(checked, r.dim);
}

TEST(NutsGaussian, Iid100d) {
  const int n = 100;
  IidGaussian t{n, std::vector<double>(n), std::vector<double>(n)};
  std::vector<double> var(n);
  for (int i = 0; i < n; ++i) {
    t.mu[static_cast<size_t>(i)] = 0.1 * i - 3;
    t.sd[static_cast<size_t>(i)] = std::exp(-1.5 + 3.0 * i / (n - 1));  // sd 0.22 .. 4.5
    var[static_cast<size_t>(i)] = t.sd[static_cast<size_t>(i)] * t.sd[static_cast<size_t>(i)];
  }
  SamplerOptions opt;
  opt.seed = 11;
  opt.init_radius = 2;
  const FitResult r = fit_target(t, n, 0, opt, "iid100");
  int divergent = 0;
  for (const auto& c : r.chains)
    for (auto d : c.diverging) divergent += d;
  EXPECT_EQ(divergent, 0);
  expect_moments(r, t.mu, var);
}

TEST(NutsGaussian, Correlated50dConditionNumber1e4) {
  const int n = 50;
  // Sigma = Q diag(lambda) Q' with lambda log-spaced over [1e-2, 1e2] and Q a random rotation.
  std::mt19937_64 rng(3);
  std::normal_distribution<double> nd;
  std::vector<double> Q(static_cast<size_t>(n * n));
  for (auto& v : Q) v = nd(rng);
  for (int j = 0; j < n; ++j) {  // Gram-Schmidt on columns
    for (int k = 0; k < j; ++k) {
      double dot = 0;
      for (int i = 0; i < n; ++i) dot += Q[static_cast<size_t>(i * n + j)] * Q[static_cast<size_t>(i * n + k)];
      for (int i = 0; i < n; ++i) Q[static_cast<size_t>(i * n + j)] -= dot * Q[static_cast<size_t>(i * n + k)];
    }
    double norm = 0;
    for (int i = 0; i < n; ++i) norm += Q[static_cast<size_t>(i * n + j)] * Q[static_cast<size_t>(i * n + j)];
    for (int i = 0; i < n; ++i) Q[static_cast<size_t>(i * n + j)] /= std::sqrt(norm);
  }
  std::vector<double> lambda(n), Sigma(static_cast<size_t>(n * n)), P(static_cast<size_t>(n * n));
  for (int k = 0; k < n; ++k) lambda[static_cast<size_t>(k)] = std::pow(10.0, -2.0 + 4.0 * k / (n - 1));
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      double s = 0, p = 0;
      for (int k = 0; k < n; ++k) {
        const double qq = Q[static_cast<size_t>(i * n + k)] * Q[static_cast<size_t>(j * n + k)];
        s += qq * lambda[static_cast<size_t>(k)];
        p += qq / lambda[static_cast<size_t>(k)];
      }
      Sigma[static_cast<size_t>(i * n + j)] = s;
      P[static_cast<size_t>(i * n + j)] = p;
    }
  DenseGaussian t{n, std::vector<double>(n), P};
  std::vector<double> var(n);
  for (int i = 0; i < n; ++i) {
    t.mu[static_cast<size_t>(i)] = std::sin(i);
    var[static_cast<size_t>(i)] = Sigma[static_cast<size_t>(i * n + i)];
  }
  SamplerOptions opt;
  opt.seed = 5;
  const FitResult r = fit_target(t, n, 0, opt, "corr50");
  expect_moments(r, t.mu, var);
}

TEST(NutsGaussian, PerChainMetric) {
  const int n = 10;
  IidGaussian t{n, std::vector<double>(n, 1.0), std::vector<double>(n)};
  std::vector<double> var(n);
  for (int i = 0; i < n; ++i) {
    t.sd[static_cast<size_t>(i)] = 0.1 * (i + 1);
    var[static_cast<size_t>(i)] = t.sd[static_cast<size_t>(i)] * t.sd[static_cast<size_t>(i)];
  }
  SamplerOptions opt;
  opt.seed = 21;
  opt.metric = MetricKind::kPerChain;
  const FitResult r = fit_target(t, n, 0, opt, "per_chain");
  // Each chain adapted its own metric, and each is near the true variances.
  EXPECT_NE(r.chains[0].inv_metric, r.chains[1].inv_metric);
  for (const auto& c : r.chains)
    for (int i = 0; i < n; ++i)
      EXPECT_NEAR(c.inv_metric[static_cast<size_t>(i)] / var[static_cast<size_t>(i)], 1.0, 0.5);
  expect_moments(r, t.mu, var);
}

TEST(NutsGaussian, SameSeedSameDrawsWhateverTheThreads) {
  IidGaussian t{5, {0, 1, 2, 3, 4}, {1, 2, 3, 4, 5}};
  SamplerOptions opt;
  opt.warmup = 150;
  opt.draws = 100;
  opt.threads = 1;
  const FitResult a = fit_target(t, 5, 0, opt, "m");
  opt.threads = 4;
  const FitResult b = fit_target(t, 5, 0, opt, "m");
  for (size_t c = 0; c < a.chains.size(); ++c) EXPECT_EQ(a.chains[c].theta, b.chains[c].theta);
  // A different model identity gives different streams.
  const FitResult other = fit_target(t, 5, 0, opt, "m2");
  EXPECT_NE(a.chains[0].theta, other.chains[0].theta);
}

TEST(CheesGaussian, Iid100dManyShortChains) {
  const int n = 100;
  IidGaussian t{n, std::vector<double>(n), std::vector<double>(n)};
  std::vector<double> var(n);
  for (int i = 0; i < n; ++i) {
    t.mu[static_cast<size_t>(i)] = 0.1 * i - 3;
    t.sd[static_cast<size_t>(i)] = std::exp(-1.5 + 3.0 * i / (n - 1));
    var[static_cast<size_t>(i)] = t.sd[static_cast<size_t>(i)] * t.sd[static_cast<size_t>(i)];
  }
  SamplerOptions opt;
  opt.chains = 64;
  opt.warmup = 500;
  opt.draws = 100;
  opt.seed = 12;
  opt.algorithm = Algorithm::kChees;
  const FitResult r = fit_target(t, n, 0, opt, "chees_iid100");
  // Every chain of the model took the same number of leapfrog steps in every iteration.
  for (size_t c = 1; c < r.chains.size(); ++c) EXPECT_EQ(r.chains[c].n_leapfrog, r.chains[0].n_leapfrog);
  expect_moments(r, t.mu, var, 16);
}

}  // namespace
}  // namespace herd
