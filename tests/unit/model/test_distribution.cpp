// Prior log densities (with normalizing constants) against Boost.Math, and the parser.
#include <gtest/gtest.h>

#include <boost/math/distributions/beta.hpp>
#include <boost/math/distributions/exponential.hpp>
#include <boost/math/distributions/gamma.hpp>
#include <boost/math/distributions/lognormal.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <stdexcept>

#include "herd/model/distribution.hpp"

namespace herd {
namespace {

namespace bm = boost::math;

double lpdf(const std::string& text, double x) {
  const PriorView<double> p = make_prior_view<double>(parse_distribution(text));
  double dx = 0;
  return prior_lpdf(p, x, &dx);
}

double dlpdf(const std::string& text, double x) {
  const PriorView<double> p = make_prior_view<double>(parse_distribution(text));
  double dx = 0;
  prior_lpdf(p, x, &dx);
  return dx;
}

struct Case {
  std::string text;
  double x;
  double reference;  // log density from Boost.Math
};

std::vector<Case> cases() {
  std::vector<Case> c;
  for (double x : {-2.5, -0.1, 0.0, 0.7, 3.0}) {
    c.push_back({"normal(0.5, 1.7)", x, std::log(bm::pdf(bm::normal(0.5, 1.7), x))});
    c.push_back({"student_t(3.5, -1, 0.4)", x, std::log(bm::pdf(bm::students_t(3.5), (x + 1) / 0.4) / 0.4)});
  }
  for (double x : {1e-3, 0.2, 1.0, 4.5}) {
    c.push_back({"half_normal(0.3)", x, std::log(2 * bm::pdf(bm::normal(0, 0.3), x))});
    c.push_back({"lognormal(-1, 0.6)", x, std::log(bm::pdf(bm::lognormal(-1, 0.6), x))});
    c.push_back({"gamma(3, 1.5)", x, std::log(bm::pdf(bm::gamma_distribution<>(3, 1 / 1.5), x))});
    c.push_back({"exponential(2.5)", x, std::log(bm::pdf(bm::exponential(2.5), x))});
    c.push_back({"half_student_t(4, 0.8)", x, std::log(2 * bm::pdf(bm::students_t(4), x / 0.8) / 0.8)});
  }
  for (double x : {1e-4, 0.1, 0.5, 0.93}) {
    c.push_back({"beta(1, 3)", x, std::log(bm::pdf(bm::beta_distribution<>(1, 3), x))});
    c.push_back({"beta(2.5, 0.7)", x, std::log(bm::pdf(bm::beta_distribution<>(2.5, 0.7), x))});
  }
  return c;
}

TEST(Distribution, LogDensityMatchesBoost) {
  for (const auto& c : cases())
    EXPECT_NEAR(lpdf(c.text, c.x), c.reference, 1e-12 * std::max(1.0, std::abs(c.reference))) << c.text << " at " << c.x;
}

TEST(Distribution, DerivativeMatchesFiniteDifference) {
  for (const auto& c : cases()) {
    const double h = 1e-6 * std::max(1e-3, std::abs(c.x));
    if (c.x - h <= 0 && c.text.find("normal(0.5") == std::string::npos && c.text.find("student_t(3.5") == std::string::npos)
      continue;
    const double fd = (lpdf(c.text, c.x + h) - lpdf(c.text, c.x - h)) / (2 * h);
    EXPECT_NEAR(dlpdf(c.text, c.x), fd, 1e-5 * std::max(1.0, std::abs(fd))) << c.text << " at " << c.x;
  }
}

TEST(Distribution, OutsideSupportIsMinusInfinity) {
  EXPECT_EQ(lpdf("half_normal(1)", -0.1), -INFINITY);
  EXPECT_EQ(lpdf("beta(2, 2)", 1.2), -INFINITY);
  EXPECT_EQ(lpdf("gamma(2, 2)", 0.0), -INFINITY);
  EXPECT_EQ(lpdf("lognormal(0, 1)", -1.0), -INFINITY);
  EXPECT_EQ(lpdf("flat()", 123.0), 0.0);
}

TEST(Distribution, FloatAgreesWithDouble) {
  for (const auto& c : cases()) {
    const PriorView<float> p = make_prior_view<float>(parse_distribution(c.text));
    float dx = 0;
    const float v = prior_lpdf(p, static_cast<float>(c.x), &dx);
    EXPECT_NEAR(v, c.reference, 1e-4 * std::max(1.0, std::abs(c.reference))) << c.text << " at " << c.x;
  }
}

TEST(Distribution, ParsesAndPrintsRoundTrip) {
  for (const char* s : {"normal(0, 0.1)", "half_normal(0.5)", "lognormal(-1.5, 2)", "gamma(3, 1.5)", "beta(1, 3)",
                        "exponential(2)", "student_t(3, 0, 1)", "half_student_t(4, 0.5)", "flat()"}) {
    const Distribution d = parse_distribution(s);
    EXPECT_EQ(to_string(d), s);
    const Distribution again = parse_distribution(to_string(d));
    EXPECT_EQ(again.family, d.family);
    EXPECT_EQ(again.a, d.a);
    EXPECT_EQ(again.b, d.b);
  }
  EXPECT_EQ(parse_distribution("  normal( 1 ,2 ) ").b, 2.0);
}

TEST(Distribution, RejectsBadStrings) {
  auto message = [](const char* s) {
    try {
      parse_distribution(s);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("normal(0,)").find("missing argument"), std::string::npos) << message("normal(0,)");
  EXPECT_NE(message("beta(-1, 2)").find("a must be > 0"), std::string::npos) << message("beta(-1, 2)");
  EXPECT_NE(message("normal(0)").find("2 argument(s) expected"), std::string::npos);
  EXPECT_NE(message("normal(0, abc)").find("not a finite number"), std::string::npos);
  EXPECT_NE(message("gauss(0, 1)").find("unknown distribution"), std::string::npos);
  EXPECT_NE(message("normal 0 1").find("expected a distribution"), std::string::npos);
  EXPECT_NE(message("half_normal(0)").find("sd must be > 0"), std::string::npos);
  EXPECT_NE(message("normal(0, nan)").find("not a finite number"), std::string::npos);
}

TEST(Distribution, SupportCoverage) {
  const Support real{SupportKind::kReal, 0, 0}, pos{SupportKind::kPositive, 0, 0}, unit{SupportKind::kInterval, 0, 1};
  EXPECT_TRUE(prior_covers(parse_distribution("normal(0, 1)"), pos));
  EXPECT_FALSE(prior_covers(parse_distribution("half_normal(1)"), real));
  EXPECT_TRUE(prior_covers(parse_distribution("gamma(2, 1)"), unit));
  EXPECT_FALSE(prior_covers(parse_distribution("beta(2, 1)"), pos));
  EXPECT_TRUE(prior_covers(parse_distribution("beta(2, 1)"), unit));
  EXPECT_TRUE(prior_covers(parse_distribution("flat()"), real));
}

}  // namespace
}  // namespace herd
