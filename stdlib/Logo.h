// Sequence logos of motifs and attribution maps, drawn with cairo as SVG or PNG: one column per position, the four
// letters stacked by height (the tallest on top), positive heights above the axis and negative ones below it.
#pragma once

#include "runtime/HostArray.h"
#include "stdlib/Meme.h"

#include <string>

namespace seqjit {

/// Letter heights (L, 4), columns A C G T, of a motif: each probability times its row's information content in bits
/// (2 + sum p log2 p), so a column is at most 2 bits tall.
HostArray<float> informationHeights(const Motif &motif);

/// Letter heights (L, 4) of one (4, L) attribution map (row-major): the map itself, transposed; negative values draw
/// below the axis.
HostArray<float> attributionHeights(const float *map, int64_t length);

struct LogoStyle {
  double columnWidth = 20; ///< Pixels per position.
  double plotHeight = 120; ///< Pixels from the axis to the top of the tallest column (and to the bottom below).
  std::string title;       ///< Drawn above the plot when not empty.
  std::string axisLabel;   ///< The y axis' label, e.g. "bits"; empty: none.
  double maximum = 0;      ///< The height the plot spans above the axis; 0: the tallest column's.
};

/// The logo of `heights` (L, 4) as the bytes of an SVG document (`format` "svg") or a PNG image ("png"). Throws
/// seqjit::Error (naming `what`) for another format, heights that are not (L, 4) or not finite.
std::string renderLogo(const HostArray<float> &heights, const LogoStyle &style, const std::string &format,
                       const std::string &what = "logo");

/// Draws `heights` (L, 4) as a logo to `path`, SVG or PNG by its extension (.svg, .png), atomically. Throws
/// seqjit::Error for another extension, heights that are not (L, 4) or not finite, or a file that cannot be written.
void writeLogo(const std::string &path, const HostArray<float> &heights, const LogoStyle &style = {});

} // namespace seqjit
