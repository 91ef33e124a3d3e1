#include "herd/model/distribution.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace herd {
namespace {

struct FamilyInfo {
  const char* name;
  Family family;
  int nargs;
  const char* args;  // for messages
};

constexpr FamilyInfo kFamilies[] = {
    {"normal", Family::kNormal, 2, "normal(mu, sd)"},
    {"half_normal", Family::kHalfNormal, 1, "half_normal(sd)"},
    {"lognormal", Family::kLognormal, 2, "lognormal(mu, sd)"},
    {"gamma", Family::kGamma, 2, "gamma(shape, rate)"},
    {"beta", Family::kBeta, 2, "beta(a, b)"},
    {"exponential", Family::kExponential, 1, "exponential(rate)"},
    {"student_t", Family::kStudentT, 3, "student_t(nu, mu, sd)"},
    {"half_student_t", Family::kHalfStudentT, 2, "half_student_t(nu, sd)"},
    {"flat", Family::kFlat, 0, "flat()"},
};

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string known_families() {
  std::string out;
  for (const auto& f : kFamilies) {
    if (!out.empty()) out += ", ";
    out += f.args;
  }
  return out;
}

}  // namespace

Distribution parse_distribution(std::string_view text) {
  const std::string s = trim(text);
  const auto open = s.find('(');
  if (open == std::string::npos || s.back() != ')')
    throw std::invalid_argument("expected a distribution such as \"normal(0, 1)\", got \"" + s +
                                "\"; known: " + known_families());
  const std::string name = trim(std::string_view(s).substr(0, open));
  const FamilyInfo* info = nullptr;
  for (const auto& f : kFamilies)
    if (name == f.name) info = &f;
  if (!info)
    throw std::invalid_argument("unknown distribution \"" + name + "\"; known: " + known_families());

  std::vector<double> args;
  const std::string inner = s.substr(open + 1, s.size() - open - 2);
  if (!trim(inner).empty()) {
    std::stringstream ss(inner);
    std::string tok;
    while (std::getline(ss, tok, ',')) {
      const std::string t = trim(tok);
      char* end = nullptr;
      const double v = t.empty() ? 0.0 : std::strtod(t.c_str(), &end);
      if (t.empty() || end != t.c_str() + t.size() || !std::isfinite(v))
        throw std::invalid_argument("\"" + s + "\": argument \"" + t + "\" is not a finite number; expected " +
                                    info->args);
      args.push_back(v);
    }
    if (!inner.empty() && trim(inner).back() == ',')
      throw std::invalid_argument("\"" + s + "\": missing argument after ','; expected " + info->args);
  }
  if (static_cast<int>(args.size()) != info->nargs)
    throw std::invalid_argument("\"" + s + "\": " + std::to_string(info->nargs) + " argument(s) expected, got " +
                                std::to_string(args.size()) + "; expected " + info->args);

  Distribution d;
  d.family = info->family;
  if (args.size() > 0) d.a = args[0];
  if (args.size() > 1) d.b = args[1];
  if (args.size() > 2) d.c = args[2];
  auto need_pos = [&](double v, const char* what) {
    if (!(v > 0))
      throw std::invalid_argument("\"" + s + "\": " + what + " must be > 0; expected " + info->args);
  };
  switch (d.family) {
    case Family::kNormal:
    case Family::kLognormal: need_pos(d.b, "sd"); break;
    case Family::kHalfNormal: need_pos(d.a, "sd"); break;
    case Family::kGamma: need_pos(d.a, "shape"); need_pos(d.b, "rate"); break;
    case Family::kBeta: need_pos(d.a, "a"); need_pos(d.b, "b"); break;
    case Family::kExponential: need_pos(d.a, "rate"); break;
    case Family::kStudentT: need_pos(d.a, "nu"); need_pos(d.c, "sd"); break;
    case Family::kHalfStudentT: need_pos(d.a, "nu"); need_pos(d.b, "sd"); break;
    case Family::kFlat:
    case Family::kNone: break;
  }
  return d;
}

std::string to_string(const Distribution& d) {
  for (const auto& f : kFamilies) {
    if (f.family != d.family) continue;
    // fmt's "{}" is the shortest text that reads back to the same double.
    const double v[3] = {d.a, d.b, d.c};
    std::string out = std::string(f.name) + "(";
    for (int i = 0; i < f.nargs; ++i) out += (i ? ", " : "") + fmt::format("{}", v[i]);
    return out + ")";
  }
  return "none";
}

Support family_support(Family f) {
  switch (f) {
    case Family::kHalfNormal:
    case Family::kLognormal:
    case Family::kGamma:
    case Family::kExponential:
    case Family::kHalfStudentT: return {SupportKind::kPositive, 0, 0};
    case Family::kBeta: return {SupportKind::kInterval, 0, 1};
    default: return {SupportKind::kReal, 0, 0};
  }
}

bool prior_covers(const Distribution& d, const Support& s) {
  const Support p = family_support(d.family);
  switch (p.kind) {
    case SupportKind::kReal: return true;
    case SupportKind::kPositive:
      return s.kind == SupportKind::kPositive || (s.kind == SupportKind::kInterval && s.lo >= 0);
    case SupportKind::kInterval: return s.kind == SupportKind::kInterval && s.lo >= p.lo && s.hi <= p.hi;
  }
  return false;
}

}  // namespace herd
