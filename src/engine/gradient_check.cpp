#include "herd/engine/gradient_check.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "herd/model/log_density.hpp"

namespace herd {
namespace {

// Balances truncation (h^4 after extrapolation) against roundoff (eps |lp| / h); measured
// best among 1e-2, 1e-3, 3e-4, 1e-4 on the model tests.
constexpr double kStep = 1e-3;

double density(const Model& model, const std::vector<double>& theta, std::vector<double>& grad,
               std::vector<double>& scratch) {
  return herd::log_density_grad(model.view<double>(), theta.data(), grad.data(), scratch.data());
}

template <class Real>
double analytic(const Model& model, const std::vector<double>& theta, std::vector<double>& out) {
  const auto v = model.view<Real>();
  std::vector<Real> th(theta.begin(), theta.end()), g(theta.size());
  std::vector<Real> scratch(static_cast<size_t>(scratch_size(v)));
  const Real lp = herd::log_density_grad(v, th.data(), g.data(), scratch.data());
  out.assign(g.begin(), g.end());
  return static_cast<double>(lp);
}

template <class Real>
void accumulate(const Model& model, const std::vector<double>& theta, GradientCheck& res) {
  std::vector<double> ga;
  const double lp = analytic<Real>(model, theta, ga);
  if (!std::isfinite(lp)) {
    ++res.nonfinite_points;
    return;
  }
  std::vector<double> fd_err;
  const std::vector<double> fd = finite_difference_gradient(model, theta, &fd_err);
  ++res.points;
  const auto& params = model.params();
  for (size_t i = 0; i < params.size(); ++i) {
    const std::string b = block_of(params[i].name);
    auto it = std::find_if(res.blocks.begin(), res.blocks.end(), [&](const BlockError& e) { return e.block == b; });
    if (it == res.blocks.end()) {
      res.blocks.push_back({b, 0, "", 0});
      it = res.blocks.end() - 1;
    }
    // What the reference cannot resolve is not charged to the analytic gradient: its
    // truncation error (estimated from the Richardson tableau, taken twice) and its roundoff,
    // about 7.5 eps |lp| / h for this extrapolation (taken twice). At ordinary points that
    // is ~1e-9; it matters only where |lp| is astronomical. A wrong adjoint is off by O(1).
    const double h = kStep * std::max(1.0, std::abs(theta[i]));
    const double roundoff = 16 * std::numeric_limits<double>::epsilon() * std::abs(lp) / h;
    // The analytic gradient in Real carries its own rounding, about eps_Real |lp| (terms of
    // the size of lp are summed): negligible in double, the bar for float at extreme points.
    const double own = 16 * static_cast<double>(std::numeric_limits<Real>::epsilon()) * std::abs(lp);
    const double unresolved = 2 * fd_err[i] + roundoff + own;
    double err = std::max(0.0, std::abs(ga[i] - fd[i]) - unresolved) / std::max(1.0, std::abs(fd[i]));
    if (!std::isfinite(err)) err = std::numeric_limits<double>::infinity();
    if (err >= it->worst) {
      it->worst = err;
      it->worst_name = params[i].name;
      it->lp = lp;
    }
    res.worst = std::max(res.worst, err);
  }
}

}  // namespace

std::string block_of(const std::string& name) { return name.substr(0, name.find('[')); }

std::vector<double> finite_difference_gradient(const Model& model, const std::vector<double>& theta,
                                               std::vector<double>* error_estimate) {
  std::vector<double> grad(theta.size()), scratch(static_cast<size_t>(model.scratch_size())), x = theta;
  std::vector<double> out(theta.size());
  if (error_estimate) error_estimate->assign(theta.size(), 0.0);
  auto central = [&](size_t i, double h) {
    x[i] = theta[i] + h;
    const double fp = density(model, x, grad, scratch);
    x[i] = theta[i] - h;
    const double fm = density(model, x, grad, scratch);
    x[i] = theta[i];
    return (fp - fm) / (2 * h);
  };
  for (size_t i = 0; i < theta.size(); ++i) {
    const double h = kStep * std::max(1.0, std::abs(theta[i]));
    const double d1 = central(i, h), d2 = central(i, h / 2), d4 = central(i, h / 4);
    // Richardson: the h^2 error terms of D(h) and D(h/2) cancel. Two such estimates from
    // different steps disagree by about the reference's own error.
    const double r1 = (4 * d2 - d1) / 3, r2 = (4 * d4 - d2) / 3;
    out[i] = r1;
    if (error_estimate) (*error_estimate)[i] = std::abs(r1 - r2);
  }
  return out;
}

template <class Real>
GradientCheck check_gradient(const Model& model, int points, std::uint64_t seed, double radius) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-radius, radius);
  GradientCheck res;
  std::vector<double> theta(static_cast<size_t>(model.dim()));
  for (int p = 0; p < points; ++p) {
    for (auto& t : theta) t = u(rng);
    accumulate<Real>(model, theta, res);
  }
  return res;
}

template <class Real>
GradientCheck check_gradient_at(const Model& model, const std::vector<double>& theta) {
  GradientCheck res;
  accumulate<Real>(model, theta, res);
  return res;
}

template GradientCheck check_gradient<double>(const Model&, int, std::uint64_t, double);
template GradientCheck check_gradient<float>(const Model&, int, std::uint64_t, double);
template GradientCheck check_gradient_at<double>(const Model&, const std::vector<double>&);
template GradientCheck check_gradient_at<float>(const Model&, const std::vector<double>&);

}  // namespace herd
