#pragma once
// Prior distributions: a plain description (family + up to three arguments) that travels to
// the device, and its log density with the derivative in x. Normalizing constants are
// included so that reported log densities mean the same as Stan's `target` with `_lpdf`.
#include <cmath>
#include <string>
#include <string_view>

#include "herd/core/hd.hpp"
#include "herd/core/math.hpp"

namespace herd {

enum class Family : int {
  kNone = 0,  // no prior term on this coordinate (the hierarchy supplies its density)
  kNormal,
  kHalfNormal,
  kLognormal,
  kGamma,
  kBeta,
  kExponential,
  kStudentT,
  kHalfStudentT,
  kFlat,
};

/// A prior: family and arguments in the order of INTERFACE.md, e.g. student_t(nu, mu, sd).
struct Distribution {
  Family family = Family::kNone;
  double a = 0, b = 0, c = 0;
};

/// Where a parameter lives on the constrained scale.
enum class SupportKind : int { kReal = 0, kPositive, kInterval };

/// Support of a parameter: the real line, (0, inf), or (lo, hi).
struct Support {
  SupportKind kind = SupportKind::kReal;
  double lo = 0, hi = 0;
};

/// Parses "normal(0, 0.1)" etc.; throws std::invalid_argument with a message saying what
/// was expected (the caller adds file and key).
Distribution parse_distribution(std::string_view text);

/// "normal(0, 0.1)": the canonical spelling, parseable by parse_distribution.
std::string to_string(const Distribution& d);

/// The family's own support (e.g. beta: (0,1)).
Support family_support(Family f);

/// True when the prior's support contains the parameter's support, so the prior is a
/// proper (possibly truncated) density there.
bool prior_covers(const Distribution& d, const Support& s);

/// Compact prior for the device: family + precomputed arguments.
template <class Real>
struct PriorView {
  Family family;
  Real a, b, c;
  Real log_norm;  // normalizing constant, computed once on the host
};

/// Builds the device prior, with its normalizing constant.
template <class Real>
PriorView<Real> make_prior_view(const Distribution& d) {
  PriorView<Real> p{d.family, Real(d.a), Real(d.b), Real(d.c), Real(0)};
  const double ls2p = 0.91893853320467274178, ln2 = 0.69314718055994530942;
  switch (d.family) {
    case Family::kNormal: p.log_norm = Real(-ls2p - std::log(d.b)); break;
    case Family::kHalfNormal: p.log_norm = Real(ln2 - ls2p - std::log(d.a)); break;
    case Family::kLognormal: p.log_norm = Real(-ls2p - std::log(d.b)); break;
    case Family::kGamma: p.log_norm = Real(d.a * std::log(d.b) - std::lgamma(d.a)); break;
    case Family::kBeta:
      p.log_norm = Real(std::lgamma(d.a + d.b) - std::lgamma(d.a) - std::lgamma(d.b));
      break;
    case Family::kExponential: p.log_norm = Real(std::log(d.a)); break;
    case Family::kStudentT:
      p.log_norm = Real(std::lgamma((d.a + 1) / 2) - std::lgamma(d.a / 2) -
                        0.5 * std::log(d.a * M_PI) - std::log(d.c));
      break;
    case Family::kHalfStudentT:
      p.log_norm = Real(ln2 + std::lgamma((d.a + 1) / 2) - std::lgamma(d.a / 2) -
                        0.5 * std::log(d.a * M_PI) - std::log(d.b));
      break;
    case Family::kNone:
    case Family::kFlat: p.log_norm = 0; break;
  }
  return p;
}

/// log p(x) and d/dx log p(x) (added to *dx). Outside the support returns -inf.
template <class Real>
HERD_HD Real prior_lpdf(const PriorView<Real>& p, Real x, Real* dx) {
  using std::log;
  const Real ninf = math::neg_inf<Real>();
  switch (p.family) {
    case Family::kNone:
    case Family::kFlat: return Real(0);
    case Family::kNormal: {
      const Real z = (x - p.a) / p.b;
      *dx += -z / p.b;
      return p.log_norm - Real(0.5) * z * z;
    }
    case Family::kHalfNormal: {
      if (x < Real(0)) return ninf;
      const Real z = x / p.a;
      *dx += -z / p.a;
      return p.log_norm - Real(0.5) * z * z;
    }
    case Family::kLognormal: {
      if (!(x > Real(0))) return ninf;
      const Real lx = log(x);
      const Real z = (lx - p.a) / p.b;
      *dx += (-z / p.b - Real(1)) / x;
      return p.log_norm - lx - Real(0.5) * z * z;
    }
    case Family::kGamma: {  // shape a, rate b
      if (!(x > Real(0))) return ninf;
      *dx += (p.a - Real(1)) / x - p.b;
      return p.log_norm + (p.a - Real(1)) * log(x) - p.b * x;
    }
    case Family::kBeta: {
      if (!(x > Real(0)) || !(x < Real(1))) return ninf;
      *dx += (p.a - Real(1)) / x - (p.b - Real(1)) / (Real(1) - x);
      return p.log_norm + (p.a - Real(1)) * log(x) + (p.b - Real(1)) * log(Real(1) - x);
    }
    case Family::kExponential: {
      if (x < Real(0)) return ninf;
      *dx += -p.a;
      return p.log_norm - p.a * x;
    }
    case Family::kStudentT: {  // nu a, location b, scale c
      const Real z = (x - p.b) / p.c;
      const Real q = Real(1) + z * z / p.a;
      *dx += -(p.a + Real(1)) * z / (p.a * p.c * q);
      return p.log_norm - Real(0.5) * (p.a + Real(1)) * log(q);
    }
    case Family::kHalfStudentT: {  // nu a, scale b
      if (x < Real(0)) return ninf;
      const Real z = x / p.b;
      const Real q = Real(1) + z * z / p.a;
      *dx += -(p.a + Real(1)) * z / (p.a * p.b * q);
      return p.log_norm - Real(0.5) * (p.a + Real(1)) * log(q);
    }
  }
  return ninf;
}

}  // namespace herd
