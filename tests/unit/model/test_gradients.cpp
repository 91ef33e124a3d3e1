// Hand-written adjoints vs finite differences (Richardson-extrapolated central differences
// on the double density), for every block combination, in double and float.
#include <gtest/gtest.h>

#include <tuple>

#include "fixtures.hpp"
#include "herd/engine/gradient_check.hpp"

namespace herd {
namespace {

using testing::make_model;
using testing::Options;

// Double: the FD reference is good to ~1e-10; 1e-6 is the `herd check-gradient` threshold.
constexpr double kTolDouble = 1e-6;
// Float: analytic float gradient against the double FD reference. Float sums of T*G terms
// carry ~1e-7 relative error per term; measured worst 2.5e-4 (median 1e-6) over the 864 float cases, so 2e-3
// leaves room while still catching any wrong adjoint (those are off by O(1)).
constexpr double kTolFloat = 2e-3;

std::string report(const GradientCheck& r) {
  std::string s;
  for (const auto& b : r.blocks) s += "  " + b.block + ": " + std::to_string(b.worst) + " at " + b.worst_name + " (lp " + std::to_string(b.lp) + ")\n";
  return s;
}

using Combo = std::tuple<AdstockType, bool, SaturationType, PoolingType, LikelihoodType, EffectSign, int>;

class AllBlocks : public ::testing::TestWithParam<Combo> {};

Options options_of(const Combo& c) {
  Options o;
  o.adstock = std::get<0>(c);
  o.normalize = std::get<1>(c);
  o.saturation = std::get<2>(c);
  o.pooling = std::get<3>(c);
  o.likelihood = std::get<4>(c);
  o.sign = std::get<5>(c);
  o.G = std::get<6>(c);
  o.T = o.G > 1 ? 16 : 30;
  return o;
}

std::uint64_t seed_of(const Combo& c) {
  return 1000 + static_cast<std::uint64_t>(std::get<0>(c)) * 97 + std::get<1>(c) * 53 +
         static_cast<std::uint64_t>(std::get<2>(c)) * 31 + static_cast<std::uint64_t>(std::get<3>(c)) * 17 +
         static_cast<std::uint64_t>(std::get<4>(c)) * 7 + static_cast<std::uint64_t>(std::get<5>(c)) * 3 +
         static_cast<std::uint64_t>(std::get<6>(c));
}

TEST_P(AllBlocks, DoubleMatchesFiniteDifferences) {
  const Model m = make_model(options_of(GetParam()), seed_of(GetParam()));
  const GradientCheck r = check_gradient<double>(m, 3, seed_of(GetParam()));
  ASSERT_GE(r.points, 2) << "too few points with a finite density";
  EXPECT_LT(r.worst, kTolDouble) << report(r);
}

TEST_P(AllBlocks, FloatMatchesFiniteDifferences) {
  const Model m = make_model(options_of(GetParam()), seed_of(GetParam()));
  const GradientCheck r = check_gradient<float>(m, 2, seed_of(GetParam()) + 1);
  ASSERT_GE(r.points, 1) << "no point with a finite float density";
  EXPECT_LT(r.worst, kTolFloat) << report(r);
}

INSTANTIATE_TEST_SUITE_P(
    Model, AllBlocks,
    ::testing::Combine(::testing::Values(AdstockType::kNone, AdstockType::kGeometric, AdstockType::kDelayed),
                       ::testing::Bool(),
                       ::testing::Values(SaturationType::kLinear, SaturationType::kLog, SaturationType::kHill,
                                         SaturationType::kLogistic),
                       ::testing::Values(PoolingType::kUnpooled, PoolingType::kCentered, PoolingType::kNoncentered),
                       ::testing::Values(LikelihoodType::kNormal, LikelihoodType::kLognormal,
                                         LikelihoodType::kStudentT),
                       ::testing::Values(EffectSign::kPositive, EffectSign::kFree), ::testing::Values(1, 3)),
    [](const ::testing::TestParamInfo<Combo>& param_info) {
      const Combo& c = param_info.param;
      return std::string(to_string(std::get<0>(c))) + (std::get<1>(c) ? "_norm_" : "_raw_") + to_string(std::get<2>(c)) +
             "_" + to_string(std::get<3>(c)) + "_" + to_string(std::get<4>(c)) + "_" + to_string(std::get<5>(c)) +
             "_G" + std::to_string(std::get<6>(c));
    });

// Points near the edges of the constrained space: decay near 0 and 1, tiny and huge
// kappa, steep and flat Hill slopes, tiny sigma.
TEST(GradientBoundaries, NearSupportEdges) {
  for (AdstockType ad : {AdstockType::kGeometric, AdstockType::kDelayed})
    for (SaturationType sat : {SaturationType::kHill, SaturationType::kLogistic})
      for (double edge : {-7.0, 7.0}) {
        Options o;
        o.adstock = ad;
        o.saturation = sat;
        const Model m = make_model(o, 77);
        std::mt19937_64 rng(5);
        std::uniform_real_distribution<double> u(-1, 1);
        std::vector<double> theta(static_cast<size_t>(m.dim()));
        for (auto& t : theta) t = u(rng);
        for (int i = 0; i < m.dim(); ++i) {
          const std::string b = block_of(m.params()[i].name);
          if (b == "adstock_decay" || b == "adstock_peak" || b == "hill_kappa") theta[i] = edge;
          if (b == "hill_slope" || b == "logistic_lambda") theta[i] = edge / 3;
        }
        const GradientCheck r = check_gradient_at<double>(m, theta);
        ASSERT_EQ(r.points, 1) << "density not finite at edge " << edge;
        EXPECT_LT(r.worst, kTolDouble) << "edge " << edge << "\n" << report(r);
      }
}

// Each block alone: a model with only that block beyond intercept and sigma.
TEST(GradientBlocks, EachBlockAlone) {
  for (const auto& c : testing::each_block_alone()) {
    const Model m = make_model(c.o, 11);
    const GradientCheck r = check_gradient<double>(m, 4, 3);
    EXPECT_GE(r.points, 3) << c.name;
    EXPECT_LT(r.worst, kTolDouble) << c.name << "\n" << report(r);
  }
}

}  // namespace
}  // namespace herd
