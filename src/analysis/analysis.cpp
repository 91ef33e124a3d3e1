// Decision outputs over posterior draws: every quantity is computed per draw in the user's
// units, then summarized by mean and 94% HDI; prior against posterior per parameter.
#include "herd/analysis/analysis.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "herd/config/model_config.hpp"
#include "herd/core/error.hpp"
#include "herd/core/files.hpp"
#include "herd/diagnostics/diagnostics.hpp"
#include "herd/engine/fit.hpp"
#include "herd/engine/sampler.hpp"
#include "herd/engine/simulate.hpp"
#include "herd/hmc/philox.hpp"
#include "herd/model/log_density.hpp"

namespace herd {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

Interval interval(const std::vector<double>& draws, double prob) {
  std::vector<double> v;
  v.reserve(draws.size());
  for (double x : draws)
    if (std::isfinite(x)) v.push_back(x);
  Interval r;
  r.n_finite = static_cast<int>(v.size());
  if (v.empty()) {
    r.mean = r.low = r.high = kNaN;
    return r;
  }
  double s = 0;
  for (double x : v) s += x;
  r.mean = s / static_cast<double>(v.size());
  hdi(v, prob, r.low, r.high);
  return r;
}

std::vector<PriorCheck> prior_checks(const Model& model, const double* theta, int n, int prior_draws,
                                     std::vector<double>* prior_rows) {
  const std::vector<std::string> names = output_names(model);
  const size_t k = names.size(), dim = static_cast<size_t>(model.dim());
  std::vector<double> prior(static_cast<size_t>(prior_draws) * k), row(k);
  // Its own stream (not the sampler's), fixed so the table is the same on every run.
  const std::uint64_t key = stream_key(0x5052494f52ull, model_id(model.spec().name));
  try {
    for (int i = 0; i < prior_draws; ++i) {
      Philox rng(key, 0, static_cast<std::uint32_t>(i), RngUse::kSimulate);
      const std::vector<double> th = draw_prior(model, rng);
      outputs(model, th.data(), &prior[static_cast<size_t>(i) * k]);
    }
  } catch (const std::invalid_argument&) {
    return {};  // flat() or a non-generative prior: no contraction to report
  }
  std::vector<double> post(static_cast<size_t>(n) * k);
  for (int i = 0; i < n; ++i) outputs(model, theta + static_cast<size_t>(i) * dim, &post[static_cast<size_t>(i) * k]);
  auto moments = [&](const std::vector<double>& v, int rows, size_t j, double& mean, double& var) {
    double s = 0, s2 = 0;
    for (int r = 0; r < rows; ++r) s += v[static_cast<size_t>(r) * k + j];
    mean = s / rows;
    for (int r = 0; r < rows; ++r) {
      const double e = v[static_cast<size_t>(r) * k + j] - mean;
      s2 += e * e;
    }
    var = s2 / (rows - 1);
  };
  std::vector<PriorCheck> out;
  for (size_t j = 0; j < k; ++j) {
    PriorCheck p;
    p.parameter = names[j];
    double pv = 0, qv = 0;
    moments(prior, prior_draws, j, p.prior_mean, pv);
    moments(post, n, j, p.post_mean, qv);
    p.prior_sd = std::sqrt(pv);
    p.post_sd = std::sqrt(qv);
    p.contraction = contraction(pv, qv);
    p.shift = prior_shift(p.prior_mean, p.prior_sd, p.post_mean);
    out.push_back(p);
  }
  if (prior_rows) *prior_rows = std::move(prior);
  return out;
}

namespace {

// Where each channel's effect comes from, read off the prior checks.
void set_effect_sources(Analysis& a) {
  auto find = [&](const std::string& parameter) -> const PriorCheck* {
    for (const auto& p : a.priors)
      if (p.parameter == parameter) return &p;
    return nullptr;
  };
  a.effect_source.clear();
  for (const auto& ch : a.channels) {
    const PriorCheck* beta = find("beta[" + ch + "]");
    const PriorCheck* z = find("beta_z[" + ch + "]");
    EffectSource src = EffectSource::kData;
    if (beta && beta->prior_dominated()) {
      src = EffectSource::kPrior;
    } else if (z && z->prior_dominated()) {
      src = EffectSource::kGroup;
    } else if ((beta && beta->contraction_unreliable()) || (z && z->contraction_unreliable())) {
      src = EffectSource::kUnconverged;
    }
    a.effect_source.push_back(src);
  }
}

}  // namespace

Analysis analyze(const FittedModel& fit, const std::string& name, const AnalysisOptions& options) {
  const Model& model = *fit.model;
  const Dataset& d = model.dataset();
  const ModelView<double> m = model.view<double>();
  const int n = fit.n();
  const auto G = static_cast<size_t>(d.G), C = static_cast<size_t>(d.C), T = static_cast<size_t>(d.T);
  const auto L = static_cast<size_t>(m.L);
  const ResponseModel resp(model, fit.theta.data(), n);
  const SaturationType sat = model.spec().media.saturation;

  Analysis a;
  a.model = name;
  a.outcome_kind = model.spec().data.outcome_kind;
  a.channels = d.channels;
  for (const auto& s : d.dates) {
    long long v = 0;
    if (iso_days(s, v)) {
      a.week_units = "days since 1970-01-01";
    } else {
      v = std::stoll(s);
    }
    a.weeks.push_back(v);
  }
  a.current_spend = resp.current();
  a.total_spend.assign(C, 0);
  for (size_t c = 0; c < C; ++c) {
    for (size_t g = 0; g < G; ++g)
      for (size_t t = 0; t < T; ++t) a.total_spend[c] += d.media[(g * C + c) * T + t];
    a.reference_spend.push_back(resp.reference(static_cast<int>(c)));
  }
  for (double y : d.outcome) a.total_outcome += y;

  // Per-draw values, [quantity][draw].
  const auto N = static_cast<size_t>(n);
  const size_t P = static_cast<size_t>(std::max(options.curve_points, 2));
  std::vector<std::vector<double>> contrib_t(T * C, std::vector<double>(N)), base_t(T, std::vector<double>(N));
  std::vector<std::vector<double>> total(C, std::vector<double>(N)), mroi(C, std::vector<double>(N)),
      dim_point(C, std::vector<double>(N)), satur(C, std::vector<double>(N)), adst(C * L, std::vector<double>(N)),
      curve(C * P, std::vector<double>(N));
  a.curve_spend.assign(C, std::vector<double>(P));
  for (size_t c = 0; c < C; ++c)
    for (size_t p = 0; p < P; ++p) {
      const double lo = a.reference_spend[c], hi = options.curve_max * a.current_spend[c];
      a.curve_spend[c][p] = lo + (hi - lo) * static_cast<double>(p) / static_cast<double>(P - 1);
    }
  std::vector<double> scratch(static_cast<size_t>(model.scratch_size()));
  const int fine = 200;  // grid on which marginal ROI is scanned for the point of diminishing returns
  for (size_t i = 0; i < N; ++i) {
    std::vector<double> wk(T * C), bl(T), aw(C * L);
    draw_contributions(model, resp, static_cast<int>(i), fit.draw(static_cast<int>(i)), wk.data(), bl.data(),
                       scratch.data(), aw.data());
    for (size_t c = 0; c < C; ++c) total[c][i] = 0;
    for (size_t t = 0; t < T; ++t) {
      base_t[t][i] = bl[t];
      for (size_t c = 0; c < C; ++c) {
        contrib_t[t * C + c][i] = wk[t * C + c];
        total[c][i] += wk[t * C + c];
      }
    }
    const int di = static_cast<int>(i);
    std::vector<double> ys(P), mr(static_cast<size_t>(fine)), xs(static_cast<size_t>(fine));
    for (size_t c = 0; c < C; ++c) {
      const int ci = static_cast<int>(c);
      double y_ref = 0, y_cur = 0, d_cur = 0;
      resp.sweep(di, ci, a.current_spend.data(), &a.current_spend[c], 1, &y_cur, &d_cur);
      mroi[c][i] = d_cur;
      resp.sweep(di, ci, a.current_spend.data(), &a.reference_spend[c], 1, &y_ref, nullptr);
      resp.sweep(di, ci, a.current_spend.data(), a.curve_spend[c].data(), static_cast<int>(P), ys.data(), nullptr);
      for (size_t p = 0; p < P; ++p) curve[c * P + p][i] = ys[p] - y_ref;
      // Diminishing returns: past the peak of marginal ROI, the first spend where it is below 1.
      const double lo = a.reference_spend[c], hi = options.curve_max * a.current_spend[c];
      for (int q = 0; q < fine; ++q) xs[static_cast<size_t>(q)] = lo + (hi - lo) * (q + 1) / fine;
      std::vector<double> yf(static_cast<size_t>(fine));
      resp.sweep(di, ci, a.current_spend.data(), xs.data(), fine, yf.data(), mr.data());
      size_t peak = 0;
      for (size_t q = 0; q < static_cast<size_t>(fine); ++q)
        if (mr[q] > mr[peak]) peak = q;
      // Never above 1 (e.g. conversions per dollar): no such point; above 1 to the end: infinity.
      double point = std::numeric_limits<double>::infinity();
      if (mr[peak] < 1) point = kNaN;
      for (size_t q = peak; q < static_cast<size_t>(fine) && std::isinf(point); ++q)
        if (mr[q] < 1) point = xs[q];
      dim_point[c][i] = point;
      // Fraction of the curve's ceiling reached at current spend (bounded curves only).
      double frac = kNaN;
      if (sat == SaturationType::kHill || sat == SaturationType::kLogistic) {
        double num = 0, den = 0;
        for (size_t g = 0; g < G; ++g) {
          const ChannelCurve<double>& k = resp.curve(di, static_cast<int>(g), static_cast<int>(c));
          const double full = std::fabs(k.beta);
          num += std::fabs(steady_term(sat, k, a.current_spend[c] * resp.share(static_cast<int>(g), static_cast<int>(c)),
                                          static_cast<double*>(nullptr)));
          den += full;
        }
        frac = den > 0 ? num / den : kNaN;
      }
      satur[c][i] = frac;
      double wsum = 0;
      for (size_t l = 0; l < L; ++l) wsum += aw[c * L + l];
      for (size_t l = 0; l < L; ++l) adst[c * L + l][i] = aw[c * L + l] / wsum;
    }
  }

  a.chains = fit.chains;
  a.draws = fit.draws;
  a.roi_draws.resize(N * C);
  a.marginal_roi_draws.resize(N * C);
  a.response_draws.resize(N * C * P);
  for (size_t i = 0; i < N; ++i)
    for (size_t c = 0; c < C; ++c) {
      a.roi_draws[i * C + c] = a.total_spend[c] > 0 ? total[c][i] / a.total_spend[c] : kNaN;
      a.marginal_roi_draws[i * C + c] = mroi[c][i];
      for (size_t p = 0; p < P; ++p) a.response_draws[(i * C + c) * P + p] = curve[c * P + p][i];
    }
  auto iv = [&](const std::vector<double>& v) { return interval(v); };
  for (size_t c = 0; c < C; ++c) {
    a.contribution_total.push_back(iv(total[c]));
    std::vector<double> share(N), roi(N), cpo(N);
    for (size_t i = 0; i < N; ++i) {
      share[i] = total[c][i] / a.total_outcome;
      roi[i] = a.total_spend[c] > 0 ? total[c][i] / a.total_spend[c] : kNaN;
      cpo[i] = a.total_spend[c] > 0 && total[c][i] != 0 ? a.total_spend[c] / total[c][i] : kNaN;
    }
    a.contribution_share.push_back(iv(share));
    a.roi.push_back(iv(roi));
    a.cost_per_outcome.push_back(iv(cpo));
    a.marginal_roi.push_back(iv(mroi[c]));
    std::vector<double> mcost(N);
    for (size_t i = 0; i < N; ++i) mcost[i] = mroi[c][i] != 0 ? 1 / mroi[c][i] : kNaN;
    a.marginal_cost.push_back(iv(mcost));
    a.diminishing_point.push_back(iv(dim_point[c]));
    double beyond = 0;
    for (double v : dim_point[c]) beyond += std::isinf(v);
    a.p_beyond.push_back(beyond / static_cast<double>(N));
    a.saturation.push_back(iv(satur[c]));
    std::vector<Interval> cv, ad;
    for (size_t p = 0; p < P; ++p) cv.push_back(iv(curve[c * P + p]));
    for (size_t l = 0; l < L; ++l) ad.push_back(iv(adst[c * L + l]));
    a.curve.push_back(cv);
    a.adstock.push_back(ad);
  }
  for (size_t t = 0; t < T; ++t) {
    std::vector<Interval> row;
    for (size_t c = 0; c < C; ++c) row.push_back(iv(contrib_t[t * C + c]));
    a.contribution.push_back(row);
    a.baseline.push_back(iv(base_t[t]));
  }

  // Channel effects: posterior and prior intervals of beta, and every scalar's contraction.
  std::vector<double> prior_rows;
  a.priors = prior_checks(model, fit.theta.data(), n, options.prior_draws, &prior_rows);
  const std::vector<std::string> names = output_names(model);
  const size_t k = names.size(), dim = static_cast<size_t>(model.dim());
  std::vector<double> row(k);
  std::vector<std::vector<double>> beta_post(C, std::vector<double>(N)), beta_prior(C);
  std::vector<size_t> beta_index(C, k);
  for (size_t c = 0; c < C; ++c)
    for (size_t j = 0; j < k; ++j)
      if (names[j] == "beta[" + d.channels[c] + "]") beta_index[c] = j;
  for (size_t i = 0; i < N; ++i) {
    outputs(model, fit.theta.data() + i * dim, row.data());
    for (size_t c = 0; c < C; ++c) beta_post[c][i] = beta_index[c] < k ? row[beta_index[c]] : kNaN;
  }
  if (!a.priors.empty())
    for (int i = 0; i < options.prior_draws; ++i)
      for (size_t c = 0; c < C; ++c)
        beta_prior[c].push_back(beta_index[c] < k ? prior_rows[static_cast<size_t>(i) * k + beta_index[c]] : kNaN);
  for (size_t c = 0; c < C; ++c) {
    a.beta_posterior.push_back(iv(beta_post[c]));
    a.beta_prior.push_back(iv(beta_prior[c]));
  }
  set_effect_sources(a);
  return a;
}

void mark_convergence(Analysis& a, const ModelReport& fit) {
  for (auto& p : a.priors) {
    const auto row = std::find_if(fit.params.begin(), fit.params.end(),
                                  [&](const ParamRow& r) { return r.parameter == p.parameter; });
    p.converged = row != fit.params.end() && row->converged;
  }
  set_effect_sources(a);
}

const char* to_string(EffectSource s) {
  switch (s) {
    case EffectSource::kData: return "data";
    case EffectSource::kGroup: return "group";
    case EffectSource::kUnconverged: return "unconverged";
    case EffectSource::kPrior: break;
  }
  return "prior";
}

const char* ReturnUnits::average() const {
  return kind == OutcomeKind::kRevenue ? "ROAS" : cost() ? "CPA" : "ROI";
}

const char* ReturnUnits::marginal() const {
  return kind == OutcomeKind::kRevenue ? "mROAS" : cost() ? "mCPA" : "mROI";
}

double Analysis::beta_contraction(size_t c) const {
  for (const auto& p : priors)
    if (p.parameter == "beta[" + channels[c] + "]") return p.contraction;
  return std::numeric_limits<double>::quiet_NaN();
}

}  // namespace herd
