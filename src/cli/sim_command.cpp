// `herd simulate`, `herd study`, `herd sbc` and `herd compare`: known-truth data, recovery
// studies, simulation-based calibration and PSIS-LOO rankings.
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "herd/io/output_guard.hpp"
#include "herd/core/error.hpp"
#include "herd/sim/scenario.hpp"
#include "herd/core/text_table.hpp"
#include "herd/sim/compare.hpp"
#include "herd/sim/sbc.hpp"
#include "herd/sim/study.hpp"
#include "herd/config/model_config.hpp"
#include "herd/engine/fit.hpp"
#include "progress.hpp"

namespace herd {

int run_simulate(const SimulateArgs& a) {
  Scenario s;
  if (!a.from_prior.empty()) {
    if (!a.scenario.empty()) throw InputError(located(a.scenario, 0, 0, "give a scenario file or --from-prior, not both"));
    if (!std::filesystem::exists(a.from_prior)) throw InputError(located(a.from_prior, 0, 0, "no such file"));
    s.kind = "from_prior";
    s.from_prior = a.from_prior;
    s.source = a.from_prior;
    s.name = std::filesystem::path(a.from_prior).stem().string() + "_prior";
  } else {
    if (a.scenario.empty()) throw InputError(located("herd simulate", 0, 0, "give a scenario file or --from-prior CONFIG"));
    if (!std::filesystem::exists(a.scenario)) throw InputError(located(a.scenario, 0, 0, "no such file"));
    s = parse_scenario(a.scenario);
  }
  if (a.seed >= 0) s.seed = static_cast<std::uint64_t>(a.seed);
  for (int r = 0; r < a.replicates; ++r) {
    const SimulatedData d = simulate_scenario(s, a.replicates > 1 ? r + 1 : 0);
    for (const auto& p : write_simulated(d, a.out)) fmt::print("{}\n", p);
  }
  return 0;
}

int run_study(const StudyArgs& a) {
  if (!std::filesystem::exists(a.study)) throw InputError(located(a.study, 0, 0, "no such file"));
  StudySpec spec = parse_study(a.study);
  if (a.replicates > 0) spec.replicates = a.replicates;
  if (a.seed >= 0) {
    spec.seed = static_cast<std::uint64_t>(a.seed);
    spec.scenario.seed = spec.seed;
  }
  StudyOptions o;
  o.threads = a.threads;
  o.out = a.out;
  std::unique_ptr<OutputLock> lock;
  if (!a.out.empty()) {
    check_output(a.out, {a.study}, a.overwrite ? ExistingOutput::overwrite : ExistingOutput::refuse);
    lock = std::make_unique<OutputLock>(a.out, "herd study");
  }
  const int fits = spec.replicates * (static_cast<int>(spec.variants.size()) + (spec.baselines.empty() ? 0 : 1));
  if (!a.quiet)
    fmt::print(stderr, "herd study {}: {} replicates of {} x ({} variants{}) = {} fits\n", spec.name, spec.replicates,
               spec.scenario.kind, spec.variants.size(), spec.baselines.empty() ? "" : " + the baselines' parent fit",
               fits);
  StudyResult res;
  {
    Progress progress(fits, a.quiet, "herd");
    res = run_study(spec, o, &progress);
  }
  fmt::print("{:<26} {:<34} {:>12} {:>12} {:>8} {:>9} {:>12} {:>12} {:>5}\n", "variant", "parameter", "truth",
             "estimate", "% diff", "coverage", "width", "rmse", "reps");
  for (const auto& r : res.rows)
    fmt::print("{:<26} {:<34} {:>12.4g} {:>12.4g} {:>7.1f}% {:>8.0f}% {:>12.4g} {:>12.4g} {:>5}\n", r.variant,
               r.parameter, r.truth, r.estimate_mean, r.pct_diff, 100 * r.coverage, r.width, r.rmse, r.replicates);
  fmt::print("\n{} fits in {:.1f} s ({} failed; {} warn, scored all the same)\n", res.fits, res.seconds,
             res.failed.size(), res.warned.size());
  for (const auto& f : res.failed) fmt::print(stderr, "herd: failed fit {}\n", f);
  for (const auto& f : res.warned) fmt::print(stderr, "herd: warn {}\n", f);
  if (!a.csv.empty()) {
    const auto parent = std::filesystem::path(a.csv).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
    write_study_csv(a.csv, res.rows);
    const std::filesystem::path p(a.csv);
    const std::string stem = (p.parent_path() / p.stem()).string();
    write_replicates_csv(stem + ".replicates.csv", res.estimates);
    fmt::print(stderr, "herd: wrote {} and {}.replicates.csv\n", a.csv, stem);
    const std::string python = std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
    const std::string cmd = python + " '" + script_path("herd_study_plot.py") + "' '" + a.csv + "' '" + stem +
                            ".replicates.csv' '" + stem + ".png' --title '" + spec.name + "' >/dev/null";
    if (std::system(cmd.c_str()) != 0)
      fmt::print(stderr, "herd: warning: the study plot failed (python3 with matplotlib is needed)\n");
    else
      fmt::print(stderr, "herd: plot {}.png, tables {}.md\n", stem, stem);
  }
  return res.failed.empty() ? 0 : 1;
}

int run_sbc(const SbcArgs& a) {
  if (!std::filesystem::exists(a.config)) throw InputError(located(a.config, 0, 0, "no such file"));
  ModelSpec spec = parse_model_config(a.config);
  Dataset data = read_dataset(spec);
  const Model m(std::move(spec), std::move(data));
  SbcOptions o;
  o.replications = a.replications;
  o.threads = a.threads;
  o.sampler = options_from(m.spec());
  if (a.chains > 0) o.sampler.chains = a.chains;
  if (a.warmup >= 0) o.sampler.warmup = a.warmup;
  if (a.draws > 0) o.sampler.draws = a.draws;
  if (a.seed >= 0) o.sampler.seed = static_cast<std::uint64_t>(a.seed);
  if (o.sampler.chains * o.sampler.draws < o.ranks - 1)
    throw InputError(located(a.config, 0, 0, fmt::format("SBC thins to {} draws per fit: chains x draws must be at least that",
                                                         o.ranks - 1)));
  fmt::print(stderr, "herd sbc {}: {} replications of {} chains x ({} + {})\n", m.spec().name, o.replications,
             o.sampler.chains, o.sampler.warmup, o.sampler.draws);
  SbcResult r;
  try {
    r = herd::run_sbc(m, m, o);
  } catch (const std::invalid_argument& e) {
    throw InputError(located(a.config, 0, 0, std::string("cannot draw from this model's prior: ") + e.what()));
  }
  fmt::print("{:<36} {:>10}  {}\n", "parameter", "p-value", "");
  for (size_t k = 0; k < r.parameters.size(); ++k)
    fmt::print("{:<36} {:>10.4g}  {}\n", r.parameters[k], r.p_values[k], r.p_values[k] > r.threshold ? "" : "NOT UNIFORM");
  fmt::print("\n{}: {} parameters, threshold {:.2g} (0.001 / parameters), {} replications with divergences\n",
             r.passed() ? "PASS" : "FAIL", r.parameters.size(), r.threshold, r.divergent_replications);
  if (!a.out.empty()) {
    write_sbc(a.out, r, o.bins);
    const std::string python = std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
    const std::string cmd = python + " '" + script_path("herd_sbc_plot.py") + "' '" + a.out + "' >/dev/null";
    if (std::system(cmd.c_str()) != 0)
      fmt::print(stderr, "herd: warning: the SBC plots failed (python3 with matplotlib is needed)\n");
    fmt::print(stderr, "herd: wrote {}/ranks.csv, sbc.csv, sbc_ranks.png, sbc_ecdf.png\n", a.out);
  }
  return r.passed() ? 0 : 1;
}

int run_compare(const CompareArgs& a) {
  if (!std::filesystem::exists(a.file)) throw InputError(located(a.file, 0, 0, "no such file"));
  if (!a.truth.empty() && !std::filesystem::exists(a.truth)) throw InputError(located(a.truth, 0, 0, "no such file"));
  const std::vector<CompareRow> rows = compare_models(a.file, a.truth);
  const bool truth = !a.truth.empty();
  for (size_t i = 0, start = 0; i < rows.size(); i = start) {
    while (start < rows.size() && rows[start].data_group == rows[i].data_group) ++start;
    fmt::print("{}data: {} ({} model{})\n", i ? "\n" : "", rows[i].data_source.empty() ? "?" : rows[i].data_source,
               start - i, start - i == 1 ? "" : "s");
    std::vector<std::string> h{"rank", "model", "elpd_loo", "se", "elpd_diff", "se_diff", "vs best", "p_loo", "bad_k", "status"};
    std::vector<bool> left{false, true, false, false, false, false, true, false, false, true};
    if (truth) {
      h.insert(h.end() - 1, {"recovery", "rec. rank"});
      left.insert(left.end() - 1, {false, false});
    }
    TextTable t(h, left);
    for (size_t j = i; j < start; ++j) {
      const CompareRow& r = rows[j];
      std::vector<std::string> cells{fmt_count(r.rank), r.model, fmt_fixed(r.loo.elpd_loo, 1), fmt_fixed(r.loo.se, 1),
                                     r.rank == 1 ? kDash : fmt_fixed(r.elpd_diff, 1),
                                     r.rank == 1 ? kDash : fmt_fixed(r.se_diff, 1),
                                     r.rank == 1 ? "best" : r.ties_best() ? "tie" : "worse",
                                     fmt_fixed(r.loo.p_loo, 1), fmt_count(r.loo.n_bad_k), r.status};
      if (truth) cells.insert(cells.end() - 1, {fmt_fixed(100 * r.recovery, 1) + "%", fmt_count(r.recovery_rank)});
      t.row(std::move(cells));
    }
    t.print(std::cout);
  }
  fmt::print("\nModels are ranked within groups fitted to the same data. elpd_diff: each model against the best, "
             "with the SE of the pointwise differences; tie: within 2 SE of the best (the data cannot tell them "
             "apart); bad_k: observations with Pareto k above {:.2f} (PSIS-LOO unreliable there){}\n",
             rows.front().loo.k_threshold,
             truth ? "; recovery: RMSE over channels of the relative error of total contributions" : "");
  if (!a.csv.empty()) write_compare_csv(a.csv, rows, truth);
  return 0;
}

}  // namespace herd
