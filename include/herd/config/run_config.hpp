#pragma once
// Run files (INTERFACE.md "A run file"): [run] settings, [[models]] (one config, or a
// template over a glob of data files) and [[sweeps]] (the cartesian product of values of
// dotted config keys). A plain model config is a run of one model.
#include <filesystem>
#include <string>
#include <vector>

#include "herd/diagnostics/convergence_checks.hpp"
#include "herd/model/spec.hpp"

namespace herd {

/// [run]
struct RunSettings {
  std::string output;  // resolved against the run file's folder; "" = not set
  Device device = Device::kCpu;
  int threads = 0;     // 0 = all cores
  Precision precision = Precision::kFloat64;
  ConvergenceChecks checks;  // max_rhat, min_ess, max_divergences, min_ebfmi: what `ok` means
};

/// One coordinate of a sweep point: a dotted config key and its value, typed as written.
struct SweepValue {
  std::string key;
  enum class Kind { kReal, kInt, kText } kind = Kind::kText;
  double real = 0;
  long long integer = 0;
  std::string text;  // strings as they are, booleans as "true" / "false"
};

/// One model of a run.
struct RunModel {
  ModelSpec spec;
  std::string sweep;                 // the sweep point as a TOML inline table, "" if not from a sweep
  std::vector<SweepValue> point;     // the same point, one typed value per key
};

/// A parsed run: its models in file order, names unique.
struct RunSpec {
  std::string source;
  bool is_run_file = false;  // false: the file was one model config
  RunSettings run;
  std::vector<RunModel> models;
};

/// Reads a run file or a model config. Throws InputError naming the file and line:column
/// (a sweep point's own error is prefixed with the sweep key's place in the run file).
RunSpec parse_run(const std::filesystem::path& file);

}  // namespace herd
