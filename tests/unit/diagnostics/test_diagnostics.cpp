// Diagnostics against ArviZ on fixed draws (tests/data/diagnostics, produced by
// make_reference.py there), plus properties that do not depend on a reference.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "herd/diagnostics/diagnostics.hpp"

namespace {

using nlohmann::json;

const std::string kDataDir = HERD_SOURCE_DIR "/tests/data/diagnostics/";

// Tolerances, relative to the ArviZ value. Both sides run the same deterministic algorithm on
// bit-identical inputs; what remains is summation order (numpy sums pairwise), FFT rounding
// (pocketfft vs ours) and the normal / beta quantile functions (AS241 vs cephes, bisection
// vs Boost). Worst relative errors measured over all cases (ArviZ 0.23.4, numpy 2.4.6):
// R-hat 1.8e-16, ESS 1.0e-14 (ess_sd; the others <= 3.3e-15), MCSE 4.7e-15 (the quantile
// MCSEs match exactly), mean/sd/E-BFMI 2.8e-15, HDI and nested R-hat exact. The bounds leave
// a margin of 20-100x and sit far inside the 1e-8 (R-hat, MCSE) and 1e-6 (ESS) needed.
constexpr double kRhatRel = 1e-14;
constexpr double kEssRel = 1e-12;
constexpr double kMcseRel = 1e-13;
constexpr double kMomentRel = 1e-13;  // mean, sd, hdi bounds, E-BFMI
constexpr double kNestedRel = 1e-13;

struct Case {
  std::string name;
  int chains = 0;
  int draws = 0;
  std::vector<double> x;  // chain-major
  json ref;
};

std::vector<double> read_csv_rows(const std::string& path, int& rows, int& cols) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<double> values;
  std::string line;
  rows = 0;
  cols = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::stringstream ss(line);
    std::string cell;
    int n = 0;
    while (std::getline(ss, cell, ',')) {
      values.push_back(std::strtod(cell.c_str(), nullptr));  // correctly rounded, as Python's float()
      ++n;
    }
    if (rows > 0 && n != cols) throw std::runtime_error("ragged row in " + path);
    cols = n;
    ++rows;
  }
  return values;
}

const json& expected() {
  static const json j = [] {
    std::ifstream in(kDataDir + "expected.json");
    if (!in) throw std::runtime_error("cannot open expected.json");
    return json::parse(in);
  }();
  return j;
}

Case load_case(const std::string& name) {
  Case c;
  c.name = name;
  c.x = read_csv_rows(kDataDir + name + ".csv", c.chains, c.draws);
  c.ref = expected().at("cases").at(name);
  if (c.ref.at("chains").get<int>() != c.chains || c.ref.at("draws").get<int>() != c.draws) {
    throw std::runtime_error(name + ": CSV shape disagrees with expected.json");
  }
  return c;
}

// JSON null stands for ArviZ's NaN.
void expect_close(double actual, const json& want, double rel, const std::string& what) {
  if (want.is_null()) {
    EXPECT_TRUE(std::isnan(actual)) << what << ": ArviZ gives NaN, got " << actual;
    return;
  }
  const double e = want.get<double>();
  const double err = std::fabs(actual - e) / std::fabs(e);
  EXPECT_LE(err, rel) << what << ": got " << actual << ", ArviZ " << e << ", relative error " << err;
}

class ArvizReference : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { c_ = load_case(GetParam()); }
  Case c_;
};

TEST_P(ArvizReference, RhatMatches) {
  expect_close(herd::rhat(c_.x.data(), c_.chains, c_.draws), c_.ref["rhat"], kRhatRel, "rhat");
}

TEST_P(ArvizReference, EssMatches) {
  const double* x = c_.x.data();
  expect_close(herd::ess_bulk(x, c_.chains, c_.draws), c_.ref["ess_bulk"], kEssRel, "ess_bulk");
  expect_close(herd::ess_tail(x, c_.chains, c_.draws), c_.ref["ess_tail"], kEssRel, "ess_tail");
  expect_close(herd::ess_mean(x, c_.chains, c_.draws), c_.ref["ess_mean"], kEssRel, "ess_mean");
  expect_close(herd::ess_sd(x, c_.chains, c_.draws), c_.ref["ess_sd"], kEssRel, "ess_sd");
  expect_close(herd::ess_quantile(x, c_.chains, c_.draws, 0.05), c_.ref["ess_quantile_05"], kEssRel,
               "ess_quantile(0.05)");
  expect_close(herd::ess_quantile(x, c_.chains, c_.draws, 0.5), c_.ref["ess_quantile_50"], kEssRel,
               "ess_quantile(0.5)");
}

TEST_P(ArvizReference, McseMatches) {
  const double* x = c_.x.data();
  expect_close(herd::mcse_mean(x, c_.chains, c_.draws), c_.ref["mcse_mean"], kMcseRel, "mcse_mean");
  expect_close(herd::mcse_sd(x, c_.chains, c_.draws), c_.ref["mcse_sd"], kMcseRel, "mcse_sd");
  expect_close(herd::mcse_quantile(x, c_.chains, c_.draws, 0.05), c_.ref["mcse_quantile_05"], kMcseRel,
               "mcse_quantile(0.05)");
  expect_close(herd::mcse_quantile(x, c_.chains, c_.draws, 0.5), c_.ref["mcse_quantile_50"], kMcseRel,
               "mcse_quantile(0.5)");
}

TEST_P(ArvizReference, SummaryMatches) {
  const herd::Summary s = herd::summarize(c_.x.data(), c_.chains, c_.draws, 0.94);
  const json& r = c_.ref["summary"];
  expect_close(s.mean, r["mean"], kMomentRel, "mean");
  expect_close(s.sd, r["sd"], kMomentRel, "sd");
  expect_close(s.hdi_low, r["hdi_low"], kMomentRel, "hdi_3%");
  expect_close(s.hdi_high, r["hdi_high"], kMomentRel, "hdi_97%");
  expect_close(s.mcse_mean, r["mcse_mean"], kMcseRel, "summary mcse_mean");
  expect_close(s.mcse_sd, r["mcse_sd"], kMcseRel, "summary mcse_sd");
  expect_close(s.ess_bulk, r["ess_bulk"], kEssRel, "summary ess_bulk");
  expect_close(s.ess_tail, r["ess_tail"], kEssRel, "summary ess_tail");
  expect_close(s.r_hat, r["r_hat"], kRhatRel, "summary r_hat");
}

TEST_P(ArvizReference, EbfmiPerChainMatches) {
  const json& want = c_.ref["bfmi"];
  ASSERT_EQ(want.size(), static_cast<std::size_t>(c_.chains));
  for (int c = 0; c < c_.chains; ++c) {
    const double got = herd::ebfmi(c_.x.data() + static_cast<std::size_t>(c) * c_.draws, c_.draws);
    expect_close(got, want[static_cast<std::size_t>(c)], kMomentRel, "bfmi chain " + std::to_string(c));
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, ArvizReference,
                         ::testing::Values("iid_normal", "ar1_rho09", "shifted_means", "student_t2",
                                           "odd_draws", "many_short", "single_chain", "ties",
                                           "tiny_odd"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

TEST(NestedRhatReference, MatchesPaperTranscription) {
  for (const char* name : {"many_short", "ar1_rho09"}) {
    const Case c = load_case(name);
    const json& n = c.ref.at("nested_rhat");
    const double got = herd::nested_rhat(c.x.data(), c.chains, c.draws, n.at("superchains").get<int>());
    expect_close(got, n.at("value"), kNestedRel, std::string(name) + " nested_rhat");
  }
}

TEST(ArvizReferenceData, EveryCaseIsTested) {
  EXPECT_EQ(expected().at("cases").size(), 9u) << "a case was added to make_reference.py; list it above";
}

// ---- properties -----------------------------------------------------------------------

std::vector<double> normal_draws(int chains, int draws, unsigned seed, double rho = 0.0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z(0.0, 1.0);
  std::vector<double> x(static_cast<std::size_t>(chains) * draws);
  const double scale = std::sqrt(1.0 - rho * rho);
  for (int c = 0; c < chains; ++c) {
    double prev = z(rng);
    for (int d = 0; d < draws; ++d) {
      prev = rho * prev + scale * z(rng);
      x[static_cast<std::size_t>(c) * draws + d] = prev;
    }
  }
  return x;
}

TEST(RhatProperties, NearOneForIidAndLargeForAShiftedChain) {
  std::vector<double> x = normal_draws(4, 1000, 1);
  EXPECT_LT(herd::rhat(x.data(), 4, 1000), 1.01);
  for (int d = 0; d < 1000; ++d) x[3 * 1000 + d] += 2.0;
  EXPECT_GT(herd::rhat(x.data(), 4, 1000), 1.1);
}

TEST(RhatProperties, SplittingCatchesATrendSharedByAllChains) {
  // Every chain drifts the same way, so chain means agree and only the split exposes it.
  std::vector<double> x = normal_draws(4, 1000, 2);
  for (int c = 0; c < 4; ++c) {
    for (int d = 0; d < 1000; ++d) x[static_cast<std::size_t>(c) * 1000 + d] += 3.0 * d / 1000.0;
  }
  EXPECT_GT(herd::rhat(x.data(), 4, 1000), 1.1);
}

TEST(RhatProperties, FoldingCatchesAChainWithTheWrongScale) {
  // Same location, one chain four times wider: bulk R-hat misses it, the folded one does not.
  std::vector<double> x = normal_draws(4, 1000, 3);
  for (int d = 0; d < 1000; ++d) x[1000 + d] *= 4.0;
  EXPECT_GT(herd::rhat(x.data(), 4, 1000), 1.1);
}

TEST(RhatProperties, OddDrawsIgnoreTheMiddleDraw) {
  std::vector<double> x = normal_draws(4, 101, 4);
  const double r = herd::rhat(x.data(), 4, 101);
  const double e = herd::ess_bulk(x.data(), 4, 101);
  for (int c = 0; c < 4; ++c) x[static_cast<std::size_t>(c) * 101 + 50] = 1e6 * (c + 1);
  EXPECT_EQ(herd::rhat(x.data(), 4, 101), r);
  EXPECT_EQ(herd::ess_bulk(x.data(), 4, 101), e);
}

TEST(RhatProperties, InvariantUnderMonotoneTransforms) {
  // Rank normalization: only the order of the draws matters.
  const std::vector<double> x = normal_draws(4, 200, 5, 0.5);
  std::vector<double> y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) y[i] = std::exp(3.0 * x[i]);
  EXPECT_DOUBLE_EQ(herd::rhat(y.data(), 4, 200), herd::rhat(x.data(), 4, 200));
  EXPECT_DOUBLE_EQ(herd::ess_bulk(y.data(), 4, 200), herd::ess_bulk(x.data(), 4, 200));
}

TEST(EssProperties, CloseToTheDrawCountForIidDraws) {
  // Across seeds ESS / n has a spread of about 1% at this size (checked with ArviZ), so 5%
  // is a real check yet safe for any standard library's normal_distribution.
  const std::vector<double> x = normal_draws(8, 10000, 6);
  const double n = 80000.0;
  EXPECT_NEAR(herd::ess_bulk(x.data(), 8, 10000) / n, 1.0, 0.05);
  EXPECT_NEAR(herd::ess_mean(x.data(), 8, 10000) / n, 1.0, 0.05);
  EXPECT_NEAR(herd::ess_tail(x.data(), 8, 10000) / n, 1.0, 0.05);
}

TEST(EssProperties, MatchesTheAr1IntegratedAutocorrelationTime) {
  const double rho = 0.8;
  const std::vector<double> x = normal_draws(4, 5000, 7, rho);
  const double want = 20000.0 * (1.0 - rho) / (1.0 + rho);
  EXPECT_NEAR(herd::ess_mean(x.data(), 4, 5000) / want, 1.0, 0.15);
  EXPECT_NEAR(herd::ess_bulk(x.data(), 4, 5000) / want, 1.0, 0.15);
}

TEST(EssProperties, McseMeanShrinksLikeOneOverRootEss) {
  const std::vector<double> x = normal_draws(4, 5000, 8);
  const double mcse = herd::mcse_mean(x.data(), 4, 5000);
  EXPECT_NEAR(mcse * std::sqrt(20000.0), 1.0, 0.05);
}

TEST(ConstantDraws, FollowArviz) {
  const std::vector<double> x(4 * 100, 2.5);
  EXPECT_TRUE(std::isnan(herd::rhat(x.data(), 4, 100)));  // 0 / 0
  EXPECT_EQ(herd::ess_bulk(x.data(), 4, 100), 400.0);     // ArviZ's short-circuit
  EXPECT_EQ(herd::ess_tail(x.data(), 4, 100), 400.0);
  EXPECT_EQ(herd::ess_mean(x.data(), 4, 100), 400.0);
  EXPECT_EQ(herd::mcse_mean(x.data(), 4, 100), 0.0);
  EXPECT_TRUE(std::isnan(herd::mcse_sd(x.data(), 4, 100)));
  EXPECT_EQ(herd::mcse_quantile(x.data(), 4, 100, 0.05), 0.0);
  EXPECT_TRUE(std::isnan(herd::nested_rhat(x.data(), 4, 100, 2)));
}

TEST(ConstantDraws, DifferentConstantPerChainGivesInfiniteRhat) {
  std::vector<double> x(4 * 100);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<double>(i / 100);
  EXPECT_GT(herd::rhat(x.data(), 4, 100), 1e10);  // ArviZ: ~3e16, from rounding in numpy's var
}

TEST(ShapeRules, NanBelowWhatArvizAccepts) {
  const std::vector<double> x = normal_draws(4, 3, 9);
  EXPECT_TRUE(std::isnan(herd::rhat(x.data(), 4, 3)));
  EXPECT_TRUE(std::isnan(herd::ess_bulk(x.data(), 4, 3)));
  EXPECT_TRUE(std::isnan(herd::mcse_sd(x.data(), 4, 3)));
  const herd::Summary s = herd::summarize(x.data(), 4, 3);
  EXPECT_FALSE(std::isnan(s.mean));
  EXPECT_FALSE(std::isnan(s.hdi_low));
  EXPECT_TRUE(std::isnan(s.ess_bulk));
  EXPECT_TRUE(std::isnan(s.r_hat));

  const std::vector<double> one = normal_draws(1, 100, 10);
  EXPECT_TRUE(std::isnan(herd::rhat(one.data(), 1, 100)));
  EXPECT_FALSE(std::isnan(herd::ess_bulk(one.data(), 1, 100)));

  std::vector<double> with_nan = normal_draws(2, 100, 11);
  with_nan[17] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(std::isnan(herd::rhat(with_nan.data(), 2, 100)));
  EXPECT_TRUE(std::isnan(herd::ess_tail(with_nan.data(), 2, 100)));
  EXPECT_TRUE(std::isnan(herd::summarize(with_nan.data(), 2, 100).mean));
}

TEST(ShapeRules, NonsenseSizesThrow) {
  const std::vector<double> x(16, 1.0);
  EXPECT_THROW(herd::rhat(x.data(), 0, 16), std::invalid_argument);
  EXPECT_THROW(herd::ess_bulk(x.data(), 4, 0), std::invalid_argument);
  EXPECT_THROW(herd::mcse_mean(nullptr, 1, 16), std::invalid_argument);
  EXPECT_THROW(herd::mcse_quantile(x.data(), 4, 4, 1.0), std::invalid_argument);
  EXPECT_THROW(herd::summarize(x.data(), 4, 4, 0.0), std::invalid_argument);
  EXPECT_THROW(herd::ebfmi(x.data(), 0), std::invalid_argument);
  EXPECT_THROW(herd::nested_rhat(x.data(), 4, 4, 3), std::invalid_argument);
  EXPECT_THROW(herd::nested_rhat(x.data(), 4, 4, 1), std::invalid_argument);
  EXPECT_THROW(herd::nested_rhat(x.data(), 4, 1, 4), std::invalid_argument);
}

TEST(Ebfmi, HandComputedAndLimits) {
  const double e[] = {1.0, 2.0, 4.0};  // differences 1, 2; deviations -4/3, -1/3, 5/3
  EXPECT_DOUBLE_EQ(herd::ebfmi(e, 3), 5.0 / (42.0 / 9.0));
  EXPECT_TRUE(std::isnan(herd::ebfmi(e, 1)));

  const std::vector<double> iid = normal_draws(1, 20000, 12);
  EXPECT_NEAR(herd::ebfmi(iid.data(), 20000), 2.0, 0.05);  // E[(a - b)^2] = 2 var
  std::vector<double> walk(20000, 0.0);  // energy that barely moves between draws
  std::mt19937_64 rng(13);
  std::normal_distribution<double> z;
  for (std::size_t i = 1; i < walk.size(); ++i) walk[i] = walk[i - 1] + z(rng);
  EXPECT_LT(herd::ebfmi(walk.data(), 20000), 0.3);
}

TEST(NestedRhat, HandComputed) {
  // K = 2 superchains, M = 2 chains, N = 2 draws.
  const double x[] = {0.0, 2.0, 1.0, 3.0,   // superchain 0: chain means 1, 2; mean 1.5
                      4.0, 4.0, 6.0, 8.0};  // superchain 1: chain means 4, 7; mean 5.5
  // B_nu = (1.5 - 3.5)^2 + (5.5 - 3.5)^2 = 8.
  // Btil = 0.25 + 0.25 = 0.5 and 2.25 + 2.25 = 4.5; chain variances 2, 2 | 0, 2 -> Wtil = 2, 1.
  // W_nu = ((0.5 + 2) + (4.5 + 1)) / 2 = 4, so nR-hat = sqrt(1 + 8 / 4).
  EXPECT_DOUBLE_EQ(herd::nested_rhat(x, 4, 2, 2), std::sqrt(1.0 + 8.0 / 4.0));
}

TEST(NestedRhat, NearOneForIidAndLargeForAShiftedSuperchain) {
  std::vector<double> x = normal_draws(256, 8, 14);
  // For iid draws B_nu estimates var / (M N), so nR-hat ~ sqrt(1 + 1 / 64) here.
  const double iid = herd::nested_rhat(x.data(), 256, 8, 32);
  EXPECT_NEAR(iid, std::sqrt(1.0 + 1.0 / 64.0), 0.01);
  for (std::size_t i = 0; i < 8 * 8; ++i) x[i] += 3.0;  // superchain 0
  EXPECT_GT(herd::nested_rhat(x.data(), 256, 8, 32), 1.1);
}

TEST(NestedRhat, OneDrawPerChainUsesOnlyBetweenChainVariance) {
  const std::vector<double> x = normal_draws(512, 1, 15);
  const double r = herd::nested_rhat(x.data(), 512, 1, 16);
  EXPECT_TRUE(std::isfinite(r));
  EXPECT_NEAR(r, std::sqrt(1.0 + 1.0 / 32.0), 0.02);
}

TEST(PriorPosterior, ContractionAndShift) {
  EXPECT_DOUBLE_EQ(herd::contraction(4.0, 1.0), 0.75);
  EXPECT_DOUBLE_EQ(herd::contraction(1.0, 1.0), 0.0);
  EXPECT_TRUE(std::isnan(herd::contraction(0.0, 1.0)));
  EXPECT_DOUBLE_EQ(herd::prior_shift(1.0, 2.0, -3.0), 2.0);
  EXPECT_TRUE(std::isnan(herd::prior_shift(0.0, 0.0, 1.0)));
}

}  // namespace
