// Honest status: a fit whose diagnostics fail its convergence checks is `warn` (with what
// failed) in the output, the report and the batch counts; undefined diagnostics never pass;
// contraction from unconverged draws is not a prior-dominance flag.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <random>
#include <sstream>
#include <string>

#include "herd/config/model_config.hpp"
#include "herd/data/dataset.hpp"
#include "herd/engine/batch.hpp"
#include "herd/engine/fit.hpp"
#include "herd/io/hdf5_file.hpp"
#include "herd/io/output_store.hpp"
#include "herd/io/summary.hpp"
#include "herd/output/model_report.hpp"

namespace fs = std::filesystem;

namespace herd {
namespace {

// A model output of `C` chains x `D` draws: parameters "a" (iid normal, or with chain 0
// shifted by `shift`) and "fixed" (constant), `divergences` divergent draws, energies iid
// normal (E-BFMI near 2).
ModelOutput synthetic(int C, int D, double shift = 0, int divergences = 0, std::uint32_t seed = 1) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z;
  ModelOutput m;
  m.name = "synthetic";
  DataGroup post, ss;
  post.name = "posterior";
  ss.name = "sample_stats";
  Coord chain{"chain", {}, {}, ""}, draw{"draw", {}, {}, ""};
  for (int c = 0; c < C; ++c) chain.ints.push_back(c);
  for (int d = 0; d < D; ++d) draw.ints.push_back(d);
  post.coords = {chain, draw};
  ss.coords = {chain, draw};
  Variable a{"a", {"chain", "draw"}, {}, VarType::kFloat64, {}}, fixed{"fixed", {"chain", "draw"}, {}, VarType::kFloat64, {}};
  Variable div{"diverging", {"chain", "draw"}, {}, VarType::kBool, {}}, energy{"energy", {"chain", "draw"}, {}, VarType::kFloat64, {}};
  for (int c = 0; c < C; ++c)
    for (int d = 0; d < D; ++d) {
      a.values.push_back(z(rng) + (c == 0 ? shift : 0));
      fixed.values.push_back(2.5);
      div.values.push_back(c * D + d < divergences ? 1 : 0);
      energy.values.push_back(z(rng));
    }
  post.vars = {a, fixed};
  ss.vars = {div, energy};
  m.groups = {post, ss};
  return m;
}

TEST(FitStatus, TextRoundTrips) {
  for (const FitStatus& s : {FitStatus{}, FitStatus::warn("r_hat 1.2 > 1.01 (a)"), FitStatus::failed("no initial point")})
    EXPECT_EQ(FitStatus::parse(s.text()), s) << s.text();
  EXPECT_EQ(FitStatus{}.text(), "ok");
  EXPECT_EQ(FitStatus::warn("x").text(), "warn: x");
  EXPECT_EQ(FitStatus::failed("x").text(), "failed: x");
  // A status this version does not know is never taken for a good one.
  EXPECT_EQ(FitStatus::parse("okay").state, FitState::kFailed);
  EXPECT_EQ(FitStatus::parse("").state, FitState::kFailed);
}

TEST(FitStatus, ConvergedDrawsPassTheChecks) {
  ModelOutput m = synthetic(4, 1000);
  judge(m, ConvergenceChecks{});
  EXPECT_EQ(m.status.text(), "ok");
  const ModelReport r = report(m);
  EXPECT_LT(r.max_rhat, 1.01);
  EXPECT_GT(r.min_ess_bulk, 400);
  // The constant parameter has no R-hat and does not make the fit undefined.
  ASSERT_EQ(r.params.size(), 2u);
  EXPECT_TRUE(r.params[1].constant);
  EXPECT_TRUE(r.params[1].converged);
}

TEST(FitStatus, EachFailedCheckIsNamed) {
  ModelOutput stuck = synthetic(4, 1000, 3.0);
  judge(stuck, ConvergenceChecks{});
  EXPECT_EQ(stuck.status.state, FitState::kWarn);
  EXPECT_NE(stuck.status.reason.find("r_hat "), std::string::npos) << stuck.status.reason;
  EXPECT_NE(stuck.status.reason.find("> 1.01 (a)"), std::string::npos) << stuck.status.reason;

  ModelOutput diverged = synthetic(4, 1000, 0, 32);
  judge(diverged, ConvergenceChecks{});
  EXPECT_EQ(diverged.status.text(), "warn: 32 divergences");
  ConvergenceChecks lenient;
  lenient.max_divergences = 32;
  judge(diverged, lenient);
  EXPECT_EQ(diverged.status.text(), "ok");

  ModelOutput few = synthetic(4, 100);  // 400 iid draws: ESS about 400
  ConvergenceChecks strict;
  strict.min_ess = 1000;
  judge(few, strict);
  EXPECT_EQ(few.status.state, FitState::kWarn);
  EXPECT_NE(few.status.reason.find("bulk ESS "), std::string::npos) << few.status.reason;
  EXPECT_NE(few.status.reason.find(" < 1,000 (a)"), std::string::npos) << few.status.reason;

  ConvergenceChecks bfmi;
  bfmi.min_ebfmi = 5;  // iid energies give E-BFMI near 2
  ModelOutput low = synthetic(4, 1000);
  judge(low, bfmi);
  EXPECT_NE(low.status.reason.find("E-BFMI "), std::string::npos) << low.status.reason;
  EXPECT_NE(low.status.reason.find("in 4 chains"), std::string::npos) << low.status.reason;
}

TEST(FitStatus, UndefinedDiagnosticsNeverPass) {
  ModelOutput one = synthetic(4, 1);
  ConvergenceChecks anything;
  anything.max_rhat = 99;
  anything.min_ess = 0;
  anything.max_divergences = 1000;
  anything.min_ebfmi = 0;
  judge(one, anything);
  EXPECT_EQ(one.status.state, FitState::kWarn);
  EXPECT_NE(one.status.reason.find("r_hat undefined"), std::string::npos) << one.status.reason;
  EXPECT_NE(one.status.reason.find("E-BFMI undefined in 4 chains"), std::string::npos) << one.status.reason;
  const ModelReport r = report(one);
  EXPECT_TRUE(std::isnan(r.max_rhat));
  EXPECT_TRUE(std::isnan(r.min_ess_bulk));
  std::ostringstream table;
  print_batch_table(table, {r});
  EXPECT_EQ(table.str().find("inf"), std::string::npos) << table.str();
  EXPECT_EQ(table.str().find("0.000"), std::string::npos) << table.str();
  EXPECT_NE(table.str().find("0 ok, 1 warn, 0 failed of 1 models"), std::string::npos) << table.str();
}

TEST(FitStatus, FilesWithoutChecksAreJudgedOnReading) {
  // Written before `warn` existed: "ok" whatever the draws said.
  ModelOutput old = synthetic(4, 1000, 3.0);
  EXPECT_EQ(report(old).status.state, FitState::kWarn);
  // A stored verdict is the truth of its file.
  ModelOutput judged = synthetic(4, 1000, 3.0);
  ConvergenceChecks lenient;
  lenient.max_rhat = 99;
  lenient.min_ess = 0;
  judge(judged, lenient);
  EXPECT_EQ(judged.status.text(), "ok");
  EXPECT_EQ(report(judged).status.text(), "ok");
  EXPECT_EQ(report(judged).checks.max_rhat, 99);
}

TEST(FitStatus, ContractionOfUnconvergedDrawsIsUnreliable) {
  ModelOutput stuck = synthetic(4, 1000, 3.0);
  judge(stuck, ConvergenceChecks{});
  ModelReport r = report(stuck);
  r.prior_checked = true;
  r.params[0].contraction = -8.4;
  EXPECT_FALSE(r.params[0].converged);
  EXPECT_FALSE(r.params[0].prior_dominated());
  EXPECT_TRUE(r.params[0].contraction_unreliable());
  std::ostringstream table;
  print_model_table(table, r);
  EXPECT_NE(table.str().find("unreliable *"), std::string::npos) << table.str();
  EXPECT_EQ(table.str().find("prior-dominated"), std::string::npos) << table.str();
}

std::unique_ptr<Model> example(const std::string& name) {
  ModelSpec spec = parse_model_config(std::string(HERD_SOURCE_DIR) + "/configs/examples/" + name + ".toml");
  Dataset d = read_dataset(spec);
  return std::make_unique<Model>(std::move(spec), std::move(d));
}

TEST(FitStatus, AnUnconvergedFitIsWarnInTheFileAndTheCounts) {
  const auto model = example("dtc_paid_social_tuned");
  SamplerOptions o = options_from(model->spec());
  o.warmup = 10;
  o.draws = 10;
  const fs::path dir = fs::temp_directory_path() / "herd_status_test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string file = (dir / "out.h5").string();
  BatchOptions bo;
  bo.threads = 2;
  {
    OutputStore store(file);
    store.begin(false);
    const BatchResult r = run_batch({{model.get(), o, {}}}, bo, store);
    EXPECT_EQ(r.ok, 0);
    EXPECT_EQ(r.warn, 1);
    EXPECT_EQ(r.failed, 0);
    store.finish({model->spec().name});
  }
  const ModelOutput back = read_model(file, model->spec().name);
  EXPECT_EQ(back.status.state, FitState::kWarn);
  EXPECT_NE(back.status.reason.find("r_hat"), std::string::npos) << back.status.text();
  EXPECT_EQ(back.real_attrs.at("check_max_rhat"), 1.01);
  EXPECT_EQ(back.int_attrs.at("check_max_divergences"), 0);
  EXPECT_FALSE(back.groups.empty());  // a warned fit keeps every draw

  // The same draws under checks they pass are ok: the status follows the checks, nothing else.
  MemorySink sink;
  bo.checks.max_rhat = 100;
  bo.checks.min_ess = 0;
  bo.checks.max_divergences = 1000000;
  bo.checks.min_ebfmi = 0;
  const BatchResult lenient = run_batch({{model.get(), o, {}}}, bo, sink);
  EXPECT_EQ(lenient.ok, 1) << sink.models().front().status.text();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace herd
