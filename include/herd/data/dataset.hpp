#pragma once
// Dataset: a validated CSV in the user's units, plus the scales herd will divide by.
#include <string>
#include <vector>

#include "herd/model/spec.hpp"

namespace herd {

/// Observations of one model, validated. Arrays are time-contiguous:
/// media[(g * C + c) * T + t], control[(g * K + k) * T + t], outcome[g * T + t].
struct Dataset {
  std::string source;                 // the CSV path as given
  int T = 0, G = 1, C = 0, K = 0;
  std::vector<std::string> dates;     // T labels as written in the file
  std::vector<std::string> geos;      // G names (one "" when not a panel)
  std::vector<std::string> channels;  // C
  std::vector<std::string> controls;  // K
  std::vector<double> media;          // spend/exposure, raw
  std::vector<double> control;        // raw
  std::vector<double> outcome;        // raw
  std::vector<int> line;              // [g * T + t]: the CSV line each observation came from
  int outcome_column = 0;             // 1-based column of the outcome (for error messages)
  std::vector<int> media_column;      // C: 1-based columns of the channels
  std::vector<double> media_scale;    // C: divide media by it (1 when media_scale = none)
  double outcome_scale = 1;           // divide outcome by it
  std::vector<double> control_center; // K: subtract from a control, then divide by control_scale
  std::vector<double> control_scale;  // K: (0 and 1 when controls.scale = none; mean and sd for std)
  std::vector<std::string> warnings;  // e.g. a channel with zero spend throughout
};

/// The centre and scale of each control under `how` (std: mean and sd over every row of
/// every panel member; a constant control keeps scale 1). Written to the output so that
/// readers recover the fitted values without the CSV.
void set_control_scales(Dataset& d, ControlScale how);

/// Reads and validates spec.data.path for the channels and controls of `spec`.
/// Throws InputError naming file, line and column for the first problem it finds.
Dataset read_dataset(const ModelSpec& spec);

/// Same, from CSV text already in memory; `source` names it in messages.
Dataset read_dataset_text(const std::string& text, const std::string& source, const ModelSpec& spec);

}  // namespace herd
