#pragma once
// Warmup adaptation as small state machines, after Stan's stepsize_adaptation.hpp and
// windowed_adaptation.hpp: dual averaging of log step size and Welford variance run per
// chain (HERD_HD, on the device too); the window schedule runs on the host, which pools the
// chains' Welford sums into each model's metric at the end of every window.
#include <cmath>
#include <vector>

#include "herd/core/hd.hpp"
#include "herd/core/lanes.hpp"

namespace herd {

/// Nesterov dual averaging of log(step size) (Hoffman & Gelman 2014, as in Stan).
template <class Real>
struct DualAveraging {
  Real mu = 0, s_bar = 0, x_bar = 0;
  int counter = 0;
  Real delta = Real(0.8), gamma = Real(0.05), kappa = Real(0.75), t0 = Real(10);

  HERD_HD void restart() {
    counter = 0;
    s_bar = 0;
    x_bar = 0;
  }

  /// Starts adapting from a freshly searched step size eps: Stan shrinks toward log(10 eps).
  HERD_HD void start(Real eps) {
    using std::log;
    mu = log(Real(10) * eps);
    restart();
  }

  /// Feeds one iteration's acceptance statistic; returns the next step size exp(x).
  HERD_HD Real learn(Real adapt_stat) {
    using std::exp;
    using std::pow;
    using std::sqrt;
    ++counter;
    if (adapt_stat > Real(1)) adapt_stat = Real(1);
    const Real c = Real(counter);
    const Real eta = Real(1) / (c + t0);
    s_bar = (Real(1) - eta) * s_bar + eta * (delta - adapt_stat);
    const Real x = mu - s_bar * sqrt(c) / gamma;
    const Real x_eta = pow(c, -kappa);
    x_bar = (Real(1) - x_eta) * x_bar + x_eta * x;
    return exp(x);
  }

  /// The step size to sample with once warmup ends: exp(x-bar).
  HERD_HD Real final_stepsize() const {
    using std::exp;
    return exp(x_bar);
  }
};

/// Running mean and sum of squared deviations (Welford), one chain's window of draws. With
/// several lanes each lane updates its own coordinates and every lane counts.
template <class Real, class Lanes = SerialLanes>
HERD_HD_INLINE void welford_add(int& n, Real* mean, Real* m2, const Real* q, int dim, const Lanes& L = Lanes()) {
  ++n;
  for (int i = L.lane(); i < dim; i += L.count()) {
    const Real d = q[i] - mean[i];
    mean[i] += d / Real(n);
    m2[i] += d * (q[i] - mean[i]);
  }
}

/// Stan's windowed warmup schedule: an initial fast buffer, slow windows that double, a
/// terminal fast buffer; the last slow window stretches to meet the terminal buffer.
class WindowSchedule {
 public:
  /// Stan's defaults: 75 / 25 / 50. Warmup shorter than their sum is rescaled to 15% / 75% /
  /// 10%; under 20 iterations there is no metric adaptation at all.
  explicit WindowSchedule(int num_warmup, int init_buffer = 75, int term_buffer = 50, int base_window = 25);

  /// True when draw `iteration` (0-based warmup iteration) joins the variance estimate.
  bool in_window(int iteration) const;
  /// True when the metric is updated after warmup iteration `iteration`.
  bool ends_window(int iteration) const;
  /// The iterations after which the metric is updated, in order.
  const std::vector<int>& window_ends() const { return ends_; }
  bool adapts_metric() const { return adapt_; }
  int init_buffer() const { return init_buffer_; }
  int term_buffer() const { return term_buffer_; }
  int base_window() const { return base_window_; }

 private:
  int num_warmup_, init_buffer_, term_buffer_, base_window_;
  bool adapt_ = true;
  std::vector<int> ends_;
};

}  // namespace herd
