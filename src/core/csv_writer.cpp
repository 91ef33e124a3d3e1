#include "herd/core/csv_writer.hpp"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

#include "herd/core/files.hpp"

namespace herd {

CsvWriter::CsvWriter(const std::vector<std::string>& header) : columns_(header.size()) {
  for (const auto& h : header) cell(h);
  end_row();
}

void CsvWriter::separate() {
  if (in_row_++) text_ += ',';
}

CsvWriter& CsvWriter::cell(const std::string& text) {
  separate();
  text_ += csv_field(text);
  return *this;
}

CsvWriter& CsvWriter::cell(double value) {
  separate();
  // Shortest round-trip; one spelling of NaN whatever its sign bit.
  text_ += std::isnan(value) ? std::string("nan") : fmt::format("{}", value);
  return *this;
}

CsvWriter& CsvWriter::cell(long long value) {
  separate();
  text_ += fmt::format("{}", value);
  return *this;
}

CsvWriter& CsvWriter::cell(Empty) {
  separate();
  return *this;
}

void CsvWriter::end_row() {
  // A row of the wrong width is a bug in the caller, not bad input.
  if (in_row_ != columns_)
    throw std::logic_error(fmt::format("CSV row of {} cells under a header of {}", in_row_, columns_));
  text_ += '\n';
  in_row_ = 0;
}

void CsvWriter::write(const std::string& path) const { write_file_atomically(path, text_); }

}  // namespace herd
