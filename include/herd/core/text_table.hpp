#pragma once
// Tables a person reads: numbers with thousands separators and a chosen number of significant
// figures, `-` where a value is undefined or does not apply, columns sized to their content.
// Every printed table of herd (summarize, fit, analyze, optimize, compare) goes through here.
#include <iosfwd>
#include <string>
#include <vector>

namespace herd {

/// `v` with `sig` significant figures, thousands separators and no e-notation below 1e15
/// (26,812; 0.0412; 1.23), "-" for NaN, "inf"/"-inf" for infinities.
std::string fmt_num(double v, int sig = 3);

/// `v` rounded to a whole number with thousands separators ("1,852"), "-" for NaN.
std::string fmt_count(double v);

/// `v` with exactly `decimals` decimals ("1.004"), "-" for NaN.
std::string fmt_fixed(double v, int decimals);

/// A setting as a person would type it: whole numbers with separators ("1,000"), others
/// with up to 4 significant figures and no trailing zeros ("1.01", "0.3").
std::string fmt_short(double v);

/// The text a table prints for a value that is undefined or does not apply.
inline constexpr const char* kDash = "-";

/// A table built row by row and printed with every column as wide as its widest cell: the
/// first column (names) left-aligned, the rest right-aligned unless told otherwise.
class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header, std::vector<bool> left = {});
  /// Appends a row; its width must match the header's (std::logic_error otherwise).
  void row(std::vector<std::string> cells);
  /// A line printed under the table as it is ("* ..." footnotes).
  void note(const std::string& line);
  void print(std::ostream& out) const;
  size_t rows() const { return rows_.size(); }

 private:
  std::vector<std::string> header_;
  std::vector<bool> left_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<std::string> notes_;
};

}  // namespace herd
