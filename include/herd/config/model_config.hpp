#pragma once
// Model config files (TOML, INTERFACE.md "A model config") -> validated ModelSpec.
#include <filesystem>
#include <string>
#include <string_view>

#include "herd/model/spec.hpp"

namespace herd {

/// Why `name` cannot name a model (a '/', "." or "..", control characters, too long), or "".
std::string model_name_problem(const std::string& name);

/// Parses and validates a model config file. data.path is resolved against the file's folder.
/// Throws InputError naming the file, the key (and line:column where toml++ knows it) and
/// what was expected.
ModelSpec parse_model_config(const std::filesystem::path& file);

/// Same, from TOML text; `source` names it in messages, relative data paths resolve against base_dir.
ModelSpec parse_model_config_text(std::string_view toml, const std::string& source,
                                  const std::filesystem::path& base_dir);

/// The resolved spec as TOML (every default filled in); parse_model_config_text of it gives
/// the same spec back. Stored with each model's output and printed by `herd fit`.
std::string to_toml(const ModelSpec& spec);

}  // namespace herd
