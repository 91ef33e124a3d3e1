#pragma once
// What a fitted (or failed) model hands to a SampleSink: its InferenceData groups as plain
// arrays with named dimensions and coordinates, plus attributes. The engine builds it, the
// HDF5 sink writes it in netCDF-4 form, the reader gives it back; no HDF5 types appear here.
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "herd/engine/sampler.hpp"
#include "herd/model/model.hpp"

namespace herd {

/// A coordinate variable: the labels along one dimension (integers or strings).
struct Coord {
  std::string name;
  std::vector<long long> ints;      // chain, draw, week (days since 1970-01-01 when dated)
  std::vector<std::string> labels;  // channel, group, control, geo, term
  std::string units;                // CF units of ints ("days since 1970-01-01"), "" otherwise
  bool is_text() const { return !labels.empty() || ints.empty(); }
  size_t size() const { return is_text() ? labels.size() : ints.size(); }
};

/// How a variable is stored on disk (values are held as double in memory).
enum class VarType { kFloat64, kFloat32, kInt32, kBool };  // kFloat32: stored in half the bytes, held as double

/// A data variable over named dimensions, row-major.
struct Variable {
  std::string name;
  std::vector<std::string> dims;
  std::vector<double> values;
  VarType type = VarType::kFloat64;
  std::map<std::string, std::string> attrs;  // text attributes (long_name, ...)
};

/// One InferenceData group (posterior, sample_stats, ...).
struct DataGroup {
  std::string name;
  std::vector<Coord> coords;
  std::vector<Variable> vars;
  const Coord* coord(const std::string& n) const;
  const Variable* var(const std::string& n) const;
  /// Number of elements a variable over `dims` holds (product of the coordinate sizes).
  size_t extent(const std::vector<std::string>& dims) const;
};

/// What became of a fit: ok, warn (draws kept, a convergence check failed) or failed (no draws).
enum class FitState { kOk, kWarn, kFailed };

/// A fit's state and, unless ok, why; stored in files as "ok", "warn: <why>" or "failed: <why>".
struct FitStatus {
  FitState state = FitState::kOk;
  std::string reason;
  std::string text() const;
  /// Reads a stored status; any text that is not "ok" or "warn: ..." is a failure.
  static FitStatus parse(const std::string& text);
  static FitStatus failed(const std::string& why) { return {FitState::kFailed, why}; }
  static FitStatus warn(const std::string& why) { return {FitState::kWarn, why}; }
  bool operator==(const FitStatus& o) const { return state == o.state && reason == o.reason; }
};

/// Everything the output file holds for one model.
struct ModelOutput {
  std::string name;
  FitStatus status;
  std::map<std::string, std::string> text_attrs;
  std::map<std::string, double> real_attrs;
  std::map<std::string, long long> int_attrs;
  std::vector<DataGroup> groups;
  const DataGroup* group(const std::string& n) const;
  bool ok() const { return status.state == FitState::kOk; }
  /// No draws: the fit did not finish (a warned fit has every group).
  bool failed() const { return status.state == FitState::kFailed; }
};

/// The model's InferenceData: posterior (every parameter by its family name over its label
/// dimensions, derived beta, contribution in the outcome's units), sample_stats,
/// log_likelihood (per observation, density of the outcome in the user's units),
/// observed_data and constant_data, with the run's attributes.
ModelOutput build_output(const Model& model, const FitResult& fit, const SamplerOptions& options,
                         bool with_contributions = true);

/// `herd fit --prior`: adds `prior` (every parameter, exact draws from the prior, laid out as
/// the posterior) and `prior_predictive` (the outcome simulated from each draw) groups, with
/// the run's chains and draws. An improper prior (flat()) leaves a `prior_groups` attribute
/// saying why instead.
void add_prior_groups(ModelOutput& out, const Model& model, const SamplerOptions& options);

/// The first variable of the posterior or log_likelihood group holding a value that is not
/// finite ("posterior/contribution"), or "": a model is never marked ok with such a value.
std::string nonfinite_variable(const ModelOutput& out);

/// A model that could not be fitted: its status and attributes, no data groups.
ModelOutput failed_output(const Model& model, const SamplerOptions& options, const std::string& reason,
                          double seconds);

/// Attributes every model group carries (config, version, seed, sampler settings, scales).
void add_model_attrs(ModelOutput& out, const Model& model, const SamplerOptions& options);

/// Days since 1970-01-01 of an ISO date YYYY-MM-DD; false if `s` is not one.
bool iso_days(const std::string& s, long long& days);

/// The ISO date YYYY-MM-DD of a day count since 1970-01-01 (inverse of iso_days).
std::string iso_date(long long days);

}  // namespace herd
