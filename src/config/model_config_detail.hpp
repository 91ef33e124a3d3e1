#pragma once
// Pieces of the model-config reader that the run-file reader shares (private to src/config).
#include <filesystem>
#include <string>
#include <string_view>
#include <toml++/toml.h>

#include "herd/model/spec.hpp"

namespace herd::detail {

/// The whole file; InputError naming it if it cannot be read.
std::string read_text_file(const std::filesystem::path& file, const char* what);

/// Parses TOML; a syntax error becomes an InputError with file:line:col.
toml::table parse_toml(std::string_view text, const std::string& source);

/// A model config already parsed as TOML (a run file's template or sweep point).
ModelSpec parse_model_table(const toml::table& root, const std::string& source, const std::filesystem::path& base_dir,
                            std::string default_name);

}  // namespace herd::detail
