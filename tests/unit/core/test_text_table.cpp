// Tables a person reads: separators, significant figures, `-` for undefined, sized columns.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "herd/core/text_table.hpp"

namespace herd {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST(TextTable, NumbersAsAPersonReadsThem) {
  EXPECT_EQ(fmt_num(26812.4), "26,812");
  EXPECT_EQ(fmt_num(65200), "65,200");
  EXPECT_EQ(fmt_num(1234567.8, 4), "1,234,568");
  EXPECT_EQ(fmt_num(-55450.2), "-55,450");
  EXPECT_EQ(fmt_num(0.04123), "0.0412");
  EXPECT_EQ(fmt_num(1.23456), "1.23");
  EXPECT_EQ(fmt_num(0), "0");
  EXPECT_EQ(fmt_num(-0.0000), "0");
  EXPECT_EQ(fmt_num(-0.0001234, 2), "-0.00012");
  EXPECT_EQ(fmt_num(2e-7), "2.00e-07");
  EXPECT_EQ(fmt_num(kNaN), "-");
  EXPECT_EQ(fmt_num(INFINITY), "inf");
  EXPECT_EQ(fmt_count(1852.4), "1,852");
  EXPECT_EQ(fmt_count(999), "999");
  EXPECT_EQ(fmt_count(-1000), "-1,000");
  EXPECT_EQ(fmt_count(kNaN), "-");
  EXPECT_EQ(fmt_fixed(1.0041, 3), "1.004");
  EXPECT_EQ(fmt_fixed(12345.5, 1), "12,345.5");
  EXPECT_EQ(fmt_fixed(kNaN, 3), "-");
  EXPECT_EQ(fmt_short(1.01), "1.01");
  EXPECT_EQ(fmt_short(0.3), "0.3");
  EXPECT_EQ(fmt_short(1000), "1,000");
}

TEST(TextTable, ColumnsAreAsWideAsTheirWidestCell) {
  TextTable t({"channel", "roi", "note"}, {true, false, true});
  t.row({"tv", "1.2", ""});
  t.row({"a_very_long_channel_name", "10.25", "x"});
  t.row({"café", "-", "y"});
  t.note("- : does not apply");
  std::ostringstream os;
  t.print(os);
  EXPECT_EQ(os.str(),
            "channel                     roi  note\n"
            "tv                          1.2\n"
            "a_very_long_channel_name  10.25  x\n"
            "café                          -  y\n"
            "- : does not apply\n");
}

TEST(TextTable, ARowOfTheWrongWidthIsABug) {
  TextTable t({"a", "b"});
  EXPECT_THROW(t.row({"1"}), std::logic_error);
}

}  // namespace
}  // namespace herd
