#include "herd/model/model.hpp"

#include <cmath>
#include <cstring>
#include <iomanip>
#include <sstream>

#include "herd/core/error.hpp"
#include "herd/model/log_density.hpp"

namespace herd {
namespace {

constexpr Support kReal{SupportKind::kReal, 0, 0};
constexpr Support kPositive{SupportKind::kPositive, 0, 0};
constexpr Distribution kStdNormal{Family::kNormal, 0, 1, 0};

std::string support_text(const Support& s) {
  switch (s.kind) {
    case SupportKind::kReal: return "real";
    case SupportKind::kPositive: return "(0, inf)";
    case SupportKind::kInterval: {
      std::ostringstream o;
      o << "(" << s.lo << ", " << s.hi << ")";
      return o.str();
    }
  }
  return "?";
}

int group_of(const ModelSpec& spec, const std::string& ch) {
  for (size_t g = 0; g < spec.media.groups.size(); ++g)
    for (const auto& member : spec.media.groups[g].second)
      if (member == ch) return static_cast<int>(g);
  return -1;
}

}  // namespace

template <class Real>
ModelData<Real>::ModelData(const ModelView<Real>& from) : view_(from) {
  size_t used = 0;
  for_each_array(view_, [&](auto*& p, size_t n) {
    used = (used + alignof(Chunk) - 1) / alignof(Chunk) * alignof(Chunk);
    offsets_.push_back(used);
    used += n * sizeof(*p);
  });
  block_.resize((used + sizeof(Chunk) - 1) / sizeof(Chunk));
  auto* base = reinterpret_cast<unsigned char*>(block_.data());
  size_t i = 0;
  for_each_array(view_, [&](auto*& p, size_t n) {
    if (n) std::memcpy(base + offsets_[i], p, n * sizeof(*p));
    ++i;
  });
  view_ = rebase(base);
}

template <class Real>
ModelView<Real> ModelData<Real>::rebase(const void* at) const {
  ModelView<Real> v = view_;
  const auto* base = static_cast<const unsigned char*>(at);
  size_t i = 0;
  for_each_array(v, [&](auto*& p, size_t) {
    p = reinterpret_cast<std::remove_reference_t<decltype(p)>>(base + offsets_[i++]);
  });
  return v;
}

template class ModelData<double>;
template class ModelData<float>;

namespace {

// The arrays of a model as fill builds them, before they are packed into one block.
template <class Real>
struct ModelArrays {
  ModelView<Real> base{};
  std::vector<Real> x, y, z, season, multiplier;
  std::vector<int> effect_kind, group;
  std::vector<LiftView<Real>> lift;
  std::vector<SupportView<Real>> support;
  std::vector<PriorView<Real>> prior;
  std::vector<PriorView<Real>> effect_prior;
  ModelView<Real> view() const {
    ModelView<Real> v = base;
    v.x = x.data();
    v.y = y.data();
    v.z = z.data();
    v.season = season.data();
    v.effect_kind = effect_kind.data();
    v.group = group.data();
    v.multiplier = multiplier.data();
    v.lift = lift.data();
    v.support = support.data();
    v.prior = prior.data();
    v.effect_prior = effect_prior.data();
    return v;
  }
};

}  // namespace

Model::Model(ModelSpec spec, Dataset data) : spec_(std::move(spec)), data_(std::move(data)) {
  // A Dataset built in code (or read from a file written before [controls] scale) has no
  // control scales: the spec says how to make them, here once for every user of the model.
  const auto K = static_cast<size_t>(data_.K);
  if (data_.control_center.size() != K || data_.control_scale.size() != K) set_control_scales(data_, spec_.control_scale);
  validate();
  build_layout();
  d64_ = pack<double>();
  f32_ = pack<float>();
}

void Model::validate() const {
  const Dataset& d = data_;
  const auto& m = spec_.media;
  if (m.adstock.type == AdstockType::kDelayed && m.adstock.taps < 2)
    throw InputError(located(spec_.source, 0, 0, "media.adstock: delayed adstock needs taps >= 2 (its peak lies in [0, taps-1])"));
  if (spec_.likelihood == LikelihoodType::kLognormal) {
    for (int i = 0; i < d.G * d.T; ++i)
      if (!(d.outcome[i] > 0)) {
        std::ostringstream o;
        o << "outcome \"" << spec_.data.outcome << "\" is " << d.outcome[i]
          << "; the lognormal likelihood needs a positive outcome in every week";
        throw InputError(located(d.source, d.line[i], d.outcome_column, o.str()));
      }
  }
  if (m.saturation == SaturationType::kLog) {
    // log saturation takes log of the adstocked media: each week needs some spend within the
    // adstock window (all lag weights are positive for decay in (0, 1)).
    const int L = m.adstock.type == AdstockType::kNone ? 1 : m.adstock.taps;
    for (int g = 0; g < d.G; ++g)
      for (int c = 0; c < d.C; ++c) {
        const double* x = &d.media[(g * d.C + c) * d.T];
        for (int t = 0; t < d.T; ++t) {
          bool any = false;
          for (int l = 0; l < L && l <= t; ++l) any = any || x[t - l] > 0;
          if (!any) {
            std::ostringstream o;
            o << "channel \"" << d.channels[c] << "\" has no spend in week " << d.dates[t]
              << (L > 1 ? " nor in the " + std::to_string(L - 1) + " weeks before" : std::string())
              << ", and log saturation cannot take log(0); use hill or logistic saturation";
            throw InputError(located(d.source, d.line[g * d.T + t], d.media_column[c], o.str()));
          }
        }
      }
    for (const auto& lt : spec_.lift_tests)
      if (lt.spend_before <= 0 || lt.spend_after <= 0)
        throw InputError(located(spec_.source, 0, 0,
                                 "lift test on \"" + lt.channel + "\": log saturation needs spend_before and spend_after > 0"));
  }
}

void Model::build_layout() {
  const Dataset& d = data_;
  const MediaSpec& m = spec_.media;
  const PriorSpec& pr = spec_.priors;
  const bool positive = m.effect_sign == EffectSign::kPositive;
  const bool panel = !spec_.data.panel.empty();
  auto& v = layout_;
  v = ModelView<double>{};
  v.T = d.T;
  v.G = d.G;
  v.C = d.C;
  v.K = d.K;
  v.S = 2 * spec_.season_harmonics;
  v.L = m.adstock.type == AdstockType::kNone ? 1 : m.adstock.taps;
  v.n_groups = static_cast<int>(m.groups.size());
  v.n_lift = static_cast<int>(spec_.lift_tests.size());
  v.adstock = m.adstock.type;
  v.normalize = m.adstock.normalize;
  v.saturation = m.saturation;
  v.likelihood = spec_.likelihood;
  v.positive = positive;
  v.panel = panel;

  params_.clear();
  auto add_parts = [&](const std::string& family, const std::string& name, std::vector<std::string> parts, Support s,
                       Distribution prior) {
    std::string label;
    for (const auto& p : parts) label += (label.empty() ? "" : ",") + p;
    params_.push_back({label.empty() ? name : name + "[" + label + "]", family, label, s, prior, name, std::move(parts)});
  };
  auto add = [&](const std::string& family, const std::string& name, const std::string& label, Support s,
                 Distribution prior) {
    add_parts(family, name, label.empty() ? std::vector<std::string>{} : std::vector<std::string>{label}, s, prior);
  };
  auto block = [&](int& offset) { offset = static_cast<int>(params_.size()); };
  const std::vector<std::string>& ch = d.channels;

  block(v.o_intercept);
  for (int g = 0; g < d.G; ++g) add("intercept", "intercept", panel ? d.geos[g] : "", kReal, pr.get("intercept", ""));
  v.o_trend = -1;
  if (spec_.trend == TrendType::kLinear) {
    block(v.o_trend);
    add("trend", "trend", "", kReal, pr.get("trend", ""));
  }
  v.o_season = -1;
  if (v.S > 0) {
    block(v.o_season);
    for (int h = 1; h <= spec_.season_harmonics; ++h)
      for (const char* f : {"sin", "cos"}) {
        const std::string label = f + std::to_string(h);
        add("season", "season", label, kReal, pr.get("season", label));
      }
  }
  v.o_control = -1;
  if (d.K > 0) {
    block(v.o_control);
    for (const auto& k : d.controls) add("control", "gamma", k, kReal, pr.get("control", k));
  }
  block(v.o_effect);
  for (int c = 0; c < d.C; ++c) {
    const bool pooled = m.pooling.type != PoolingType::kUnpooled && group_of(spec_, ch[c]) >= 0;
    if (!pooled)
      add("beta", "beta", ch[c], positive ? kPositive : kReal, pr.get("beta", ch[c]));
    else if (m.pooling.type == PoolingType::kCentered)
      add("beta", positive ? "log_beta" : "beta", ch[c], kReal, Distribution{});
    else
      add("", "beta_z", ch[c], kReal, kStdNormal);
  }
  v.o_beta_mu = v.o_beta_sigma = -1;
  if (m.pooling.type != PoolingType::kUnpooled && v.n_groups > 0) {
    block(v.o_beta_mu);
    for (const auto& [g, members] : m.groups) add("beta_mu", "beta_mu", g, kReal, pr.get("beta_mu", g));
    block(v.o_beta_sigma);
    for (const auto& [g, members] : m.groups) add("beta_sigma", "beta_sigma", g, kPositive, pr.get("beta_sigma", g));
  }
  v.o_tau = v.o_geo_z = -1;
  if (panel) {
    block(v.o_tau);
    for (int c = 0; c < d.C; ++c) add("beta_tau", "beta_tau", ch[c], kPositive, pr.get("beta_tau", ch[c]));
    block(v.o_geo_z);
    for (int g = 0; g < d.G; ++g)
      for (int c = 0; c < d.C; ++c) add_parts("", "beta_geo_z", {d.geos[g], ch[c]}, kReal, kStdNormal);
  }
  v.o_decay = v.o_peak = -1;
  if (m.adstock.type != AdstockType::kNone) {
    block(v.o_decay);
    for (int c = 0; c < d.C; ++c)
      add("adstock_decay", "adstock_decay", ch[c], {SupportKind::kInterval, 0, 1}, pr.get("adstock_decay", ch[c]));
  }
  if (m.adstock.type == AdstockType::kDelayed) {
    block(v.o_peak);
    const Support peak{SupportKind::kInterval, 0, static_cast<double>(v.L - 1)};
    for (int c = 0; c < d.C; ++c) add("adstock_peak", "adstock_peak", ch[c], peak, pr.get("adstock_peak", ch[c]));
  }
  v.o_sat1 = v.o_sat2 = -1;
  if (m.saturation == SaturationType::kHill) {
    block(v.o_sat1);
    for (int c = 0; c < d.C; ++c) add("hill_kappa", "hill_kappa", ch[c], kPositive, pr.get("hill_kappa", ch[c]));
    block(v.o_sat2);
    for (int c = 0; c < d.C; ++c) add("hill_slope", "hill_slope", ch[c], kPositive, pr.get("hill_slope", ch[c]));
  } else if (m.saturation == SaturationType::kLogistic) {
    block(v.o_sat1);
    for (int c = 0; c < d.C; ++c)
      add("logistic_lambda", "logistic_lambda", ch[c], kPositive, pr.get("logistic_lambda", ch[c]));
  }
  block(v.o_sigma);
  add("sigma", "sigma", "", kPositive, pr.get("sigma", ""));
  v.o_nu = -1;
  if (spec_.likelihood == LikelihoodType::kStudentT) {
    block(v.o_nu);
    add("nu", "nu", "", kPositive, pr.get("nu", ""));
  }
  v.dim = static_cast<int>(params_.size());
}

template <class Real>
ModelData<Real> Model::pack() const {
  ModelArrays<Real> out;
  const Dataset& d = data_;
  const ModelView<double>& v = layout_;
  ModelView<Real>& b = out.base;
  b = ModelView<Real>{};
  b.T = v.T; b.G = v.G; b.C = v.C; b.K = v.K; b.S = v.S; b.L = v.L;
  b.n_groups = v.n_groups; b.n_lift = v.n_lift; b.dim = v.dim;
  b.adstock = v.adstock; b.normalize = v.normalize; b.saturation = v.saturation;
  b.likelihood = v.likelihood; b.positive = v.positive; b.panel = v.panel;
  b.o_intercept = v.o_intercept; b.o_trend = v.o_trend; b.o_season = v.o_season; b.o_control = v.o_control;
  b.o_effect = v.o_effect; b.o_beta_mu = v.o_beta_mu; b.o_beta_sigma = v.o_beta_sigma; b.o_tau = v.o_tau;
  b.o_geo_z = v.o_geo_z; b.o_decay = v.o_decay; b.o_peak = v.o_peak; b.o_sat1 = v.o_sat1; b.o_sat2 = v.o_sat2;
  b.o_sigma = v.o_sigma; b.o_nu = v.o_nu;

  // Without adstock, log saturation is a fixed transform of the data (the log-log model):
  // take the log once here and evaluate the media term as linear, as a Stan program would in
  // transformed data. Same values, no log per week per gradient.
  const bool log_data = v.adstock == AdstockType::kNone && v.saturation == SaturationType::kLog;
  if (log_data) b.saturation = SaturationType::kLinear;
  out.x.resize(d.media.size());
  for (int g = 0; g < d.G; ++g)
    for (int c = 0; c < d.C; ++c)
      for (int t = 0; t < d.T; ++t) {
        const size_t i = static_cast<size_t>((g * d.C + c) * d.T + t);
        const double x = d.media[i] / d.media_scale[c];
        out.x[i] = static_cast<Real>(log_data ? std::log(x) : x);
      }
  out.y.resize(d.outcome.size());
  double log_jac = 0;
  for (size_t i = 0; i < d.outcome.size(); ++i) {
    const double ys = d.outcome[i] / d.outcome_scale;
    if (spec_.likelihood == LikelihoodType::kLognormal) {
      out.y[i] = static_cast<Real>(std::log(ys));
      log_jac -= std::log(ys);
    } else {
      out.y[i] = static_cast<Real>(ys);
    }
  }
  b.y_log_jacobian = static_cast<Real>(log_jac);
  // Controls enter as (x - centre) / scale: 0 and 1 unless [controls] scale = "std" (set in the constructor).
  out.z.resize(d.control.size());
  for (size_t k = 0; k < static_cast<size_t>(d.K); ++k) {
    const double c = d.control_center[k], s = d.control_scale[k];
    for (size_t g = 0; g < static_cast<size_t>(d.G); ++g)
      for (size_t t = 0; t < static_cast<size_t>(d.T); ++t) {
        const size_t i = (g * static_cast<size_t>(d.K) + k) * static_cast<size_t>(d.T) + t;
        out.z[i] = static_cast<Real>((d.control[i] - c) / s);
      }
  }
  out.season.resize(static_cast<size_t>(v.S * v.T));
  const double two_pi = 6.283185307179586476925;
  for (int h = 1; h <= spec_.season_harmonics; ++h)
    for (int t = 0; t < v.T; ++t) {
      const double arg = two_pi * h * (t + 1) / spec_.season_period;
      out.season[static_cast<size_t>((2 * (h - 1)) * v.T + t)] = static_cast<Real>(std::sin(arg));
      out.season[static_cast<size_t>((2 * (h - 1) + 1) * v.T + t)] = static_cast<Real>(std::cos(arg));
    }
  out.effect_prior.clear();
  out.effect_kind.resize(d.C);
  out.group.resize(d.C);
  out.multiplier.resize(d.C);
  for (int c = 0; c < d.C; ++c) {
    const int g = group_of(spec_, d.channels[c]);
    const bool pooled = spec_.media.pooling.type != PoolingType::kUnpooled && g >= 0;
    out.effect_kind[c] = static_cast<int>(!pooled ? EffectKind::kUnpooled
                                          : spec_.media.pooling.type == PoolingType::kCentered ? EffectKind::kCentered
                                                                                             : EffectKind::kNoncentered);
    out.group[c] = pooled ? g : -1;
    const auto it = spec_.media.pooling.multipliers.find(d.channels[c]);
    out.multiplier[c] = static_cast<Real>(it == spec_.media.pooling.multipliers.end() ? 1.0 : it->second);
    const auto own = spec_.priors.overrides.find("beta[" + d.channels[c] + "]");
    out.effect_prior.push_back(make_prior_view<Real>(pooled && own != spec_.priors.overrides.end() ? own->second
                                                                                                 : Distribution{}));
  }
  double level = 0;
  for (double y : d.outcome) level += y / d.outcome_scale;
  b.lift_level = static_cast<Real>(level / static_cast<double>(d.outcome.size()));
  out.lift.clear();
  for (const auto& lt : spec_.lift_tests) {
    int c = 0;
    while (c < d.C && d.channels[c] != lt.channel) ++c;
    const double ms = d.media_scale[c], os = d.outcome_scale;
    const auto spend = [&](double x) { return static_cast<Real>(log_data ? std::log(x / ms) : x / ms); };
    out.lift.push_back({c, spend(lt.spend_before), spend(lt.spend_after),
                        static_cast<Real>(lt.lift / os), static_cast<Real>(lt.lift_sd / os)});
  }
  out.support.clear();
  out.prior.clear();
  for (const auto& p : params_) {
    out.support.push_back({p.support.kind, static_cast<Real>(p.support.lo), static_cast<Real>(p.support.hi)});
    out.prior.push_back(make_prior_view<Real>(p.prior));
  }
  return ModelData<Real>(out.view());
}

template <>
ModelView<double> Model::view<double>() const { return d64_.view(); }
template <>
ModelView<float> Model::view<float>() const { return f32_.view(); }
template <>
const ModelData<double>& Model::storage<double>() const { return d64_; }
template <>
const ModelData<float>& Model::storage<float>() const { return f32_; }

int Model::scratch_size() const { return herd::scratch_size(layout_); }

double Model::log_density_grad(const double* theta, double* grad) const {
  std::vector<double> scratch(static_cast<size_t>(scratch_size()));
  return herd::log_density_grad(view<double>(), theta, grad, scratch.data());
}

std::vector<double> Model::constrain(const double* theta) const {
  const auto v = view<double>();
  std::vector<double> out(static_cast<size_t>(dim()));
  for (int i = 0; i < dim(); ++i) out[i] = herd::constrain(v.support[i], theta[i]).value;
  return out;
}

std::vector<double> Model::unconstrain(const std::vector<double>& values) const {
  const auto v = view<double>();
  std::vector<double> out(values.size());
  for (int i = 0; i < dim(); ++i) out[i] = herd::unconstrain(v.support[i], values[i]);
  return out;
}

std::vector<double> Model::contributions(const double* theta) const {
  const auto v = view<double>();
  const size_t GT = static_cast<size_t>(v.G * v.T);
  std::vector<double> scratch(static_cast<size_t>(scratch_size())), mu(GT), media(GT * v.C);
  mean_function(v, theta, mu.data(), media.data(), scratch.data());
  const double os = data_.outcome_scale;
  for (int g = 0; g < v.G; ++g)
    for (int c = 0; c < v.C; ++c)
      for (int t = 0; t < v.T; ++t) {
        double& m = media[static_cast<size_t>((g * v.C + c) * v.T + t)];
        if (v.likelihood == LikelihoodType::kLognormal) {
          const double full = mu[static_cast<size_t>(g * v.T + t)];
          m = std::exp(full) - std::exp(full - m);
        }
        m *= os;
      }
  return media;
}

std::string Model::describe() const {
  std::ostringstream o;
  size_t w = 9;
  for (const auto& p : params_) w = std::max(w, p.name.size());
  o << std::left << std::setw(static_cast<int>(w) + 2) << "parameter" << std::setw(16) << "support"
    << "prior\n";
  for (const auto& p : params_) {
    std::string prior = to_string(p.prior);
    if (p.prior.family == Family::kNone) {
      const int g = group_of(spec_, p.label);
      prior = "normal(beta_mu, beta_sigma * " +
              std::to_string(spec_.media.pooling.multipliers.count(p.label) ? spec_.media.pooling.multipliers.at(p.label) : 1.0) +
              ")" + (g >= 0 ? " [group " + spec_.media.groups[g].first + "]" : "");
    }
    o << std::setw(static_cast<int>(w) + 2) << p.name << std::setw(16) << support_text(p.support) << prior << "\n";
  }
  for (int c = 0; c < data_.C; ++c)
    if (d64_.view().effect_prior[c].family != Family::kNone)
      o << "beta[" << data_.channels[c] << "] also ~ " << to_string(spec_.priors.overrides.at("beta[" + data_.channels[c] + "]"))
        << " (its own prior, a factor on top of the hierarchy)\n";
  return o.str();
}

}  // namespace herd
