// Agreement with posteriordb's reference posteriors (Stan, 10 chains x 10k draws): for every
// parameter, herd's mean and mean of squares within 4 sqrt(mcse_herd^2 + mcse_ref^2) of the
// reference, and R-hat < 1.01. Regressions go through the real pipeline (CSV + TOML written
// here, then the config parser, the CSV reader, Model and fit_model); eight schools and the
// no-intercept regression, which the MMM family cannot express, are test-only targets.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "herd/config/model_config.hpp"
#include "herd/data/dataset.hpp"
#include "herd/diagnostics/diagnostics.hpp"
#include "herd/engine/fit.hpp"
#include "herd/engine/fit_target.hpp"

namespace herd {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kDb = fs::path(HERD_REFDATA_DIR) / "posteriordb";

// posteriordb ships its data zipped; Python's zipfile reads it (python3 is a dependency).
json read_zip_json(const fs::path& zip) {
  const std::string cmd = "python3 -c \"import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); "
                          "sys.stdout.write(z.read(z.namelist()[0]).decode())\" '" + zip.string() + "'";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("cannot run python3");
  std::string text;
  char buf[65536];
  size_t got;
  while ((got = fread(buf, 1, sizeof buf, p)) > 0) text.append(buf, got);
  if (pclose(p) != 0) throw std::runtime_error("cannot read " + zip.string());
  return json::parse(text);
}

json read_json(const fs::path& f) {
  std::ifstream in(f);
  return json::parse(in);
}

struct Reference {
  std::map<std::string, double> mean, mean_mcse, sq, sq_mcse;
};

Reference reference(const std::string& posterior) {
  Reference r;
  const fs::path dir = kDb / posterior;
  if (fs::exists(dir / "reference_mean_value.json")) {
    const json m = read_json(dir / "reference_mean_value.json");
    for (size_t i = 0; i < m["names"].size(); ++i) {
      r.mean[m["names"][i]] = m["mean_value"][i];
      r.mean_mcse[m["names"][i]] = m["mcse_mean"][i];
    }
  }
  const json s = read_json(dir / "reference_mean_squared_value.json");
  for (size_t i = 0; i < s["names"].size(); ++i) {
    r.sq[s["names"][i]] = s["mean_squared_value"][i];
    r.sq_mcse[s["names"][i]] = s["mcse_mean"][i];
  }
  return r;
}

// Draws of named quantities, chain-major per name.
using Draws = std::map<std::string, std::vector<double>>;

void expect_agreement(const Draws& draws, int chains, int per_chain, const Reference& ref) {
  ASSERT_FALSE(ref.mean.empty());
  for (const auto& [name, ref_mean] : ref.mean) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(draws.count(name)) << "no draws for " << name;
    const std::vector<double>& x = draws.at(name);
    std::vector<double> sq(x.size());
    double m = 0, m2 = 0;
    for (size_t k = 0; k < x.size(); ++k) {
      sq[k] = x[k] * x[k];
      m += x[k] / static_cast<double>(x.size());
      m2 += sq[k] / static_cast<double>(x.size());
    }
    const double se = std::hypot(mcse_mean(x.data(), chains, per_chain), ref.mean_mcse.at(name));
    const double se2 = std::hypot(mcse_mean(sq.data(), chains, per_chain), ref.sq_mcse.at(name));
    EXPECT_LE(std::abs(m - ref_mean), 4 * se) << "mean " << m << " vs " << ref_mean;
    EXPECT_LE(std::abs(m2 - ref.sq.at(name)), 4 * se2) << "mean of squares " << m2 << " vs " << ref.sq.at(name);
    EXPECT_LT(rhat(x.data(), chains, per_chain), 1.01);
  }
}

class PosteriorDb : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kDb)) GTEST_SKIP() << "no posteriordb references at " << kDb;
    dir_ = fs::temp_directory_path() / ("herd_pdb_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // Writes `columns` as a CSV with an integer week column, and a model config around it.
  std::unique_ptr<Model> regression(const std::map<std::string, std::vector<double>>& columns, const std::string& toml) {
    const size_t n = columns.begin()->second.size();
    std::ofstream csv(dir_ / "data.csv");
    csv << "week";
    for (const auto& [k, v] : columns) csv << "," << k;
    csv << "\n";
    csv.precision(17);
    for (size_t i = 0; i < n; ++i) {
      csv << i + 1;
      for (const auto& [k, v] : columns) csv << "," << v[i];
      csv << "\n";
    }
    csv.close();
    std::ofstream(dir_ / "model.toml") << toml;
    ModelSpec spec = parse_model_config(dir_ / "model.toml");
    Dataset data = read_dataset(spec);
    return std::make_unique<Model>(std::move(spec), std::move(data));
  }

  // Fits and renames herd's outputs to posteriordb's names.
  static Draws fit(const Model& m, const std::map<std::string, std::string>& rename, int* chains, int* draws) {
    SamplerOptions opt;
    opt.seed = 20240101;
    const FitResult r = fit_model(m, opt);
    const auto names = output_names(m);
    Draws out;
    std::vector<double> row(names.size());
    for (const auto& c : r.chains)
      for (int d = 0; d < r.draws; ++d) {
        outputs(m, &c.theta[static_cast<size_t>(d * r.dim)], row.data());
        for (size_t k = 0; k < names.size(); ++k)
          if (rename.count(names[k])) out[rename.at(names[k])].push_back(row[k]);
      }
    *chains = static_cast<int>(r.chains.size());
    *draws = r.draws;
    return out;
  }

  fs::path dir_;
};

const char* kRegressionToml = R"toml(
name = "%s"
[data]
path = "data.csv"
outcome = "%s"
media_scale = "none"
outcome_scale = "none"
[media]
channels = [%s]
effect_sign = "free"
[likelihood]
type = "%s"
[priors]
intercept = "flat()"
beta = "flat()"
sigma = "%s"
)toml";

std::string format_toml(const std::string& name, const std::string& outcome, const std::string& channels,
                        const std::string& likelihood, const std::string& sigma) {
  char buf[1024];
  std::snprintf(buf, sizeof buf, kRegressionToml, name.c_str(), outcome.c_str(), channels.c_str(), likelihood.c_str(),
                sigma.c_str());
  return buf;
}

std::vector<double> vec(const json& j) { return j.get<std::vector<double>>(); }

TEST_F(PosteriorDb, KidiqMomiq) {
  const json d = read_zip_json(kDb / "kidiq-kidscore_momiq" / "kidiq.json.zip");
  // sigma ~ cauchy(0, 2.5) on sigma > 0 is a half-Cauchy: half_student_t(1, 2.5).
  auto m = regression({{"kid_score", vec(d["kid_score"])}, {"mom_iq", vec(d["mom_iq"])}},
                      format_toml("kidscore_momiq", "kid_score", "\"mom_iq\"", "normal", "half_student_t(1, 2.5)"));
  int chains = 0, draws = 0;
  const Draws x = fit(*m, {{"intercept", "beta[1]"}, {"beta[mom_iq]", "beta[2]"}, {"sigma", "sigma"}}, &chains, &draws);
  expect_agreement(x, chains, draws, reference("kidiq-kidscore_momiq"));
}

TEST_F(PosteriorDb, KidiqInteraction) {
  const json d = read_zip_json(kDb / "kidiq-kidscore_interaction" / "kidiq.json.zip");
  std::vector<double> hs = vec(d["mom_hs"]), iq = vec(d["mom_iq"]), inter(hs.size());
  for (size_t i = 0; i < hs.size(); ++i) inter[i] = hs[i] * iq[i];
  auto m = regression({{"kid_score", vec(d["kid_score"])}, {"mom_hs", hs}, {"mom_iq", iq}, {"inter", inter}},
                      format_toml("kidscore_interaction", "kid_score", "\"mom_hs\", \"mom_iq\", \"inter\"", "normal",
                                  "half_student_t(1, 2.5)"));
  int chains = 0, draws = 0;
  const Draws x = fit(*m,
                      {{"intercept", "beta[1]"},
                       {"beta[mom_hs]", "beta[2]"},
                       {"beta[mom_iq]", "beta[3]"},
                       {"beta[inter]", "beta[4]"},
                       {"sigma", "sigma"}},
                      &chains, &draws);
  expect_agreement(x, chains, draws, reference("kidiq-kidscore_interaction"));
}

TEST_F(PosteriorDb, EarningsLogHeight) {
  // log_earn ~ normal(beta1 + beta2 height, sigma) is herd's lognormal likelihood on earn.
  const json d = read_zip_json(kDb / "earnings-logearn_height" / "earnings.json.zip");
  auto m = regression({{"earn", vec(d["earn"])}, {"height", vec(d["height"])}},
                      format_toml("logearn_height", "earn", "\"height\"", "lognormal", "flat()"));
  int chains = 0, draws = 0;
  const Draws x = fit(*m, {{"intercept", "beta[1]"}, {"beta[height]", "beta[2]"}, {"sigma", "sigma"}}, &chains, &draws);
  expect_agreement(x, chains, draws, reference("earnings-logearn_height"));
}

// Eight schools, non-centered and centered, as test-only targets.
struct EightSchools {
  std::vector<double> y, sigma;
  bool centered;
  // q = (theta or theta_trans [8], mu, log tau)
  double operator()(const double* q, double* g, double*) const {
    const int J = 8;
    const double mu = q[J], ltau = q[J + 1], tau = std::exp(ltau);
    double lp = 0, g_mu = 0, g_tau = 0;
    for (int j = 0; j < J; ++j) {
      double theta, dtheta_dq = 1;
      if (centered) {
        theta = q[j];
        const double z = (theta - mu) / tau;
        lp += -std::log(tau) - 0.5 * z * z;  // theta ~ normal(mu, tau)
        g[j] = -z / tau;
        g_mu += z / tau;
        g_tau += (z * z - 1) / tau;
      } else {
        theta = q[j] * tau + mu;
        lp += -0.5 * q[j] * q[j];  // theta_trans ~ normal(0, 1)
        g[j] = -q[j];
        dtheta_dq = tau;
      }
      const double r = (y[static_cast<size_t>(j)] - theta) / sigma[static_cast<size_t>(j)];
      lp += -0.5 * r * r;
      const double gt = r / sigma[static_cast<size_t>(j)];  // d/dtheta
      g[j] += gt * dtheta_dq;
      if (!centered) {
        g_mu += gt;
        g_tau += gt * q[j];
      }
    }
    lp += -0.5 * (mu / 5) * (mu / 5);  // mu ~ normal(0, 5)
    g_mu += -mu / 25;
    lp += -std::log1p((tau / 5) * (tau / 5));  // tau ~ cauchy(0, 5), tau > 0
    g_tau += -2 * tau / 25 / (1 + (tau / 5) * (tau / 5));
    lp += ltau;  // Jacobian of tau = exp(log tau)
    g[J] = g_mu;
    g[J + 1] = g_tau * tau + 1;
    return lp;
  }
};

Draws eight_schools_draws(const FitResult& r, bool centered) {
  Draws out;
  for (const auto& c : r.chains)
    for (int d = 0; d < r.draws; ++d) {
      const double* q = &c.theta[static_cast<size_t>(d * r.dim)];
      const double tau = std::exp(q[9]);
      for (int j = 0; j < 8; ++j)
        out["theta[" + std::to_string(j + 1) + "]"].push_back(centered ? q[j] : q[j] * tau + q[8]);
      out["mu"].push_back(q[8]);
      out["tau"].push_back(tau);
    }
  return out;
}

TEST_F(PosteriorDb, EightSchoolsNoncentered) {
  const json d = read_zip_json(kDb / "eight_schools-eight_schools_noncentered" / "eight_schools.json.zip");
  const EightSchools t{vec(d["y"]), vec(d["sigma"]), false};
  SamplerOptions opt;
  opt.seed = 8;
  const FitResult r = fit_target(t, 10, 0, opt, "eight_schools_noncentered");
  expect_agreement(eight_schools_draws(r, false), opt.chains, opt.draws, reference("eight_schools-eight_schools_noncentered"));
}

TEST_F(PosteriorDb, EightSchoolsCenteredReportsDivergences) {
  // The funnel: Stan itself diverges here; herd must report it, not hide it.
  const json d = read_zip_json(kDb / "eight_schools-eight_schools_centered" / "eight_schools.json.zip");
  const EightSchools t{vec(d["y"]), vec(d["sigma"]), true};
  SamplerOptions opt;
  opt.seed = 8;
  const FitResult r = fit_target(t, 10, 0, opt, "eight_schools_centered");
  const SamplerHealth h = health(r, opt.max_depth);
  EXPECT_GT(h.divergences, 0);
  int chain_with = 0;
  for (const auto& c : r.chains) {
    int n = 0;
    for (auto v : c.diverging) n += v;
    chain_with += n > 0;
  }
  EXPECT_GE(chain_with, 1);
}

// sblrc-blr: y ~ normal(X beta, sigma), no intercept; beta ~ normal(0, 10), sigma ~ normal+(0, 10).
struct Blr {
  int N, D;
  std::vector<double> X, y;
  double operator()(const double* q, double* g, double*) const {
    const double ls = q[D], s = std::exp(ls);
    double lp = 0, g_s = 0;
    for (int k = 0; k < D; ++k) {
      lp += -0.5 * (q[k] / 10) * (q[k] / 10);
      g[k] = -q[k] / 100;
    }
    for (int i = 0; i < N; ++i) {
      double mu = 0;
      for (int k = 0; k < D; ++k) mu += X[static_cast<size_t>(i * D + k)] * q[k];
      const double r = (y[static_cast<size_t>(i)] - mu) / s;
      lp += -std::log(s) - 0.5 * r * r;
      for (int k = 0; k < D; ++k) g[k] += r / s * X[static_cast<size_t>(i * D + k)];
      g_s += (r * r - 1) / s;
    }
    lp += -0.5 * (s / 10) * (s / 10);
    g_s += -s / 100;
    lp += ls;
    g[D] = g_s * s + 1;
    return lp;
  }
};

TEST_F(PosteriorDb, SimulatedBlr) {
  const json d = read_zip_json(kDb / "sblrc-blr" / "sblrc.json.zip");
  Blr t;
  t.N = d["N"];
  t.D = d["D"];
  for (const auto& row : d["X"])
    for (const auto& v : row) t.X.push_back(v);
  t.y = vec(d["y"]);
  SamplerOptions opt;
  opt.seed = 9;
  const FitResult r = fit_target(t, t.D + 1, 0, opt, "blr");
  Draws x;
  for (const auto& c : r.chains)
    for (int dd = 0; dd < r.draws; ++dd) {
      const double* q = &c.theta[static_cast<size_t>(dd * r.dim)];
      for (int k = 0; k < t.D; ++k) x["beta[" + std::to_string(k + 1) + "]"].push_back(q[k]);
      x["sigma"].push_back(std::exp(q[t.D]));
    }
  expect_agreement(x, opt.chains, opt.draws, reference("sblrc-blr"));
}

}  // namespace
}  // namespace herd
