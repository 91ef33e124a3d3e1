// Known-truth simulators. Each kind builds its spends, a generating model config and the true
// parameter values; the outcome is drawn from the model itself (simulate_outcome), so the
// truth is exactly the model family herd fits, and the data goes through the same CSV reader
// a user's file does (same scales, same validation).
#include "herd/sim/scenario.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include <cmath>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "../config/model_config_detail.hpp"
#include "herd/analysis/analysis.hpp"
#include "herd/config/model_config.hpp"
#include "herd/core/error.hpp"
#include "herd/core/files.hpp"
#include "herd/engine/fit.hpp"
#include "herd/engine/sampler.hpp"
#include "herd/hmc/philox.hpp"
#include "herd/model/log_density.hpp"
#include "herd/output/model_output.hpp"

namespace fs = std::filesystem;

namespace herd {

namespace {

const char* kKinds[] = {"dtc_paid_social", "subchannels", "adstock_hill", "geo_panel", "from_prior"};

[[noreturn]] void bad(const std::string& file, const toml::node* n, const std::string& msg) {
  const int line = n ? static_cast<int>(n->source().begin.line) : 0;
  const int col = n ? static_cast<int>(n->source().begin.column) : 0;
  throw InputError(located(file, line, col, msg));
}

// One weekly spend series: a mean-reverting log random walk around `level`, some weeks dark.
std::vector<double> walk(Philox& rng, int n, double level, double vol, double dark = 0, const double* common = nullptr) {
  std::vector<double> out;
  double z = 0;
  for (int t = 0; t < n; ++t) {
    z = 0.7 * z + vol * rng.normal();
    const double f = common ? common[t] : 0.0;
    const double v = level * std::exp(z + f);
    out.push_back(rng.uniform() < dark ? 0.0 : v);
  }
  return out;
}

// Mondays from 2023-01-02 (day 19359 since the epoch).
std::string iso_week(int t) { return iso_date(19359 + 7LL * t); }

std::string num(double v) { return fmt::format("{}", v); }  // shortest round trip

// What one kind hands to the common tail: the generating config, spends, controls, truth.
struct Draft {
  std::string gen_toml;                      // generating model (no data path needed)
  std::map<std::string, std::string> fits;   // fit configs, `@DATA@` where the CSV path goes
  std::vector<std::string> geos;             // {""} without a panel
  std::string date = "week", outcome, panel;
  std::vector<std::string> channels, controls, extra;  // extra: columns written but not modelled (social_total)
  std::map<std::string, std::vector<double>> series;   // [g * T + t] per column
  double level = 1;                          // outcome scale of the generating model
  std::map<std::string, double> truth;       // by parameter name
  std::map<std::string, std::vector<std::string>> parents;
};

std::string list(const std::vector<std::string>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", \"" : "\"") + v[i] + "\"";
  return s + "]";
}

const char* kDtcChannels[] = {"meta_prospecting",  "meta_retargeting", "meta_advantage_shopping", "tiktok_spark",
                              "tiktok_prospecting", "snap_prospecting", "pinterest_shopping",      "reddit_conversion",
                              "youtube_shorts",     "linkedin_awareness"};

Draft dtc(int T, Philox& rng, double noise) {
  Draft d;
  d.outcome = "conversions";
  d.geos = {""};
  const double levels[] = {42000, 18000, 26000, 9000, 14000, 6000, 5000, 3500, 7000, 1200};
  const double vols[] = {0.35, 0.3, 0.4, 0.45, 0.4, 0.35, 0.3, 0.35, 0.4, 0.004};
  // The always-on campaign's true effect sits inside the portfolio's range: pooling can
  // recover it, an unpooled model cannot see it in 104 nearly flat weeks.
  const double beta[] = {0.18, 0.09, 0.14, 0.06, 0.11, 0.05, 0.04, 0.03, 0.07, 0.07};
  for (int c = 0; c < 10; ++c) {
    d.channels.push_back(kDtcChannels[c]);
    d.series[kDtcChannels[c]] = walk(rng, T, levels[c], vols[c]);
    d.truth[std::string("beta[") + kDtcChannels[c] + "]"] = beta[c];
  }
  d.level = 5000;
  d.truth["intercept"] = 0.0;
  d.truth["sigma"] = noise >= 0 ? noise : 0.05;
  const std::string media = fmt::format(R"([media]
channels = {0}
groups = {{ paid_social = {0} }}
adstock = {{ type = "none" }}
saturation = {{ type = "log" }}
effect_sign = "free"
)", list(d.channels));
  d.gen_toml = "name = \"dtc_truth\"\n[data]\npath = \"@DATA@\"\ndate = \"week\"\noutcome = \"conversions\"\n" + media +
               "pooling = { type = \"unpooled\" }\n[likelihood]\ntype = \"lognormal\"\n";
  // The seed example's model (non-centered pooling); studies vary pooling from here.
  d.fits["model"] = "name = \"@NAME@\"\n[data]\npath = \"@DATA@\"\ndate = \"week\"\noutcome = \"conversions\"\n"
                    "media_scale = \"mean\"\noutcome_scale = \"mean\"\n" + media +
                    "pooling = { type = \"noncentered\" }\n[likelihood]\ntype = \"lognormal\"\n[priors]\n"
                    "intercept = \"normal(0, 0.5)\"\nbeta_mu = \"normal(0, 0.1)\"\n"
                    "beta_sigma = \"half_normal(0.1)\"\nsigma = \"half_normal(0.5)\"\n";
  return d;
}

const char* kSubs[] = {"social_meta", "social_tiktok", "social_snap", "social_pinterest"};

std::string hill_priors(bool pooled) {
  return std::string("[priors]\nintercept = \"normal(0.5, 0.5)\"\nbeta = \"half_normal(0.3)\"\n") +
         (pooled ? "beta_mu = \"normal(-2, 1)\"\nbeta_sigma = \"half_normal(0.5)\"\n" : "") +
         "adstock_decay = \"beta(2, 3)\"\nhill_kappa = \"gamma(4, 4)\"\n"
         "hill_slope = \"gamma(6, 3)\"\ncontrol = \"normal(0, 0.5)\"\nseason = \"normal(0, 0.2)\"\n"
         "sigma = \"half_normal(0.1)\"\n";
}

std::string hill_model(const std::string& name, const std::vector<std::string>& channels, const std::string& groups,
                       const std::string& pooling, const std::vector<std::string>& controls, bool priors) {
  std::string s = "name = \"" + name + "\"\n[data]\npath = \"@DATA@\"\ndate = \"week\"\noutcome = \"revenue\"\n"
                  "media_scale = \"mean\"\noutcome_scale = \"mean\"\n[media]\nchannels = " + list(channels) + "\n" +
                  groups + "adstock = { type = \"geometric\", taps = 4, normalize = true }\n"
                  "saturation = { type = \"hill\" }\neffect_sign = \"positive\"\npooling = { type = \"" + pooling +
                  "\" }\n[controls]\ncolumns = " + list(controls) +
                  "\n[seasonality]\nperiod = 52.18\nharmonics = 2\n[likelihood]\ntype = \"normal\"\n";
  return priors ? s + hill_priors(pooling != "unpooled") : s;
}

void season_truth(Draft& d) {
  d.truth["season[sin1]"] = 0.08;
  d.truth["season[cos1]"] = 0.05;
  d.truth["season[sin2]"] = -0.03;
  d.truth["season[cos2]"] = 0.0;
}

void price_promo(Draft& d, Philox& rng, int T) {
  d.controls = {"price", "promo"};
  for (int t = 0; t < T; ++t) {
    d.series["price"].push_back(0.4 * rng.normal());
    d.series["promo"].push_back(rng.uniform() < 0.15 ? 1.0 : 0.0);
  }
  d.truth["gamma[price]"] = -0.05;
  d.truth["gamma[promo]"] = 0.07;
}

Draft subchannels(int T, Philox& rng, double noise) {
  Draft d;
  d.outcome = "revenue";
  d.geos = {""};
  // Social's subchannels move together (one budget, split by a planner): a common factor
  // plus small idiosyncratic moves, so their spends correlate strongly.
  std::vector<double> common;
  double f = 0;
  for (int t = 0; t < T; ++t) {
    f = 0.7 * f + 0.35 * rng.normal();
    common.push_back(f);
  }
  const double levels[] = {20000, 12000, 6000, 8000};
  const double beta[] = {0.20, 0.12, 0.05, 0.08}, decay[] = {0.5, 0.2, 0.1, 0.35}, kappa[] = {1.0, 0.6, 1.4, 0.8},
               slope[] = {1.5, 2.0, 1.2, 1.0};
  std::vector<double> total(static_cast<size_t>(T), 0.0);
  for (int c = 0; c < 4; ++c) {
    d.channels.push_back(kSubs[c]);
    d.series[kSubs[c]] = walk(rng, T, levels[c], 0.12, 0.0, common.data());
    for (int t = 0; t < T; ++t) total[static_cast<size_t>(t)] += d.series[kSubs[c]][static_cast<size_t>(t)];
    const std::string ch = kSubs[c];
    d.truth["beta[" + ch + "]"] = beta[c];
    d.truth["adstock_decay[" + ch + "]"] = decay[c];
    d.truth["hill_kappa[" + ch + "]"] = kappa[c];
    d.truth["hill_slope[" + ch + "]"] = slope[c];
  }
  d.channels.push_back("tv");
  d.series["tv"] = walk(rng, T, 50000, 0.5, 0.3);
  d.channels.push_back("search");
  d.series["search"] = walk(rng, T, 30000, 0.4);
  const char* others[] = {"tv", "search"};
  const double ob[] = {0.25, 0.15}, od[] = {0.6, 0.1}, ok[] = {1.1, 0.9}, os[] = {2.0, 1.3};
  for (int j = 0; j < 2; ++j) {
    const std::string ch = others[j];
    d.truth["beta[" + ch + "]"] = ob[j];
    d.truth["adstock_decay[" + ch + "]"] = od[j];
    d.truth["hill_kappa[" + ch + "]"] = ok[j];
    d.truth["hill_slope[" + ch + "]"] = os[j];
  }
  d.extra = {"social_total"};
  d.series["social_total"] = total;
  price_promo(d, rng, T);
  season_truth(d);
  d.truth["intercept"] = 0.6;
  d.truth["sigma"] = noise >= 0 ? noise : 0.03;
  d.level = 100000;
  d.gen_toml = hill_model("subchannels_truth", d.channels, "", "unpooled", d.controls, false);
  std::vector<std::string> subs(kSubs, kSubs + 4);
  d.fits["model"] = hill_model("@NAME@", d.channels, "groups = { social = " + list(subs) + " }\n", "noncentered",
                               d.controls, true);
  d.fits["parent"] = hill_model("@NAME@_parent", {"social_total", "tv", "search"}, "", "unpooled", d.controls, true);
  d.parents["social_total"] = subs;
  return d;
}

Draft adstock_hill(int T, Philox& rng, double noise) {
  Draft d;
  d.outcome = "revenue";
  d.geos = {""};
  const char* names[] = {"tv", "radio", "search", "social", "display", "video", "ooh", "affiliates"};
  const double levels[] = {50000, 12000, 30000, 25000, 9000, 15000, 8000, 6000};
  const double dark[] = {0.3, 0.2, 0.0, 0.05, 0.1, 0.25, 0.4, 0.0};
  const double decay[] = {0.6, 0.4, 0.1, 0.3, 0.2, 0.5, 0.55, 0.15};
  const double kappa[] = {1.1, 0.8, 0.9, 1.0, 0.7, 1.2, 0.9, 0.8};
  const double slope[] = {2.0, 1.5, 1.2, 1.8, 1.0, 2.2, 1.6, 1.3};
  const double beta[] = {0.25, 0.06, 0.18, 0.12, 0.04, 0.08, 0.05, 0.05};
  for (int c = 0; c < 8; ++c) {
    const std::string ch = names[c];
    d.channels.push_back(ch);
    d.series[ch] = walk(rng, T, levels[c], 0.5, dark[c]);
    d.truth["beta[" + ch + "]"] = beta[c];
    d.truth["adstock_decay[" + ch + "]"] = decay[c];
    d.truth["hill_kappa[" + ch + "]"] = kappa[c];
    d.truth["hill_slope[" + ch + "]"] = slope[c];
  }
  price_promo(d, rng, T);
  season_truth(d);
  d.truth["intercept"] = 0.6;
  d.truth["sigma"] = noise >= 0 ? noise : 0.03;
  d.level = 100000;
  d.gen_toml = hill_model("adstock_hill_truth", d.channels, "", "unpooled", d.controls, false);
  d.fits["model"] = hill_model("@NAME@", d.channels, "", "unpooled", d.controls, true);
  return d;
}

Draft geo_panel(int T, int G, Philox& rng, double noise) {
  Draft d;
  d.outcome = "sales";
  d.panel = "geo";
  const char* names[] = {"tv", "search", "social", "radio"};
  const double beta[] = {0.3, 0.2, 0.15, 0.08}, decay[] = {0.5, 0.1, 0.3, 0.4}, lam[] = {2.0, 3.0, 2.5, 1.5};
  for (int g = 0; g < G; ++g) d.geos.push_back(fmt::format("geo{:02}", g + 1));
  for (int c = 0; c < 4; ++c) d.channels.push_back(names[c]);
  d.controls = {"temperature"};
  for (int g = 0; g < G; ++g) {
    const double size = std::exp(0.3 * rng.normal());
    for (int c = 0; c < 4; ++c) {
      const auto x = walk(rng, T, 4000 * size * (c + 1), 0.45, 0.1);
      d.series[names[c]].insert(d.series[names[c]].end(), x.begin(), x.end());
    }
    for (int t = 0; t < T; ++t)
      d.series["temperature"].push_back(0.1 * (10 * std::sin(2 * 3.14159265358979 * (t + 1) / 52.18) + 2 * rng.normal()));
    d.truth["intercept[" + d.geos[static_cast<size_t>(g)] + "]"] = 1.0 + 0.1 * rng.normal();
    for (int c = 0; c < 4; ++c) d.truth["beta_geo_z[" + d.geos[static_cast<size_t>(g)] + "," + names[c] + "]"] = rng.normal();
  }
  for (int c = 0; c < 4; ++c) {
    const std::string ch = names[c];
    d.truth["beta[" + ch + "]"] = beta[c];
    d.truth["beta_tau[" + ch + "]"] = 0.2;
    d.truth["adstock_decay[" + ch + "]"] = decay[c];
    d.truth["logistic_lambda[" + ch + "]"] = lam[c];
  }
  d.truth["gamma[temperature]"] = 0.1;
  d.truth["sigma"] = noise >= 0 ? noise : 0.04;
  d.level = 2000;
  const std::string model = "[data]\npath = \"@DATA@\"\ndate = \"week\"\noutcome = \"sales\"\npanel = \"geo\"\n"
                            "media_scale = \"mean\"\noutcome_scale = \"mean\"\n[media]\nchannels = " +
                            list(d.channels) +
                            "\nadstock = { type = \"geometric\", taps = 4, normalize = true }\n"
                            "saturation = { type = \"logistic\" }\neffect_sign = \"positive\"\n"
                            "pooling = { type = \"unpooled\" }\n[controls]\ncolumns = [\"temperature\"]\n"
                            "[likelihood]\ntype = \"normal\"\n";
  d.gen_toml = "name = \"geo_panel_truth\"\n" + model;
  d.fits["model"] = "name = \"@NAME@\"\n" + model +
                    "[priors]\nintercept = \"normal(1, 0.5)\"\nbeta = \"half_normal(0.5)\"\nbeta_tau = \"half_normal(0.3)\"\n"
                    "adstock_decay = \"beta(2, 3)\"\nlogistic_lambda = \"gamma(3, 1)\"\ncontrol = \"normal(0, 0.5)\"\n"
                    "sigma = \"half_normal(0.1)\"\n";
  return d;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
  return s;
}

std::string csv_text(const Draft& d, int T, const std::vector<double>* outcome) {
  std::ostringstream o;
  if (!d.panel.empty()) o << d.panel << ",";
  o << d.date << "," << d.outcome;
  for (const auto& c : d.channels) o << "," << c;
  for (const auto& c : d.extra) o << "," << c;
  for (const auto& c : d.controls) o << "," << c;
  o << "\n";
  for (size_t g = 0; g < d.geos.size(); ++g)
    for (int t = 0; t < T; ++t) {
      const size_t i = g * static_cast<size_t>(T) + static_cast<size_t>(t);
      if (!d.panel.empty()) o << d.geos[g] << ",";
      o << iso_week(t) << "," << (outcome ? num((*outcome)[i]) : std::string(t % 2 ? "1" : "2"));
      for (const auto& c : d.channels) o << "," << num(d.series.at(c)[i]);
      for (const auto& c : d.extra) o << "," << num(d.series.at(c)[i]);
      for (const auto& c : d.controls) o << "," << num(d.series.at(c)[i]);
      o << "\n";
    }
  return o.str();
}

}  // namespace

Scenario parse_scenario(const fs::path& file) {
  Scenario s;
  s.source = file.string();
  const toml::table t = detail::parse_toml(detail::read_text_file(file, "scenario file"), file.string());
  const std::string f = file.string();
  for (const auto& [k, v] : t) {
    const std::string key(k.str());
    if (key == "scenario") {
      if (!v.is_string()) bad(f, &v, "scenario: expected a string");
      s.kind = v.as_string()->get();
      bool known = false;
      for (const char* x : kKinds) known = known || s.kind == x;
      if (!known)
        bad(f, &v, "scenario: \"" + s.kind + "\" is not one of dtc_paid_social, subchannels, adstock_hill, geo_panel, from_prior");
    } else if (key == "name") {
      if (!v.is_string() || v.as_string()->get().empty()) bad(f, &v, "name: expected a non-empty string");
      s.name = v.as_string()->get();
    } else if (key == "weeks" || key == "geos" || key == "seed") {
      if (!v.is_integer() || v.as_integer()->get() < (key == "seed" ? 0 : 1))
        bad(f, &v, key + ": expected a " + (key == "seed" ? "non-negative" : "positive") + " integer");
      const auto x = v.as_integer()->get();
      if (key == "weeks") s.weeks = static_cast<int>(x);
      if (key == "geos") s.geos = static_cast<int>(x);
      if (key == "seed") s.seed = static_cast<std::uint64_t>(x);
    } else if (key == "noise") {
      const auto x = v.value<double>();
      if (!x || !(*x > 0)) bad(f, &v, "noise: expected a number > 0 (the likelihood's sigma)");
      s.noise = *x;
    } else if (key == "config") {
      if (!v.is_string()) bad(f, &v, "config: expected a path");
      s.from_prior = file.parent_path() / v.as_string()->get();
    } else if (key == "truth") {
      if (!v.is_table()) bad(f, &v, "truth: expected a table of parameter = value");
      for (const auto& [pk, pv] : *v.as_table()) {
        const auto x = pv.value<double>();
        if (!x || !std::isfinite(*x)) bad(f, &pv, "truth." + std::string(pk.str()) + ": expected a number");
        s.truth[std::string(pk.str())] = *x;
      }
    } else {
      bad(f, &v, "unknown key `" + key + "` (scenario, name, weeks, geos, noise, seed, config, truth)");
    }
  }
  if (s.kind.empty()) bad(f, nullptr, "missing `scenario` (dtc_paid_social, subchannels, adstock_hill, geo_panel, from_prior)");
  if (s.kind == "from_prior" && s.from_prior.empty()) bad(f, nullptr, "scenario from_prior needs `config`, the model config");
  if (s.kind != "from_prior" && !s.from_prior.empty()) bad(f, t.get("config"), "`config` belongs to scenario from_prior");
  if (s.weeks < 20) bad(f, t.get("weeks"), "weeks: at least 20");
  if (s.name.empty()) s.name = s.kind;
  return s;
}

SimulatedData simulate_scenario(const Scenario& s, int replicate) {
  SimulatedData out;
  out.name = replicate == 0 ? s.name : fmt::format("{}_r{:03}", s.name, replicate);
  // Streams keyed by the scenario's seed and the replicate, never by the scenario's file.
  const std::uint64_t key = stream_key(s.seed, model_id(s.kind));
  Philox rng(key, static_cast<std::uint32_t>(replicate), 0, RngUse::kSimulate);
  if (s.kind == "from_prior") {
    ModelSpec spec = parse_model_config(s.from_prior);
    Dataset data = read_dataset(spec);
    Model base(spec, data);
    out.theta = draw_prior(base, rng);
    std::ifstream in(s.from_prior);
    std::stringstream text;
    text << in.rdbuf();
    out.configs["model"] = text.str();
    const std::vector<double> y = simulate_outcome(base, out.theta, rng, &out.noise);
    out.truth_model = std::make_unique<Model>(with_outcome(base, y));
    // The CSV: the original file with the outcome column replaced.
    std::ifstream csv(spec.data.path);
    std::string line;
    std::getline(csv, line);
    std::ostringstream o;
    o << spec.data.date << (spec.data.panel.empty() ? "" : "," + spec.data.panel) << "," << spec.data.outcome;
    for (const auto& c : data.channels) o << "," << c;
    for (const auto& c : data.controls) o << "," << c;
    o << "\n";
    for (int g = 0; g < data.G; ++g)
      for (int t = 0; t < data.T; ++t) {
        const auto i = static_cast<size_t>(g * data.T + t);
        o << data.dates[static_cast<size_t>(t)] << (spec.data.panel.empty() ? "" : "," + data.geos[static_cast<size_t>(g)])
          << "," << num(y[i]);
        for (int c = 0; c < data.C; ++c) o << "," << num(data.media[static_cast<size_t>((g * data.C + c) * data.T + t)]);
        for (int k = 0; k < data.K; ++k) o << "," << num(data.control[static_cast<size_t>((g * data.K + k) * data.T + t)]);
        o << "\n";
      }
    out.csv = o.str();
    // The fit config reads the new CSV: point data.path at it.
    toml::table cfg = toml::parse(out.configs["model"]);
    cfg["data"].as_table()->insert_or_assign("path", out.name + ".csv");
    std::ostringstream ct;
    ct << cfg;
    out.configs["model"] = ct.str();
    return out;
  }
  const int T = s.weeks;
  Draft d = s.kind == "dtc_paid_social" ? dtc(T, rng, s.noise)
            : s.kind == "subchannels"   ? subchannels(T, rng, s.noise)
            : s.kind == "adstock_hill"  ? adstock_hill(T, rng, s.noise)
                                        : geo_panel(T, s.geos, rng, s.noise);
  for (const auto& [k, v] : s.truth) d.truth[k] = v;
  // Scales exactly as a user's fit computes them: read the CSV (outcome placeholder 1, 2) through
  // the reader, then generate at the kind's outcome level.
  const ModelSpec gen = parse_model_config_text(d.gen_toml, s.source + " (" + s.kind + " generator)", ".");
  Dataset data = read_dataset_text(csv_text(d, T, nullptr), out.name + ".csv", gen);
  data.outcome_scale = d.level;
  const Model m0(gen, data);
  std::vector<double> values(static_cast<size_t>(m0.dim()), 0.0);
  for (size_t i = 0; i < m0.params().size(); ++i) {
    const auto it = d.truth.find(m0.params()[i].name);
    if (it == d.truth.end())
      throw InputError(located(s.source, 0, 0, "no true value for " + m0.params()[i].name + " (internal)"));
    values[i] = it->second;
  }
  for (const auto& [k, v] : s.truth) {
    bool used = false;
    for (const auto& p : m0.params()) used = used || p.name == k;
    if (!used) throw InputError(located(s.source, 0, 0, "truth." + k + ": the " + s.kind + " model has no such parameter"));
  }
  out.theta = m0.unconstrain(values);
  const std::vector<double> y = simulate_outcome(m0, out.theta, rng, &out.noise);
  out.truth_model = std::make_unique<Model>(with_outcome(m0, y));
  out.csv = csv_text(d, T, &y);
  for (const auto& [k, text] : d.fits)
    out.configs[k] = replace_all(replace_all(text, "@DATA@", out.name + ".csv"), "@NAME@", out.name);
  out.parents = d.parents;
  return out;
}

std::string truth_json(const SimulatedData& d) {
  const Model& m = *d.truth_model;
  const Dataset& data = m.dataset();
  const auto C = static_cast<size_t>(data.C), T = static_cast<size_t>(data.T);
  // Keys in the order a reader meets them; non-finite numbers are written as null.
  nlohmann::ordered_json j;
  j["name"] = d.name;
  j["likelihood"] = to_string(m.spec().likelihood);
  j["outcome"] = m.spec().data.outcome;
  j["outcome_scale"] = data.outcome_scale;
  j["outcome_formula"] = std::string("y = outcome_scale * ") +
                         (m.spec().likelihood == LikelihoodType::kLognormal ? "exp(mu + sigma * noise)"
                                                                             : "(mu + sigma * noise)") +
                         ", [geo * weeks + week]";
  nlohmann::ordered_json& media_scale = j["media_scale"] = nlohmann::ordered_json::object();
  for (size_t c = 0; c < C; ++c) media_scale[data.channels[c]] = data.media_scale[c];
  const auto names = output_names(m);
  std::vector<double> vals(names.size());
  outputs(m, d.theta.data(), vals.data());
  nlohmann::ordered_json& params = j["parameters"] = nlohmann::ordered_json::object();
  for (size_t i = 0; i < names.size(); ++i) params[names[i]] = vals[i];
  j["sigma"] = d.noise.sigma;
  j["mu"] = d.noise.mu;
  j["noise"] = d.noise.eps;
  const ResponseModel resp(m, d.theta.data(), 1);
  std::vector<double> contrib(T * C), scratch(static_cast<size_t>(m.scratch_size()));
  draw_contributions(m, resp, 0, d.theta.data(), contrib.data(), nullptr, scratch.data());
  nlohmann::ordered_json& reference = j["reference_spend"] = nlohmann::ordered_json::object();
  for (size_t c = 0; c < C; ++c) reference[data.channels[c]] = resp.reference(static_cast<int>(c));
  std::vector<double> total(C, 0.0), spend(C, 0.0);
  nlohmann::ordered_json& contribution = j["contribution"] = nlohmann::ordered_json::object();
  for (size_t c = 0; c < C; ++c) {
    std::vector<double> v(T);
    for (size_t t = 0; t < T; ++t) {
      v[t] = contrib[t * C + c];
      total[c] += v[t];
    }
    for (size_t i = 0; i < static_cast<size_t>(data.G) * T; ++i)
      spend[c] += data.media[(i / T * C + c) * T + i % T];
    contribution[data.channels[c]] = v;
  }
  nlohmann::ordered_json& totals = j["contribution_total"] = nlohmann::ordered_json::object();
  nlohmann::ordered_json& roi = j["roi"] = nlohmann::ordered_json::object();
  for (size_t c = 0; c < C; ++c) {
    totals[data.channels[c]] = total[c];
    roi[data.channels[c]] = spend[c] > 0 ? nlohmann::ordered_json(total[c] / spend[c]) : nlohmann::ordered_json();
  }
  nlohmann::ordered_json& parents = j["parents"] = nlohmann::ordered_json::object();
  for (const auto& [p, subs] : d.parents) parents[p] = subs;
  return j.dump(2) + "\n";
}

std::vector<std::string> write_simulated(const SimulatedData& d, const fs::path& dir) {
  fs::create_directories(dir);
  std::vector<std::pair<fs::path, std::string>> files = {{dir / (d.name + ".csv"), d.csv},
                                                          {dir / (d.name + ".truth.json"), truth_json(d)}};
  for (const auto& [k, text] : d.configs) files.push_back({dir / (d.name + "." + k + ".toml"), text});
  std::vector<std::string> written;
  for (const auto& [path, text] : files) {
    write_file_atomically(path.string(), text);
    written.push_back(path.string());
  }
  return written;
}

}  // namespace herd
