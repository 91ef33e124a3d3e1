// CSV -> Dataset. libcsv does the RFC 4180 tokenizing; everything else here is validation
// whose messages must let a user fix the file without opening a debugger: every error names
// the file, the physical line and, where one column is at fault, the column.
#include <csv.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "herd/core/error.hpp"
#include "herd/core/text_table.hpp"
#include "herd/data/dataset.hpp"

namespace herd {
namespace {

using Fields = std::vector<std::string>;

std::string trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t");
  return std::string(s.substr(first, last - first + 1));
}

// A value quoted in a message, cut short where it is long (a 10 MB cell is not echoed whole).
std::string in_quotes(const std::string& s) {
  constexpr std::size_t kShown = 60;
  if (s.size() <= kShown) return "\"" + s + "\"";
  return "\"" + s.substr(0, kShown) + "...\" (" + std::to_string(s.size()) + " bytes)";
}

std::string format_number(double v) {
  std::ostringstream o;
  o.precision(10);
  o << v;
  return o.str();
}

// "Geo2" < "Geo10": runs of digits compare as numbers, the rest byte by byte.
bool natural_less(const std::string& a, const std::string& b) {
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (digit(a[i]) && digit(b[j])) {
      std::size_t ie = i, je = j;
      while (ie < a.size() && digit(a[ie])) ++ie;
      while (je < b.size() && digit(b[je])) ++je;
      std::size_t iz = i, jz = j;  // leading zeros do not change the number
      while (iz + 1 < ie && a[iz] == '0') ++iz;
      while (jz + 1 < je && b[jz] == '0') ++jz;
      if (ie - iz != je - jz) return ie - iz < je - jz;
      const int cmp = a.compare(iz, ie - iz, b, jz, je - jz);
      if (cmp != 0) return cmp < 0;
      if (ie - i != je - j) return ie - i < je - j;  // "01" after "1": a total order
      i = ie;
      j = je;
    } else {
      if (a[i] != b[j]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]);
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

// One control over every row of every panel member: what its scale and its warnings need.
struct ControlMoments {
  double mean = 0, sd = 0, lo = 0, hi = 0, max_abs = 0;
};

ControlMoments control_moments(const Dataset& d, std::size_t k) {
  const auto K = static_cast<std::size_t>(d.K), T = static_cast<std::size_t>(d.T), G = static_cast<std::size_t>(d.G);
  ControlMoments m;
  m.lo = m.hi = d.control[k * T];
  double sum = 0;
  for (std::size_t g = 0; g < G; ++g)
    for (std::size_t t = 0; t < T; ++t) {
      const double x = d.control[(g * K + k) * T + t];
      sum += x;
      m.max_abs = std::max(m.max_abs, std::fabs(x));
      m.lo = std::min(m.lo, x);
      m.hi = std::max(m.hi, x);
    }
  const double n = static_cast<double>(G * T);
  m.mean = sum / n;
  double ss = 0;  // two passes: a million-valued column keeps its digits
  for (std::size_t g = 0; g < G; ++g)
    for (std::size_t t = 0; t < T; ++t) ss += std::pow(d.control[(g * K + k) * T + t] - m.mean, 2);
  m.sd = n > 1 ? std::sqrt(ss / (n - 1)) : 0;
  return m;
}

// How messages refer to a 0-based column: by header name where the file gives one.
std::string column_label(const Fields& names, int col) {
  if (col < static_cast<int>(names.size()) && !names[col].empty()) return "column " + in_quotes(names[col]);
  return "column " + std::to_string(col + 1);
}

// ---------------------------------------------------------------------------------------
// Tokenizing. libcsv knows nothing about lines, so the text is fed one physical line at a
// time: every field then starts and ends on the line being fed, except a quoted field that
// swallows a line break, which is rejected as soon as that line ends.

using RowSink = std::function<void(int line, Fields& fields)>;

// libcsv grows a field's buffer by a fixed 128 bytes per realloc, so a 10 MB cell took 80k
// reallocs (minutes under AddressSanitizer, whose realloc always copies). This pair keeps
// the block's capacity in front of it and doubles it, so growth costs O(n) in all.
struct FieldBuffer {
  static constexpr std::size_t kHeader = alignof(std::max_align_t);
  static void* grow(void* p, std::size_t n) {
    unsigned char* base = p ? static_cast<unsigned char*>(p) - kHeader : nullptr;
    std::size_t cap = 0;
    if (base) std::memcpy(&cap, base, sizeof cap);
    if (base && n <= cap) return p;
    if (n > SIZE_MAX / 2 - kHeader) return nullptr;
    const std::size_t want = std::max({n, 2 * cap, std::size_t(256)});
    void* grown = std::realloc(base, want + kHeader);
    if (!grown) return nullptr;  // the old block stays valid, as realloc's contract says
    std::memcpy(grown, &want, sizeof want);
    return static_cast<unsigned char*>(grown) + kHeader;
  }
  static void release(void* p) {
    if (p) std::free(static_cast<unsigned char*>(p) - kHeader);
  }
};

class CsvTokenizer {
 public:
  CsvTokenizer(const std::string& source, RowSink sink) : source_(source), sink_(std::move(sink)) {
    csv_init(&parser_, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL);
    csv_set_realloc_func(&parser_, FieldBuffer::grow);
    csv_set_free_func(&parser_, FieldBuffer::release);
  }
  ~CsvTokenizer() { csv_free(&parser_); }
  CsvTokenizer(const CsvTokenizer&) = delete;
  CsvTokenizer& operator=(const CsvTokenizer&) = delete;

  void run(const std::string& text) {
    std::size_t pos = 0;
    while (pos < text.size()) {
      const std::size_t end = line_end(text, pos);
      ++line_;
      feed(text.data() + pos, end - pos);
      const char last = text[end - 1];
      // libcsv clears `quoted` when a field is submitted, so a set flag after a line break
      // means the break was taken into a quoted field.
      if ((last == '\n' || last == '\r') && parser_.quoted) fail_multiline();
      pos = end;
    }
    finish();
  }

 private:
  // One past the line break ending the line at `pos` (\n, \r\n or a lone \r), or the end.
  static std::size_t line_end(const std::string& text, std::size_t pos) {
    const std::size_t brk = text.find_first_of("\r\n", pos);
    if (brk == std::string::npos) return text.size();
    if (text[brk] == '\r' && brk + 1 < text.size() && text[brk + 1] == '\n') return brk + 2;
    return brk + 1;
  }

  void feed(const char* data, std::size_t len) {
    const std::size_t used = csv_parse(&parser_, data, len, on_field, on_row, this);
    rethrow();
    if (const int status = csv_error(&parser_); status != CSV_SUCCESS)
      fail_parse(status, used < len ? data[used] : '\0');
  }

  void finish() {
    const int rc = csv_fini(&parser_, on_field, on_row, this);
    rethrow();
    if (rc != 0) fail(current_col(), "a quoted field is never closed (missing '\"' at the end of the file)");
  }

  // Callbacks run inside C code, which cannot unwind: errors are parked and rethrown after.
  static void on_field(void* s, std::size_t len, void* self) {
    auto* t = static_cast<CsvTokenizer*>(self);
    if (t->error_) return;
    try {
      t->fields_.emplace_back(static_cast<const char*>(s), len);
    } catch (...) {
      t->error_ = std::current_exception();
    }
  }

  static void on_row(int, void* self) {
    auto* t = static_cast<CsvTokenizer*>(self);
    if (t->error_) return;
    try {
      if (t->names_.empty()) {
        for (const auto& f : t->fields_) t->names_.push_back(trim(f));
      }
      t->sink_(t->line_, t->fields_);
      t->fields_.clear();
    } catch (...) {
      t->error_ = std::current_exception();
    }
  }

  void rethrow() {
    if (error_) std::rethrow_exception(error_);
  }

  int current_col() const { return static_cast<int>(fields_.size()); }

  [[noreturn]] void fail(int col, const std::string& msg) const {
    throw InputError(located(source_, line_, col + 1, column_label(names_, col) + ": " + msg));
  }

  [[noreturn]] void fail_parse(int status, char at) const {
    if (status != CSV_EPARSE)
      throw InputError(located(source_, line_, 0, std::string("cannot parse CSV: ") + csv_strerror(status)));
    if (!parser_.quoted)
      fail(current_col(), "a '\"' inside an unquoted field; quote the whole field and double the quote (\"\")");
    fail(current_col(), std::string("unexpected '") + at +
                            "' after a closing quote; a '\"' inside a quoted field must be doubled (\"\")");
  }

  [[noreturn]] void fail_multiline() const {
    fail(current_col(),
         "a quoted field runs past the end of the line (a line break inside quotes, or a missing "
         "closing '\"'); herd needs every row on one line");
  }

  const std::string& source_;
  RowSink sink_;
  csv_parser parser_{};
  int line_ = 0;
  Fields fields_;
  Fields names_;  // the header, once read, to name columns in messages
  std::exception_ptr error_;
};

// ---------------------------------------------------------------------------------------
// Cell values.

enum class NumberStatus { kOk, kNotNumber, kNonFinite, kOutOfRange };

NumberStatus parse_number(const std::string& text, double& out) {
  if (text.empty()) return NumberStatus::kNotNumber;
  errno = 0;
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) return NumberStatus::kNotNumber;
  if (!std::isfinite(out)) return errno == ERANGE ? NumberStatus::kOutOfRange : NumberStatus::kNonFinite;
  // strtod also reads hex ("0x1p3"), which no spreadsheet writes: treat it as a typo.
  if (text.find_first_not_of("0123456789+-.eE") != std::string::npos) return NumberStatus::kNotNumber;
  return NumberStatus::kOk;
}

enum class DateKind { kIso, kInteger };

struct DateValue {
  DateKind kind = DateKind::kIso;
  long long day = 0;  // days since 1970-01-01 for ISO dates, the integer itself otherwise
};

bool is_leap(long long y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

long long days_in_month(long long y, long long m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// Howard Hinnant's days_from_civil: a day number that orders and differences dates.
long long days_from_civil(long long y, long long m, long long d) {
  y -= m <= 2 ? 1 : 0;
  const long long era = (y >= 0 ? y : y - 399) / 400;
  const long long yoe = y - era * 400;
  const long long doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
  const long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

long long to_int(std::string_view digits) {
  long long v = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), v);
  return v;
}

bool looks_iso(const std::string& s) {
  return s.size() == 10 && s[4] == '-' && s[7] == '-' && all_digits(std::string_view(s).substr(0, 4)) &&
         all_digits(std::string_view(s).substr(5, 2)) && all_digits(std::string_view(s).substr(8, 2));
}

bool looks_integer(const std::string& s) {
  const std::string_view digits = s[0] == '-' ? std::string_view(s).substr(1) : std::string_view(s);
  return all_digits(digits) && digits.size() <= 18;  // 18 digits always fit a long long
}

// ---------------------------------------------------------------------------------------
// Rows -> per-geo series -> Dataset.

struct Observation {
  int line = 0;
  long long day = 0;
  std::string date;
  double outcome = 0;
  std::vector<double> media, control;
};

struct Series {
  std::string name;
  std::vector<Observation> obs;
  std::map<long long, int> line_of_day;  // to name the earlier line of a duplicate date
};

struct Columns {  // 0-based positions in the header
  int date = -1, outcome = -1, panel = -1;
  std::vector<int> media, control;
};

class DatasetBuilder {
 public:
  DatasetBuilder(const std::string& source, const ModelSpec& spec) : source_(source), spec_(spec) {}

  void on_row(int line, Fields& fields) {
    if (header_line_ == 0) {
      read_header(line, fields);
    } else {
      read_row(line, fields);
    }
  }

  Dataset finish() const {
    if (header_line_ == 0)
      fail(1, -1, "the file is empty; herd needs a header row naming the columns, then one row per week");
    if (series_.empty()) fail(header_line_, -1, "the file has a header but no data rows");
    check_rectangular();
    Dataset d = assemble();
    check_outcome_varies(d);
    set_scales(d);
    add_warnings(d);
    return d;
  }

 private:
  [[noreturn]] void fail(int line, int col, const std::string& msg) const {
    if (col < 0) throw InputError(located(source_, line, 0, msg));
    throw InputError(located(source_, line, col + 1, column_label(names_, col) + ": " + msg));
  }

  bool panel() const { return !spec_.data.panel.empty(); }

  // --- header -------------------------------------------------------------------------

  void read_header(int line, const Fields& fields) {
    header_line_ = line;
    for (const auto& f : fields) names_.push_back(trim(f));
    check_encoding();
    check_delimiter();
    check_printable();
    check_duplicate_names();
    find_columns();
  }

  // UTF-16 (Excel's "Unicode text") reads as NULs between the letters; control characters
  // in a name would end up in labels and the output file.
  void check_encoding() const {
    const std::string& head = names_.empty() ? std::string() : names_.front();
    if (head.rfind("\xff\xfe", 0) == 0 || head.rfind("\xfe\xff", 0) == 0)
      fail(header_line_, -1, "the file starts with a UTF-16 byte-order mark; save it as UTF-8 (or ASCII) CSV");
    for (std::size_t j = 0; j < names_.size(); ++j)
      for (unsigned char c : names_[j]) {
        if (c == 0)
          fail(header_line_, -1,
               "the header holds NUL bytes: the file looks UTF-16 encoded; save it as UTF-8 (or ASCII) CSV");
      }
  }

  void check_printable() const {
    for (std::size_t j = 0; j < names_.size(); ++j)
      for (unsigned char c : names_[j]) {
        if (c < 0x20 || c == 0x7f)
          fail(header_line_, static_cast<int>(j),
               "the column name holds a control character (byte " + std::to_string(c) + "); names must be printable");
      }
  }

  void check_delimiter() const {
    if (names_.size() != 1) return;
    static const std::pair<char, const char*> kDelims[] = {{';', "';'"}, {'\t', "tab"}, {'|', "'|'"}};
    for (const auto& [c, name] : kDelims) {
      if (names_[0].find(c) == std::string::npos) continue;
      fail(header_line_, -1,
           std::string("the header is a single column; the file looks ") + name +
               "-separated, but herd reads comma-separated CSV (RFC 4180); save it with ',' as the separator");
    }
  }

  // One pass with a map: a header of 100k columns is checked in linear time.
  void check_duplicate_names() const {
    std::unordered_map<std::string, std::size_t> first;
    first.reserve(names_.size());
    for (std::size_t j = 0; j < names_.size(); ++j) {
      if (names_[j].empty()) continue;  // unnamed columns (e.g. a pandas index) cannot be used anyway
      const auto [it, fresh] = first.emplace(names_[j], j);
      if (!fresh)
        fail(header_line_, static_cast<int>(j),
             "duplicate column name (also column " + std::to_string(it->second + 1) + "); column names must be unique");
    }
  }

  void find_columns() {
    std::vector<std::string> missing;
    auto find = [&](const std::string& name, const char* role) {
      const auto it = std::find(names_.begin(), names_.end(), name);
      if (it != names_.end()) return static_cast<int>(it - names_.begin());
      missing.push_back(in_quotes(name) + " (" + role + ")");
      return -1;
    };
    cols_.date = find(spec_.data.date, "date");
    cols_.outcome = find(spec_.data.outcome, "outcome");
    if (panel()) cols_.panel = find(spec_.data.panel, "panel");
    for (const auto& c : spec_.media.channels) cols_.media.push_back(find(c, "channel"));
    for (const auto& k : spec_.controls) cols_.control.push_back(find(k, "control"));
    if (missing.empty()) return;
    std::string msg = missing.size() == 1 ? "missing column " : "missing columns ";
    for (std::size_t i = 0; i < missing.size(); ++i) msg += (i ? ", " : "") + missing[i];
    msg += "; the file has columns: ";
    for (std::size_t i = 0; i < names_.size(); ++i) msg += (i ? ", " : "") + names_[i];
    fail(header_line_, -1, msg);
  }

  // --- data rows ----------------------------------------------------------------------

  void read_row(int line, const Fields& fields) {
    if (fields.size() != names_.size()) {
      fail(line, -1,
           "this row has " + std::to_string(fields.size()) + " fields, but the header has " +
               std::to_string(names_.size()) +
               (fields.size() > names_.size() ? " (a value containing ',' must be in double quotes)" : ""));
    }
    Series& series = series_for(line, fields);
    Observation ob;
    ob.line = line;
    ob.date = cell(line, fields, cols_.date);
    ob.day = read_date(line, ob.date);
    ob.outcome = number(line, fields, cols_.outcome);
    for (int col : cols_.media) ob.media.push_back(spend(line, fields, col));
    for (int col : cols_.control) ob.control.push_back(number(line, fields, col));
    check_order(series, ob);
    series.line_of_day.emplace(ob.day, line);
    series.obs.push_back(std::move(ob));
  }

  // The trimmed cell; empty cells are never meaningful in a used column.
  std::string cell(int line, const Fields& fields, int col) const {
    std::string s = trim(fields[col]);
    if (s.empty()) {
      fail(line, col,
           col == cols_.panel ? "empty panel value; every row of a long-format file names its " + spec_.data.panel
                              : std::string("empty cell; every used column needs a value in every row"));
    }
    return s;
  }

  Series& series_for(int line, const Fields& fields) {
    const std::string name = panel() ? cell(line, fields, cols_.panel) : std::string();
    const auto [it, added] = geo_index_.emplace(name, static_cast<int>(series_.size()));
    if (added) {
      // A geo's name is a label in the output: printable, as column names are.
      for (unsigned char c : name)
        if (c < 0x20 || c == 0x7f)
          fail(line, cols_.panel, "the " + spec_.data.panel + " value holds a control character (byte " +
                                      std::to_string(c) + "); labels must be printable");
      series_.push_back(Series{name, {}, {}});
    }
    return series_[it->second];
  }

  double number(int line, const Fields& fields, int col) const {
    const std::string s = cell(line, fields, col);
    double v = 0;
    switch (parse_number(s, v)) {
      case NumberStatus::kOk:
        return v;
      case NumberStatus::kNotNumber:
        fail(line, col, in_quotes(s) + " is not a number");
      case NumberStatus::kNonFinite:
        fail(line, col, in_quotes(s) + " is not a finite number; non-finite values (NaN, Inf) are not allowed");
      case NumberStatus::kOutOfRange:
        fail(line, col, in_quotes(s) + " is out of range for a double");
    }
    return v;
  }

  double spend(int line, const Fields& fields, int col) const {
    const double v = number(line, fields, col);
    if (v < 0)
      fail(line, col, "negative spend " + in_quotes(trim(fields[col])) + "; media spend/exposure must be >= 0");
    return v == 0 ? 0.0 : v;  // no -0 in the arrays
  }

  long long read_date(int line, const std::string& s) {
    const int col = cols_.date;
    DateValue v;
    if (looks_iso(s)) {
      v = iso_date(line, s);
    } else if (looks_integer(s)) {
      v = DateValue{DateKind::kInteger, to_int(s)};
    } else {
      fail(line, col, in_quotes(s) + " is not a date; use ISO dates (YYYY-MM-DD) or integers (week numbers)");
    }
    if (date_kind_line_ == 0) {
      date_kind_ = v.kind;
      date_kind_line_ = line;
    } else if (v.kind != date_kind_) {
      const char* is = v.kind == DateKind::kIso ? "an ISO date" : "an integer";
      const char* was = date_kind_ == DateKind::kIso ? "ISO dates (YYYY-MM-DD)" : "integers";
      fail(line, col,
           in_quotes(s) + " is " + is + ", but the dates before it (from line " + std::to_string(date_kind_line_) +
               ") are " + was + "; use one kind throughout");
    }
    return v.day;
  }

  DateValue iso_date(int line, const std::string& s) const {
    const long long y = to_int(std::string_view(s).substr(0, 4));
    const long long m = to_int(std::string_view(s).substr(5, 2));
    const long long d = to_int(std::string_view(s).substr(8, 2));
    if (y < 1 || m < 1 || m > 12)
      fail(line, cols_.date, in_quotes(s) + " is not a valid date (year 0001-9999, month 01-12)");
    const long long days = days_in_month(y, m);
    if (d < 1 || d > days)
      fail(line, cols_.date,
           in_quotes(s) + " is not a valid date (" + s.substr(0, 7) + " has " + std::to_string(days) + " days)");
    return DateValue{DateKind::kIso, days_from_civil(y, m, d)};
  }

  std::string in_geo(const Series& s) const {
    return panel() ? " in " + spec_.data.panel + " " + in_quotes(s.name) : std::string();
  }

  void check_order(const Series& series, const Observation& ob) const {
    if (const auto it = series.line_of_day.find(ob.day); it != series.line_of_day.end())
      fail(ob.line, cols_.date,
           "duplicate date " + ob.date + in_geo(series) + " (also on line " + std::to_string(it->second) + ")");
    if (series.obs.empty() || ob.day > series.obs.back().day) return;
    const Observation& prev = series.obs.back();
    fail(ob.line, cols_.date,
         "date " + ob.date + in_geo(series) + " is earlier than the date before it, " + prev.date + " (line " +
             std::to_string(prev.line) + "); dates must be strictly increasing (sort the file by date)");
  }

  // --- whole file ---------------------------------------------------------------------

  // Every geo must cover the weeks of the first one; the first difference is reported.
  void check_rectangular() const {
    const Series& ref = series_[0];
    for (std::size_t g = 1; g < series_.size(); ++g) {
      const Series& s = series_[g];
      const std::size_t n = std::max(ref.obs.size(), s.obs.size());
      for (std::size_t i = 0; i < n; ++i) {
        const bool has_ref = i < ref.obs.size(), has_s = i < s.obs.size();
        if (has_ref && has_s && ref.obs[i].day == s.obs[i].day) continue;
        const std::string& kind = spec_.data.panel;
        const std::string who = kind + " " + in_quotes(s.name);
        const std::string first = "the first " + kind + " in the file, " + in_quotes(ref.name) + ",";
        const std::string rule = "; every " + kind + " needs the same dates";
        if (has_s && (!has_ref || s.obs[i].day < ref.obs[i].day))
          fail(s.obs[i].line, cols_.date,
               "ragged panel: " + who + " has date " + s.obs[i].date + ", which " + first + " does not have" + rule);
        const int line = has_s ? s.obs[i].line : s.obs.back().line;
        fail(line, -1,
             "ragged panel: " + who + " has no row for date " + ref.obs[i].date + ", which " + first + " has on line " +
                 std::to_string(ref.obs[i].line) + rule);
      }
    }
  }

  // Panel members in the data's order, unless that order is plain lexicographic (a file
  // sorted by a tool: Geo0, Geo1, Geo10, Geo11, ..., Geo2): then natural order (Geo0, Geo1,
  // Geo2, ..., Geo10), which is what the person who named them meant.
  std::vector<int> geo_order() const {
    std::vector<int> order(series_.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
    const auto by_name = [this](int a, int b) { return series_[a].name < series_[b].name; };
    if (std::is_sorted(order.begin(), order.end(), by_name))
      std::stable_sort(order.begin(), order.end(),
                       [this](int a, int b) { return natural_less(series_[a].name, series_[b].name); });
    return order;
  }

  Dataset assemble() const {
    Dataset d;
    d.source = source_;
    d.T = static_cast<int>(series_[0].obs.size());
    d.G = static_cast<int>(series_.size());
    d.C = static_cast<int>(spec_.media.channels.size());
    d.K = static_cast<int>(spec_.controls.size());
    d.channels = spec_.media.channels;
    d.controls = spec_.controls;
    for (const auto& ob : series_[0].obs) d.dates.push_back(ob.date);
    d.outcome_column = cols_.outcome + 1;
    for (int col : cols_.media) d.media_column.push_back(col + 1);
    const std::size_t T = d.T;
    d.media.resize(static_cast<std::size_t>(d.G * d.C) * T);
    d.control.resize(static_cast<std::size_t>(d.G * d.K) * T);
    const std::vector<int> order = geo_order();
    for (int g = 0; g < d.G; ++g) {
      const Series& series = series_[static_cast<std::size_t>(order[static_cast<std::size_t>(g)])];
      d.geos.push_back(series.name);
      for (std::size_t t = 0; t < T; ++t) {
        const Observation& ob = series.obs[t];
        d.outcome.push_back(ob.outcome);
        d.line.push_back(ob.line);
        for (int c = 0; c < d.C; ++c) d.media[(g * d.C + c) * T + t] = ob.media[c];
        for (int k = 0; k < d.K; ++k) d.control[(g * d.K + k) * T + t] = ob.control[k];
      }
    }
    return d;
  }

  std::string outcome_label() const {
    return "outcome column " + in_quotes(spec_.data.outcome) + " (column " + std::to_string(cols_.outcome + 1) + ")";
  }

  void check_outcome_varies(const Dataset& d) const {
    const auto [lo, hi] = std::minmax_element(d.outcome.begin(), d.outcome.end());
    if (*lo != *hi) return;
    fail(0, -1,
         outcome_label() + " has the same value (" + format_number(*lo) +
             ") in every row; an outcome without variance cannot be modelled");
  }

  static double channel_scale(ScaleType type, const double* x, std::size_t n) {
    double sum = 0, mx = 0;
    std::size_t active = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (x[i] > 0) ++active;
      sum += x[i];
      mx = std::max(mx, x[i]);
    }
    if (type == ScaleType::kNone || active == 0) return 1;  // a zero channel has nothing to scale
    return type == ScaleType::kMax ? mx : sum / static_cast<double>(active);
  }

  double outcome_scale(const std::vector<double>& y) const {
    if (spec_.data.outcome_scale == ScaleType::kNone) return 1;
    double sum = 0, sum_abs = 0, max_abs = 0;
    for (double v : y) {
      sum += v;
      sum_abs += std::fabs(v);
      max_abs = std::max(max_abs, std::fabs(v));
    }
    const double n = static_cast<double>(y.size());
    double scale = max_abs;
    if (spec_.data.outcome_scale == ScaleType::kMean) {
      // A mean <= 0 cannot be divided by; the mean magnitude still fixes the units.
      scale = sum > 0 ? sum / n : sum_abs / n;
    }
    if (!(scale > 0)) fail(0, -1, outcome_label() + " is zero throughout; it cannot be scaled");
    return scale;
  }

  // A column whose sum (what its scale is computed from) is not a finite double is rejected
  // at its largest value: finite in, finite out.
  void check_sums(const Dataset& d, const std::vector<double>& x, int col, const std::string& what) const {
    double sum = 0;
    std::size_t big = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      sum += std::fabs(x[i]);
      if (std::fabs(x[i]) > std::fabs(x[big])) big = i;
    }
    if (std::isfinite(sum)) return;
    fail(d.line[big], col, format_number(x[big]) + " is too large: the " + what +
                               "'s sum overflows a double; rescale the column (e.g. to thousands)");
  }

  void set_scales(Dataset& d) const {
    const std::size_t T = d.T;
    for (int c = 0; c < d.C; ++c) {
      std::vector<double> x;
      for (int g = 0; g < d.G; ++g) x.insert(x.end(), &d.media[(g * d.C + c) * T], &d.media[(g * d.C + c) * T] + T);
      check_sums(d, x, cols_.media[static_cast<std::size_t>(c)], "channel");
      d.media_scale.push_back(channel_scale(spec_.data.media_scale, x.data(), x.size()));
    }
    check_sums(d, d.outcome, cols_.outcome, "outcome");
    for (int k = 0; k < d.K; ++k) {
      std::vector<double> x;
      for (int g = 0; g < d.G; ++g) x.insert(x.end(), &d.control[(g * d.K + k) * T], &d.control[(g * d.K + k) * T] + T);
      check_sums(d, x, cols_.control[static_cast<std::size_t>(k)], "control");
    }
    set_control_scales(d, spec_.control_scale);
    d.outcome_scale = outcome_scale(d.outcome);
  }

  void add_warnings(Dataset& d) const {
    const std::size_t T = d.T;
    const std::string every = d.G > 1 ? "in every week of every " + spec_.data.panel : std::string("in every week");
    for (int c = 0; c < d.C; ++c) {
      double lo = d.media[c * T], hi = lo;
      for (int g = 0; g < d.G; ++g)
        for (std::size_t t = 0; t < T; ++t) {
          lo = std::min(lo, d.media[(g * d.C + c) * T + t]);
          hi = std::max(hi, d.media[(g * d.C + c) * T + t]);
        }
      if (lo != hi) continue;
      const std::string who =
          "channel " + in_quotes(d.channels[c]) + " (column " + std::to_string(d.media_column[c]) + ")";
      d.warnings.push_back(located(source_, 0, 0,
                                   hi == 0
                                       ? who + " has zero spend " + every +
                                             "; its effect cannot be estimated from the data and will follow its prior."
                                       : who + " has the same spend (" + format_number(hi) + ") " + every +
                                             "; its effect cannot be told apart from the intercept."));
    }
    for (int k = 0; k < d.K; ++k) add_control_warning(d, k, every);
  }

  // Fitted as given, a control of large magnitude makes the log density so steep along its
  // coefficient that warmup's step size collapses (Meridian's geo_media.csv with
  // Channel3_impression, up to 3.6 million, as a control: step size 1e-6, R-hat 3; the same
  // fit with scale = "std" moves), and one whose mean dwarfs its spread is all but the
  // intercept (correlation ~ 1 - sd^2 / 2 mean^2). The thresholds are where NUTS stalls, not
  // where it slows: price at 10.0 +- 0.4 (ratio 25) fits fine.
  void add_control_warning(Dataset& d, int k, const std::string& every) const {
    const ControlMoments m = control_moments(d, static_cast<std::size_t>(k));
    const double lo = m.lo, hi = m.hi, max_abs = m.max_abs, mean = m.mean, sd = m.sd;
    const std::string who = "control " + in_quotes(d.controls[k]) + " (column " +
                            std::to_string(cols_.control[static_cast<std::size_t>(k)] + 1) + ")";
    if (lo == hi) {
      d.warnings.push_back(located(source_, 0, 0,
                                   who + " has the same value (" + format_number(hi) + ") " + every +
                                       "; its effect cannot be told apart from the intercept."));
      return;
    }
    if (spec_.control_scale != ControlScale::kNone) return;
    const std::string fix = "; set `scale = \"std\"` under [controls] (gamma is then per standard deviation, and "
                            "gamma_per_unit reports it per unit) or rescale the column";
    if (max_abs > kControlMaxAbs) {
      d.warnings.push_back(located(
          source_, 0, 0,
          who + " reaches " + fmt_num(max_abs) + " in magnitude; fitted as given (controls.scale = \"none\") it " +
              "stalls the sampler (the step size collapses and the chains barely move)" + fix + "."));
    } else if (std::fabs(mean) > kControlMeanOverSd * sd) {
      d.warnings.push_back(located(source_, 0, 0,
                                   who + " has mean " + fmt_num(mean, 4) + " but standard deviation " +
                                       fmt_num(sd) + ": fitted as given it is all but the intercept, which " +
                                       "stalls the sampler" + fix + " (e.g. subtract its mean)."));
    }
  }
  static constexpr double kControlMaxAbs = 1e3, kControlMeanOverSd = 100;

  const std::string& source_;
  const ModelSpec& spec_;
  int header_line_ = 0;
  Fields names_;
  Columns cols_;
  DateKind date_kind_ = DateKind::kIso;
  int date_kind_line_ = 0;
  std::vector<Series> series_;
  std::unordered_map<std::string, int> geo_index_;
};

}  // namespace

void set_control_scales(Dataset& d, ControlScale how) {
  const auto K = static_cast<std::size_t>(d.K);
  d.control_center.assign(K, 0.0);
  d.control_scale.assign(K, 1.0);
  if (how == ControlScale::kNone) return;
  for (std::size_t k = 0; k < K; ++k) {
    const ControlMoments m = control_moments(d, k);
    d.control_center[k] = m.mean;
    d.control_scale[k] = m.sd > 0 ? m.sd : 1.0;  // a constant control is only centred (and warned about)
  }
}

Dataset read_dataset_text(const std::string& text, const std::string& source, const ModelSpec& spec) {
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0)
    throw InputError(located(source, 1, 1,
                             "the file starts with a UTF-8 byte-order mark (BOM), which would become part of the "
                             "first column name; save it as UTF-8 without BOM (in Excel: \"CSV (Comma delimited)\")"));
  DatasetBuilder builder(source, spec);
  CsvTokenizer tokenizer(source, [&builder](int line, Fields& fields) { builder.on_row(line, fields); });
  tokenizer.run(text);
  return builder.finish();
}

Dataset read_dataset(const ModelSpec& spec) {
  const std::string& path = spec.data.path;
  std::error_code ec;
  // Say who named the file: a mistyped data.path is fixed in the config, not in the CSV.
  const std::string named_by = spec.source.empty() ? "" : " (named by `data.path` in " + spec.source + ")";
  if (!std::filesystem::is_regular_file(path, ec))
    throw InputError(located(path, 0, 0,
                             (std::filesystem::exists(path, ec) ? "the data file is not a regular file"
                                                                : "the data file does not exist") + named_by));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(located(path, 0, 0, std::string("cannot open the data file: ") + std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw InputError(located(path, 0, 0, "cannot read the data file"));
  return read_dataset_text(text.str(), path, spec);
}

}  // namespace herd
