// CSV reading: good wide and long files (values, layout, lines, scales, warnings), RFC 4180
// quoting and line endings, and one test per kind of input error, each asserting the file,
// the "line:col" and the words a user needs to find and fix the cell.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "herd/core/error.hpp"
#include "herd/data/dataset.hpp"

namespace herd {
namespace {

ModelSpec spec_for(std::vector<std::string> channels, std::vector<std::string> controls = {}, std::string panel = "") {
  ModelSpec s;
  s.data.path = "data.csv";
  s.data.date = "week";
  s.data.outcome = "sales";
  s.data.panel = std::move(panel);
  s.media.channels = std::move(channels);
  s.controls = std::move(controls);
  return s;
}

ModelSpec wide_spec() { return spec_for({"tv", "search"}, {"price"}); }

Dataset read(const std::string& text, const ModelSpec& spec) { return read_dataset_text(text, "data.csv", spec); }

// Passes when reading throws an InputError whose message starts with the file name and
// contains every one of `parts`.
::testing::AssertionResult throws_input_error(const std::string& text, const ModelSpec& spec,
                                              const std::vector<std::string>& parts) {
  try {
    read(text, spec);
  } catch (const InputError& e) {
    const std::string msg = e.what();
    if (msg.rfind("data.csv:", 0) != 0)
      return ::testing::AssertionFailure() << "message does not start with the file: " << msg;
    for (const auto& p : parts)
      if (msg.find(p) == std::string::npos)
        return ::testing::AssertionFailure() << "message lacks \"" << p << "\": " << msg;
    return ::testing::AssertionSuccess() << msg;
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "not an InputError: " << e.what();
  }
  return ::testing::AssertionFailure() << "no error";
}

const char* const kWide =
    "week,sales,tv,search,price,notes\n"
    "2024-01-01,100,10,5,2.5,a\n"
    "2024-01-08,120,0,6,2.6,b\n"
    "2024-01-15,90,20,7,2.4,\n"
    "2024-01-22,110,0,5,2.5,d\n";

TEST(CsvReader, WideFileValuesAndLayout) {
  const Dataset d = read(kWide, wide_spec());
  EXPECT_EQ(d.source, "data.csv");
  EXPECT_EQ(d.T, 4);
  EXPECT_EQ(d.G, 1);
  EXPECT_EQ(d.C, 2);
  EXPECT_EQ(d.K, 1);
  EXPECT_EQ(d.dates, (std::vector<std::string>{"2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22"}));
  EXPECT_EQ(d.geos, (std::vector<std::string>{""}));
  EXPECT_EQ(d.channels, (std::vector<std::string>{"tv", "search"}));
  EXPECT_EQ(d.controls, (std::vector<std::string>{"price"}));
  EXPECT_EQ(d.media, (std::vector<double>{10, 0, 20, 0, 5, 6, 7, 5}));  // [c * T + t]
  EXPECT_EQ(d.control, (std::vector<double>{2.5, 2.6, 2.4, 2.5}));
  EXPECT_EQ(d.outcome, (std::vector<double>{100, 120, 90, 110}));
  EXPECT_EQ(d.line, (std::vector<int>{2, 3, 4, 5}));
  EXPECT_EQ(d.outcome_column, 2);
  EXPECT_EQ(d.media_column, (std::vector<int>{3, 4}));
  EXPECT_TRUE(d.warnings.empty());
}

TEST(CsvReader, ChannelsFollowSpecOrderNotFileOrder) {
  const Dataset d = read(kWide, spec_for({"search", "tv"}));
  EXPECT_EQ(d.channels, (std::vector<std::string>{"search", "tv"}));
  EXPECT_EQ(d.media_column, (std::vector<int>{4, 3}));
  EXPECT_EQ(d.media, (std::vector<double>{5, 6, 7, 5, 10, 0, 20, 0}));
  EXPECT_EQ(d.K, 0);
  EXPECT_TRUE(d.control.empty());
}

TEST(CsvReader, MeanScaleUsesActiveWeeksOnly) {
  const Dataset d = read(kWide, wide_spec());  // defaults: mean, mean
  ASSERT_EQ(d.media_scale.size(), 2u);
  EXPECT_DOUBLE_EQ(d.media_scale[0], 15.0);  // (10 + 20) / 2, not / 4
  EXPECT_DOUBLE_EQ(d.media_scale[1], 5.75);
  EXPECT_DOUBLE_EQ(d.outcome_scale, 105.0);
}

TEST(CsvReader, MaxScale) {
  ModelSpec s = wide_spec();
  s.data.media_scale = ScaleType::kMax;
  s.data.outcome_scale = ScaleType::kMax;
  const Dataset d = read(kWide, s);
  EXPECT_EQ(d.media_scale, (std::vector<double>{20, 7}));
  EXPECT_DOUBLE_EQ(d.outcome_scale, 120.0);
}

TEST(CsvReader, NoScale) {
  ModelSpec s = wide_spec();
  s.data.media_scale = ScaleType::kNone;
  s.data.outcome_scale = ScaleType::kNone;
  const Dataset d = read(kWide, s);
  EXPECT_EQ(d.media_scale, (std::vector<double>{1, 1}));
  EXPECT_EQ(d.outcome_scale, 1.0);
  EXPECT_EQ(d.media, (std::vector<double>{10, 0, 20, 0, 5, 6, 7, 5}));  // raw either way
}

TEST(CsvReader, OutcomeMeanScaleFallsBackToMeanMagnitude) {
  const Dataset d = read("week,sales,tv\n1,-1,1\n2,-3,2\n3,2,3\n", spec_for({"tv"}));
  EXPECT_DOUBLE_EQ(d.outcome_scale, 2.0);  // mean is -2/3, mean |y| is 2
  ModelSpec s = spec_for({"tv"});
  s.data.outcome_scale = ScaleType::kMax;
  EXPECT_DOUBLE_EQ(read("week,sales,tv\n1,-1,1\n2,-3,2\n3,2,3\n", s).outcome_scale, 3.0);
}

const char* const kPanel =
    "geo,week,sales,tv,search,temp\n"
    "north,2022-01-03,100,10,0,5\n"
    "south,2022-01-03,200,30,1,6\n"
    "north,2022-01-10,110,20,0,7\n"
    "south,2022-01-10,210,40,2,8\n"
    "north,2022-01-17,120,0,0,9\n"
    "south,2022-01-17,220,50,3,10\n";

TEST(CsvReader, PanelInterleavedGeos) {
  const Dataset d = read(kPanel, spec_for({"tv", "search"}, {"temp"}, "geo"));
  EXPECT_EQ(d.T, 3);
  EXPECT_EQ(d.G, 2);
  EXPECT_EQ(d.C, 2);
  EXPECT_EQ(d.K, 1);
  EXPECT_EQ(d.geos, (std::vector<std::string>{"north", "south"}));
  EXPECT_EQ(d.dates, (std::vector<std::string>{"2022-01-03", "2022-01-10", "2022-01-17"}));
  // media[(g * C + c) * T + t]
  EXPECT_EQ(d.media, (std::vector<double>{10, 20, 0, 0, 0, 0, 30, 40, 50, 1, 2, 3}));
  EXPECT_EQ(d.control, (std::vector<double>{5, 7, 9, 6, 8, 10}));
  EXPECT_EQ(d.outcome, (std::vector<double>{100, 110, 120, 200, 210, 220}));
  EXPECT_EQ(d.line, (std::vector<int>{2, 4, 6, 3, 5, 7}));
  EXPECT_EQ(d.outcome_column, 3);
  EXPECT_EQ(d.media_column, (std::vector<int>{4, 5}));
  // Scales pool every geo and week: tv active 10, 20, 30, 40, 50; search active 1, 2, 3.
  EXPECT_DOUBLE_EQ(d.media_scale[0], 30.0);
  EXPECT_DOUBLE_EQ(d.media_scale[1], 2.0);
  EXPECT_DOUBLE_EQ(d.outcome_scale, 160.0);
  EXPECT_TRUE(d.warnings.empty());
}

TEST(CsvReader, PanelSortedByGeo) {
  const Dataset d = read("geo,week,sales,tv\nb,1,1,1\nb,2,2,1\na,1,3,2\na,2,4,2\n", spec_for({"tv"}, {}, "geo"));
  EXPECT_EQ(d.geos, (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(d.outcome, (std::vector<double>{1, 2, 3, 4}));
  EXPECT_EQ(d.line, (std::vector<int>{2, 3, 4, 5}));
}

TEST(CsvReader, IntegerDates) {
  const Dataset d = read("week,sales,tv\n1,1,1\n2,2,2\n10,3,3\n", spec_for({"tv"}));
  EXPECT_EQ(d.dates, (std::vector<std::string>{"1", "2", "10"}));  // 10 > 2 numerically
}

TEST(CsvReader, LeapDayIsADate) {
  const Dataset d = read("week,sales,tv\n2020-02-22,1,1\n2020-02-29,2,2\n2020-03-07,3,3\n", spec_for({"tv"}));
  EXPECT_EQ(d.T, 3);
}

TEST(CsvReader, QuotingThatIsFine) {
  const std::string text =
      "\"week\",\"sales\",\"tv, old\",tv,\"note\"\n"
      "\"2024-01-01\",\"100\",\"1,5\",\" 7 \",\"say \"\"hi\"\"\"\n"
      "2024-01-08,120,\"\",8,\"two, parts\"\n";
  const Dataset d = read(text, spec_for({"tv"}));
  EXPECT_EQ(d.media, (std::vector<double>{7, 8}));
  EXPECT_EQ(d.outcome, (std::vector<double>{100, 120}));
  EXPECT_EQ(d.media_column, (std::vector<int>{4}));
}

TEST(CsvReader, SpacesAroundValuesAndNoTrailingNewline) {
  const Dataset d = read("week , sales, tv\n 2024-01-01 , 1 ,2\n2024-01-08,  3,4", spec_for({"tv"}));
  EXPECT_EQ(d.dates, (std::vector<std::string>{"2024-01-01", "2024-01-08"}));
  EXPECT_EQ(d.outcome, (std::vector<double>{1, 3}));
  EXPECT_EQ(d.line, (std::vector<int>{2, 3}));
}

TEST(CsvReader, WindowsLineEndings) {
  const Dataset d = read("week,sales,tv\r\n2024-01-01,1,2\r\n2024-01-08,3,4\r\n", spec_for({"tv"}));
  EXPECT_EQ(d.dates, (std::vector<std::string>{"2024-01-01", "2024-01-08"}));
  EXPECT_EQ(d.media, (std::vector<double>{2, 4}));
  EXPECT_EQ(d.line, (std::vector<int>{2, 3}));
}

TEST(CsvReader, BlankLinesAreSkippedButCounted) {
  const Dataset d = read("week,sales,tv\n\n2024-01-01,1,2\n\n2024-01-08,3,4\n\n", spec_for({"tv"}));
  EXPECT_EQ(d.line, (std::vector<int>{3, 5}));
}

TEST(CsvReader, ScientificNotationAndSigns) {
  const Dataset d = read("week,sales,tv\n1,+1.5e2,1E3\n2,-2,0.5\n", spec_for({"tv"}));
  EXPECT_EQ(d.outcome, (std::vector<double>{150, -2}));
  EXPECT_EQ(d.media, (std::vector<double>{1000, 0.5}));
}

TEST(CsvReader, WarnsAboutZeroChannel) {
  const Dataset d = read("week,sales,tv,radio\n1,1,1,0\n2,2,2,0\n3,3,3,0\n", spec_for({"tv", "radio"}));
  ASSERT_EQ(d.warnings.size(), 1u);
  EXPECT_NE(d.warnings[0].find("data.csv"), std::string::npos) << d.warnings[0];
  EXPECT_NE(d.warnings[0].find("\"radio\""), std::string::npos) << d.warnings[0];
  EXPECT_NE(d.warnings[0].find("zero spend"), std::string::npos) << d.warnings[0];
  EXPECT_EQ(d.media_scale[1], 1.0);
  EXPECT_EQ(d.warnings[0].back(), '.');
}

TEST(CsvReader, WarnsAboutConstantChannel) {
  const Dataset d = read("week,sales,tv,radio\n1,1,1,1200\n2,2,2,1200\n3,3,3,1200\n", spec_for({"tv", "radio"}));
  ASSERT_EQ(d.warnings.size(), 1u);
  EXPECT_NE(d.warnings[0].find("data.csv"), std::string::npos) << d.warnings[0];
  EXPECT_NE(d.warnings[0].find("\"radio\""), std::string::npos) << d.warnings[0];
  EXPECT_NE(d.warnings[0].find("same spend (1200)"), std::string::npos) << d.warnings[0];
  EXPECT_DOUBLE_EQ(d.media_scale[1], 1200.0);
}

TEST(CsvReader, ChannelConstantInEachGeoButNotOverallIsNoWarning) {
  const Dataset d = read("geo,week,sales,tv\na,1,1,5\na,2,2,5\nb,1,3,6\nb,2,4,6\n", spec_for({"tv"}, {}, "geo"));
  EXPECT_TRUE(d.warnings.empty());
}

TEST(CsvReader, ControlScaleNoneKeepsControlsAsGiven) {
  const Dataset d = read(kWide, wide_spec());
  EXPECT_EQ(d.control_center, (std::vector<double>{0}));
  EXPECT_EQ(d.control_scale, (std::vector<double>{1}));
}

TEST(CsvReader, ControlScaleStdIsMeanAndSdOverEveryRowOfEveryGeo) {
  ModelSpec s = spec_for({"tv"}, {"organic", "price"}, "geo");
  s.control_scale = ControlScale::kStd;
  // organic: 1e6, 3e6 | 5e6, 7e6 -> mean 4e6, sd sqrt(20e12 / 3); price: 2, 2, 2, 4.
  const Dataset d = read("geo,week,sales,tv,organic,price\n"
                         "a,1,1,5,1000000,2\na,2,2,6,3000000,2\nb,1,3,7,5000000,2\nb,2,4,8,7000000,4\n",
                         s);
  ASSERT_EQ(d.control_center.size(), 2u);
  EXPECT_DOUBLE_EQ(d.control_center[0], 4e6);
  EXPECT_DOUBLE_EQ(d.control_scale[0], std::sqrt(20e12 / 3));
  EXPECT_DOUBLE_EQ(d.control_center[1], 2.5);
  EXPECT_DOUBLE_EQ(d.control_scale[1], 1.0);  // sqrt(3 / 3)
  EXPECT_EQ(d.control[0], 1e6);               // the data stay in the user's units
  EXPECT_TRUE(d.warnings.empty()) << d.warnings[0];
}

TEST(CsvReader, MillionValuedControlWarnsUnlessScaled) {
  ModelSpec s = spec_for({"tv"}, {"organic"});
  const std::string text = "week,sales,tv,organic\n1,1,5,1200000\n2,2,6,5800000\n3,3,7,2500000\n";
  const Dataset d = read(text, s);
  ASSERT_EQ(d.warnings.size(), 1u);
  const std::string& w = d.warnings[0];
  EXPECT_EQ(w.rfind("data.csv: ", 0), 0u) << w;
  for (const char* part : {"control \"organic\" (column 4)", "5,800,000", "stalls the sampler", "scale = \"std\""})
    EXPECT_NE(w.find(part), std::string::npos) << part << " in " << w;
  s.control_scale = ControlScale::kStd;
  EXPECT_TRUE(read(text, s).warnings.empty());
}

TEST(CsvReader, ControlThatIsAllButTheInterceptWarns) {
  ModelSpec s = spec_for({"tv"}, {"price"});
  const std::string text = "week,sales,tv,price\n1,1,5,500.01\n2,2,6,500.02\n3,3,7,500.03\n";
  const Dataset d = read(text, s);
  ASSERT_EQ(d.warnings.size(), 1u);
  EXPECT_NE(d.warnings[0].find("all but the intercept"), std::string::npos) << d.warnings[0];
  // Price at 10.0 +- 0.4 (national_media's) is no stall and says nothing.
  EXPECT_TRUE(read("week,sales,tv,price\n1,1,5,9.6\n2,2,6,10.0\n3,3,7,10.4\n", s).warnings.empty());
}

TEST(CsvReader, ConstantControlWarnsUnderEitherScale) {
  for (ControlScale how : {ControlScale::kNone, ControlScale::kStd}) {
    ModelSpec s = spec_for({"tv"}, {"promo"});
    s.control_scale = how;
    const Dataset d = read("week,sales,tv,promo\n1,1,5,1\n2,2,6,1\n3,3,7,1\n", s);
    ASSERT_EQ(d.warnings.size(), 1u);
    EXPECT_NE(d.warnings[0].find("control \"promo\" (column 4) has the same value (1)"), std::string::npos)
        << d.warnings[0];
    EXPECT_EQ(d.control_scale[0], 1.0);
  }
}

// A file sorted by a tool lists Geo0, Geo1, Geo10, Geo11, Geo2: herd shows natural order.
TEST(CsvReader, LexicographicPanelOrderBecomesNaturalOrder) {
  std::string text = "geo,week,sales,tv\n";
  for (const char* g : {"Geo0", "Geo1", "Geo10", "Geo11", "Geo2", "Geo9"})
    text += std::string(g) + ",1,1,5\n" + g + ",2,2,6\n";
  const Dataset d = read(text, spec_for({"tv"}, {}, "geo"));
  EXPECT_EQ(d.geos, (std::vector<std::string>{"Geo0", "Geo1", "Geo2", "Geo9", "Geo10", "Geo11"}));
  // Each member's rows moved with its name.
  EXPECT_EQ(d.line, (std::vector<int>{2, 3, 4, 5, 10, 11, 12, 13, 6, 7, 8, 9}));
}

TEST(CsvReader, PanelOrderOfTheDataIsKeptWhenItIsNotSorted) {
  std::string text = "geo,week,sales,tv\n";
  for (const char* g : {"north", "south", "east", "west", "store10", "store2"})
    text += std::string(g) + ",1,1,5\n" + g + ",2,2,6\n";
  const Dataset d = read(text, spec_for({"tv"}, {}, "geo"));
  EXPECT_EQ(d.geos, (std::vector<std::string>{"north", "south", "east", "west", "store10", "store2"}));
}

// --- errors ------------------------------------------------------------------------------

TEST(CsvReaderErrors, EmptyFile) {
  EXPECT_TRUE(throws_input_error("", wide_spec(), {"empty"}));
  EXPECT_TRUE(throws_input_error("\n\n", wide_spec(), {"empty"}));
}

TEST(CsvReaderErrors, HeaderWithoutRows) {
  EXPECT_TRUE(throws_input_error("week,sales,tv\n", spec_for({"tv"}), {"data.csv:1:", "no data rows"}));
}

TEST(CsvReaderErrors, ByteOrderMark) {
  EXPECT_TRUE(throws_input_error("\xEF\xBB\xBFweek,sales,tv\n1,1,1\n2,2,2\n", spec_for({"tv"}),
                                 {"data.csv:1:1:", "byte-order mark", "without BOM"}));
}

TEST(CsvReaderErrors, SemicolonSeparated) {
  EXPECT_TRUE(throws_input_error("week;sales;tv\n1;1,5;1\n2;2;2\n", spec_for({"tv"}),
                                 {"data.csv:1:", "';'-separated", "comma-separated"}));
}

TEST(CsvReaderErrors, TabSeparated) {
  EXPECT_TRUE(throws_input_error("week\tsales\ttv\n1\t1\t1\n", spec_for({"tv"}), {"data.csv:1:", "tab-separated"}));
}

TEST(CsvReaderErrors, PipeSeparated) {
  EXPECT_TRUE(throws_input_error("week|sales|tv\n1|1|1\n", spec_for({"tv"}), {"data.csv:1:", "'|'-separated"}));
}

TEST(CsvReaderErrors, QuotedFieldSpansLines) {
  const std::string text = "week,sales,tv,note\n1,1,1,ok\n2,2,2,\"first\nsecond\"\n3,3,3,x\n";
  EXPECT_TRUE(throws_input_error(text, spec_for({"tv"}), {"data.csv:3:4:", "\"note\"", "line break inside quotes"}));
}

TEST(CsvReaderErrors, QuotedFieldSpansLinesWithCrLf) {
  const std::string text = "week,sales,tv\r\n1,\"1\r\n\",1\r\n";
  EXPECT_TRUE(throws_input_error(text, spec_for({"tv"}), {"data.csv:2:2:", "\"sales\""}));
}

TEST(CsvReaderErrors, UnterminatedQuoteAtEndOfFile) {
  EXPECT_TRUE(throws_input_error("week,sales,tv\n1,1,1\n2,2,\"2", spec_for({"tv"}),
                                 {"data.csv:3:3:", "\"tv\"", "never closed"}));
}

TEST(CsvReaderErrors, QuoteInsideUnquotedField) {
  EXPECT_TRUE(throws_input_error("week,sales,tv\n1,1,1\n2,2\"x,2\n", spec_for({"tv"}),
                                 {"data.csv:3:2:", "\"sales\"", "unquoted field"}));
}

TEST(CsvReaderErrors, TextAfterClosingQuote) {
  EXPECT_TRUE(throws_input_error("week,sales,tv\n1,\"1\"x,1\n", spec_for({"tv"}),
                                 {"data.csv:2:2:", "\"sales\"", "after a closing quote"}));
}

TEST(CsvReaderErrors, MalformedQuoteInHeaderNamesColumnByNumber) {
  EXPECT_TRUE(throws_input_error("week,sa\"les,tv\n1,1,1\n", spec_for({"tv"}), {"data.csv:1:2:", "column 2"}));
}

TEST(CsvReaderErrors, RowWithTooManyFields) {
  EXPECT_TRUE(throws_input_error("week,sales,tv\n1,1,1\n2,2,2\n3,1,000,2\n", spec_for({"tv"}),
                                 {"data.csv:4:", "4 fields", "header has 3", "double quotes"}));
}

TEST(CsvReaderErrors, RowWithTooFewFields) {
  EXPECT_TRUE(
      throws_input_error("week,sales,tv\n1,1,1\n2,2\n", spec_for({"tv"}), {"data.csv:3:", "2 fields", "header has 3"}));
}

TEST(CsvReaderErrors, DuplicateHeaderName) {
  EXPECT_TRUE(throws_input_error("week,sales,tv,search,tv\n1,1,1,1,1\n", spec_for({"tv"}),
                                 {"data.csv:1:5:", "\"tv\"", "duplicate", "column 3"}));
}

TEST(CsvReaderErrors, MissingColumnsAreListed) {
  const ModelSpec s = spec_for({"tv", "radio"}, {"price"});
  EXPECT_TRUE(
      throws_input_error("week,sales,tv,search\n1,1,1,1\n", s,
                         {"data.csv:1:", "\"radio\" (channel)", "\"price\" (control)", "week, sales, tv, search"}));
}

TEST(CsvReaderErrors, MissingDateOutcomeAndPanel) {
  ModelSpec s = spec_for({"tv"}, {}, "geo");
  s.data.date = "date";
  s.data.outcome = "revenue";
  EXPECT_TRUE(throws_input_error("week,sales,tv\n1,1,1\n", s,
                                 {"data.csv:1:", "\"date\" (date)", "\"revenue\" (outcome)", "\"geo\" (panel)"}));
}

TEST(CsvReaderErrors, EmptyCell) {
  EXPECT_TRUE(throws_input_error("week,sales,tv,search\n1,1,1,1\n2,2,,1\n", spec_for({"tv", "search"}),
                                 {"data.csv:3:3:", "\"tv\"", "empty"}));
  EXPECT_TRUE(
      throws_input_error("week,sales,tv\n1,1,1\n2,  ,1\n", spec_for({"tv"}), {"data.csv:3:2:", "\"sales\"", "empty"}));
  EXPECT_TRUE(throws_input_error("week,sales,tv\n,1,1\n", spec_for({"tv"}), {"data.csv:2:1:", "\"week\"", "empty"}));
}

TEST(CsvReaderErrors, EmptyCellInUnusedColumnIsFine) {
  EXPECT_NO_THROW(read("week,sales,tv,x\n1,1,1,\n2,2,2,\n", spec_for({"tv"})));
}

TEST(CsvReaderErrors, NotANumber) {
  EXPECT_TRUE(throws_input_error("week,sales,tv,meta\n1,1,1,1\n2,2,2,2\n3,3,3,abc\n", spec_for({"tv", "meta"}),
                                 {"data.csv:4:4:", "column \"meta\"", "\"abc\" is not a number"}));
  EXPECT_TRUE(throws_input_error("week,sales,tv\n1,12abc,1\n", spec_for({"tv"}), {"data.csv:2:2:", "\"12abc\""}));
  EXPECT_TRUE(
      throws_input_error("week,sales,tv\n1,1,0x10\n", spec_for({"tv"}), {"data.csv:2:3:", "\"0x10\" is not a number"}));
  EXPECT_TRUE(throws_input_error("week,sales,tv,price\n1,1,1,$5\n", spec_for({"tv"}, {"price"}),
                                 {"data.csv:2:4:", "\"price\"", "\"$5\""}));
}

TEST(CsvReaderErrors, QuotedNumberWithCommaIsNotANumber) {
  EXPECT_TRUE(throws_input_error("week,sales,tv\n1,1,1\n2,2,\"1,000\"\n", spec_for({"tv"}),
                                 {"data.csv:3:3:", "\"tv\"", "\"1,000\" is not a number"}));
}

TEST(CsvReaderErrors, NonFiniteValues) {
  for (const char* v : {"NaN", "nan", "Inf", "inf", "-inf", "Infinity", "-NAN"}) {
    const std::string text = std::string("week,sales,tv,price\n1,1,1,1\n2,2,2,") + v + "\n";
    EXPECT_TRUE(throws_input_error(text, spec_for({"tv"}, {"price"}), {"data.csv:3:4:", "\"price\"", v, "non-finite"}));
  }
  EXPECT_TRUE(throws_input_error("week,sales,tv\n1,nan,1\n", spec_for({"tv"}), {"data.csv:2:2:", "non-finite"}));
}

TEST(CsvReaderErrors, NumberOutOfRange) {
  EXPECT_TRUE(throws_input_error("week,sales,tv\n1,1e999,1\n", spec_for({"tv"}),
                                 {"data.csv:2:2:", "\"1e999\"", "out of range"}));
}

TEST(CsvReaderErrors, NegativeSpend) {
  EXPECT_TRUE(throws_input_error("week,sales,tv,search\n2024-01-01,100,10,5\n2024-01-08,120,-4,6\n",
                                 spec_for({"tv", "search"}), {"data.csv:3:3:", "\"tv\"", "negative", "-4"}));
}

TEST(CsvReaderErrors, NegativeControlIsFine) {
  EXPECT_NO_THROW(read("week,sales,tv,temp\n1,1,1,-4\n2,2,2,-5\n", spec_for({"tv"}, {"temp"})));
}

TEST(CsvReaderErrors, NotADate) {
  EXPECT_TRUE(throws_input_error("week,sales,tv\n2021-03-01,1,1\n03/08/2021,2,2\n", spec_for({"tv"}),
                                 {"data.csv:3:1:", "\"week\"", "\"03/08/2021\"", "YYYY-MM-DD"}));
  EXPECT_TRUE(throws_input_error("week,sales,tv\n2021-3-1,1,1\n", spec_for({"tv"}), {"data.csv:2:1:", "\"2021-3-1\""}));
  EXPECT_TRUE(throws_input_error("week,sales,tv\n1.5,1,1\n", spec_for({"tv"}), {"data.csv:2:1:", "\"1.5\""}));
}

TEST(CsvReaderErrors, InvalidCalendarDate) {
  EXPECT_TRUE(throws_input_error("week,sales,tv\n2021-02-22,1,1\n2021-02-29,2,2\n", spec_for({"tv"}),
                                 {"data.csv:3:1:", "\"2021-02-29\"", "not a valid date", "28 days"}));
  EXPECT_TRUE(
      throws_input_error("week,sales,tv\n2021-13-01,1,1\n", spec_for({"tv"}), {"data.csv:2:1:", "not a valid date"}));
  EXPECT_TRUE(throws_input_error("week,sales,tv\n2021-04-31,1,1\n", spec_for({"tv"}), {"data.csv:2:1:", "30 days"}));
  EXPECT_TRUE(throws_input_error("week,sales,tv\n1900-02-29,1,1\n", spec_for({"tv"}), {"data.csv:2:1:", "28 days"}));
}

TEST(CsvReaderErrors, MixedDateKinds) {
  EXPECT_TRUE(throws_input_error("week,sales,tv\n2021-03-01,1,1\n2021-03-08,2,2\n3,3,3\n", spec_for({"tv"}),
                                 {"data.csv:4:1:", "\"3\" is an integer", "ISO dates", "line 2"}));
  EXPECT_TRUE(throws_input_error("week,sales,tv\n1,1,1\n2021-03-08,2,2\n", spec_for({"tv"}),
                                 {"data.csv:3:1:", "ISO date", "integers"}));
}

TEST(CsvReaderErrors, DuplicateDateNamesBothLines) {
  const std::string text = "week,sales,tv\n2021-02-22,1,1\n2021-03-01,2,2\n2021-03-01,3,3\n";
  EXPECT_TRUE(
      throws_input_error(text, spec_for({"tv"}), {"data.csv:4:1:", "duplicate date 2021-03-01 (also on line 3)"}));
}

TEST(CsvReaderErrors, DecreasingDate) {
  const std::string text = "week,sales,tv\n2021-03-01,1,1\n2021-03-08,2,2\n2021-02-22,3,3\n";
  EXPECT_TRUE(throws_input_error(text, spec_for({"tv"}),
                                 {"data.csv:4:1:", "2021-02-22", "2021-03-08", "line 3", "strictly increasing"}));
}

TEST(CsvReaderErrors, DuplicateDateWithinAGeo) {
  const std::string text = "geo,week,sales,tv\na,1,1,1\nb,1,2,2\na,2,3,3\nb,2,4,4\na,2,5,5\n";
  EXPECT_TRUE(
      throws_input_error(text, spec_for({"tv"}, {}, "geo"), {"data.csv:6:2:", "duplicate date 2", "\"a\"", "line 4"}));
}

TEST(CsvReaderErrors, DecreasingDateWithinAGeo) {
  const std::string text = "geo,week,sales,tv\na,2,1,1\nb,1,2,2\na,1,3,3\nb,2,4,4\n";
  EXPECT_TRUE(throws_input_error(text, spec_for({"tv"}, {}, "geo"), {"data.csv:4:2:", "\"a\"", "strictly increasing"}));
}

TEST(CsvReaderErrors, RaggedPanelMissingDate) {
  const std::string text = "geo,week,sales,tv\na,1,1,1\na,2,2,2\na,3,3,3\nb,1,4,4\nb,3,5,5\n";
  EXPECT_TRUE(throws_input_error(text, spec_for({"tv"}, {}, "geo"),
                                 {"data.csv:6:", "ragged panel", "\"b\"", "no row for date 2", "line 3"}));
}

TEST(CsvReaderErrors, RaggedPanelExtraDate) {
  const std::string text = "geo,week,sales,tv\na,1,1,1\na,3,3,3\nb,1,4,4\nb,2,5,5\nb,3,6,6\n";
  EXPECT_TRUE(throws_input_error(text, spec_for({"tv"}, {}, "geo"),
                                 {"data.csv:5:2:", "ragged panel", "\"b\"", "has date 2", "\"a\""}));
}

TEST(CsvReaderErrors, RaggedPanelShortGeo) {
  const std::string text = "geo,week,sales,tv\na,1,1,1\nb,1,4,4\na,2,3,3\n";
  EXPECT_TRUE(throws_input_error(text, spec_for({"tv"}, {}, "geo"),
                                 {"data.csv:3:", "ragged panel", "\"b\"", "no row for date 2"}));
}

TEST(CsvReaderErrors, EmptyPanelValue) {
  const std::string text = "geo,week,sales,tv\na,1,1,1\n ,1,2,2\n";
  EXPECT_TRUE(throws_input_error(text, spec_for({"tv"}, {}, "geo"), {"data.csv:3:1:", "\"geo\"", "empty panel value"}));
}

TEST(CsvReaderErrors, ConstantOutcome) {
  EXPECT_TRUE(throws_input_error("week,sales,tv\n1,5,1\n2,5,2\n3,5,3\n", spec_for({"tv"}),
                                 {"data.csv: ", "\"sales\"", "same value (5)"}));
  EXPECT_TRUE(throws_input_error("geo,week,sales,tv\na,1,0,1\nb,1,0,2\n", spec_for({"tv"}, {}, "geo"),
                                 {"\"sales\"", "variance"}));
}

// --- files ---------------------------------------------------------------------------------

class CsvReaderFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("herd_csv_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(CsvReaderFile, ReadsFromDisk) {
  const std::string path = (dir_ / "good.csv").string();
  std::ofstream(path, std::ios::binary) << kWide;
  ModelSpec s = wide_spec();
  s.data.path = path;
  const Dataset d = read_dataset(s);
  EXPECT_EQ(d.source, path);
  EXPECT_EQ(d.T, 4);
  EXPECT_EQ(d.media, (std::vector<double>{10, 0, 20, 0, 5, 6, 7, 5}));
}

TEST_F(CsvReaderFile, ErrorsNameThePath) {
  const std::string path = (dir_ / "bad.csv").string();
  std::ofstream(path, std::ios::binary) << "week,sales,tv\n1,1,1\n2,2,x\n";
  ModelSpec s = spec_for({"tv"});
  s.data.path = path;
  try {
    read_dataset(s);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(path + ":3:3:", 0), 0u) << e.what();
  }
}

TEST_F(CsvReaderFile, MissingFile) {
  ModelSpec s = wide_spec();
  s.data.path = (dir_ / "nope.csv").string();
  try {
    read_dataset(s);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("nope.csv"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos) << e.what();
  }
}

TEST_F(CsvReaderFile, DirectoryIsNotADataFile) {
  ModelSpec s = wide_spec();
  s.data.path = dir_.string();
  EXPECT_THROW(read_dataset(s), InputError);
}

}  // namespace
}  // namespace herd
