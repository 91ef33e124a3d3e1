#pragma once
// ChEES-HMC (Hoffman, Radul & Sountsov 2021, "An Adaptive MCMC Scheme for Setting
// Trajectory Lengths in Hamiltonian Monte Carlo") for many short chains: every chain of a
// model takes the same number of leapfrog steps, ceil(h_n T / eps) with h_n a Halton
// jitter; during warmup the host adapts, after every iteration and across the chains,
//  - the step size by dual averaging on the harmonic mean of the acceptance probabilities
//    (target 0.651, Beskos et al.'s optimum for HMC),
//  - the trajectory length T by Adam ascent on the ChEES criterion, whose per-chain gradient
//    estimate is h_n T (|x' - mean x'|^2 - |x - mean x|^2) (x' - mean x') . M^-1 p', weighted by
//    acceptance (updates clipped to +-0.35 in log T, as TFP and BlackJAX do),
//  - both through moving averages of their logs with weight n^-1/2,
//  - the diagonal metric from the chains' pooled variance at the ends of Stan's windows.
#include <algorithm>
#include <cmath>
#include <vector>

#include "herd/engine/sampler.hpp"
#include "herd/hmc/hmc.hpp"

namespace herd {

/// Settings of ChEES's own adaptation (defaults from the paper and TFP).
struct CheesOptions {
  double target_accept = 0.651;
  double learning_rate = 0.025;
  double adam_beta2 = 0.95;
  double decay = 0.5;  // moving-average weight n^-decay
  int max_leapfrog = 1000;
};

template <class Target>
FitResult run_chees(const Target& target, int dim, int target_scratch, const SamplerOptions& opt, std::uint64_t model,
                    const CheesOptions& co = CheesOptions()) {
  const auto start = std::chrono::steady_clock::now();
  const std::uint64_t key = stream_key(opt.seed, model);
  const int C = opt.chains;
  const size_t n = static_cast<size_t>(dim);
  struct Chain {
    std::vector<double> q, g, q0, prop_q, prop_p, mean, m2, work, scratch;
    double lp = 0;
    int welford_n = 0;
    HmcStats<double> st{};
  };
  std::vector<Chain> ch(static_cast<size_t>(C));
  FitResult out;
  out.dim = dim;
  out.draws = opt.draws;
  out.chains.resize(static_cast<size_t>(C));
  std::vector<double> inv_metric(n, 1.0);

  parallel_for(C, opt.threads, [&](int c) {
    Chain& s = ch[static_cast<size_t>(c)];
    for (auto* v : {&s.q, &s.g, &s.q0, &s.prop_q, &s.prop_p, &s.mean, &s.m2}) v->assign(n, 0);
    s.work.assign(static_cast<size_t>(std::max(hmc_workspace_size(dim), 3 * dim)), 0);
    s.scratch.assign(static_cast<size_t>(std::max(target_scratch, 1)), 0);
    const std::string error = sampler_detail::initialize(target, opt, key, c, s.q, s.g, s.lp, s.scratch,
                                                         out.chains[static_cast<size_t>(c)].gradient_evals);
    if (!error.empty()) throw ModelError(error);
  });

  // A common starting step size: the median of the chains' Stan-style searches.
  auto search_all = [&](double from, std::uint32_t window) {
    std::vector<double> eps(static_cast<size_t>(C));
    parallel_for(C, opt.threads, [&](int c) {
      Chain& s = ch[static_cast<size_t>(c)];
      Philox rng(key, static_cast<std::uint32_t>(c), window, RngUse::kStepsizeSearch);
      eps[static_cast<size_t>(c)] = find_reasonable_stepsize(target, dim, from, inv_metric.data(), s.q.data(),
                                                             s.g.data(), s.lp, rng, s.work.data(), s.scratch.data());
    });
    std::sort(eps.begin(), eps.end());
    const double e = eps[eps.size() / 2];
    if (!(e > 0)) throw ModelError("the step-size search ran away (step size beyond 1e7 or 0); the posterior may be improper");
    return e;
  };

  double eps = opt.warmup > 0 ? search_all(1.0, 0) : 1.0;
  double T = eps;
  DualAveraging<double> da;
  da.delta = co.target_accept;
  da.start(eps);
  double log_eps_ma = std::log(eps), log_T = std::log(T), log_T_ma = log_T, adam_v = 0;
  int ma_step = 1, adam_t = 0, window = 0;
  const WindowSchedule schedule(opt.warmup);

  for (auto& d : out.chains) {
    d.theta.reserve(static_cast<size_t>(opt.draws) * n);
  }
  for (int it = 0; it < opt.warmup + opt.draws; ++it) {
    const bool warm = it < opt.warmup;
    const double jitter = halton2(static_cast<std::uint32_t>(it));
    const int steps = std::max(1, std::min(co.max_leapfrog, static_cast<int>(std::ceil(jitter * T / eps))));
    parallel_for(C, opt.threads, [&](int c) {
      Chain& s = ch[static_cast<size_t>(c)];
      s.q0 = s.q;
      Philox rng(key, static_cast<std::uint32_t>(c), static_cast<std::uint32_t>(it), RngUse::kChees);
      s.st = hmc_step(target, dim, eps, steps, inv_metric.data(), s.q.data(), s.g.data(), &s.lp, rng,
                      opt.max_delta_h, s.work.data(), s.prop_q.data(), s.prop_p.data(), s.scratch.data());
      ChainDraws& d = out.chains[static_cast<size_t>(c)];
      d.gradient_evals += steps;
      if (warm) {
        if (schedule.in_window(it)) welford_add(s.welford_n, s.mean.data(), s.m2.data(), s.q.data(), dim);
        return;
      }
      d.theta.insert(d.theta.end(), s.q.begin(), s.q.end());
      d.lp.push_back(s.lp);
      d.accept_prob.push_back(s.st.accept_prob);
      d.step_size.push_back(eps);
      d.energy.push_back(s.st.energy);
      d.tree_depth.push_back(0);
      d.n_leapfrog.push_back(steps);
      d.diverging.push_back(s.st.divergent ? 1 : 0);
    });
    if (!warm) continue;

    // Step size: dual averaging on the harmonic mean acceptance of the non-divergent chains.
    double inv_sum = 0, weight_sum = 0;
    int used = 0;
    for (const auto& s : ch)
      if (!s.st.divergent) {
        inv_sum += s.st.accept_prob > 0 ? 1 / s.st.accept_prob : INFINITY;
        weight_sum += s.st.accept_prob;
        ++used;
      }
    double harmonic = used > 0 ? used / inv_sum : 0.0;
    if (!std::isfinite(harmonic)) harmonic = 0;
    const double eps_new = da.learn(harmonic);
    const double eps_next = std::isfinite(eps_new) && eps_new > 0 ? eps_new : eps;
    const double w = std::pow(static_cast<double>(ma_step), -co.decay);
    log_eps_ma = (1 - w) * log_eps_ma + w * std::log(eps_next);

    // Trajectory length: the ChEES gradient, acceptance-weighted, through Adam on log T.
    std::vector<double> prop_mean(n, 0), init_mean(n, 0);
    for (const auto& s : ch)
      for (size_t i = 0; i < n; ++i) {
        if (!s.st.divergent) prop_mean[i] += s.st.accept_prob * s.prop_q[i] / (weight_sum + 1e-20);
        init_mean[i] += s.q0[i] / C;
      }
    double grad = 0;
    for (const auto& s : ch) {
      if (s.st.divergent || !std::isfinite(s.st.accept_prob)) continue;
      double d_prop = 0, d_init = 0, velocity = 0;
      for (size_t i = 0; i < n; ++i) {
        const double dp = s.prop_q[i] - prop_mean[i], di = s.q0[i] - init_mean[i];
        d_prop += dp * dp;
        d_init += di * di;
        velocity += dp * inv_metric[i] * s.prop_p[i];
      }
      const double gi = jitter * T * (d_prop - d_init) * velocity;
      if (std::isfinite(gi)) grad += s.st.accept_prob * gi / (weight_sum + 1e-20);
    }
    ++adam_t;
    adam_v = co.adam_beta2 * adam_v + (1 - co.adam_beta2) * grad * grad;
    const double v_hat = adam_v / (1 - std::pow(co.adam_beta2, adam_t));
    const double update = std::clamp(co.learning_rate * grad / (std::sqrt(v_hat) + 1e-8), -0.35, 0.35);
    if (std::isfinite(update)) log_T += update;
    log_T_ma = (1 - w) * log_T_ma + w * log_T;
    eps = eps_next;
    T = std::clamp(std::exp(log_T_ma), eps, co.max_leapfrog * eps);
    ++ma_step;

    if (schedule.ends_window(it)) {
      // Pooled metric from the window, then a fresh step size on the new scale.
      inv_metric = sampler_detail::pooled_variance(ch, n);
      for (auto& s : ch) sampler_detail::reset_welford(s);
      eps = search_all(eps, static_cast<std::uint32_t>(++window));
      da.start(eps);
      log_eps_ma = std::log(eps);
      ma_step = 1;
      T = std::clamp(T, eps, co.max_leapfrog * eps);
    }
    if (it == opt.warmup - 1) {
      eps = std::exp(log_eps_ma);
      T = std::clamp(std::exp(log_T_ma), eps, co.max_leapfrog * eps);
    }
  }
  for (auto& d : out.chains) {
    d.inv_metric = inv_metric;
    d.final_step_size = eps;
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace herd
