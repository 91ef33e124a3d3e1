#include "herd/output/model_output.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <stdexcept>

#include "herd/config/model_config.hpp"
#include "herd/core/version.hpp"
#include "herd/engine/fit.hpp"
#include "herd/engine/simulate.hpp"
#include "herd/hmc/philox.hpp"
#include "herd/model/log_density.hpp"

namespace herd {

const Coord* DataGroup::coord(const std::string& n) const {
  for (const auto& c : coords)
    if (c.name == n) return &c;
  return nullptr;
}

const Variable* DataGroup::var(const std::string& n) const {
  for (const auto& v : vars)
    if (v.name == n) return &v;
  return nullptr;
}

size_t DataGroup::extent(const std::vector<std::string>& dims) const {
  size_t n = 1;
  for (const auto& d : dims) {
    const Coord* c = coord(d);
    if (!c) throw std::logic_error("group " + name + ": no coordinate " + d);
    n *= c->size();
  }
  return n;
}

const DataGroup* ModelOutput::group(const std::string& n) const {
  for (const auto& g : groups)
    if (g.name == n) return &g;
  return nullptr;
}

bool iso_days(const std::string& s, long long& days) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (s[i] < '0' || s[i] > '9') return false;
  const int y0 = std::stoi(s.substr(0, 4)), m = std::stoi(s.substr(5, 2)), d = std::stoi(s.substr(8, 2));
  if (m < 1 || m > 12 || d < 1 || d > 31) return false;
  // Howard Hinnant's days_from_civil (proleptic Gregorian).
  const int y = m <= 2 ? y0 - 1 : y0;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  days = static_cast<long long>(era) * 146097 + doe - 719468;
  return true;
}

std::string iso_date(long long days) {
  // Howard Hinnant's civil_from_days, the inverse of days_from_civil above.
  days += 719468;
  const long long era = (days >= 0 ? days : days - 146096) / 146097;
  const long long doe = days - era * 146097;
  const long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const long long mp = (5 * doy + 2) / 153;
  const long long d = doy - (153 * mp + 2) / 5 + 1;
  const long long m = mp < 10 ? mp + 3 : mp - 9;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lld", yoe + era * 400 + (m <= 2), m, d);
  return buf;
}

namespace {

Coord int_coord(const std::string& name, long long n) {
  Coord c;
  c.name = name;
  for (long long i = 0; i < n; ++i) c.ints.push_back(i);
  return c;
}

Coord text_coord(const std::string& name, std::vector<std::string> labels) {
  Coord c;
  c.name = name;
  c.labels = std::move(labels);
  return c;
}

// The week coordinate: dates as days since the epoch (xarray decodes them to datetime64)
// when every date is ISO, else the integers as written.
Coord week_coord(const Dataset& d) {
  Coord c;
  c.name = "week";
  bool iso = true;
  for (const auto& s : d.dates) {
    long long v = 0;
    iso = iso && iso_days(s, v);
    c.ints.push_back(v);
  }
  if (iso) {
    c.units = "days since 1970-01-01";
    return c;
  }
  c.ints.clear();
  for (const auto& s : d.dates) c.ints.push_back(std::stoll(s));
  return c;
}

// Named label sets a parameter's labels can run over, in the order they are matched.
std::vector<Coord> label_coords(const Model& model) {
  const Dataset& d = model.dataset();
  const ModelSpec& s = model.spec();
  std::vector<Coord> out;
  out.push_back(text_coord("channel", d.channels));
  std::vector<std::string> groups;
  for (const auto& g : s.media.groups) groups.push_back(g.first);
  out.push_back(text_coord("group", groups));
  out.push_back(text_coord("control", d.controls));
  std::vector<std::string> terms;
  for (int h = 1; h <= s.season_harmonics; ++h)
    for (const char* f : {"sin", "cos"}) terms.push_back(f + std::to_string(h));
  out.push_back(text_coord("term", terms));
  if (!s.data.panel.empty()) out.push_back(text_coord("geo", d.geos));
  return out;
}

// One posterior variable: a family stem ("beta") and where each of its elements sits.
struct Stem {
  std::string name;
  std::vector<std::vector<std::string>> parts;  // {"meta"}, {"geo1", "tv"}, {} for scalars
  std::vector<size_t> index;                    // position in the outputs() row
};

// Lays the stems' labels on dimensions: a label set equal to a known coordinate uses it
// (channel, group, ...); a subset of one gets its own dimension <stem>_<coordinate>.
void add_posterior_var(DataGroup& post, const Stem& st, const std::vector<Coord>& known,
                       const std::vector<std::vector<double>>& rows, int chains, int draws) {
  Variable v;
  v.name = st.name;
  v.dims = {"chain", "draw"};
  const std::vector<std::vector<std::string>>& parts = st.parts;
  const size_t k = parts[0].size();
  for (const auto& p : parts)
    if (p.size() != k) throw std::logic_error("posterior variable " + st.name + ": elements of different ranks");
  std::vector<std::vector<std::string>> axis_labels(k);
  for (size_t j = 0; j < k; ++j) {
    std::vector<std::string> seen;
    for (const auto& p : parts)
      if (std::find(seen.begin(), seen.end(), p[j]) == seen.end()) seen.push_back(p[j]);
    std::string dim;
    std::vector<std::string> labels = seen;
    for (const auto& c : known) {
      if (!std::all_of(seen.begin(), seen.end(), [&](const std::string& x) {
            return std::find(c.labels.begin(), c.labels.end(), x) != c.labels.end();
          }))
        continue;
      labels.clear();
      for (const auto& x : c.labels)
        if (std::find(seen.begin(), seen.end(), x) != seen.end()) labels.push_back(x);
      dim = labels.size() == c.labels.size() ? c.name : st.name + "_" + c.name;
      break;
    }
    if (dim.empty()) dim = st.name + "_dim_" + std::to_string(j);
    if (!post.coord(dim)) post.coords.push_back(text_coord(dim, labels));
    v.dims.push_back(dim);
    axis_labels[j] = post.coord(dim)->labels;
  }
  size_t inner = 1;
  for (const auto& a : axis_labels) inner *= a.size();
  if (inner != parts.size())
    throw std::logic_error("posterior variable " + st.name + ": labels do not fill its dimensions");
  // Element position of each label in the row-major inner block.
  std::vector<size_t> slot(parts.size());
  for (size_t e = 0; e < parts.size(); ++e) {
    size_t pos = 0;
    for (size_t j = 0; j < k; ++j) {
      const auto& a = axis_labels[j];
      pos = pos * a.size() + static_cast<size_t>(std::find(a.begin(), a.end(), parts[e][j]) - a.begin());
    }
    slot[e] = pos;
  }
  v.values.assign(static_cast<size_t>(chains) * static_cast<size_t>(draws) * inner, 0);
  for (size_t r = 0; r < rows.size(); ++r)
    for (size_t e = 0; e < parts.size(); ++e) v.values[r * inner + slot[e]] = rows[r][st.index[e]];
  post.vars.push_back(std::move(v));
}

std::string now_iso() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

DataGroup data_group(const std::string& name) {
  DataGroup g;
  g.name = name;
  return g;
}

}  // namespace

std::string FitStatus::text() const {
  switch (state) {
    case FitState::kOk: return "ok";
    case FitState::kWarn: return "warn: " + reason;
    case FitState::kFailed: break;
  }
  return "failed: " + reason;
}

FitStatus FitStatus::parse(const std::string& text) {
  if (text == "ok") return {};
  for (const auto& [prefix, state] : {std::pair<std::string, FitState>{"warn: ", FitState::kWarn},
                                      std::pair<std::string, FitState>{"failed: ", FitState::kFailed}})
    if (text.rfind(prefix, 0) == 0) return {state, text.substr(prefix.size())};
  return failed(text);
}

void add_model_attrs(ModelOutput& out, const Model& model, const SamplerOptions& options) {
  const Dataset& d = model.dataset();
  out.name = model.spec().name;
  out.text_attrs["config"] = to_toml(model.spec());
  out.text_attrs["config_source"] = model.spec().source;
  out.text_attrs["data_source"] = d.source;
  out.text_attrs["herd_version"] = kVersion;
  out.text_attrs["algorithm"] = to_string(options.algorithm);
  out.text_attrs["created_at"] = now_iso();
  out.int_attrs["seed"] = static_cast<long long>(options.seed);
  out.int_attrs["chains"] = options.chains;
  out.int_attrs["warmup"] = options.warmup;
  out.int_attrs["draws"] = options.draws;
  out.int_attrs["max_depth"] = options.max_depth;
  out.real_attrs["target_accept"] = options.target_accept;
  out.real_attrs["outcome_scale"] = d.outcome_scale;
  std::string warnings;
  for (const auto& w : model.spec().warnings) warnings += w + "\n";
  for (const auto& w : d.warnings) warnings += w + "\n";
  if (!warnings.empty()) out.text_attrs["warnings"] = warnings;
}

std::string nonfinite_variable(const ModelOutput& out) {
  // sample_stats may hold an infinite energy error at a divergence: that is information.
  for (const char* group : {"posterior", "log_likelihood"})
    if (const DataGroup* g = out.group(group))
      for (const auto& v : g->vars)
        if (!std::all_of(v.values.begin(), v.values.end(), [](double x) { return std::isfinite(x); }))
          return std::string(group) + "/" + v.name;
  return "";
}

ModelOutput failed_output(const Model& model, const SamplerOptions& options, const std::string& reason,
                          double seconds) {
  ModelOutput out;
  add_model_attrs(out, model, options);
  out.status = FitStatus::failed(reason);
  out.real_attrs["wall_seconds"] = seconds;
  return out;
}

ModelOutput build_output(const Model& model, const FitResult& fit, const SamplerOptions& options,
                         bool with_contributions) {
  ModelOutput out;
  add_model_attrs(out, model, options);
  out.real_attrs["wall_seconds"] = fit.seconds;
  out.int_attrs["gradient_evals"] = fit.gradient_evals();
  const Dataset& d = model.dataset();
  const int C = static_cast<int>(fit.chains.size()), D = fit.draws;
  const size_t CD = static_cast<size_t>(C) * static_cast<size_t>(D);
  const bool panel = !model.spec().data.panel.empty();
  auto stamp = [&](DataGroup& g) {
    g.coords.insert(g.coords.begin(), int_coord("draw", D));
    g.coords.insert(g.coords.begin(), int_coord("chain", C));
  };

  // posterior
  const auto names = output_names(model);
  std::vector<std::vector<double>> rows(CD, std::vector<double>(names.size()));
  for (int c = 0; c < C; ++c)
    for (int i = 0; i < D; ++i)
      outputs(model, &fit.chains[static_cast<size_t>(c)].theta[static_cast<size_t>(i) * static_cast<size_t>(fit.dim)],
              rows[static_cast<size_t>(c) * static_cast<size_t>(D) + static_cast<size_t>(i)].data());
  const auto labels = output_labels(model);
  std::vector<Stem> stems;
  for (size_t i = 0; i < labels.size(); ++i) {
    const std::string& stem = labels[i].stem;
    auto it = std::find_if(stems.begin(), stems.end(), [&](const Stem& s) { return s.name == stem; });
    if (it == stems.end()) {
      stems.push_back({stem, {}, {}});
      it = stems.end() - 1;
    }
    it->parts.push_back(labels[i].parts);
    it->index.push_back(i);
  }
  DataGroup post = data_group("posterior");
  stamp(post);
  const std::vector<Coord> known = label_coords(model);
  for (const auto& st : stems) add_posterior_var(post, st, known, rows, C, D);
  const Coord week = week_coord(d);
  const size_t T = static_cast<size_t>(d.T), G = static_cast<size_t>(d.G), Ch = static_cast<size_t>(d.C);
  auto add_axis = [](DataGroup& g, const Coord& c) {
    if (!g.coord(c.name)) g.coords.push_back(c);
  };
  const Coord channel = text_coord("channel", d.channels), geo = text_coord("geo", d.geos);
  if (with_contributions && Ch > 0) {
    add_axis(post, week);
    add_axis(post, channel);
    Variable v;
    v.name = "contribution";
    v.dims = {"chain", "draw"};
    if (panel) {
      add_axis(post, geo);
      v.dims.push_back("geo");
    }
    v.dims.insert(v.dims.end(), {"week", "channel"});
    v.attrs["long_name"] = "channel contribution to " + model.spec().data.outcome + ", in its units";
    v.values.resize(CD * G * T * Ch);
    size_t r = 0;
    for (int c = 0; c < C; ++c)
      for (int i = 0; i < D; ++i, ++r) {
        const auto& th = fit.chains[static_cast<size_t>(c)].theta;
        const std::vector<double> contrib =
            model.contributions(&th[static_cast<size_t>(i) * static_cast<size_t>(fit.dim)]);  // [(g*C + ch)*T + t]
        double* dst = &v.values[r * G * T * Ch];
        for (size_t g = 0; g < G; ++g)
          for (size_t ch = 0; ch < Ch; ++ch)
            for (size_t t = 0; t < T; ++t) dst[(g * T + t) * Ch + ch] = contrib[(g * Ch + ch) * T + t];
      }
    post.vars.push_back(std::move(v));
  }
  out.groups.push_back(std::move(post));

  // sample_stats, with ArviZ's names
  DataGroup ss = data_group("sample_stats");
  stamp(ss);
  auto stat = [&](const char* name, VarType type, auto member) {
    Variable v;
    v.name = name;
    v.dims = {"chain", "draw"};
    v.type = type;
    for (const auto& ch : fit.chains)
      for (const auto& x : ch.*member) v.values.push_back(static_cast<double>(x));
    ss.vars.push_back(std::move(v));
  };
  stat("lp", VarType::kFloat64, &ChainDraws::lp);
  stat("acceptance_rate", VarType::kFloat64, &ChainDraws::accept_prob);
  stat("step_size", VarType::kFloat64, &ChainDraws::step_size);
  stat("tree_depth", VarType::kInt32, &ChainDraws::tree_depth);
  stat("n_steps", VarType::kInt32, &ChainDraws::n_leapfrog);
  stat("diverging", VarType::kBool, &ChainDraws::diverging);
  stat("energy", VarType::kFloat64, &ChainDraws::energy);
  out.groups.push_back(std::move(ss));

  // log_likelihood: density of the raw outcome (the scaled one's, minus log of the scale).
  DataGroup ll = data_group("log_likelihood");
  stamp(ll);
  if (panel) add_axis(ll, geo);
  add_axis(ll, week);
  {
    Variable v;
    v.name = "y";
    v.dims = {"chain", "draw"};
    if (panel) v.dims.push_back("geo");
    v.dims.push_back("week");
    v.attrs["long_name"] = "pointwise log likelihood of " + model.spec().data.outcome;
    const ModelView<double> m = model.view<double>();
    std::vector<double> scratch(static_cast<size_t>(model.scratch_size()));
    const double shift = std::log(d.outcome_scale);
    v.values.resize(CD * G * T);
    size_t r = 0;
    for (int c = 0; c < C; ++c)
      for (int i = 0; i < D; ++i, ++r) {
        const auto& th = fit.chains[static_cast<size_t>(c)].theta;
        double* dst = &v.values[r * G * T];
        log_likelihood_pointwise(m, &th[static_cast<size_t>(i) * static_cast<size_t>(fit.dim)], dst, scratch.data());
        for (size_t k = 0; k < G * T; ++k) dst[k] -= shift;
      }
    ll.vars.push_back(std::move(v));
  }
  out.groups.push_back(std::move(ll));

  // observed_data and constant_data, in the user's units
  DataGroup obs = data_group("observed_data");
  if (panel) obs.coords.push_back(geo);
  obs.coords.push_back(week);
  {
    Variable v;
    v.name = "y";
    v.dims = panel ? std::vector<std::string>{"geo", "week"} : std::vector<std::string>{"week"};
    v.attrs["long_name"] = model.spec().data.outcome;
    v.values = d.outcome;
    obs.vars.push_back(std::move(v));
  }
  out.groups.push_back(std::move(obs));

  DataGroup cd = data_group("constant_data");
  if (panel) cd.coords.push_back(geo);
  cd.coords.push_back(week);
  cd.coords.push_back(channel);
  auto by_week = [&](const std::vector<double>& src, size_t n, const std::string& name, const std::string& dim) {
    Variable v;
    v.name = name;
    if (panel) v.dims.push_back("geo");
    v.dims.insert(v.dims.end(), {"week", dim});
    v.values.resize(G * T * n);
    for (size_t g = 0; g < G; ++g)
      for (size_t j = 0; j < n; ++j)
        for (size_t t = 0; t < T; ++t) v.values[(g * T + t) * n + j] = src[(g * n + j) * T + t];
    cd.vars.push_back(std::move(v));
  };
  by_week(d.media, Ch, "spend", "channel");
  {
    Variable v;
    v.name = "media_scale";
    v.dims = {"channel"};
    v.values = d.media_scale;
    v.attrs["long_name"] = "each channel's spend is divided by this before fitting";
    cd.vars.push_back(std::move(v));
  }
  if (d.K > 0) {
    cd.coords.push_back(text_coord("control", d.controls));
    by_week(d.control, static_cast<size_t>(d.K), "control_value", "control");
    // Stored always so a reader needs no config to turn control_value into what was fitted.
    for (const auto& [name, src] : {std::pair{"control_center", &d.control_center}, std::pair{"control_scale", &d.control_scale}}) {
      Variable v;
      v.name = name;
      v.dims = {"control"};
      v.values = *src;
      v.attrs["long_name"] = "each control enters the model as (control_value - control_center) / control_scale";
      cd.vars.push_back(std::move(v));
    }
  }
  out.groups.push_back(std::move(cd));
  return out;
}

void add_prior_groups(ModelOutput& out, const Model& model, const SamplerOptions& options) {
  // Exact independent draws, not MCMC: the prior is generative, so nothing needs sampling.
  FitResult pf;
  pf.dim = model.dim();
  pf.draws = options.draws;
  const auto D = static_cast<size_t>(options.draws), dim = static_cast<size_t>(model.dim());
  const std::uint64_t key = stream_key(options.seed, model_id(model.spec().name));
  std::vector<double> y;
  try {
    for (int c = 0; c < options.chains; ++c) {
      ChainDraws ch;
      ch.theta.resize(D * dim);
      for (size_t i = 0; i < D; ++i) {
        Philox rng(key, static_cast<std::uint32_t>(c), static_cast<std::uint32_t>(i), RngUse::kSimulate);
        const std::vector<double> th = draw_prior(model, rng);
        std::copy(th.begin(), th.end(), ch.theta.begin() + static_cast<std::ptrdiff_t>(i * dim));
        const std::vector<double> yi = simulate_outcome(model, th, rng);
        y.insert(y.end(), yi.begin(), yi.end());
      }
      ch.lp.assign(D, 0);
      ch.accept_prob = ch.step_size = ch.energy = ch.lp;
      ch.tree_depth.assign(D, 0);
      ch.n_leapfrog = ch.tree_depth;
      ch.diverging.assign(D, 0);
      pf.chains.push_back(std::move(ch));
    }
  } catch (const std::invalid_argument& e) {
    out.text_attrs["prior_groups"] = std::string("not drawn: ") + e.what();
    return;
  }
  ModelOutput tmp = build_output(model, pf, options, false);
  DataGroup prior = *tmp.group("posterior");
  prior.name = "prior";
  DataGroup pp;
  pp.name = "prior_predictive";
  const DataGroup& obs = *tmp.group("observed_data");
  pp.coords.push_back(int_coord("chain", options.chains));
  pp.coords.push_back(int_coord("draw", options.draws));
  for (const auto& c : obs.coords) pp.coords.push_back(c);
  Variable v = obs.vars.front();
  v.dims.insert(v.dims.begin(), {"chain", "draw"});
  v.values = std::move(y);
  v.attrs["long_name"] = "outcome simulated from the prior";
  pp.vars.push_back(std::move(v));
  out.groups.push_back(std::move(prior));
  out.groups.push_back(std::move(pp));
  out.text_attrs["prior_groups"] = "exact draws from the prior (RngUse::kSimulate streams)";
}

}  // namespace herd
