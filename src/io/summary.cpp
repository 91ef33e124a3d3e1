#include "herd/io/summary.hpp"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <ostream>

#include "herd/core/csv_writer.hpp"
#include "herd/core/text_table.hpp"
#include "herd/core/error.hpp"
#include "herd/core/files.hpp"
#include "herd/io/hdf5_file.hpp"

namespace herd {

std::vector<ModelReport> read_reports(const std::string& path) {
  std::vector<ModelReport> out;
  ReadOptions o;
  o.skip = derived_variables();
  for (const auto& name : list_models(path)) out.push_back(report(read_model(path, name, o)));
  return out;
}

namespace {

const char* state_name(FitState s) {
  switch (s) {
    case FitState::kOk: return "ok";
    case FitState::kWarn: return "warn";
    case FitState::kFailed: break;
  }
  return "failed";
}

}  // namespace

void print_model_table(std::ostream& os, const ModelReport& r) {
  if (r.status.state == FitState::kFailed) {
    fmt::print(os, "{}: {}\n", r.name, r.status.text());
    return;
  }
  std::vector<std::string> header{"parameter", "mean",     "sd",       "hdi_3%", "hdi_97%", "mcse_mean",
                                  "mcse_sd",   "ess_bulk", "ess_tail", "r_hat"};
  std::vector<bool> left(header.size(), false);
  if (r.prior_checked) {
    header.insert(header.end(), {"contraction", ""});
    left.insert(left.end(), {false, true});
  }
  TextTable t(header, left);
  int dominated = 0, unreliable = 0;
  for (const auto& p : r.params) {
    const Summary& s = p.s;
    std::vector<std::string> cells{p.parameter,          fmt_num(s.mean, 4),     fmt_num(s.sd, 3),
                                   fmt_num(s.hdi_low, 4), fmt_num(s.hdi_high, 4), fmt_num(s.mcse_mean, 2),
                                   fmt_num(s.mcse_sd, 2), fmt_count(s.ess_bulk),  fmt_count(s.ess_tail),
                                   p.constant ? kDash : fmt_fixed(s.r_hat, 3)};
    if (r.prior_checked) {
      cells.push_back(fmt_fixed(p.contraction, 3));
      cells.push_back(p.prior_dominated() ? "prior-dominated" : p.contraction_unreliable() ? "unreliable *" : "");
      dominated += p.prior_dominated();
      unreliable += p.contraction_unreliable();
    }
    t.row(std::move(cells));
  }
  t.print(os);
  if (dominated > 0)
    fmt::print(os, "\n{} parameter(s) prior-dominated: contraction 1 - var_post/var_prior < 0.1, the data barely moved "
                   "their prior\n", dominated);
  if (unreliable > 0)
    fmt::print(os, "{}* {} parameter(s) did not converge (R-hat or ESS fail the checks): their contraction says "
                   "nothing yet\n", dominated > 0 ? "" : "\n", unreliable);
  std::string bfmi;
  for (double b : r.ebfmi) bfmi += (bfmi.empty() ? "" : " ") + fmt_fixed(b, 2) + (b > r.checks.min_ebfmi ? "" : " (low)");
  fmt::print(os, "\n{}: {} chains x {} draws, {} s\n", r.name, r.chains, fmt_count(r.draws), fmt_num(r.seconds, 3));
  fmt::print(os, "divergences: {}   max tree depth hits: {}   E-BFMI per chain: {}\n", fmt_count(r.divergences),
             fmt_count(r.max_depth_hits), bfmi);
  fmt::print(os, "max r_hat {}, min ess_bulk {}, min ess_tail {}\n", fmt_fixed(r.max_rhat, 3),
             fmt_count(r.min_ess_bulk), fmt_count(r.min_ess_tail));
  fmt::print(os, "status: {}\n  (checks: {})\n", r.status.text(), r.checks.describe());
}

void print_batch_table(std::ostream& os, const std::vector<ModelReport>& reports) {
  TextTable t({"model", "status", "max_rhat", "min_bulk", "min_tail", "divs", "low_bfmi", "seconds", ""},
              {true, true, false, false, false, false, false, false, true});
  int count[3] = {0, 0, 0};
  for (const auto& r : reports) {
    ++count[static_cast<int>(r.status.state)];
    std::string notes = r.status.reason;
    if (r.status.state == FitState::kFailed) {
      t.row({r.name, "failed", kDash, kDash, kDash, kDash, kDash, fmt_num(r.seconds, 3), notes});
      continue;
    }
    std::string dominated;
    for (const auto& p : r.params)
      if (r.prior_checked && p.prior_dominated()) dominated += (dominated.empty() ? "prior-dominated: " : ", ") + p.parameter;
    if (!dominated.empty()) notes += (notes.empty() ? "" : "; ") + dominated;
    t.row({r.name, state_name(r.status.state), fmt_fixed(r.max_rhat, 3), fmt_count(r.min_ess_bulk),
           fmt_count(r.min_ess_tail), fmt_count(r.divergences), fmt_count(r.low_ebfmi()), fmt_num(r.seconds, 3), notes});
  }
  t.print(os);
  const ConvergenceChecks checks = reports.empty() ? ConvergenceChecks{} : reports.front().checks;
  fmt::print(os, "\n{} ok, {} warn, {} failed of {} models (ok: {}; - : undefined or not applicable)\n", count[0],
             count[1], count[2], reports.size(), checks.describe());
}

void write_summary_csv(const std::string& path, const std::vector<ModelReport>& reports) {
  CsvWriter w({"model", "parameter", "mean", "sd", "hdi_3%", "hdi_97%", "mcse_mean", "mcse_sd", "ess_bulk", "ess_tail",
               "r_hat", "contraction", "prior_dominated", "converged"});
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
      w.cell(p.converged ? 1 : 0);  // R-hat and ESS passed: a contraction means something only then
      w.end_row();
    }
  w.write(path);
}

void write_draws_csv(const std::string& path, const ModelOutput& m) {
  const DataGroup* post = m.group("posterior");
  const DataGroup* ss = m.group("sample_stats");
  if (!post || !ss) throw ModelError(m.name + ": no draws to write (" + m.status.text() + ")");
  const int C = static_cast<int>(post->coord("chain")->size()), D = static_cast<int>(post->coord("draw")->size());
  const auto params = posterior_scalars(*post, C, D);
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
