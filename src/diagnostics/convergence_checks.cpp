#include "herd/diagnostics/convergence_checks.hpp"

#include <fmt/format.h>

#include "herd/core/text_table.hpp"

namespace herd {
std::string ConvergenceChecks::describe() const {
  return fmt::format("max R-hat < {}, bulk and tail ESS > {}, {} divergences{}, E-BFMI > {}", fmt_short(max_rhat),
                     fmt_short(min_ess), max_divergences, max_divergences > 0 ? " at most" : "", fmt_short(min_ebfmi));
}

}  // namespace herd
