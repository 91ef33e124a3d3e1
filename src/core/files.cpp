#include "herd/core/files.hpp"

#include <filesystem>
#include <fstream>

#include "herd/core/error.hpp"

namespace herd {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

void write_file_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".partial";
  {
    std::ofstream f(tmp);
    if (!f) throw InputError(located(path, 0, 0, "cannot write (missing folder or no permission?)"));
    f << text;
    f.close();
    if (!f) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw InputError(located(path, 0, 0, "write failed"));
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw InputError(located(path, 0, 0, "cannot move the finished file into place: " + ec.message()));
  }
}

}  // namespace herd
