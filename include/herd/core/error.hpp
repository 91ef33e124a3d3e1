#pragma once
#include <stdexcept>
#include <string>

namespace herd {

/// Bad user input (config, data, command line): the message names the file and, for data,
/// the line and column. The CLI maps it to exit status 2.
class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& what) : std::runtime_error(what) {}
};

/// A model that cannot be evaluated or fitted (e.g. no finite initial point). A batch
/// records it against that model and goes on.
class ModelError : public std::runtime_error {
 public:
  explicit ModelError(const std::string& what) : std::runtime_error(what) {}
};

/// Formats "file:line:col: message" (line/col omitted when 0), the one error-location style of herd.
std::string located(const std::string& file, int line, int col, const std::string& message);

}  // namespace herd
