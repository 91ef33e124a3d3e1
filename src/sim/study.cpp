// Recovery studies: every replicate x variant (and the parent fit the baselines need) goes
// through the batch executor as one batch; each finished fit is scored as it arrives, so
// draws never pile up in memory.
#include "herd/sim/study.hpp"

#include <Eigen/Dense>
#include <fmt/format.h>

#include <toml++/toml.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <fstream>
#include <sstream>

#include "../config/model_config_detail.hpp"
#include "herd/analysis/analysis.hpp"
#include "herd/core/csv_writer.hpp"
#include "herd/core/error.hpp"
#include "herd/core/files.hpp"
#include "herd/data/dataset.hpp"
#include "herd/engine/batch.hpp"
#include "herd/engine/fit.hpp"
#include "herd/io/output_store.hpp"
#include "herd/model/blocks.hpp"

namespace fs = std::filesystem;

namespace herd {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kZ94 = 1.880793608151251;  // normal quantile 0.97: the 94% interval of a baseline's estimate

std::string node_text(const toml::node& v) {
  toml::table t;
  t.insert("v", v);
  std::ostringstream o;
  o << t;
  return o.str();
}

// A variant's config: the scenario's fit config with the overrides applied.
toml::table variant_table(const std::string& config_text, const StudyVariant& v, const std::string& name) {
  toml::table t = toml::parse(config_text);
  const detail::Reader w("<study variant " + v.name + ">");
  for (const auto& [key, text] : v.overrides) {
    const toml::table holder = toml::parse(text);
    const toml::key k(key);
    detail::set_dotted(t, key, *holder.get("v"), w, k);
  }
  t.insert_or_assign("name", name);
  return t;
}

std::unique_ptr<Model> build_model(const toml::table& t, const SimulatedData& sim, const std::string& source) {
  ModelSpec spec = detail::parse_model_table(t, source, ".", "");
  Dataset d = read_dataset_text(sim.csv, sim.name + ".csv", spec);
  return std::make_unique<Model>(std::move(spec), std::move(d));
}

// Per-draw values of the compared quantities of every channel: beta (scale-free for the
// lognormal likelihood; else times the outcome scale, the effect in outcome units), the total
// contribution over the data and ROI.
struct Quantities {
  std::vector<std::string> names;
  std::vector<std::vector<double>> draws;
};

Quantities quantities(const Model& m, const double* theta, int n) {
  const Dataset& d = m.dataset();
  const auto C = static_cast<size_t>(d.C), T = static_cast<size_t>(d.T), N = static_cast<size_t>(n);
  const auto outs = output_names(m);
  const double unit = m.spec().likelihood == LikelihoodType::kLognormal ? 1.0 : d.outcome_scale;
  Quantities q;
  std::vector<std::vector<double>> beta(C, std::vector<double>(N)), contrib(C, std::vector<double>(N, 0.0));
  std::vector<double> row(outs.size()), wk(T * C), scratch(static_cast<size_t>(m.scratch_size()));
  std::vector<size_t> at(C);
  for (size_t c = 0; c < C; ++c)
    at[c] = static_cast<size_t>(std::find(outs.begin(), outs.end(), "beta[" + d.channels[c] + "]") - outs.begin());
  const ResponseModel resp(m, theta, n);
  const size_t dim = static_cast<size_t>(m.dim());
  for (size_t i = 0; i < N; ++i) {
    outputs(m, theta + i * dim, row.data());
    draw_contributions(m, resp, static_cast<int>(i), theta + i * dim, wk.data(), nullptr, scratch.data());
    for (size_t c = 0; c < C; ++c) {
      beta[c][i] = at[c] < outs.size() ? row[at[c]] * unit : kNaN;
      for (size_t t = 0; t < T; ++t) contrib[c][i] += wk[t * C + c];
    }
  }
  for (size_t c = 0; c < C; ++c) {
    double spend = 0;
    for (size_t g = 0; g < static_cast<size_t>(d.G); ++g)
      for (size_t t = 0; t < T; ++t) spend += d.media[(g * C + c) * T + t];
    std::vector<double> roi(N);
    for (size_t i = 0; i < N; ++i) roi[i] = spend > 0 ? contrib[c][i] / spend : kNaN;
    q.names.push_back("beta[" + d.channels[c] + "]");
    q.draws.push_back(beta[c]);
    q.names.push_back("contribution[" + d.channels[c] + "]");
    q.draws.push_back(contrib[c]);
    q.names.push_back("roi[" + d.channels[c] + "]");
    q.draws.push_back(roi);
  }
  return q;
}

double total_spend(const Dataset& d, const std::string& channel) {
  const auto it = std::find(d.channels.begin(), d.channels.end(), channel);
  const auto c = static_cast<size_t>(it - d.channels.begin());
  const auto C = static_cast<size_t>(d.C), T = static_cast<size_t>(d.T);
  double s = 0;
  for (size_t g = 0; g < static_cast<size_t>(d.G); ++g)
    for (size_t t = 0; t < T; ++t) s += d.media[(g * C + c) * T + t];
  return s;
}

}  // namespace

void least_squares(const std::vector<double>& x, const std::vector<double>& y, int k, std::vector<double>& coef,
                   std::vector<double>& se) {
  const auto n = static_cast<Eigen::Index>(y.size());
  const Eigen::Map<const Eigen::MatrixXd> X(x.data(), n, k);
  const Eigen::Map<const Eigen::VectorXd> Y(y.data(), n);
  const Eigen::MatrixXd xtx = X.transpose() * X;
  const Eigen::LDLT<Eigen::MatrixXd> ldlt(xtx);
  const Eigen::VectorXd b = ldlt.solve(X.transpose() * Y);
  const double rss = (Y - X * b).squaredNorm();
  const double s2 = n > k ? rss / static_cast<double>(n - k) : kNaN;
  const Eigen::MatrixXd inv = ldlt.solve(Eigen::MatrixXd::Identity(k, k));
  coef.assign(b.data(), b.data() + k);
  se.resize(static_cast<size_t>(k));
  for (int j = 0; j < k; ++j) se[static_cast<size_t>(j)] = std::sqrt(s2 * inv(j, j));
}

StudySpec parse_study(const fs::path& file) {
  StudySpec s;
  s.source = file.string();
  const toml::table t = detail::parse_toml(detail::read_text_file(file, "study file"), file.string());
  const detail::Reader r(file.string());
  r.check_keys(t, "", {"name", "scenario", "config", "replicates", "seed", "sampler", "variants", "baselines"});
  s.name = t.get("name") ? r.nonempty_string(*t.get("name"), "name") : file.stem().string();
  const toml::node& sc = r.required(&t, "", "scenario");
  const fs::path scenario = file.parent_path() / r.nonempty_string(sc, "scenario");
  if (!fs::exists(scenario)) r.fail(sc, "`scenario`: no such file " + scenario.string());
  s.scenario = parse_scenario(scenario);
  if (const toml::node* n = t.get("config")) s.config = r.nonempty_string(*n, "config");
  if (const toml::node* n = t.get("replicates")) s.replicates = r.small_int(*n, "replicates", 1, 100000);
  if (const toml::node* n = t.get("seed")) s.seed = static_cast<std::uint64_t>(r.integer(*n, "seed", 0, INT64_MAX));
  s.scenario.seed = s.seed;
  if (const toml::table* sm = r.table(&t, "", "sampler")) {
    r.check_keys(*sm, "sampler", {"chains", "warmup", "draws"});
    if (const toml::node* n = sm->get("chains")) s.chains = r.small_int(*n, "sampler.chains", 1, 4096);
    if (const toml::node* n = sm->get("warmup")) s.warmup = r.small_int(*n, "sampler.warmup", 0, 1000000);
    if (const toml::node* n = sm->get("draws")) s.draws = r.small_int(*n, "sampler.draws", 4, 1000000);
  }
  // One replicate drawn now, so that every variant's overrides are checked against the real
  // config before anything runs (errors point at the study's key).
  const SimulatedData probe = simulate_scenario(s.scenario, 1);
  if (!probe.configs.count(s.config))
    r.fail(t.get("config") ? *t.get("config") : sc,
           "scenario " + s.scenario.kind + " has no fit config \"" + s.config + "\"");
  const std::string base = probe.configs.at(s.config);
  if (const toml::node* vs = t.get("variants")) {
    const toml::array* a = vs->as_array();
    if (!a || !a->is_array_of_tables()) r.wrong_type(*vs, "variants", "an array of tables ([[variants]])");
    for (const auto& e : *a) {
      const toml::table& vt = *e.as_table();
      StudyVariant v;
      v.name = r.nonempty_string(r.required(&vt, "variants", "name"), "variants.name");
      toml::table cfg = toml::parse(base);
      for (const auto& [k, val] : vt) {
        if (k.str() == "name") continue;
        v.overrides.push_back({std::string(k.str()), node_text(val)});
        detail::set_dotted(cfg, std::string(k.str()), val, r, k);
      }
      cfg.insert_or_assign("name", v.name);
      try {
        detail::parse_model_table(cfg, s.scenario.source, ".", "");
      } catch (const InputError& err) {
        r.fail(vt, "variant " + v.name + ": " + err.what());
      }
      for (const auto& other : s.variants)
        if (other.name == v.name) r.fail(vt, "variant name \"" + v.name + "\" used twice");
      s.variants.push_back(v);
    }
  }
  if (const toml::node* bs = t.get("baselines")) {
    const toml::array* a = bs->as_array();
    if (!a || !a->is_array_of_tables()) r.wrong_type(*bs, "baselines", "an array of tables ([[baselines]])");
    for (const auto& e : *a) {
      const toml::table& bt = *e.as_table();
      r.check_keys(bt, "baselines", {"name", "method", "parent", "transform"});
      StudyBaseline b;
      const toml::node& m = r.required(&bt, "baselines", "method");
      b.method = r.string(m, "baselines.method");
      if (b.method != "nested_two_stage" && b.method != "spend_share")
        r.fail(m, "`baselines.method`: nested_two_stage or spend_share, not \"" + b.method + "\"");
      b.parent = bt.get("parent") ? r.string(*bt.get("parent"), "baselines.parent")
                                  : (probe.parents.empty() ? "" : probe.parents.begin()->first);
      if (!probe.parents.count(b.parent))
        r.fail(bt, "baseline " + b.method + ": scenario " + s.scenario.kind + " has no parent channel \"" + b.parent +
                       "\" (the subchannels scenario has social_total)");
      if (!probe.configs.count("parent")) r.fail(bt, "scenario " + s.scenario.kind + " has no parent fit config");
      b.transform = bt.get("transform") ? r.string(*bt.get("transform"), "baselines.transform") : "none";
      if (b.transform != "none" && b.transform != "adstock_saturation")
        r.fail(*bt.get("transform"), "`baselines.transform`: none or adstock_saturation");
      b.name = bt.get("name") ? r.nonempty_string(*bt.get("name"), "baselines.name")
                              : (b.method == "spend_share" ? b.method
                                 : b.transform == "none"   ? b.method
                                                           : b.method + "_adstock");
      s.baselines.push_back(b);
    }
  }
  if (s.variants.empty() && s.baselines.empty()) r.fail("a study needs [[variants]] or [[baselines]]");
  return s;
}

std::vector<StudyRow> summarize_study(const std::vector<StudyEstimate>& est) {
  std::vector<std::pair<std::string, std::string>> keys;
  for (const auto& e : est)
    if (std::find(keys.begin(), keys.end(), std::make_pair(e.variant, e.parameter)) == keys.end())
      keys.emplace_back(e.variant, e.parameter);
  std::vector<StudyRow> rows;
  for (const auto& [v, p] : keys) {
    StudyRow r;
    r.variant = v;
    r.parameter = p;
    double st = 0, se = 0, sq = 0, cov = 0, width = 0;
    int n = 0, with_interval = 0;
    for (const auto& e : est) {
      if (e.variant != v || e.parameter != p || !std::isfinite(e.estimate) || !std::isfinite(e.truth)) continue;
      ++n;
      st += e.truth;
      se += e.estimate;
      sq += (e.estimate - e.truth) * (e.estimate - e.truth);
      if (std::isfinite(e.low) && std::isfinite(e.high)) {
        ++with_interval;
        cov += e.low <= e.truth && e.truth <= e.high;
        width += e.high - e.low;
      }
    }
    r.replicates = n;
    r.truth = n ? st / n : kNaN;
    r.estimate_mean = n ? se / n : kNaN;
    r.pct_diff = n && r.truth != 0 ? 100 * (r.estimate_mean - r.truth) / std::fabs(r.truth) : kNaN;
    r.rmse = n ? std::sqrt(sq / n) : kNaN;
    r.coverage = with_interval ? cov / with_interval : kNaN;
    r.width = with_interval ? width / with_interval : kNaN;
    rows.push_back(r);
  }
  return rows;
}

namespace {

class StudySink : public SampleSink {
 public:
  struct Job {
    int replicate;
    int variant;  // -1: the parent fit of the baselines
  };
  StudySink(const StudySpec& spec, const std::vector<SimulatedData>& sims, std::map<std::string, Job> jobs,
            SampleSink* keep)
      : spec_(spec), sims_(sims), jobs_(std::move(jobs)), keep_(keep) {}

  void write(const ModelOutput& out) override {
    if (keep_) keep_->write(out);
    const Job job = jobs_.at(out.name);
    if (out.failed()) {
      std::lock_guard<std::mutex> lock(mu_);
      failed_.push_back(out.name + ": " + out.status.text());
      return;
    }
    if (!out.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      warned_.push_back(out.name + ": " + out.status.reason);
    }
    const FittedModel f = restore_model(out, "<study " + spec_.name + ">");
    const SimulatedData& sim = sims_[static_cast<size_t>(job.replicate)];
    if (job.variant < 0) {
      score_baselines(f, sim, job.replicate);
      return;
    }
    const Quantities fitted = quantities(*f.model, f.theta.data(), f.n());
    const Quantities truth = quantities(*sim.truth_model, sim.theta.data(), 1);
    std::vector<StudyEstimate> rows;
    for (size_t k = 0; k < fitted.names.size(); ++k) {
      const auto it = std::find(truth.names.begin(), truth.names.end(), fitted.names[k]);
      if (it == truth.names.end()) continue;
      const Interval iv = interval(fitted.draws[k]);
      rows.push_back({spec_.variants[static_cast<size_t>(job.variant)].name, fitted.names[k], job.replicate + 1,
                      truth.draws[static_cast<size_t>(it - truth.names.begin())][0], iv.mean, iv.low, iv.high});
    }
    std::lock_guard<std::mutex> lock(mu_);
    estimates_.insert(estimates_.end(), rows.begin(), rows.end());
  }

  std::vector<StudyEstimate> estimates_;
  std::vector<std::string> failed_, warned_;

 private:
  void score_baselines(const FittedModel& f, const SimulatedData& sim, int replicate) {
    const Model& m = *f.model;
    const Dataset& d = m.dataset();
    const Quantities truth = quantities(*sim.truth_model, sim.theta.data(), 1);
    auto truth_of = [&](const std::string& name) {
      const auto it = std::find(truth.names.begin(), truth.names.end(), name);
      return it == truth.names.end() ? kNaN : truth.draws[static_cast<size_t>(it - truth.names.begin())][0];
    };
    std::vector<StudyEstimate> rows;
    const auto T = static_cast<size_t>(d.T), C = static_cast<size_t>(d.C), N = static_cast<size_t>(f.n());
    // One pass over the draws serves every baseline: posterior means of the reported
    // quantities, each channel's mean weekly contribution and its total per draw.
    const ResponseModel resp(m, f.theta.data(), f.n());
    std::vector<double> scratch(static_cast<size_t>(m.scratch_size())), wk(T * C), weekly(T * C, 0.0);
    std::vector<std::vector<double>> totals(C, std::vector<double>(N, 0.0));
    const auto outs = output_names(m);
    std::vector<double> row(outs.size()), means(outs.size(), 0.0);
    for (size_t i = 0; i < N; ++i) {
      outputs(m, f.draw(static_cast<int>(i)), row.data());
      for (size_t k = 0; k < outs.size(); ++k) means[k] += row[k] / f.n();
      draw_contributions(m, resp, static_cast<int>(i), f.draw(static_cast<int>(i)), wk.data(), nullptr, scratch.data());
      for (size_t t = 0; t < T; ++t)
        for (size_t c = 0; c < C; ++c) {
          weekly[t * C + c] += wk[t * C + c] / f.n();
          totals[c][i] += wk[t * C + c];
        }
    }
    auto mean_of = [&](const std::string& name) {
      const auto at = std::find(outs.begin(), outs.end(), name);
      return at == outs.end() ? 0.0 : means[static_cast<size_t>(at - outs.begin())];
    };
    for (const auto& b : spec_.baselines) {
      const auto pit = std::find(d.channels.begin(), d.channels.end(), b.parent);
      const auto p = static_cast<size_t>(pit - d.channels.begin());
      std::vector<double> parent_weekly(T);
      for (size_t t = 0; t < T; ++t) parent_weekly[t] = weekly[t * C + p];
      const std::vector<double>& parent_totals = totals[p];
      const std::vector<std::string>& subs = sim.parents.at(b.parent);
      std::vector<double> spend;
      double all = 0;
      for (const auto& s : subs) {
        spend.push_back(total_spend(sim.truth_model->dataset(), s));
        all += spend.back();
      }
      if (b.method == "spend_share") {
        for (size_t j = 0; j < subs.size(); ++j) {
          std::vector<double> c(parent_totals.size());
          for (size_t i = 0; i < c.size(); ++i) c[i] = parent_totals[i] * spend[j] / all;
          const Interval iv = interval(c);
          rows.push_back({b.name, "contribution[" + subs[j] + "]", replicate + 1, truth_of("contribution[" + subs[j] + "]"),
                          iv.mean, iv.low, iv.high});
          rows.push_back({b.name, "roi[" + subs[j] + "]", replicate + 1, truth_of("roi[" + subs[j] + "]"),
                          iv.mean / spend[j], iv.low / spend[j], iv.high / spend[j]});
        }
        continue;
      }
      // Nested two-stage: regress the parent's weekly contribution on the subchannels' spends,
      // raw or through the parent's own adstock and saturation (posterior means).
      const Dataset& sd = sim.truth_model->dataset();
      const auto ST = static_cast<size_t>(sd.T);
      std::vector<double> x(ST * subs.size());
      const ModelSpec& ms = m.spec();
      const double scale = d.media_scale[p];
      const double decay = mean_of("adstock_decay[" + b.parent + "]"), peak = mean_of("adstock_peak[" + b.parent + "]");
      const double p1 = ms.media.saturation == SaturationType::kHill ? mean_of("hill_kappa[" + b.parent + "]")
                                                                      : mean_of("logistic_lambda[" + b.parent + "]");
      const double p2 = mean_of("hill_slope[" + b.parent + "]");
      const int L = ms.media.adstock.type == AdstockType::kNone ? 1 : ms.media.adstock.taps;
      std::vector<double> w(static_cast<size_t>(L)), dd(static_cast<size_t>(L)), dp(static_cast<size_t>(L));
      const AdstockWeights<double> aw = adstock_weights(ms.media.adstock.type, ms.media.adstock.normalize, L, decay, peak,
                                                        w.data(), dd.data(), dp.data());
      std::vector<double> sum_x(subs.size(), 0.0);
      for (size_t j = 0; j < subs.size(); ++j) {
        const auto it = std::find(sd.channels.begin(), sd.channels.end(), subs[j]);
        const double* raw = &sd.media[static_cast<size_t>(it - sd.channels.begin()) * ST];
        for (size_t t = 0; t < ST; ++t) {
          double v = raw[t];
          if (b.transform == "adstock_saturation") {
            double a = 0;
            for (size_t l = 0; l < static_cast<size_t>(L) && l <= t; ++l) a += w[l] * raw[t - l];
            v = saturate(ms.media.saturation, a / aw.W / scale, p1, p2).value;
          }
          x[j * ST + t] = v;
          sum_x[j] += v;
        }
      }
      std::vector<double> coef, se;
      least_squares(x, parent_weekly, static_cast<int>(subs.size()), coef, se);
      for (size_t j = 0; j < subs.size(); ++j) {
        const double est = coef[j] * sum_x[j], half = kZ94 * se[j] * std::fabs(sum_x[j]);
        rows.push_back({b.name, "contribution[" + subs[j] + "]", replicate + 1, truth_of("contribution[" + subs[j] + "]"),
                        est, est - half, est + half});
        rows.push_back({b.name, "roi[" + subs[j] + "]", replicate + 1, truth_of("roi[" + subs[j] + "]"), est / spend[j],
                        (est - half) / spend[j], (est + half) / spend[j]});
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    estimates_.insert(estimates_.end(), rows.begin(), rows.end());
  }

  const StudySpec& spec_;
  const std::vector<SimulatedData>& sims_;
  std::map<std::string, Job> jobs_;
  SampleSink* keep_;
  std::mutex mu_;
};

}  // namespace

StudyResult run_study(const StudySpec& spec, const StudyOptions& options, BatchObserver* observer) {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<SimulatedData> sims;
  std::vector<std::unique_ptr<Model>> models;
  std::vector<BatchItem> items;
  std::map<std::string, StudySink::Job> jobs;
  auto add = [&](const toml::table& cfg, int r, int v) {
    models.push_back(build_model(cfg, sims[static_cast<size_t>(r)], spec.source));
    SamplerOptions o = options_from(models.back()->spec());
    o.chains = spec.chains;
    o.warmup = spec.warmup;
    o.draws = spec.draws;
    o.seed = spec.seed;
    BatchItem item{models.back().get(), o, {}};
    item.attrs.text["study"] = spec.name;
    items.push_back(std::move(item));
    jobs[models.back()->spec().name] = {r, v};
  };
  for (int r = 0; r < spec.replicates; ++r) sims.push_back(simulate_scenario(spec.scenario, r + 1));
  for (int r = 0; r < spec.replicates; ++r) {
    const SimulatedData& sim = sims[static_cast<size_t>(r)];
    for (size_t v = 0; v < spec.variants.size(); ++v)
      add(variant_table(sim.configs.at(spec.config), spec.variants[v], sim.name + "__" + spec.variants[v].name), r,
          static_cast<int>(v));
    if (!spec.baselines.empty())
      add(variant_table(sim.configs.at("parent"), StudyVariant{}, sim.name + "__parent"), r, -1);
  }
  std::unique_ptr<OutputStore> store;
  if (!options.out.empty()) {
    store = std::make_unique<OutputStore>(options.out);
    store->begin(false);
  }
  StudySink sink(spec, sims, jobs, store.get());
  BatchOptions bo;
  bo.threads = options.threads;
  bo.with_contributions = false;
  run_batch(items, bo, sink, observer);
  if (store) {
    std::vector<std::string> order;
    for (const auto& it : items) order.push_back(it.model->spec().name);
    store->finish(order);
  }
  StudyResult res;
  res.estimates = sink.estimates_;
  // Replicates finish in any order; report them in order.
  std::stable_sort(res.estimates.begin(), res.estimates.end(), [](const StudyEstimate& a, const StudyEstimate& b) {
    return a.replicate < b.replicate;
  });
  std::vector<StudyEstimate> ordered;
  std::vector<std::string> methods;
  for (const auto& v : spec.variants) methods.push_back(v.name);
  for (const auto& b : spec.baselines) methods.push_back(b.name);
  for (const auto& mth : methods)
    for (const auto& e : res.estimates)
      if (e.variant == mth) ordered.push_back(e);
  res.estimates = ordered;
  res.rows = summarize_study(res.estimates);
  res.failed = sink.failed_;
  res.warned = sink.warned_;
  res.fits = static_cast<int>(items.size());
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

void write_study_csv(const std::string& path, const std::vector<StudyRow>& rows) {
  CsvWriter w({"variant", "parameter", "truth", "estimate_mean", "pct_diff", "coverage_94", "width_mean", "rmse",
               "replicates"});
  for (const auto& r : rows)
    w.row(r.variant, r.parameter, r.truth, r.estimate_mean, r.pct_diff, r.coverage, r.width, r.rmse, r.replicates);
  w.write(path);
}

void write_replicates_csv(const std::string& path, const std::vector<StudyEstimate>& est) {
  CsvWriter w({"variant", "parameter", "replicate", "truth", "estimate", "hdi_low", "hdi_high"});
  for (const auto& e : est) w.row(e.variant, e.parameter, e.replicate, e.truth, e.estimate, e.low, e.high);
  w.write(path);
}

}  // namespace herd
