// Sequence logos with cairo: each letter's glyph (DejaVu Sans Bold) scaled to exactly fill its box, to an SVG or
// PNG surface written to memory and then to the file atomically.
#include "stdlib/Logo.h"

#include "dsl/Error.h"
#include "runtime/FileExtension.h"
#include "runtime/core/AtomicFile.h"

#include <cairo-svg.h>
#include <cairo.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <numeric>

namespace seqjit {

namespace {

constexpr std::array<char, 4> kLetters = {'A', 'C', 'G', 'T'};
// The usual nucleotide colours (A green, C blue, G orange, T red), as RGB in [0, 1].
constexpr std::array<std::array<double, 3>, 4> kColours = {
    {{0.0, 0.5, 0.0}, {0.0, 0.0, 0.8}, {1.0, 0.65, 0.0}, {0.8, 0.0, 0.0}}};
constexpr double kLeftMargin = 44, kRightMargin = 8, kTopMargin = 8, kBottomMargin = 8, kTitleSpace = 22;

cairo_status_t appendBytes(void *closure, const unsigned char *data, unsigned int length) {
  static_cast<std::string *>(closure)->append(reinterpret_cast<const char *>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

/// Fills `letter` so that its ink exactly covers the box (x, top, width, height).
void drawLetter(cairo_t *cr, char letter, double x, double top, double width, double height) {
  const char text[2] = {letter, 0};
  cairo_text_extents_t ink;
  cairo_text_extents(cr, text, &ink);
  cairo_save(cr);
  cairo_translate(cr, x, top);
  cairo_scale(cr, width / ink.width, height / ink.height);
  cairo_move_to(cr, -ink.x_bearing, -ink.y_bearing);
  cairo_text_path(cr, text);
  cairo_restore(cr);
  cairo_fill(cr);
}

struct Layout {
  double width, height, axis, scale, plotTop;
};

Layout layoutOf(const HostArray<float> &heights, const LogoStyle &style) {
  double above = 0, below = 0;
  for (int64_t l = 0; l < heights.shape[0]; ++l) {
    double up = 0, down = 0;
    for (int64_t b = 0; b < 4; ++b) {
      double h = heights.data[l * 4 + b];
      (h > 0 ? up : down) += std::abs(h);
    }
    above = std::max(above, up);
    below = std::max(below, down);
  }
  const double span = style.maximum > 0 ? style.maximum : std::max({above, below, 1e-12});
  Layout layout;
  layout.scale = style.plotHeight / span;
  layout.plotTop = kTopMargin + (style.title.empty() ? 0 : kTitleSpace);
  const double top = style.maximum > 0 ? style.plotHeight : above * layout.scale;
  layout.axis = layout.plotTop + top;
  layout.width = kLeftMargin + style.columnWidth * static_cast<double>(heights.shape[0]) + kRightMargin;
  layout.height = layout.axis + below * layout.scale + kBottomMargin;
  return layout;
}

void draw(cairo_t *cr, const HostArray<float> &heights, const LogoStyle &style, const Layout &layout) {
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size(cr, 100);
  for (int64_t l = 0; l < heights.shape[0]; ++l) {
    // Smallest first, so the tallest letter ends farthest from the axis on either side.
    std::array<int, 4> order;
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(),
              [&](int a, int b) { return std::abs(heights.data[l * 4 + a]) < std::abs(heights.data[l * 4 + b]); });
    double up = layout.axis, down = layout.axis;
    const double x = kLeftMargin + style.columnWidth * static_cast<double>(l);
    for (int b : order) {
      const double h = heights.data[l * 4 + b] * layout.scale;
      if (std::abs(h) < 0.01)
        continue;
      cairo_set_source_rgb(cr, kColours[b][0], kColours[b][1], kColours[b][2]);
      if (h > 0) {
        up -= h;
        drawLetter(cr, kLetters[b], x + 1, up, style.columnWidth - 2, h);
      } else {
        drawLetter(cr, kLetters[b], x + 1, down, style.columnWidth - 2, -h);
        down -= h;
      }
    }
  }
  // The axis, and the y axis with its label.
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_set_line_width(cr, 1);
  cairo_move_to(cr, kLeftMargin, layout.axis);
  cairo_line_to(cr, layout.width - kRightMargin, layout.axis);
  cairo_move_to(cr, kLeftMargin - 4, layout.plotTop);
  cairo_line_to(cr, kLeftMargin - 4, layout.height - kBottomMargin);
  cairo_stroke(cr);
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, 11);
  const std::string top = fmt::format("{:.3g}", (layout.axis - layout.plotTop) / layout.scale);
  cairo_move_to(cr, 2, layout.plotTop + 10);
  cairo_show_text(cr, top.c_str());
  cairo_move_to(cr, 2, layout.axis + 4);
  cairo_show_text(cr, "0");
  if (!style.axisLabel.empty()) {
    cairo_move_to(cr, 2, (layout.plotTop + layout.axis) / 2 + 4);
    cairo_show_text(cr, style.axisLabel.c_str());
  }
  if (!style.title.empty()) {
    cairo_set_font_size(cr, 13);
    cairo_move_to(cr, kLeftMargin, kTopMargin + 14);
    cairo_show_text(cr, style.title.c_str());
  }
}

} // namespace

HostArray<float> informationHeights(const Motif &motif) {
  const int64_t width = motif.width();
  HostArray<float> heights({width, 4});
  for (int64_t l = 0; l < width; ++l) {
    const float *row = motif.probabilities.data.data() + l * 4;
    double bits = 2.0;
    for (int64_t b = 0; b < 4; ++b)
      bits += row[b] > 0 ? row[b] * std::log2(static_cast<double>(row[b])) : 0.0;
    for (int64_t b = 0; b < 4; ++b)
      heights.data[l * 4 + b] = static_cast<float>(row[b] * std::max(bits, 0.0));
  }
  return heights;
}

HostArray<float> attributionHeights(const float *map, int64_t length) {
  HostArray<float> heights({length, 4});
  for (int64_t l = 0; l < length; ++l)
    for (int64_t b = 0; b < 4; ++b)
      heights.data[l * 4 + b] = map[b * length + l];
  return heights;
}

std::string renderLogo(const HostArray<float> &heights, const LogoStyle &style, const std::string &format,
                       const std::string &what) {
  if (format != "svg" && format != "png")
    throw Error(fmt::format("{}: write .svg or .png", what));
  if (heights.rank() != 2 || heights.shape[1] != 4 || heights.shape[0] < 1)
    throw Error(
        fmt::format("{}: letter heights must be (positions, 4), got ({})", what, fmt::join(heights.shape, ", ")));
  for (float h : heights.data)
    if (!std::isfinite(h))
      throw Error(fmt::format("{}: a letter height is not finite ({})", what, h));
  const Layout layout = layoutOf(heights, style);
  std::string bytes;
  cairo_surface_t *surface =
      format == "svg" ? cairo_svg_surface_create_for_stream(appendBytes, &bytes, layout.width, layout.height)
                      : cairo_image_surface_create(CAIRO_FORMAT_ARGB32, static_cast<int>(std::ceil(layout.width)),
                                                   static_cast<int>(std::ceil(layout.height)));
  cairo_t *cr = cairo_create(surface);
  draw(cr, heights, style, layout);
  cairo_status_t status = cairo_status(cr);
  cairo_destroy(cr);
  if (status == CAIRO_STATUS_SUCCESS && format == "png")
    status = cairo_surface_write_to_png_stream(surface, appendBytes, &bytes);
  cairo_surface_finish(surface);
  if (status == CAIRO_STATUS_SUCCESS)
    status = cairo_surface_status(surface);
  cairo_surface_destroy(surface);
  if (status != CAIRO_STATUS_SUCCESS)
    throw Error(fmt::format("{}: drawing failed: {}", what, cairo_status_to_string(status)));
  return bytes;
}

void writeLogo(const std::string &path, const HostArray<float> &heights, const LogoStyle &style) {
  std::string extension = lowercaseExtension(path);
  const std::string what = fmt::format("logo '{}'", path);
  writeFileAtomically(path, renderLogo(heights, style, extension.empty() ? "" : extension.substr(1), what));
}

} // namespace seqjit
