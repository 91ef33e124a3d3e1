#pragma once
// Pieces of the model-config reader that the run-file reader shares (private to src/config).
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <sstream>
#include <string>
#include <string_view>
#include <toml++/toml.h>
#include <utility>
#include <vector>

#include "herd/core/error.hpp"

#include "herd/model/spec.hpp"

namespace herd::detail {

using Keys = std::vector<std::string>;

inline std::string join_path(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

inline std::string in_quotes(std::string_view s) { return "\"" + std::string(s) + "\""; }

inline std::string comma_list(const std::vector<std::string>& items, bool quote = false) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += ", ";
    out += quote ? in_quotes(s) : s;
  }
  return out.empty() ? "(none)" : out;
}

inline bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

inline const char* type_name(toml::node_type t) {
  switch (t) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a floating-point number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    case toml::node_type::none: break;
  }
  return "nothing";
}

// The type plus, for scalars, the value itself, so the user sees what was read.
inline std::string describe(const toml::node& n) {
  std::ostringstream o;
  o << type_name(n.type());
  if (n.is_value()) {
    o << " ";
    n.visit([&](const auto& v) { o << v; });
  }
  return o.str();
}

// Reads TOML nodes into typed values; every failure becomes an InputError located in `source`.
class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(const toml::source_region& at, const std::string& msg) const {
    throw InputError(located(source_, static_cast<int>(at.begin.line), static_cast<int>(at.begin.column), msg));
  }
  [[noreturn]] void fail(const toml::node& at, const std::string& msg) const { fail(at.source(), msg); }
  [[noreturn]] void fail(const std::string& msg) const { throw InputError(located(source_, 0, 0, msg)); }

  [[noreturn]] void wrong_type(const toml::node& n, const std::string& path, const std::string& expected) const {
    fail(n, "`" + path + "`: expected " + expected + ", found " + describe(n));
  }

  void check_keys(const toml::table& t, const std::string& path, const Keys& allowed) const {
    for (auto&& [k, v] : t) {
      if (contains(allowed, std::string(k.str()))) continue;
      fail(k.source(), "unknown key `" + join_path(path, k.str()) + "`; valid keys " +
                           (path.empty() ? std::string("at the top level") : "in `" + path + "`") + ": " +
                           comma_list(allowed));
    }
  }

  // A sub-table, or nullptr when the key is absent.
  const toml::table* table(const toml::table* parent, const std::string& path, const char* key) const {
    if (!parent) return nullptr;
    const toml::node* n = parent->get(key);
    if (!n) return nullptr;
    if (!n->is_table()) wrong_type(*n, join_path(path, key), "a table");
    return n->as_table();
  }

  const toml::node& required(const toml::table* t, const std::string& path, const char* key) const {
    const std::string msg = "missing required key `" + join_path(path, key) + "`";
    if (!t) fail(msg);
    const toml::node* n = t->get(key);
    if (!n) fail(*t, msg);
    return *n;
  }

  std::string string(const toml::node& n, const std::string& path) const {
    if (!n.is_string()) wrong_type(n, path, "a string");
    return n.as_string()->get();
  }

  std::string nonempty_string(const toml::node& n, const std::string& path) const {
    std::string s = string(n, path);
    if (s.empty()) fail(n, "`" + path + "`: expected a non-empty string, found \"\"");
    return s;
  }

  bool boolean(const toml::node& n, const std::string& path) const {
    if (!n.is_boolean()) wrong_type(n, path, "a boolean (true or false)");
    return n.as_boolean()->get();
  }

  std::int64_t integer(const toml::node& n, const std::string& path, std::int64_t lo, std::int64_t hi) const {
    const std::string expected = range_text("an integer", lo, hi);
    if (!n.is_integer()) wrong_type(n, path, expected);
    const std::int64_t v = n.as_integer()->get();
    if (v < lo || v > hi) fail(n, "`" + path + "`: expected " + expected + ", found " + std::to_string(v));
    return v;
  }

  int small_int(const toml::node& n, const std::string& path, int lo, int hi) const {
    return static_cast<int>(integer(n, path, lo, hi));
  }

  // Integers are accepted for floats: `period = 52` means 52.0.
  double number(const toml::node& n, const std::string& path, bool (*ok)(double), const std::string& expected) const {
    double v = 0;
    if (n.is_integer())
      v = static_cast<double>(n.as_integer()->get());
    else if (n.is_floating_point())
      v = n.as_floating_point()->get();
    else
      wrong_type(n, path, expected);
    if (!std::isfinite(v) || !ok(v)) fail(n, "`" + path + "`: expected " + expected + ", found " + describe(n));
    return v;
  }

  template <class E>
  E choice(const toml::node& n, const std::string& path, std::initializer_list<E> options) const {
    std::vector<std::string> names;
    for (E e : options) names.push_back(to_string(e));
    const std::string expected = "one of " + comma_list(names, true);
    const std::string s = string(n, path);
    for (E e : options)
      if (s == to_string(e)) return e;
    fail(n, "`" + path + "`: expected " + expected + ", found " + in_quotes(s));
  }

  // Array of non-empty, distinct strings; `what` names an element in messages ("channel").
  std::vector<std::string> string_list(const toml::node& n, const std::string& path, const char* what,
                                       bool allow_empty) const {
    if (!n.is_array()) wrong_type(n, path, "an array of strings");
    const toml::array& arr = *n.as_array();
    if (arr.empty() && !allow_empty) fail(n, "`" + path + "`: expected a non-empty array of strings, found []");
    std::vector<std::string> out;
    for (size_t i = 0; i < arr.size(); ++i) {
      const std::string item_path = path + "[" + std::to_string(i) + "]";
      std::string s = nonempty_string(arr[i], item_path);
      if (contains(out, s)) fail(arr[i], "`" + path + "`: duplicate " + what + " " + in_quotes(s));
      out.push_back(std::move(s));
    }
    return out;
  }

  // Entries of a table in the order they appear in the file (toml++ orders them by key).
  static std::vector<std::pair<const toml::key*, const toml::node*>> in_file_order(const toml::table& t) {
    std::vector<std::pair<const toml::key*, const toml::node*>> out;
    for (auto&& [k, v] : t) out.emplace_back(&k, &v);
    auto pos = [](const toml::key* k) { return std::make_pair(k->source().begin.line, k->source().begin.column); };
    std::stable_sort(out.begin(), out.end(), [&](const auto& x, const auto& y) { return pos(x.first) < pos(y.first); });
    return out;
  }

 private:
  static std::string range_text(const char* what, std::int64_t lo, std::int64_t hi) {
    std::string s = what;
    if (hi == INT_MAX || hi == INT64_MAX) return s + " >= " + std::to_string(lo);
    return s + " in " + std::to_string(lo) + ".." + std::to_string(hi);
  }

  std::string source_;
};


/// The whole file; InputError naming it if it cannot be read.
std::string read_text_file(const std::filesystem::path& file, const char* what);

/// Parses TOML; a syntax error becomes an InputError with file:line:col.
toml::table parse_toml(std::string_view text, const std::string& source);

/// A model config already parsed as TOML (a run file's template or sweep point).
ModelSpec parse_model_table(const toml::table& root, const std::string& source, const std::filesystem::path& base_dir,
                            std::string default_name);

/// A dotted sweep key's segments; a segment in double quotes may hold dots.
std::vector<std::string> key_segments(const std::string& key, const Reader& w, const toml::key& at);

// Puts `value` at the dotted `key` of a config table, creating tables on the way; an integer
// segment indexes an array of tables (lift_tests.0.lift). Errors point at `at` (the key in the
// run or study file). Shared by [[sweeps]] and study variants.
void set_dotted(toml::table& root, const std::string& key, const toml::node& value, const Reader& w,
                const toml::key& at);

}  // namespace herd::detail
