// Decision outputs over posterior draws: the model is rebuilt from the file, every quantity
// is computed per draw in the user's units, then summarized by mean and 94% HDI.
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

const DataGroup& need_group(const ModelOutput& out, const std::string& name, const std::string& file) {
  const DataGroup* g = out.group(name);
  if (!g) throw std::runtime_error(file + ": model " + out.name + " has no " + name + " group");
  return *g;
}

const Variable& need_var(const DataGroup& g, const std::string& name, const std::string& file, const std::string& model) {
  const Variable* v = g.var(name);
  if (!v) throw std::runtime_error(file + ": " + model + "/" + g.name + " has no variable " + name);
  return *v;
}

// [g][t][j] (netCDF order) -> [(g * n + j) * T + t] (the Dataset's order).
std::vector<double> to_series(const std::vector<double>& v, size_t G, size_t T, size_t n) {
  std::vector<double> out(G * T * n);
  for (size_t g = 0; g < G; ++g)
    for (size_t t = 0; t < T; ++t)
      for (size_t j = 0; j < n; ++j) out[(g * n + j) * T + t] = v[(g * T + t) * n + j];
  return out;
}

std::string week_label(const Coord& week, size_t t) {
  return week.units.empty() ? std::to_string(week.ints[t]) : iso_date(week.ints[t]);
}

}  // namespace

std::unique_ptr<Model> restore_model_only(const ModelOutput& out, const std::string& file) {
  if (!out.ok()) throw std::runtime_error(file + ": model " + out.name + " has status \"" + out.status + "\"");
  const auto cfg = out.text_attrs.find("config");
  if (cfg == out.text_attrs.end()) throw std::runtime_error(file + ": model " + out.name + " has no config attribute");
  ModelSpec spec = parse_model_config_text(cfg->second, file + ":/" + out.name + "@config", ".");
  const DataGroup& obs = need_group(out, "observed_data", file);
  const DataGroup& cd = need_group(out, "constant_data", file);
  Dataset d;
  const auto src = out.text_attrs.find("data_source");
  d.source = src != out.text_attrs.end() ? src->second : file;
  const Coord* week = obs.coord("week");
  if (!week) throw std::runtime_error(file + ": " + out.name + "/observed_data has no week coordinate");
  d.T = static_cast<int>(week->size());
  for (size_t t = 0; t < week->size(); ++t) d.dates.push_back(week_label(*week, t));
  const Coord* geo = obs.coord("geo");
  d.geos = geo ? geo->labels : std::vector<std::string>{""};
  d.G = static_cast<int>(d.geos.size());
  const Coord* ch = cd.coord("channel");
  d.channels = ch ? ch->labels : std::vector<std::string>{};
  d.C = static_cast<int>(d.channels.size());
  const Coord* ctl = cd.coord("control");
  d.controls = ctl ? ctl->labels : std::vector<std::string>{};
  d.K = static_cast<int>(d.controls.size());
  const auto G = static_cast<size_t>(d.G), T = static_cast<size_t>(d.T);
  d.outcome = need_var(obs, "y", file, out.name).values;
  d.media = to_series(need_var(cd, "spend", file, out.name).values, G, T, static_cast<size_t>(d.C));
  if (d.K > 0) d.control = to_series(need_var(cd, "control_value", file, out.name).values, G, T, static_cast<size_t>(d.K));
  d.media_scale = need_var(cd, "media_scale", file, out.name).values;
  const auto os = out.real_attrs.find("outcome_scale");
  d.outcome_scale = os != out.real_attrs.end() ? os->second : 1.0;
  d.line.assign(G * T, 0);
  d.media_column.assign(static_cast<size_t>(d.C), 0);
  return std::make_unique<Model>(std::move(spec), std::move(d));
}

FittedModel restore_model(const ModelOutput& out, const std::string& file) {
  FittedModel f;
  f.model = restore_model_only(out, file);
  const Model& m = *f.model;
  const DataGroup& post = need_group(out, "posterior", file);
  f.chains = static_cast<int>(post.coord("chain")->size());
  f.draws = static_cast<int>(post.coord("draw")->size());
  const auto n = static_cast<size_t>(f.n()), dim = static_cast<size_t>(m.dim());
  // Where each coordinate's constrained value sits in its posterior variable.
  struct Source {
    const Variable* var;
    size_t inner, pos;
  };
  std::vector<Source> src;
  for (const auto& p : m.params()) {
    const std::string& stem = p.stem;
    const Variable& v = need_var(post, stem, file, out.name);
    const std::vector<std::string>& parts = p.parts;
    if (parts.size() + 2 != v.dims.size())
      throw std::runtime_error(file + ": " + out.name + "/posterior/" + stem + " does not match " + p.name);
    size_t inner = 1, pos = 0;
    for (size_t j = 0; j < parts.size(); ++j) {
      const Coord* c = post.coord(v.dims[j + 2]);
      const auto it = std::find(c->labels.begin(), c->labels.end(), parts[j]);
      if (it == c->labels.end())
        throw std::runtime_error(file + ": " + out.name + "/posterior/" + stem + " has no " + parts[j]);
      pos = pos * c->size() + static_cast<size_t>(it - c->labels.begin());
      inner *= c->size();
    }
    src.push_back({&v, inner, pos});
  }
  f.theta.resize(n * dim);
  std::vector<double> values(dim);
  for (size_t r = 0; r < n; ++r) {
    for (size_t i = 0; i < dim; ++i) values[i] = src[i].var->values[r * src[i].inner + src[i].pos];
    const std::vector<double> u = m.unconstrain(values);
    std::copy(u.begin(), u.end(), f.theta.begin() + static_cast<std::ptrdiff_t>(r * dim));
  }
  return f;
}

// ------------------------------------------------------------------------------------------
// ResponseModel

ResponseModel::ResponseModel(const Model& model, const double* theta, int n)
    : n_(n), G_(model.dataset().G), C_(model.dataset().C) {
  const Dataset& d = model.dataset();
  const ModelView<double> m = model.view<double>();
  multiplicative_ = m.likelihood == LikelihoodType::kLognormal;
  outcome_scale_ = d.outcome_scale;
  sat_ = model.spec().media.saturation;
  const auto G = static_cast<size_t>(G_), C = static_cast<size_t>(C_), T = static_cast<size_t>(d.T);
  current_.assign(C, 0);
  reference_.assign(C, 0);
  share_.assign(G * C, 0);
  for (size_t c = 0; c < C; ++c) {
    double total = 0, low = std::numeric_limits<double>::infinity();
    for (size_t t = 0; t < T; ++t) {
      double week = 0;
      for (size_t g = 0; g < G; ++g) week += d.media[(g * C + c) * T + t];
      total += week;
      if (week > 0) low = std::min(low, week);
    }
    current_[c] = total / static_cast<double>(T);
    if (sat_ == SaturationType::kLog) reference_[c] = low;
    for (size_t g = 0; g < G; ++g) {
      double s = 0;
      for (size_t t = 0; t < T; ++t) s += d.media[(g * C + c) * T + t];
      share_[g * C + c] = total > 0 ? s / total : 1.0 / static_cast<double>(G);
    }
  }
  base_.resize(static_cast<size_t>(n) * G);
  curves_.resize(static_cast<size_t>(n) * G * C);
  std::vector<double> scratch(static_cast<size_t>(model.scratch_size())), media(C * T);
  const int dim = model.dim();
  for (int i = 0; i < n; ++i) {
    const double* th = theta + static_cast<size_t>(i) * static_cast<size_t>(dim);
    const detail::Workspace<double> ws = detail::carve(m, scratch.data());
    detail::transform_and_priors(m, th, ws);
    detail::effects_forward(m, ws);
    detail::adstock_setup(m, ws);
    for (int g = 0; g < G_; ++g) {
      detail::forward_geo(m, ws, g, media.data());
      double b = 0;
      for (size_t t = 0; t < T; ++t) {
        double rest = ws.mu[t];
        for (size_t c = 0; c < C; ++c) rest -= media[c * T + t];
        b += multiplicative_ ? std::exp(rest) : rest;
      }
      base_[static_cast<size_t>(i) * G + static_cast<size_t>(g)] = b / static_cast<double>(T);
      for (int c = 0; c < C_; ++c) {
        ChannelCurve<double> k{};
        k.beta = detail::geo_effect(m, ws, g, c);
        k.gain = m.normalize ? 1.0 : adstock_gain(m.L, ws.w + c * m.L, ws.dwd + c * m.L, ws.dwp + c * m.L).W;
        k.inv_scale = 1.0 / d.media_scale[static_cast<size_t>(c)];
        k.p1 = detail::param(ws, m.o_sat1, c, 0.0);
        k.p2 = detail::param(ws, m.o_sat2, c, 0.0);
        k.log_p1 = sat_ == SaturationType::kHill ? std::log(k.p1) : 0.0;
        curves_[(static_cast<size_t>(i) * G + static_cast<size_t>(g)) * C + static_cast<size_t>(c)] = k;
      }
    }
  }
}

const ChannelCurve<double>& ResponseModel::curve(int i, int g, int c) const {
  return curves_[(static_cast<size_t>(i) * static_cast<size_t>(G_) + static_cast<size_t>(g)) * static_cast<size_t>(C_) +
                 static_cast<size_t>(c)];
}

double ResponseModel::outcome(int i, const double* x, double* grad) const {
  if (grad) std::fill(grad, grad + C_, 0.0);
  double y = 0;
  for (int g = 0; g < G_; ++g) {
    double u = 0;
    double du[64];
    std::vector<double> du_big;
    double* dterm = du;
    if (C_ > 64) {
      du_big.resize(static_cast<size_t>(C_));
      dterm = du_big.data();
    }
    for (int c = 0; c < C_; ++c) {
      const double s = share_[static_cast<size_t>(g * C_ + c)];
      double dx = 0;
      u += steady_term(sat_, curve(i, g, c), x[c] * s, &dx);
      dterm[c] = dx * s;
    }
    const double b = base_[static_cast<size_t>(i) * static_cast<size_t>(G_) + static_cast<size_t>(g)];
    const double h = multiplicative_ ? b * std::exp(u) : b + u;
    const double dh = multiplicative_ ? h : 1.0;
    y += h;
    if (grad)
      for (int c = 0; c < C_; ++c) grad[c] += outcome_scale_ * dh * dterm[c];
  }
  return outcome_scale_ * y;
}

void ResponseModel::sweep(int i, int c, const double* x, const double* xs, int k, double* y, double* dy) const {
  std::fill(y, y + k, 0.0);
  if (dy) std::fill(dy, dy + k, 0.0);
  for (int g = 0; g < G_; ++g) {
    double rest = 0;
    for (int j = 0; j < C_; ++j)
      if (j != c) rest += steady_term(sat_, curve(i, g, j), x[j] * share(g, j), static_cast<double*>(nullptr));
    const double b = base_[static_cast<size_t>(i) * static_cast<size_t>(G_) + static_cast<size_t>(g)];
    const double s = share(g, c);
    const ChannelCurve<double>& k_gc = curve(i, g, c);
    for (int q = 0; q < k; ++q) {
      double d = 0;
      const double u = rest + steady_term(sat_, k_gc, xs[q] * s, &d);
      const double h = multiplicative_ ? b * std::exp(u) : b + u;
      y[q] += outcome_scale_ * h;
      if (dy) dy[q] += outcome_scale_ * (multiplicative_ ? h : 1.0) * d * s;
    }
  }
}

// ------------------------------------------------------------------------------------------
// Summaries

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

void draw_contributions(const Model& model, const ResponseModel& resp, int i, const double* theta, double* contrib,
                        double* baseline, double* scratch) {
  const Dataset& d = model.dataset();
  const ModelView<double> m = model.view<double>();
  const auto G = static_cast<size_t>(d.G), C = static_cast<size_t>(d.C), T = static_cast<size_t>(d.T);
  const bool mult = m.likelihood == LikelihoodType::kLognormal;
  const double os = d.outcome_scale;
  const SaturationType sat = model.spec().media.saturation;
  const detail::Workspace<double> ws = detail::carve(m, scratch);
  detail::transform_and_priors(m, theta, ws);
  detail::effects_forward(m, ws);
  detail::adstock_setup(m, ws);
  std::fill(contrib, contrib + T * C, 0.0);
  if (baseline) std::fill(baseline, baseline + T, 0.0);
  std::vector<double> media(C * T), ref_term(C);
  for (size_t g = 0; g < G; ++g) {
    // forward_geo writes the media terms [c * T + t]; ws.mu gets mu of geo g.
    detail::forward_geo(m, ws, static_cast<int>(g), media.data());
    for (size_t c = 0; c < C; ++c) {
      const double ref = resp.reference(static_cast<int>(c));
      ref_term[c] = ref > 0 ? steady_term(sat, resp.curve(i, static_cast<int>(g), static_cast<int>(c)),
                                          ref * resp.share(static_cast<int>(g), static_cast<int>(c)),
                                          static_cast<double*>(nullptr))
                            : 0.0;
    }
    for (size_t t = 0; t < T; ++t) {
      const double mu = ws.mu[t];
      double all_ref = mu;
      for (size_t c = 0; c < C; ++c) {
        const double delta = media[c * T + t] - ref_term[c];
        all_ref -= delta;
        contrib[t * C + c] += os * (mult ? std::exp(mu) - std::exp(mu - delta) : delta);
      }
      if (baseline) baseline[t] += os * (mult ? std::exp(all_ref) : all_ref);
    }
  }
}

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
    std::vector<double> wk(T * C), bl(T);
    draw_contributions(model, resp, static_cast<int>(i), fit.draw(static_cast<int>(i)), wk.data(), bl.data(),
                       scratch.data());
    // The draw's workspace (adstock weights included) stays in scratch.
    const detail::Workspace<double> ws = detail::carve(m, scratch.data());
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
      for (size_t l = 0; l < L; ++l) wsum += ws.w[c * L + l];
      for (size_t l = 0; l < L; ++l) adst[c * L + l][i] = ws.w[c * L + l] / wsum;
    }
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
  return a;
}

// ------------------------------------------------------------------------------------------
// Output

namespace {

Coord text_coord(const std::string& name, std::vector<std::string> labels) {
  Coord c;
  c.name = name;
  c.labels = std::move(labels);
  return c;
}

Coord int_coord(const std::string& name, size_t n) {
  Coord c;
  c.name = name;
  for (size_t i = 0; i < n; ++i) c.ints.push_back(static_cast<long long>(i));
  return c;
}

void push_stats(std::vector<double>& v, const Interval& i) {
  v.push_back(i.mean);
  v.push_back(i.low);
  v.push_back(i.high);
}

Variable stat_var(const std::string& name, std::vector<std::string> dims, const std::string& long_name) {
  Variable v;
  v.name = name;
  v.dims = std::move(dims);
  v.dims.push_back("stat");
  v.attrs["long_name"] = long_name;
  return v;
}

std::string num(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  std::ostringstream o;
  o << std::setprecision(10) << v;
  return o.str();
}

std::string stats(const Interval& i) { return num(i.mean) + "," + num(i.low) + "," + num(i.high); }

}  // namespace

DataGroup analysis_group(const Analysis& a) {
  DataGroup g;
  g.name = "analysis";
  g.coords.push_back(text_coord("channel", a.channels));
  Coord week;
  week.name = "week";
  week.ints = a.weeks;
  week.units = a.week_units;
  g.coords.push_back(week);
  g.coords.push_back(text_coord("stat", {"mean", "hdi_3%", "hdi_97%"}));
  const size_t P = a.curve_spend.empty() ? 0 : a.curve_spend[0].size();
  const size_t L = a.adstock.empty() ? 0 : a.adstock[0].size();
  g.coords.push_back(int_coord("point", P));
  g.coords.push_back(int_coord("lag", L));
  auto per_channel = [&](const std::string& name, const std::vector<Interval>& v, const std::string& what) {
    Variable x = stat_var(name, {"channel"}, what);
    for (const auto& i : v) push_stats(x.values, i);
    g.vars.push_back(std::move(x));
  };
  auto plain = [&](const std::string& name, std::vector<std::string> dims, std::vector<double> values,
                   const std::string& what) {
    Variable x;
    x.name = name;
    x.dims = std::move(dims);
    x.values = std::move(values);
    x.attrs["long_name"] = what;
    g.vars.push_back(std::move(x));
  };
  plain("current_spend", {"channel"}, a.current_spend, "average weekly spend in the data");
  plain("total_spend", {"channel"}, a.total_spend, "spend over the data");
  plain("reference_spend", {"channel"}, a.reference_spend,
        "weekly spend increments are measured from (0; the lowest weekly spend for log saturation)");
  per_channel("contribution_total", a.contribution_total, "contribution over the data, outcome units");
  per_channel("contribution_share", a.contribution_share, "contribution / total observed outcome");
  per_channel("roi", a.roi, "contribution / spend");
  per_channel("cost_per_outcome", a.cost_per_outcome, "spend / contribution");
  per_channel("marginal_roi", a.marginal_roi, "d expected weekly outcome / d weekly spend at current spend");
  per_channel("diminishing_point", a.diminishing_point,
              "weekly spend where marginal ROI falls below 1 (draws where it does)");
  plain("p_beyond", {"channel"}, a.p_beyond, "share of draws whose marginal ROI stays >= 1 over the curve");
  per_channel("saturation", a.saturation, "fraction of the curve's ceiling reached at current spend");
  per_channel("beta_prior", a.beta_prior, "channel effect under the prior");
  per_channel("beta_posterior", a.beta_posterior, "channel effect under the posterior");
  {
    Variable x = stat_var("contribution", {"week", "channel"}, "weekly contribution, outcome units");
    for (const auto& row : a.contribution)
      for (const auto& i : row) push_stats(x.values, i);
    g.vars.push_back(std::move(x));
    Variable b = stat_var("baseline", {"week"}, "weekly outcome with every channel at its reference spend");
    for (const auto& i : a.baseline) push_stats(b.values, i);
    g.vars.push_back(std::move(b));
  }
  {
    std::vector<double> spend;
    for (const auto& row : a.curve_spend) spend.insert(spend.end(), row.begin(), row.end());
    plain("curve_spend", {"channel", "point"}, spend, "weekly spend along the response curve");
    Variable x = stat_var("response", {"channel", "point"}, "incremental expected outcome per week, steady state");
    for (const auto& row : a.curve)
      for (const auto& i : row) push_stats(x.values, i);
    g.vars.push_back(std::move(x));
    Variable ad = stat_var("adstock", {"channel", "lag"}, "share of the effect at each weekly lag");
    for (const auto& row : a.adstock)
      for (const auto& i : row) push_stats(ad.values, i);
    g.vars.push_back(std::move(ad));
  }
  if (!a.priors.empty()) {
    std::vector<std::string> names;
    std::vector<double> con, shift;
    for (const auto& p : a.priors) {
      names.push_back(p.parameter);
      con.push_back(p.contraction);
      shift.push_back(p.shift);
    }
    g.coords.push_back(text_coord("parameter", names));
    plain("contraction", {"parameter"}, con, "1 - posterior variance / prior variance");
    plain("prior_shift", {"parameter"}, shift, "(posterior mean - prior mean) / prior sd");
  }
  return g;
}

void write_analysis_csv(const std::string& dir, const Analysis& a) {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  const size_t C = a.channels.size();
  auto beta_contraction = [&](size_t c) {
    for (const auto& p : a.priors)
      if (p.parameter == "beta[" + a.channels[c] + "]") return p.contraction;
    return kNaN;
  };
  {
    std::ostringstream o;
    o << "channel,current_spend,total_spend,reference_spend";
    for (const char* q : {"contribution", "share", "roi", "cost_per_outcome", "marginal_roi", "diminishing_point"})
      o << ',' << q << "_mean," << q << "_hdi_3%," << q << "_hdi_97%";
    o << ",p_beyond";
    for (const char* q : {"saturation", "beta_prior", "beta"}) o << ',' << q << "_mean," << q << "_hdi_3%," << q << "_hdi_97%";
    o << ",beta_contraction,prior_dominated\n";
    for (size_t c = 0; c < C; ++c) {
      const double con = beta_contraction(c);
      o << csv_field(a.channels[c]) << ',' << num(a.current_spend[c]) << ',' << num(a.total_spend[c]) << ','
        << num(a.reference_spend[c]) << ',' << stats(a.contribution_total[c]) << ',' << stats(a.contribution_share[c])
        << ',' << stats(a.roi[c]) << ',' << stats(a.cost_per_outcome[c]) << ',' << stats(a.marginal_roi[c]) << ','
        << stats(a.diminishing_point[c]) << ',' << num(a.p_beyond[c]) << ',' << stats(a.saturation[c]) << ','
        << stats(a.beta_prior[c]) << ',' << stats(a.beta_posterior[c]) << ',' << num(con) << ','
        << (con == con && con < 0.1 ? 1 : 0) << '\n';
    }
    write_file_atomically((fs::path(dir) / "channels.csv").string(), o.str());
  }
  {
    std::ostringstream o;
    o << "week,series,mean,hdi_3%,hdi_97%\n";
    for (size_t t = 0; t < a.weeks.size(); ++t) {
      const std::string w = a.week_units.empty() ? std::to_string(a.weeks[t]) : iso_date(a.weeks[t]);
      o << w << ",baseline," << stats(a.baseline[t]) << '\n';
      for (size_t c = 0; c < C; ++c) o << w << ',' << csv_field(a.channels[c]) << ',' << stats(a.contribution[t][c]) << '\n';
    }
    write_file_atomically((fs::path(dir) / "contributions.csv").string(), o.str());
  }
  {
    std::ostringstream o;
    o << "channel,spend,mean,hdi_3%,hdi_97%\n";
    for (size_t c = 0; c < C; ++c)
      for (size_t p = 0; p < a.curve_spend[c].size(); ++p)
        o << csv_field(a.channels[c]) << ',' << num(a.curve_spend[c][p]) << ',' << stats(a.curve[c][p]) << '\n';
    write_file_atomically((fs::path(dir) / "response_curves.csv").string(), o.str());
  }
  {
    std::ostringstream o;
    o << "channel,lag,mean,hdi_3%,hdi_97%\n";
    for (size_t c = 0; c < C; ++c)
      for (size_t l = 0; l < a.adstock[c].size(); ++l) o << csv_field(a.channels[c]) << ',' << l << ',' << stats(a.adstock[c][l]) << '\n';
    write_file_atomically((fs::path(dir) / "adstock.csv").string(), o.str());
  }
  {
    std::ostringstream o;
    o << "parameter,prior_mean,prior_sd,posterior_mean,posterior_sd,contraction,shift,prior_dominated\n";
    for (const auto& p : a.priors)
      o << csv_field(p.parameter) << ',' << num(p.prior_mean) << ',' << num(p.prior_sd) << ',' << num(p.post_mean) << ','
        << num(p.post_sd) << ',' << num(p.contraction) << ',' << num(p.shift) << ',' << (p.prior_dominated() ? 1 : 0)
        << '\n';
    write_file_atomically((fs::path(dir) / "priors.csv").string(), o.str());
  }
}

std::string channel_table(const Analysis& a) {
  std::ostringstream o;
  auto f = [](double v, int w) {
    std::ostringstream s;
    s << std::setw(w) << std::setprecision(4) << v;
    return s.str();
  };
  o << std::left << std::setw(22) << "channel" << std::right << std::setw(11) << "spend/wk"
    << std::setw(11) << "contrib" << std::setw(23) << "contrib 94% HDI" << std::setw(9) << "ROI" << std::setw(21)
    << "ROI 94% HDI" << std::setw(10) << "mROI" << std::setw(11) << "dim.point" << std::setw(7) << "sat." << "  flags\n";
  for (size_t c = 0; c < a.channels.size(); ++c) {
    double con = kNaN;
    for (const auto& p : a.priors)
      if (p.parameter == "beta[" + a.channels[c] + "]") con = p.contraction;
    const Interval& ct = a.contribution_total[c];
    o << std::left << std::setw(22) << a.channels[c] << std::right << f(a.current_spend[c], 11) << f(ct.mean, 11)
      << f(ct.low, 11) << ' ' << f(ct.high, 11) << f(a.roi[c].mean, 9) << f(a.roi[c].low, 10) << ' '
      << f(a.roi[c].high, 10) << f(a.marginal_roi[c].mean, 10)
      << (a.p_beyond[c] > 0.5 ? std::string("      >3x") + "  " : f(a.diminishing_point[c].mean, 11))
      << f(a.saturation[c].mean, 7) << "  " << (con == con && con < 0.1 ? "prior-dominated" : "") << '\n';
  }
  return o.str();
}

}  // namespace herd
