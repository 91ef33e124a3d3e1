#include "herd/io/summary.hpp"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <ostream>

#include "herd/core/csv_writer.hpp"
#include "herd/core/error.hpp"
#include "herd/core/files.hpp"
#include "herd/io/hdf5_file.hpp"

namespace herd {
namespace {

// A parameter of the posterior flattened to its scalars: label and draws [chain * D + d].
struct Scalar {
  std::string label;
  std::vector<double> draws;
};

std::vector<Scalar> scalars(const DataGroup& post, int C, int D) {
  std::vector<Scalar> out;
  const auto& skip = derived_variables();
  for (const auto& v : post.vars) {
    if (std::find(skip.begin(), skip.end(), v.name) != skip.end()) continue;
    std::vector<const Coord*> axes;
    for (size_t i = 2; i < v.dims.size(); ++i) axes.push_back(post.coord(v.dims[i]));
    size_t inner = 1;
    for (const Coord* a : axes) inner *= a->size();
    for (size_t e = 0; e < inner; ++e) {
      Scalar s;
      s.label = v.name;
      if (!axes.empty()) {
        std::string idx;
        size_t rest = e, stride = inner;
        for (const Coord* a : axes) {
          stride /= a->size();
          const size_t k = rest / stride;
          rest %= stride;
          idx += (idx.empty() ? "" : ",") + (a->is_text() ? a->labels[k] : std::to_string(a->ints[k]));
        }
        s.label += "[" + idx + "]";
      }
      s.draws.resize(static_cast<size_t>(C) * static_cast<size_t>(D));
      for (size_t r = 0; r < s.draws.size(); ++r) s.draws[r] = v.values[r * inner + e];
      out.push_back(std::move(s));
    }
  }
  return out;
}

}  // namespace

bool ModelReport::passed() const {
  return status == "ok" && max_rhat < 1.01 && min_ess_bulk > 400 && min_ess_tail > 400 && divergences == 0;
}

int ModelReport::low_ebfmi() const {
  return static_cast<int>(std::count_if(ebfmi.begin(), ebfmi.end(), [](double b) { return b < 0.3; }));
}

const std::vector<std::string>& derived_variables() {
  static const std::vector<std::string> v{"contribution"};
  return v;
}

ModelReport report(const ModelOutput& m) {
  ModelReport r;
  r.name = m.name;
  r.status = m.status;
  if (auto it = m.real_attrs.find("wall_seconds"); it != m.real_attrs.end()) r.seconds = it->second;
  if (auto it = m.int_attrs.find("max_depth"); it != m.int_attrs.end()) r.max_depth = static_cast<int>(it->second);
  const DataGroup* post = m.group("posterior");
  const DataGroup* ss = m.group("sample_stats");
  if (!m.ok() || !post || !ss) return r;
  r.chains = static_cast<int>(post->coord("chain")->size());
  r.draws = static_cast<int>(post->coord("draw")->size());
  r.max_rhat = 0;
  r.min_ess_bulk = r.min_ess_tail = INFINITY;
  for (const auto& s : scalars(*post, r.chains, r.draws)) {
    ParamRow row{s.label, summarize(s.draws.data(), r.chains, r.draws)};
    // NaN R-hat (a constant quantity) is not a failure to converge.
    if (std::isfinite(row.s.r_hat) || std::isinf(row.s.r_hat)) r.max_rhat = std::max(r.max_rhat, row.s.r_hat);
    r.min_ess_bulk = std::min(r.min_ess_bulk, row.s.ess_bulk);
    r.min_ess_tail = std::min(r.min_ess_tail, row.s.ess_tail);
    r.params.push_back(std::move(row));
  }
  if (const Variable* d = ss->var("diverging"))
    for (double x : d->values) r.divergences += x != 0;
  if (const Variable* t = ss->var("tree_depth"))
    for (double x : t->values) r.max_depth_hits += r.max_depth > 0 && x >= r.max_depth;
  if (const Variable* e = ss->var("energy"))
    for (int c = 0; c < r.chains; ++c) r.ebfmi.push_back(ebfmi(&e->values[static_cast<size_t>(c * r.draws)], r.draws));
  return r;
}

std::vector<ModelReport> read_reports(const std::string& path) {
  std::vector<ModelReport> out;
  ReadOptions o;
  o.skip = derived_variables();
  for (const auto& name : list_models(path)) out.push_back(report(read_model(path, name, o)));
  return out;
}

void print_model_table(std::ostream& os, const ModelReport& r) {
  if (r.status != "ok") {
    fmt::print(os, "{}: {}\n", r.name, r.status);
    return;
  }
  size_t w = 9;
  for (const auto& p : r.params) w = std::max(w, p.parameter.size());
  fmt::print(os, "{:<{}} {:>10} {:>10} {:>10} {:>10} {:>10} {:>9} {:>9} {:>9} {:>7}{}\n", "parameter", w, "mean", "sd",
             "hdi_3%", "hdi_97%", "mcse_mean", "mcse_sd", "ess_bulk", "ess_tail", "r_hat",
             r.prior_checked ? "  contraction" : "");
  int dominated = 0;
  for (const auto& p : r.params) {
    const Summary& s = p.s;
    std::string extra;
    if (r.prior_checked) {
      extra = fmt::format("  {:>11.3f}{}", p.contraction, p.prior_dominated() ? "  prior-dominated" : "");
      dominated += p.prior_dominated();
    }
    fmt::print(os, "{:<{}} {:>10.4g} {:>10.4g} {:>10.4g} {:>10.4g} {:>10.2g} {:>9.2g} {:>9.0f} {:>9.0f} {:>7.3f}{}\n",
               p.parameter, w, s.mean, s.sd, s.hdi_low, s.hdi_high, s.mcse_mean, s.mcse_sd, s.ess_bulk, s.ess_tail,
               s.r_hat, extra);
  }
  if (dominated > 0)
    fmt::print(os, "\n{} parameter(s) prior-dominated: contraction 1 - var_post/var_prior < 0.1, the data barely moved "
                   "their prior\n", dominated);
  std::string bfmi;
  for (double b : r.ebfmi) bfmi += fmt::format("{}{:.2f}{}", bfmi.empty() ? "" : " ", b, b < 0.3 ? " (low)" : "");
  fmt::print(os, "\n{}: {} chains x {} draws, {:.1f} s\n", r.name, r.chains, r.draws, r.seconds);
  fmt::print(os, "divergences: {}   max tree depth hits: {}   E-BFMI per chain: {}\n", r.divergences,
             r.max_depth_hits, bfmi);
  fmt::print(os, "max r_hat {:.3f}, min ess_bulk {:.0f}, min ess_tail {:.0f}{}\n", r.max_rhat, r.min_ess_bulk,
             r.min_ess_tail, r.passed() ? "" : "  <- check convergence");
}

void print_batch_table(std::ostream& os, const std::vector<ModelReport>& reports) {
  size_t w = 5;
  for (const auto& r : reports) w = std::max(w, r.name.size());
  fmt::print(os, "{:<{}}  {:<8} {:>8} {:>9} {:>9} {:>6} {:>9} {:>9}\n", "model", w, "status", "max_rhat", "min_bulk",
             "min_tail", "divs", "low_bfmi", "seconds");
  int passed = 0, failed = 0;
  for (const auto& r : reports) {
    passed += r.passed();
    if (r.status != "ok") {
      ++failed;
      fmt::print(os, "{:<{}}  {}\n", r.name, w, r.status);
      continue;
    }
    std::string dominated;
    for (const auto& p : r.params)
      if (r.prior_checked && p.prior_dominated()) dominated += (dominated.empty() ? "  prior-dominated: " : ", ") + p.parameter;
    fmt::print(os, "{:<{}}  {:<8} {:>8.3f} {:>9.0f} {:>9.0f} {:>6} {:>9} {:>9.1f}{}{}\n", r.name, w, "ok", r.max_rhat,
               r.min_ess_bulk, r.min_ess_tail, r.divergences, r.low_ebfmi(), r.seconds, r.passed() ? "" : "  *",
               dominated);
  }
  fmt::print(os, "\n{} of {} models passed (max R-hat < 1.01, bulk and tail ESS > 400, no divergences){}\n", passed,
             reports.size(), failed ? fmt::format("; {} failed", failed) : std::string());
}

void write_summary_csv(const std::string& path, const std::vector<ModelReport>& reports) {
  CsvWriter w({"model", "parameter", "mean", "sd", "hdi_3%", "hdi_97%", "mcse_mean", "mcse_sd", "ess_bulk", "ess_tail",
               "r_hat", "contraction", "prior_dominated"});
  for (const auto& r : reports)
    for (const auto& p : r.params) {
      const Summary& s = p.s;
      w.cell(r.name).cell(p.parameter);
      for (double v : {s.mean, s.sd, s.hdi_low, s.hdi_high, s.mcse_mean, s.mcse_sd, s.ess_bulk, s.ess_tail, s.r_hat})
        w.cell(v);
      if (r.prior_checked)
        w.cell(p.contraction);
      else
        w.cell(CsvWriter::kEmpty);
      if (r.prior_checked && p.contraction == p.contraction)
        w.cell(p.prior_dominated() ? 1 : 0);
      else
        w.cell(CsvWriter::kEmpty);
      w.end_row();
    }
  w.write(path);
}

void write_draws_csv(const std::string& path, const ModelOutput& m) {
  const DataGroup* post = m.group("posterior");
  const DataGroup* ss = m.group("sample_stats");
  if (!post || !ss) throw ModelError(m.name + ": no draws to write (" + m.status + ")");
  const int C = static_cast<int>(post->coord("chain")->size()), D = static_cast<int>(post->coord("draw")->size());
  const auto params = scalars(*post, C, D);
  const char* stats[] = {"lp", "acceptance_rate", "step_size", "tree_depth", "n_steps", "diverging", "energy"};
  std::vector<std::string> header = {"chain",        "draw",         "lp__",        "accept_stat__", "stepsize__",
                                     "treedepth__",  "n_leapfrog__", "divergent__", "energy__"};
  for (const auto& p : params) header.push_back(p.label);
  CsvWriter w(header);
  for (int c = 0; c < C; ++c)
    for (int d = 0; d < D; ++d) {
      const size_t r = static_cast<size_t>(c) * static_cast<size_t>(D) + static_cast<size_t>(d);
      w.cell(c).cell(d);
      for (const char* s : stats) w.cell(ss->var(s)->values[r]);
      for (const auto& p : params) w.cell(p.draws[r]);
      w.end_row();
    }
  w.write(path);
}

}  // namespace herd
