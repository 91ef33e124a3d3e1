#pragma once
// Warmup adaptation as small state machines, after Stan's stepsize_adaptation.hpp and
// windowed_adaptation.hpp: dual averaging of log step size and Welford variance run per
// chain (HERD_HD, on the device too), and so does the window schedule, which the warmup
// machine (warmup.hpp) steps.
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

/// Stan's regularized variance of a window from n draws' sum of squared deviations m2:
/// n/(n+5) var + 1e-3 * 5/(n+5).
HERD_HD_INLINE double regularized_variance(double n, double m2) {
  return (n / (n + 5)) * (m2 / (n - 1)) + 1e-3 * (5 / (n + 5));
}

/// Stan's windowed warmup schedule: an initial fast buffer, slow windows that double, a
/// terminal fast buffer; the last slow window stretches to meet the terminal buffer.
/// Trivially copyable and HERD_HD, so a kernel can step a model's warmup as the host does.
class WindowSchedule {
 public:
  static constexpr int kMaxWindows = 40;  // windows double: 2^40 iterations would be needed

  /// Stan's defaults: 75 / 25 / 50. Warmup shorter than their sum is rescaled to 15% / 75% /
  /// 10%; under 20 iterations there is no metric adaptation at all.
  HERD_HD explicit WindowSchedule(int num_warmup, int init_buffer = 75, int term_buffer = 50, int base_window = 25)
      : num_warmup_(num_warmup), init_buffer_(init_buffer), term_buffer_(term_buffer), base_window_(base_window) {
    if (num_warmup < 20) {
      adapt_ = false;  // as Stan: no variance estimation for fewer than 20 warmup iterations
      return;
    }
    if (init_buffer + base_window + term_buffer > num_warmup) {
      init_buffer_ = static_cast<int>(0.15 * num_warmup);
      term_buffer_ = static_cast<int>(0.1 * num_warmup);
      base_window_ = num_warmup - (init_buffer_ + term_buffer_);
    }
    // Stan's set_window_params forgets to restart the window state in the rescaled branch;
    // the schedule below always starts from the (possibly rescaled) parameters.
    int size = base_window_, next = init_buffer_ + size - 1;
    const int last = num_warmup_ - term_buffer_ - 1;
    for (int counter = 0; counter < num_warmup_ && n_ends_ < kMaxWindows; ++counter) {
      if (counter == next) {
        ends_[n_ends_++] = counter;
        if (next == last) break;
        size *= 2;
        next = counter + size;
        if (next != last && next + 2 * size >= num_warmup_ - term_buffer_) next = last;
      }
    }
  }

  /// True when draw `iteration` (0-based warmup iteration) joins the variance estimate.
  HERD_HD bool in_window(int i) const { return adapt_ && i >= window_lo() && i < window_hi(); }
  /// True when the metric is updated after warmup iteration `iteration`.
  HERD_HD bool ends_window(int i) const {
    for (int k = 0; k < n_ends_; ++k)
      if (ends_[k] == i) return true;
    return false;
  }
  /// The first window end after iteration `i`, or -1.
  HERD_HD int next_end(int i) const {
    for (int k = 0; k < n_ends_; ++k)
      if (ends_[k] > i) return ends_[k];
    return -1;
  }
  /// Iterations lo <= i < hi join the variance estimate (0, 0 without metric adaptation).
  HERD_HD int window_lo() const { return adapt_ ? init_buffer_ : 0; }
  HERD_HD int window_hi() const { return adapt_ ? num_warmup_ - term_buffer_ : 0; }
  /// The iterations after which the metric is updated, in order.
  std::vector<int> window_ends() const { return std::vector<int>(ends_, ends_ + n_ends_); }
  HERD_HD bool adapts_metric() const { return adapt_; }
  HERD_HD int init_buffer() const { return init_buffer_; }
  HERD_HD int term_buffer() const { return term_buffer_; }
  HERD_HD int base_window() const { return base_window_; }

 private:
  int num_warmup_, init_buffer_, term_buffer_, base_window_;
  bool adapt_ = true;
  int n_ends_ = 0;
  int ends_[kMaxWindows] = {};
};

}  // namespace herd
