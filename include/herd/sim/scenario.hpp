#pragma once
// Known-truth simulators (DESIGN.md sim/): a scenario file names a kind of business (the DTC
// paid-social portfolio, a parent channel with subchannels, a national adstock + Hill model,
// a geo panel), its size, noise and seed; simulating it gives a CSV a user could fit, the
// configs to fit it with, and the truth: every parameter, per-week true contributions and the
// noise draws, so the outcome can be rebuilt exactly.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "herd/data/dataset.hpp"
#include "herd/engine/simulate.hpp"
#include "herd/model/model.hpp"

namespace herd {

/// A parsed scenario file (configs/scenarios/*.toml).
struct Scenario {
  std::string source;                  // the file it came from
  std::string name;                    // prefix of the files written
  std::string kind;                    // dtc_paid_social | subchannels | adstock_hill | geo_panel | from_prior
  int weeks = 104;
  int geos = 6;                        // geo_panel
  double noise = -1;                   // sigma of the likelihood; < 0: the kind's default
  std::uint64_t seed = 1;
  std::map<std::string, double> truth;  // overrides of true parameter values by name ("beta[tv]")
  std::filesystem::path from_prior;     // kind from_prior: the model config whose prior and spends are used
};

/// Reads a scenario file; errors name the file, key and line:column.
Scenario parse_scenario(const std::filesystem::path& file);

/// A dataset drawn from a scenario, with everything needed to check a fit against the truth.
struct SimulatedData {
  std::string name;                        // e.g. dtc_paid_social_r003
  std::string csv;                         // the data as a CSV a user could fit
  std::map<std::string, std::string> configs;  // fit configs as TOML text, by name ("model", "parent"), data.path = <name>.csv
  std::unique_ptr<Model> truth_model;      // the generating model over the simulated data (its scales)
  std::vector<double> theta;               // the truth, unconstrained, in truth_model's layout
  SimulatedNoise noise;
  std::map<std::string, std::vector<std::string>> parents;  // parent channel -> its subchannels
};

/// Draws replicate r of a scenario (replicate 0 is the scenario's own seed).
SimulatedData simulate_scenario(const Scenario& s, int replicate);

/// Writes <dir>/<name>.csv, <name>.truth.json and one <name>.<config>.toml per fit config,
/// each written aside and renamed. Returns the paths written.
std::vector<std::string> write_simulated(const SimulatedData& d, const std::filesystem::path& dir);

/// The truth as JSON: parameters by name, derived beta, scales, mu, sigma, noise, per-week
/// and total contributions and ROI per channel.
std::string truth_json(const SimulatedData& d);

}  // namespace herd
