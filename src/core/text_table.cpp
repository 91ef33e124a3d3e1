#include "herd/core/text_table.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ostream>
#include <stdexcept>

namespace herd {
namespace {

// Inserts a comma every three digits of the integer part of a plain decimal number.
std::string group_thousands(const std::string& s) {
  const size_t start = (!s.empty() && s[0] == '-') ? 1 : 0;
  size_t end = s.find('.');
  if (end == std::string::npos) end = s.size();
  std::string out = s.substr(0, start);
  const std::string digits = s.substr(start, end - start);
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out + s.substr(end);
}

// UTF-8 code points, so a channel named "café" pads like one of four letters.
size_t display_width(const std::string& s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

}  // namespace

std::string fmt_num(double v, int sig) {
  if (std::isnan(v)) return kDash;
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0) return "0";
  const double a = std::fabs(v);
  if (a >= 1e15 || a < 1e-4) return fmt::format("{:.{}e}", v, std::max(0, sig - 1));
  const int magnitude = static_cast<int>(std::floor(std::log10(a)));
  const int decimals = std::max(0, sig - 1 - magnitude);
  std::string s = fmt::format("{:.{}f}", v, decimals);
  if (s[0] == '-' && s.find_first_not_of("0.", 1) == std::string::npos) s.erase(0, 1);  // -0.00
  return group_thousands(s);
}

std::string fmt_count(double v) {
  if (std::isnan(v)) return kDash;
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (std::fabs(v) >= 1e15) return fmt::format("{:.3e}", v);
  return group_thousands(fmt::format("{:.0f}", v));
}

std::string fmt_fixed(double v, int decimals) {
  if (std::isnan(v)) return kDash;
  return group_thousands(fmt::format("{:.{}f}", v, decimals));
}

std::string fmt_short(double v) {
  if (std::isfinite(v) && v == std::round(v) && std::fabs(v) < 1e15) return fmt_count(v);
  if (std::isnan(v)) return kDash;
  return fmt::format("{:.4g}", v);
}

TextTable::TextTable(std::vector<std::string> header, std::vector<bool> left)
    : header_(std::move(header)), left_(std::move(left)) {
  left_.resize(header_.size(), false);
  if (!left_.empty()) left_[0] = true;
}

void TextTable::row(std::vector<std::string> cells) {
  if (cells.size() != header_.size())
    throw std::logic_error(fmt::format("table row of {} cells under a header of {}", cells.size(), header_.size()));
  rows_.push_back(std::move(cells));
}

void TextTable::note(const std::string& line) { notes_.push_back(line); }

void TextTable::print(std::ostream& out) const {
  std::vector<size_t> w(header_.size());
  for (size_t i = 0; i < header_.size(); ++i) w[i] = display_width(header_[i]);
  for (const auto& r : rows_)
    for (size_t i = 0; i < r.size(); ++i) w[i] = std::max(w[i], display_width(r[i]));
  auto line = [&](const std::vector<std::string>& cells) {
    std::string s;
    for (size_t i = 0; i < cells.size(); ++i) {
      const std::string pad(w[i] - display_width(cells[i]), ' ');
      const bool last = i + 1 == cells.size();
      if (i > 0) s += "  ";
      s += left_[i] ? cells[i] + (last ? "" : pad) : pad + cells[i];
    }
    s.erase(s.find_last_not_of(' ') + 1);  // an empty last cell leaves no trailing blanks
    out << s << '\n';
  };
  line(header_);
  for (const auto& r : rows_) line(r);
  for (const auto& n : notes_) out << n << '\n';
}

}  // namespace herd
