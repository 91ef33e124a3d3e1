// Hand-written adjoints vs finite differences (Richardson-extrapolated central differences
// on the double density), for every block combination, in double and float.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <tuple>

#include "fixtures.hpp"
#include "herd/engine/gradient_check.hpp"
#include "herd/model/log_density.hpp"

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

// A model's arrays live in one block (ModelData): a copied Model reads its own block, and a
// view rebased onto a byte copy of the block (what a device backend makes) reads the copy only.
template <class Real>
void expect_block_reads_the_model(const Model& m, const std::vector<double>& theta) {
  const ModelData<Real>& d = m.storage<Real>();
  std::vector<Real> th(theta.begin(), theta.end()), g1(theta.size()), g2(theta.size());
  std::vector<Real> scratch(static_cast<size_t>(m.scratch_size()));
  const Real lp = log_density_grad(d.view(), th.data(), g1.data(), scratch.data());

  void* copy = std::aligned_alloc(256, (d.bytes() + 255) / 256 * 256);
  ASSERT_NE(copy, nullptr);
  std::memcpy(copy, d.block(), d.bytes());
  ModelView<Real> v = d.rebase(copy);
  const auto* lo = static_cast<const unsigned char*>(copy);
  for_each_array(v, [&](auto* p, size_t n) {
    const auto* b = reinterpret_cast<const unsigned char*>(p);
    EXPECT_TRUE(b >= lo && b + n * sizeof(*p) <= lo + d.bytes());
    EXPECT_EQ((b - lo) % 256, 0);
  });
  EXPECT_EQ(log_density_grad(v, th.data(), g2.data(), scratch.data()), lp);
  EXPECT_EQ(g1, g2);
  std::memset(copy, 0, d.bytes());  // the rebased view now reads zeros, the model does not
  EXPECT_NE(log_density_grad(v, th.data(), g2.data(), scratch.data()), lp);
  EXPECT_EQ(log_density_grad(d.view(), th.data(), g1.data(), scratch.data()), lp);
  std::free(copy);
}

TEST(ModelStorage, OneBlockCopiedAndRebased) {
  Options o;
  o.G = 3;
  o.lift_tests = 2;
  std::unique_ptr<Model> m = std::make_unique<Model>(make_model(o, 5));
  std::mt19937_64 rng(9);
  std::normal_distribution<double> n01(0, 0.5);
  std::vector<double> theta(static_cast<size_t>(m->dim()));
  for (double& t : theta) t = n01(rng);
  std::vector<double> grad(theta.size());
  const double lp = m->log_density_grad(theta.data(), grad.data());
  expect_block_reads_the_model<double>(*m, theta);
  expect_block_reads_the_model<float>(*m, theta);

  const Model copy = *m;
  m.reset();
  std::vector<double> grad2(theta.size());
  EXPECT_EQ(copy.log_density_grad(theta.data(), grad2.data()), lp);
  EXPECT_EQ(grad2, grad);
}

}  // namespace
}  // namespace herd
