#pragma once
// The one CSV writer: every table herd writes (summary, draws, study, compare, SBC, analysis)
// is built row by row here and written atomically, so quoting and number format are decided once.
#include <string>
#include <type_traits>
#include <vector>

namespace herd {

/// A CSV table in memory. Text cells are quoted as RFC 4180 needs (csv_field); numbers are
/// written in the shortest form that reads back to the same double (nan, inf, -inf when
/// not finite); an empty cell is CsvWriter::kEmpty.
class CsvWriter {
 public:
  struct Empty {};
  static constexpr Empty kEmpty{};

  /// A table with this header row.
  explicit CsvWriter(const std::vector<std::string>& header);

  /// One cell of the current row.
  CsvWriter& cell(const std::string& text);
  CsvWriter& cell(const char* text) { return cell(std::string(text)); }
  CsvWriter& cell(double value);
  CsvWriter& cell(long long value);
  CsvWriter& cell(Empty);
  template <class T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  CsvWriter& cell(T value) {
    return cell(static_cast<long long>(value));
  }
  /// Ends the current row (its cells must number as the header's).
  void end_row();
  /// A whole row at once.
  template <class... T>
  void row(const T&... cells) {
    (cell(cells), ...);
    end_row();
  }

  /// The table as text.
  const std::string& text() const { return text_; }
  /// Writes the table with write_file_atomically (InputError naming `path` on failure).
  void write(const std::string& path) const;

 private:
  void separate();
  std::string text_;
  size_t columns_ = 0, in_row_ = 0;
};

}  // namespace herd
