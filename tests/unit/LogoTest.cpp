// Sequence logos: the PNG's pixels are where the heights put them (a 2-bit A column green to the top of the plot, a
// negative T red below the axis, nothing where the height is zero), the SVG is well-formed with one filled glyph per
// non-zero letter, information heights follow their definition, and bad input is refused.
#include "stdlib/Logo.h"
#include "ExpectError.h"

#include <cairo.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace seqjit {
namespace {

std::string temporaryPath(const std::string &name) {
  return (std::filesystem::path(::testing::TempDir()) / ("logo_test_" + name)).string();
}

/// Pixels of a column box whose colour is close to (r, g, b).
int64_t pixelsOfColour(cairo_surface_t *image, int x0, int x1, int y0, int y1, double r, double g, double b) {
  const unsigned char *data = cairo_image_surface_get_data(image);
  const int stride = cairo_image_surface_get_stride(image);
  int64_t count = 0;
  for (int y = std::max(y0, 0); y < std::min(y1, cairo_image_surface_get_height(image)); ++y)
    for (int x = std::max(x0, 0); x < std::min(x1, cairo_image_surface_get_width(image)); ++x) {
      const unsigned char *p = data + y * stride + 4 * x; // ARGB32, little-endian: B G R A
      if (std::abs(p[2] / 255.0 - r) < 0.1 && std::abs(p[1] / 255.0 - g) < 0.1 && std::abs(p[0] / 255.0 - b) < 0.1)
        ++count;
    }
  return count;
}

TEST(Logo, PngPixelsAreWhereTheHeightsPutThem) {
  // Column 0: A of 2 (the full plot); column 1: nothing; column 2: T of -1 (half the plot, below the axis).
  HostArray<float> heights({3, 4}, 0.0f);
  heights.data[0 * 4 + 0] = 2.0f;
  heights.data[2 * 4 + 3] = -1.0f;
  std::string path = temporaryPath("columns.png");
  writeLogo(path, heights, {.columnWidth = 30, .plotHeight = 100, .title = "", .axisLabel = "", .maximum = 2});
  cairo_surface_t *image = cairo_image_surface_create_from_png(path.c_str());
  ASSERT_EQ(cairo_surface_status(image), CAIRO_STATUS_SUCCESS);
  // Layout: 44 px left margin, 8 px top margin, the axis 100 px lower, then 50 px for the negative T.
  const int left = 44, top = 8, axis = 108;
  EXPECT_EQ(cairo_image_surface_get_width(image), 44 + 3 * 30 + 8);
  EXPECT_EQ(cairo_image_surface_get_height(image), axis + 50 + 8);
  // Green A from the top of the plot to the axis: ink in its top and bottom fifths, none above the plot.
  EXPECT_GT(pixelsOfColour(image, left, left + 30, top, top + 20, 0, 0.5, 0), 10);
  EXPECT_GT(pixelsOfColour(image, left, left + 30, axis - 20, axis, 0, 0.5, 0), 10);
  EXPECT_EQ(pixelsOfColour(image, left, left + 30, 0, top - 1, 0, 0.5, 0), 0);
  // Column 1 is empty; column 2's red T lies below the axis only.
  EXPECT_EQ(pixelsOfColour(image, left + 31, left + 59, 0, axis + 58, 0.8, 0, 0), 0);
  EXPECT_GT(pixelsOfColour(image, left + 60, left + 90, axis + 1, axis + 50, 0.8, 0, 0), 50);
  EXPECT_EQ(pixelsOfColour(image, left + 60, left + 90, 0, axis - 1, 0.8, 0, 0), 0);
  cairo_surface_destroy(image);
}

TEST(Logo, SvgIsWellFormedWithOneGlyphPerLetter) {
  HostArray<float> heights({2, 4}, std::vector<float>{0.5f, 0.25f, 0.0f, 1.0f, -0.3f, 0.0f, 0.2f, 0.0f});
  std::string path = temporaryPath("letters.svg");
  writeLogo(path, heights, {.title = "filter7", .axisLabel = "bits"});
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const std::string svg = text.str();
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("</svg>"), svg.npos);
  // Five non-zero letters: five glyph fills in the letters' colours (cairo writes rgb percentages).
  std::regex fill(R"(fill:rgb\((0%, ?50(\.\d+)?%, ?0%|0%, ?0%, ?80%|100%, ?65%, ?0%|80%, ?0%, ?0%)\))");
  int64_t glyphs = std::distance(std::sregex_iterator(svg.begin(), svg.end(), fill), std::sregex_iterator());
  EXPECT_EQ(glyphs, 5) << svg.substr(0, 2000);
  // Every opened element is closed: as many "<g" as "</g>".
  auto count = [&](const std::string &needle) {
    int64_t n = 0;
    for (size_t at = svg.find(needle); at != std::string::npos; at = svg.find(needle, at + 1))
      ++n;
    return n;
  };
  EXPECT_EQ(count("<g"), count("</g>"));
}

TEST(Logo, InformationHeightsAreProbabilityTimesBits) {
  Motif motif;
  motif.id = "m";
  motif.probabilities = HostArray<float>({2, 4}, std::vector<float>{1, 0, 0, 0, 0.25f, 0.25f, 0.25f, 0.25f});
  HostArray<float> heights = informationHeights(motif);
  EXPECT_EQ(heights.data, (std::vector<float>{2, 0, 0, 0, 0, 0, 0, 0}));
  motif.probabilities = HostArray<float>({1, 4}, std::vector<float>{0.5f, 0.5f, 0, 0});
  EXPECT_EQ(informationHeights(motif).data, (std::vector<float>{0.5f, 0.5f, 0, 0})); // 1 bit, split in two
  const float map[8] = {1, 2, 3, 4, 5, 6, 7, 8};                                     // (4, 2)
  EXPECT_EQ(attributionHeights(map, 2).data, (std::vector<float>{1, 3, 5, 7, 2, 4, 6, 8}));
}

TEST(Logo, RefusesBadInput) {
  testing::expectError([] { writeLogo(temporaryPath("x.pdf"), HostArray<float>({2, 4})); }, {"write .svg or .png"});
  testing::expectError(
      [] {
        writeLogo(temporaryPath("x.svg"), HostArray<float>({2, 3}));
      },
      {"letter heights must be (positions, 4), got (2, 3)"});
  HostArray<float> nan({1, 4}, std::nanf(""));
  testing::expectError([&] { writeLogo(temporaryPath("x.png"), nan); }, {"not finite"});
  testing::expectError([] { writeLogo("/nonexistent-dir/x.png", HostArray<float>({1, 4}, 1.0f)); }, {"x.png"});
}

} // namespace
} // namespace seqjit
