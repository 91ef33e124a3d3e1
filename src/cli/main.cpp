// The `herd` command line: parse, build what the engine needs, call it, map errors to exit
// codes (0 ok, 1 a check or some models failed, 2 bad input or usage).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <set>
#include <string>

#include "herd/config/limits.hpp"
#include "herd/config/model_config.hpp"
#include "herd/core/error.hpp"
#include "herd/core/version.hpp"
#include "herd/data/dataset.hpp"
#include "herd/engine/device.hpp"
#include "commands.hpp"
#include "herd/engine/cluster.hpp"
#include "herd/engine/gradient_check.hpp"
#include "herd/io/hdf5_file.hpp"
#include "herd/io/summary.hpp"
#include "herd/model/model.hpp"

namespace herd {
namespace {

Model load_model(const std::string& config) {
  ModelSpec spec = parse_model_config(config);
  Dataset data = read_dataset(spec);
  for (const auto& w : spec.warnings) fmt::print(stderr, "herd: warning: {}\n", located(spec.source, 0, 0, w));
  for (const auto& w : data.warnings) fmt::print(stderr, "herd: warning: {}\n", w);
  return Model(std::move(spec), std::move(data));
}

int run_check_gradient(const std::string& config, int points, std::uint64_t seed, const std::string& precision) {
  const Model model = load_model(config);
  const bool single = parse_choice(precision, Precision::kFloat64, Precision::kFloat32) == Precision::kFloat32;
  // float32 is compared with the same double finite differences; its own rounding sets the bar.
  const double tol = single ? 2e-3 : 1e-6;
  const GradientCheck r = single ? check_gradient<float>(model, points, seed) : check_gradient<double>(model, points, seed);
  fmt::print("{}: {} parameters, {} points uniform(-2, 2) on the unconstrained scale, {}\n", model.spec().name,
             model.dim(), r.points, precision);
  fmt::print("{:<20} {:>12}  {}\n", "block", "worst error", "at");
  for (const auto& b : r.blocks) fmt::print("{:<20} {:>12.3e}  {}\n", b.block, b.worst, b.worst_name);
  if (r.nonfinite_points > 0)
    fmt::print("{} point(s) skipped: log density not finite there\n", r.nonfinite_points);
  if (r.points == 0) {
    fmt::print("FAIL: no point with a finite log density\n");
    return 1;
  }
  const bool ok = r.worst <= tol;
  fmt::print("{}: worst relative error {:.3e} (threshold {:.0e})\n", ok ? "PASS" : "FAIL", r.worst, tol);
  return ok ? 0 : 1;
}

int run_describe(const std::string& config) {
  const Model model = load_model(config);
  const Dataset& d = model.dataset();
  fmt::print("# resolved config\n{}\n", to_toml(model.spec()));
  fmt::print("# data: {} — {} weeks ({} .. {}), {} geo(s), {} channel(s), {} control(s); outcome scale {}\n", d.source,
             d.T, d.dates.front(), d.dates.back(), d.G, d.C, d.K, d.outcome_scale);
  for (int c = 0; c < d.C; ++c) fmt::print("#   {:<24} scale {}\n", d.channels[c], d.media_scale[c]);
  fmt::print("\n# parameters ({} on the unconstrained scale)\n{}", model.dim(), model.describe());
  return 0;
}

int run_summarize(const std::string& file, const std::string& model, const std::string& csv) {
  if (!std::filesystem::exists(file)) throw InputError(located(file, 0, 0, "no such file"));
  std::vector<ModelReport> reports;
  try {
    reports = reports_with_priors(file, model);
  } catch (const InputError&) {
    throw;
  } catch (const std::exception& e) {
    throw InputError(located(file, 0, 0, std::string("not a readable herd output: ") + e.what()));
  }
  if (reports.size() == 1) {
    print_model_table(std::cout, reports.front());
    std::cout << "\n";
  }
  print_batch_table(std::cout, reports);
  if (!csv.empty()) write_summary_csv(csv, reports);
  return 0;
}

}  // namespace
}  // namespace herd

int main(int argc, char** argv) {
  // MPI (when this process joined it) ends with main, whichever way main ends.
  struct LeaveCluster {
    ~LeaveCluster() { herd::Cluster::finalize(); }
  } leave;
  herd::hdf5_no_cleanup_at_exit();
  CLI::App app{"herd: Bayesian media-mix models by the hundred"};
  app.set_version_flag("--version", std::string("herd ") + herd::kVersion);
  app.require_subcommand(1);

  std::string config, precision = "float64";
  int points = 10;
  std::uint64_t seed = 1;
  auto* check = app.add_subcommand("check-gradient", "Analytic vs finite-difference gradient at random points");
  check->add_option("CONFIG", config, "model config (TOML)")->required();
  check->add_option("--points", points, "number of random points")->check(CLI::PositiveNumber)->capture_default_str();
  check->add_option("--seed", seed, "random seed")->capture_default_str();
  check->add_option("--precision", precision, "float64 | float32")->check(CLI::IsMember({"float64", "float32"}));

  auto* describe = app.add_subcommand("describe", "Print the resolved config, the data summary and every parameter's prior");
  describe->add_option("CONFIG", config, "model config (TOML)")->required();

  herd::FitArgs fa;
  auto* fit = app.add_subcommand("fit", "Fit a model config or every model of a run file (NUTS or ChEES-HMC)");
  fit->add_option("CONFIG", fa.config, "model config or run file (TOML)")->required();
  fit->add_option("--out", fa.out, "HDF5 output file (overrides [run] output)");
  fit->add_option("--draws-csv", fa.draws_csv, "also write every draw as CSV (single model config)");
  fit->add_option("--device", fa.device, "cpu | cuda")->check(CLI::IsMember({"cpu", "cuda"}))->default_str("[run] device, else cpu");
  fit->add_option("--threads", fa.threads, "threads (0 = all cores)")->check(CLI::NonNegativeNumber)->default_str("[run] threads, else 0");
  fit->add_option("--precision", fa.precision, "float64 | float32")->check(CLI::IsMember({"float64", "float32"}))
      ->default_str("[run] precision, else float64");
  fit->add_option("--chunk", fa.chunk, "with --device cuda or float32: draws copied out every N iterations")
      ->check(CLI::Range(1, 100000))->capture_default_str();
  const herd::SamplerSpec sampler;
  auto from_config = [](auto v) { return fmt::format("the config's [sampler], else {}", v); };
  fit->add_option("--chains", fa.chains, "chains per model")->check(CLI::Range(1, herd::kMaxChains))
      ->default_str(from_config(sampler.chains));
  fit->add_option("--warmup", fa.warmup, "warmup iterations")->check(CLI::Range(0, herd::kMaxIterations))
      ->default_str(from_config(sampler.warmup));
  fit->add_option("--draws", fa.draws, "draws per chain")->check(CLI::Range(1, herd::kMaxIterations))
      ->default_str(from_config(sampler.draws));
  fit->add_option("--seed", fa.seed, "random seed")->check(CLI::NonNegativeNumber)->default_str(from_config(sampler.seed));
  fit->add_option("--algorithm", fa.algorithm, "nuts | chees")->check(CLI::IsMember({"nuts", "chees"}))
      ->default_str(from_config("nuts"));
  auto* resume_flag = fit->add_flag("--resume", fa.resume, "fit only the models the output file does not hold yet");
  fit->add_flag("--overwrite", fa.overwrite, "replace an existing output file (refused otherwise)")->excludes(resume_flag);
  fit->add_flag("--no-contributions", fa.no_contributions, "leave the posterior's contribution array out of the file");
  fit->add_flag("--quiet", fa.quiet, "no progress, only the summary");
  fit->add_option("--progress-every", fa.progress_every,
                  "off a terminal: seconds between a running model's progress lines")
      ->check(CLI::Range(0.0, 86400.0))->capture_default_str();
  const herd::ConvergenceChecks defaults;
  auto from_run = [](const char* key, double v) { return fmt::format("[run] {}, else {}", key, v); };
  fit->add_option("--max-rhat", fa.max_rhat, "a fit is ok only with every R-hat below this")
      ->check(CLI::Range(1.0, 1000.0))->default_str(from_run("max_rhat", defaults.max_rhat));
  fit->add_option("--min-ess", fa.min_ess, "... and every bulk and tail ESS above this")
      ->check(CLI::NonNegativeNumber)->default_str(from_run("min_ess", defaults.min_ess));
  fit->add_option("--max-divergences", fa.max_divergences, "... and at most this many divergences")
      ->check(CLI::NonNegativeNumber)->default_str(from_run("max_divergences", defaults.max_divergences));
  fit->add_option("--min-ebfmi", fa.min_ebfmi, "... and every chain's E-BFMI above this")
      ->check(CLI::Range(0.0, 10.0))->default_str(from_run("min_ebfmi", defaults.min_ebfmi));
  fit->add_flag("--strict", fa.strict, "exit 3 when any model is warn (failed its convergence checks) and none failed");
  fit->add_flag("--prior", fa.prior, "also write prior and prior_predictive groups (exact draws from the prior)");

  std::string sum_file, sum_model, sum_csv;
  auto* summarize = app.add_subcommand("summarize", "Summary tables of a herd output file");
  summarize->add_option("FILE", sum_file, "HDF5 file written by herd fit")->required();
  auto* sum_model_opt = summarize->add_option("--model", sum_model, "only this model, with its parameter table");
  bool sum_all = false;
  summarize->add_flag("--all", sum_all, "every model of the file (the default)")->excludes(sum_model_opt);
  summarize->add_option("--csv", sum_csv, "write one row per model and parameter");

  std::string an_file, an_model, an_out;
  bool an_all = false;
  auto* analyze = app.add_subcommand("analyze", "Contributions, ROI, response curves, adstock and prior contraction of fitted models");
  analyze->add_option("FILE", an_file, "HDF5 file written by herd fit")->required();
  auto* an_model_opt = analyze->add_option("--model", an_model, "the model to analyze");
  analyze->add_flag("--all", an_all, "every model of the file")->excludes(an_model_opt);
  analyze->add_option("--out", an_out, "also write CSV files and an HTML report per model under this folder");

  herd::OptimizeArgs oa;
  auto* optimize = app.add_subcommand("optimize", "Allocate a weekly budget across channels over the posterior");
  optimize->add_option("FILE", oa.file, "HDF5 file written by herd fit")->required();
  auto* opt_model = optimize->add_option("--model", oa.model, "the model");
  optimize->add_flag("--all", oa.all, "every model of the file that did not fail (--json then writes an array)")
      ->excludes(opt_model);
  auto* opt_budget = optimize->add_option("--budget", oa.budget, "weekly budget (default: the current average weekly total)")
      ->check(CLI::PositiveNumber);
  auto* opt_target = optimize->add_option("--target-mroi", oa.target_mroi,
                                          "how much to spend: the largest weekly budget whose best split still returns R "
                                          "per extra unit of spend (marginal ROI or ROAS)")
      ->check(CLI::PositiveNumber)->excludes(opt_budget);
  auto* opt_roi = optimize->add_option("--target-roi", oa.target_roi,
                                       "the largest weekly budget whose best split returns R per unit of spend on "
                                       "average (ROI or ROAS)")
      ->check(CLI::PositiveNumber)->excludes(opt_budget)->excludes(opt_target);
  auto* opt_cpa = optimize->add_option("--target-cpa", oa.target_cpa,
                                       "conversions: the largest weekly budget whose best split costs at most C per "
                                       "conversion on average")
      ->check(CLI::PositiveNumber)->excludes(opt_budget)->excludes(opt_target)->excludes(opt_roi);
  auto* opt_mcpa = optimize->add_option("--target-mcpa", oa.target_mcpa,
                                        "conversions: the largest weekly budget whose next conversion costs at most C")
      ->check(CLI::PositiveNumber)->excludes(opt_budget)->excludes(opt_target)->excludes(opt_roi)->excludes(opt_cpa);
  auto* opt_range = optimize->add_option("--budget-range", oa.budget_range,
                                         "LO:HI weekly budgets: the efficient frontier (expected outcome per budget)")
      ->excludes(opt_budget)->excludes(opt_target)->excludes(opt_roi)->excludes(opt_cpa)->excludes(opt_mcpa);
  optimize->add_option("--points", oa.points, "budgets on the frontier")
      ->check(CLI::Range(2, 1000))->capture_default_str()->needs(opt_range);
  optimize->add_flag("--per-geo", oa.per_geo,
                     "panels: each geo splits its own weekly budget (today's, unless --geo-budget "
                     "or --budget says otherwise); tables per geo and for the total")
      ->excludes(opt_target)->excludes(opt_roi)->excludes(opt_cpa)->excludes(opt_mcpa)->excludes(opt_range);
  optimize->add_option("--geo-budget", oa.geo_budgets,
                       "GEO=B weekly budget of one geo, or a ratio of its current total (GEO=1.1x); implies --per-geo "
                       "(with --budget, the other geos share the rest in proportion to their current totals)")
      ->excludes(opt_target)->excludes(opt_roi)->excludes(opt_cpa)->excludes(opt_mcpa)->excludes(opt_range);
  optimize->add_option("--bounds", oa.bounds,
                       "CHANNEL=LO:HI weekly spend, or ratios of current (CHANNEL=0.5x:2x); default +-30% of current "
                       "for a budget, 0 to 3x for the --target-* modes and --budget-range");
  optimize->add_option("--fix", oa.fixed, "channels held at their current weekly spend");
  optimize->add_option("--objective", oa.objective, "mean | q10 | cvar10 (mean of the worst 10% of draws)")
      ->check(CLI::IsMember({"mean", "q10", "cvar10"}))->capture_default_str();
  optimize->add_option("--move-confidence", oa.move_confidence,
                       "flag a channel whose move pays in fewer than this share of draws (its move is smaller than "
                       "its uncertainty)")
      ->check(CLI::Range(0.5, 1.0))->capture_default_str();
  optimize->add_option("--json", oa.json, "write the result as JSON (INTERFACE.md)");

  herd::SimulateArgs sa;
  auto* simulate = app.add_subcommand("simulate", "Datasets with known truth: CSV, fit configs and truth JSON");
  simulate->add_option("SCENARIO", sa.scenario, "scenario file (configs/scenarios/*.toml)");
  simulate->add_option("--from-prior", sa.from_prior, "draw the truth from this model config's prior, on its data's spends");
  simulate->add_option("--out", sa.out, "folder to write into")->required();
  simulate->add_option("--seed", sa.seed, "override the scenario's seed")->check(CLI::NonNegativeNumber);
  simulate->add_option("--replicates", sa.replicates, "number of datasets (named <name>_r001, ...)")
      ->check(CLI::PositiveNumber)->capture_default_str();

  herd::StudyArgs sta;
  auto* study = app.add_subcommand("study", "Recovery study: replicates of a scenario x model variants and baselines");
  study->add_option("STUDY", sta.study, "study file (configs/studies/*.toml)")->required();
  study->add_option("--replicates", sta.replicates, "override the study's replicates")->check(CLI::PositiveNumber)
      ->default_str("the study file's");
  study->add_option("--seed", sta.seed, "override the study's seed")->check(CLI::NonNegativeNumber)
      ->default_str("the study file's");
  study->add_option("--out", sta.out, "keep every fit in this HDF5 file");
  study->add_option("--csv", sta.csv, "write the summary CSV (and .replicates.csv, .png, .md beside it)");
  study->add_option("--threads", sta.threads, "threads (0 = all cores)")->check(CLI::NonNegativeNumber)->capture_default_str();
  study->add_flag("--quiet", sta.quiet, "no progress");
  study->add_flag("--overwrite", sta.overwrite, "replace an existing --out file (refused otherwise)");

  herd::SbcArgs sb;
  auto* sbc = app.add_subcommand("sbc", "Simulation-based calibration of a model config (prior draws, fits, rank uniformity)");
  sbc->add_option("CONFIG", sb.config, "model config (TOML)")->required();
  // --replicates as in simulate and study; --replications kept as the old spelling.
  sbc->add_option("--replicates,--replications", sb.replications, "prior draws to fit")->check(CLI::PositiveNumber)
      ->capture_default_str();
  sbc->add_option("--out", sb.out, "write ranks.csv, sbc.csv and the rank plots here");
  sbc->add_option("--chains", sb.chains, "chains per fit")->check(CLI::Range(1, herd::kMaxChains))
      ->default_str("the config's [sampler]");
  sbc->add_option("--warmup", sb.warmup, "warmup per chain")->check(CLI::Range(0, herd::kMaxIterations))
      ->default_str("the config's [sampler]");
  sbc->add_option("--draws", sb.draws, "draws per chain")->check(CLI::Range(1, herd::kMaxIterations))
      ->default_str("the config's [sampler]");
  sbc->add_option("--seed", sb.seed, "random seed")->check(CLI::NonNegativeNumber)->default_str("the config's [sampler]");
  sbc->add_option("--threads", sb.threads, "threads (0 = all cores)")->check(CLI::NonNegativeNumber)->capture_default_str();

  herd::CompareArgs ca;
  auto* compare = app.add_subcommand("compare", "Rank a file's models (e.g. a pooling sweep) by PSIS-LOO, and by recovery error");
  compare->add_option("FILE", ca.file, "HDF5 file written by herd fit")->required();
  compare->add_option("--truth", ca.truth, "truth JSON of herd simulate: also rank by recovery of contributions");
  compare->add_option("--csv", ca.csv, "write the ranking as CSV");

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }
  try {
    if (check->parsed()) return herd::run_check_gradient(config, points, seed, precision);
    if (describe->parsed()) return herd::run_describe(config);
    if (fit->parsed()) return herd::run_fit(fa);
    if (summarize->parsed()) return herd::run_summarize(sum_file, sum_model, sum_csv);
    if (analyze->parsed()) return herd::run_analyze(an_file, an_model, an_all, an_out);
    if (optimize->parsed()) return herd::run_optimize(oa);
    if (simulate->parsed()) return herd::run_simulate(sa);
    if (study->parsed()) return herd::run_study(sta);
    if (sbc->parsed()) return herd::run_sbc(sb);
    if (compare->parsed()) return herd::run_compare(ca);
  } catch (const herd::InputError& e) {
    fmt::print(stderr, "herd: error: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "herd: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
