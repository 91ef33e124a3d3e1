#pragma once
// Whole files written so that no reader ever sees half of one.
#include <string>

namespace herd {

/// Writes `text` to a temporary beside `path` and renames it into place. Throws InputError
/// naming `path` when it cannot be written (missing folder, no permission, full disk).
void write_file_atomically(const std::string& path, const std::string& text);

/// A CSV field as RFC 4180 writes it: quoted (with "" for a quote) when it holds a comma, a
/// quote or a line break, as is otherwise. Every label herd writes to a CSV goes through it.
std::string csv_field(const std::string& s);

}  // namespace herd
