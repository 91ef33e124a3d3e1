// The one CSV writer: quoting, number format, row width.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>

#include "herd/core/csv_writer.hpp"

namespace herd {
namespace {

TEST(CsvWriter, QuotesOnlyWhereRfc4180Needs) {
  CsvWriter w({"name", "value", "note"});
  w.row("plain", 1, "a,b");
  w.row("radio \"drive\"", 2.5, "two\nlines");
  w.cell("empty").cell(CsvWriter::kEmpty).cell(std::string());
  w.end_row();
  EXPECT_EQ(w.text(),
            "name,value,note\n"
            "plain,1,\"a,b\"\n"
            "\"radio \"\"drive\"\"\",2.5,\"two\nlines\"\n"
            "empty,,\n");
}

TEST(CsvWriter, NumbersReadBackExactly) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> n01(0, 1);
  CsvWriter w({"x"});
  std::vector<double> xs;
  for (int i = 0; i < 2000; ++i) {
    const double x = n01(rng) * std::pow(10.0, static_cast<int>(rng() % 40) - 20);
    xs.push_back(x);
    w.row(x);
  }
  std::istringstream in(w.text());
  std::string line;
  std::getline(in, line);
  for (double x : xs) {
    ASSERT_TRUE(std::getline(in, line));
    EXPECT_EQ(std::strtod(line.c_str(), nullptr), x) << line;
  }
}

TEST(CsvWriter, NonFiniteHaveOneSpelling) {
  CsvWriter w({"a", "b", "c", "d"});
  const double inf = std::numeric_limits<double>::infinity();
  w.row(std::numeric_limits<double>::quiet_NaN(), -std::numeric_limits<double>::quiet_NaN(), inf, -inf);
  EXPECT_EQ(w.text(), "a,b,c,d\nnan,nan,inf,-inf\n");
}

TEST(CsvWriter, RowOfTheWrongWidthIsRefused) {
  CsvWriter w({"a", "b"});
  w.cell(1);
  EXPECT_THROW(w.end_row(), std::logic_error);
  CsvWriter v({"a", "b"});
  EXPECT_THROW(v.row(1, 2, 3), std::logic_error);
}

}  // namespace
}  // namespace herd
