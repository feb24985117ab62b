// MEME text motif files: a line-by-line reader with file:line errors, an atomic writer, and motif lookup.
#include "stdlib/Meme.h"

#include "dsl/Error.h"
#include "runtime/core/AtomicFile.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string_view>

namespace seqjit {

namespace {

constexpr int64_t kAlphabetSize = 4;
/// How far a row's sum may stray from 1 and still be taken as rounding (JASPAR prints six decimals, other tools
/// fewer) rather than a damaged matrix.
constexpr double kRowSumTolerance = 0.01;

std::string_view trim(std::string_view text) {
  size_t begin = 0, end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin])))
    ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1])))
    --end;
  return text.substr(begin, end - begin);
}

std::vector<std::string_view> splitWhitespace(std::string_view text) {
  std::vector<std::string_view> tokens;
  size_t position = 0;
  while (position < text.size()) {
    while (position < text.size() && std::isspace(static_cast<unsigned char>(text[position])))
      ++position;
    size_t start = position;
    while (position < text.size() && !std::isspace(static_cast<unsigned char>(text[position])))
      ++position;
    if (position > start)
      tokens.push_back(text.substr(start, position - start));
  }
  return tokens;
}

/// The number `token` spells, entirely (from_chars is locale-independent, unlike strtod).
std::optional<double> parseNumber(std::string_view token) {
  if (!token.empty() && token.front() == '+')
    token.remove_prefix(1);
  double value = 0;
  auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), value);
  if (error != std::errc() || end != token.data() + token.size() || !std::isfinite(value))
    return std::nullopt;
  return value;
}

bool startsWith(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

/// The value after "key=" in a matrix header such as "alength= 4 w= 11 nsites= 20 E= 0" (with or without a space
/// after '='), or nullopt if the key is absent.
std::optional<std::string_view> headerValue(std::string_view header, std::string_view key) {
  for (size_t at = header.find(key); at != std::string_view::npos; at = header.find(key, at + 1)) {
    // "w=" must not match the tail of another key.
    if (at > 0 && !std::isspace(static_cast<unsigned char>(header[at - 1])) && header[at - 1] != ':')
      continue;
    std::vector<std::string_view> rest = splitWhitespace(header.substr(at + key.size()));
    return rest.empty() ? std::string_view() : rest.front();
  }
  return std::nullopt;
}

bool isKeywordLine(std::string_view line) {
  return startsWith(line, "MOTIF") || startsWith(line, "URL") || startsWith(line, "letter-probability matrix") ||
         startsWith(line, "log-odds matrix") || startsWith(line, "MEME version") || startsWith(line, "ALPHABET") ||
         startsWith(line, "strands:") || startsWith(line, "Background letter frequencies");
}

bool startsWithNumber(std::string_view line) {
  std::vector<std::string_view> tokens = splitWhitespace(line);
  return !tokens.empty() && parseNumber(tokens.front()).has_value();
}

/// The MEME grammar as a small state machine fed one line at a time, so that every error knows its line.
class MemeParser {
public:
  explicit MemeParser(std::string path) : path_(std::move(path)) {}

  void consume(std::string_view rawLine, int64_t lineNumber) {
    line_ = lineNumber;
    std::string_view line = trim(rawLine);
    if (inMatrix_ && consumeMatrixLine(line))
      return;
    if (logOddsRowsLeft_ != 0) {
      if (line.empty())
        return;
      if (startsWithNumber(line)) {
        if (logOddsRowsLeft_ > 0)
          --logOddsRowsLeft_;
        return;
      }
      logOddsRowsLeft_ = 0;
    }
    if (line.empty())
      return;
    if (!sawVersion_) {
      if (!startsWith(line, "MEME version"))
        throw Error(fmt::format("'{}' is not a MEME file: line {} is '{}', expected 'MEME version ...' first", path_,
                                line_, abbreviate(line)));
      sawVersion_ = true;
      return;
    }
    if (startsWith(line, "ALPHABET"))
      return checkAlphabet(line);
    if (startsWith(line, "MOTIF"))
      return startMotif(line);
    if (startsWith(line, "letter-probability matrix"))
      return startMatrix(line);
    if (startsWith(line, "log-odds matrix")) {
      std::optional<std::string_view> width = headerValue(line, "w=");
      std::optional<double> rows = width ? parseNumber(*width) : std::nullopt;
      logOddsRowsLeft_ = rows ? static_cast<int64_t>(*rows) : -1;
      return;
    }
    if (startsWithNumber(line)) {
      if (!motifs_.empty() && motifHasMatrix_)
        fail(fmt::format("a row of numbers after the {} rows of motif {}'s letter-probability matrix (w= {})",
                         motifs_.back().width(), motifs_.back().id, motifs_.back().width()));
      fail("a row of numbers outside any letter-probability matrix");
    }
    // URL, strands, background frequencies, comments: nothing the motifs need.
  }

  std::vector<Motif> finish() {
    if (inMatrix_) {
      if (expectedRows_ >= 0 || rows_.empty())
        failFewerRows("the end of the file");
      closeMatrix();
    }
    if (!sawVersion_)
      throw Error(fmt::format("'{}' is not a MEME file: it holds no 'MEME version' line", path_));
    checkPreviousMotifHasMatrix();
    if (motifs_.empty())
      throw Error(
          fmt::format("MEME file '{}' holds no motifs (no 'MOTIF' lines with a letter-probability matrix)", path_));
    return std::move(motifs_);
  }

private:
  [[noreturn]] void fail(const std::string &message) const {
    throw Error(fmt::format("MEME file '{}', line {}: {}", path_, line_, message));
  }

  static std::string abbreviate(std::string_view line) {
    return line.size() > 60 ? std::string(line.substr(0, 57)) + "..." : std::string(line);
  }

  void checkAlphabet(std::string_view line) {
    size_t equals = line.find('=');
    std::string_view letters = equals == std::string_view::npos ? std::string_view() : trim(line.substr(equals + 1));
    if (letters != "ACGT")
      fail(fmt::format("alphabet '{}' is not supported; seqjit reads DNA motifs ('ALPHABET= ACGT')", abbreviate(line)));
  }

  void checkPreviousMotifHasMatrix() const {
    if (!motifs_.empty() && !motifHasMatrix_)
      throw Error(fmt::format("MEME file '{}', line {}: motif {} has no letter-probability matrix", path_, motifLine_,
                              motifs_.back().id));
  }

  void startMotif(std::string_view line) {
    checkPreviousMotifHasMatrix();
    std::vector<std::string_view> tokens = splitWhitespace(line);
    if (tokens.front() != "MOTIF")
      return; // Some other word that merely starts with MOTIF: not ours to judge.
    if (tokens.size() < 2)
      fail("'MOTIF' without an identifier");
    Motif motif;
    motif.id = std::string(tokens[1]);
    std::string_view afterId = line.substr(static_cast<size_t>(tokens[1].data() + tokens[1].size() - line.data()));
    motif.name = std::string(trim(afterId));
    motifs_.push_back(std::move(motif));
    motifHasMatrix_ = false;
    motifLine_ = line_;
  }

  void startMatrix(std::string_view line) {
    if (motifs_.empty())
      fail("a letter-probability matrix before any 'MOTIF' line");
    if (motifHasMatrix_)
      fail(fmt::format("a second letter-probability matrix for motif {}", motifs_.back().id));
    std::string_view header = line.substr(line.find(':') == std::string_view::npos ? line.size() : line.find(':'));
    if (std::optional<std::string_view> alength = headerValue(header, "alength=")) {
      std::optional<double> value = parseNumber(*alength);
      if (!value || *value != kAlphabetSize)
        fail(fmt::format("alength= {} for motif {}; expected 4 (A C G T)", *alength, motifs_.back().id));
    }
    expectedRows_ = -1;
    if (std::optional<std::string_view> width = headerValue(header, "w=")) {
      std::optional<double> value = parseNumber(*width);
      if (!value || *value < 1 || *value != std::floor(*value))
        fail(fmt::format("w= {} for motif {}; expected a positive whole number of positions", *width,
                         motifs_.back().id));
      expectedRows_ = static_cast<int64_t>(*value);
    }
    if (std::optional<std::string_view> sites = headerValue(header, "nsites="))
      if (std::optional<double> value = parseNumber(*sites); value && *value >= 0)
        motifs_.back().sites = static_cast<int64_t>(std::llround(*value));
    inMatrix_ = true;
    matrixLine_ = line_;
    rows_.clear();
  }

  /// Handles `line` as part of the open matrix; false if the line ended the matrix and must be read as usual.
  bool consumeMatrixLine(std::string_view line) {
    if (line.empty()) {
      // Without w= a blank line is the only end marker; with it, blank lines inside are tolerated.
      if (expectedRows_ < 0 && !rows_.empty()) {
        closeMatrix();
        return false;
      }
      return true;
    }
    if (isKeywordLine(line) || (expectedRows_ < 0 && !startsWithNumber(line))) {
      if (expectedRows_ >= 0 || rows_.empty())
        failFewerRows(fmt::format("'{}'", abbreviate(line)));
      closeMatrix();
      return false;
    }
    std::vector<std::string_view> tokens = splitWhitespace(line);
    if (static_cast<int64_t>(tokens.size()) != kAlphabetSize)
      fail(fmt::format("row {} of motif {} has {} values; expected 4 (A C G T)", rows_.size() / kAlphabetSize + 1,
                       motifs_.back().id, tokens.size()));
    double sum = 0;
    std::array<double, kAlphabetSize> row{};
    for (int64_t base = 0; base < kAlphabetSize; ++base) {
      std::optional<double> value = parseNumber(tokens[base]);
      if (!value)
        fail(fmt::format("value '{}' in row {} of motif {} is not a number", tokens[base],
                         rows_.size() / kAlphabetSize + 1, motifs_.back().id));
      if (*value < 0)
        fail(fmt::format("value {} in row {} of motif {} is negative; expected probabilities", tokens[base],
                         rows_.size() / kAlphabetSize + 1, motifs_.back().id));
      row[base] = *value;
      sum += *value;
    }
    if (std::abs(sum - 1.0) > kRowSumTolerance)
      fail(fmt::format("row {} of motif {} sums to {:.6g}; expected 1 (within {})", rows_.size() / kAlphabetSize + 1,
                       motifs_.back().id, sum, kRowSumTolerance));
    for (double value : row)
      rows_.push_back(static_cast<float>(value / sum));
    if (expectedRows_ >= 0 && static_cast<int64_t>(rows_.size()) == expectedRows_ * kAlphabetSize)
      closeMatrix();
    return true;
  }

  [[noreturn]] void failFewerRows(const std::string &whatCameNext) const {
    int64_t rowsRead = static_cast<int64_t>(rows_.size()) / kAlphabetSize;
    if (expectedRows_ < 0)
      fail(fmt::format("motif {}'s letter-probability matrix (line {}) has no rows before {}", motifs_.back().id,
                       matrixLine_, whatCameNext));
    fail(fmt::format("motif {}'s letter-probability matrix (line {}) declares w= {} but has only {} rows before {}",
                     motifs_.back().id, matrixLine_, expectedRows_, rowsRead, whatCameNext));
  }

  void closeMatrix() {
    int64_t width = static_cast<int64_t>(rows_.size()) / kAlphabetSize;
    motifs_.back().probabilities = HostArray<float>({width, kAlphabetSize}, std::move(rows_));
    rows_ = {};
    inMatrix_ = false;
    motifHasMatrix_ = true;
  }

  std::string path_;
  int64_t line_ = 0;
  bool sawVersion_ = false;
  std::vector<Motif> motifs_;
  bool motifHasMatrix_ = false;
  int64_t motifLine_ = 0;
  bool inMatrix_ = false;
  int64_t matrixLine_ = 0;
  int64_t expectedRows_ = -1; ///< w= of the open matrix; -1 when the header gave none.
  std::vector<float> rows_;
  int64_t logOddsRowsLeft_ = 0; ///< Rows of a log-odds matrix still to skip; -1: skip while rows look numeric.
};

std::string lowercase(std::string_view text) {
  std::string result(text);
  std::transform(result.begin(), result.end(), result.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return result;
}

} // namespace

std::vector<Motif> readMemeFile(const std::string &path) {
  if (std::filesystem::is_directory(path))
    throw Error(fmt::format("cannot read MEME file '{}': it is a directory", path));
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(fmt::format("cannot open MEME file '{}' (does it exist?)", path));
  MemeParser parser(path);
  std::string line;
  int64_t lineNumber = 0;
  while (std::getline(in, line))
    parser.consume(line, ++lineNumber);
  if (in.bad())
    throw Error(fmt::format("cannot read MEME file '{}' (I/O error after line {})", path, lineNumber));
  return parser.finish();
}

void writeMemeFile(const std::string &path, const std::vector<Motif> &motifs) {
  std::string text = "MEME version 4\n\nALPHABET= ACGT\n\nstrands: + -\n\n"
                     "Background letter frequencies\nA 0.25 C 0.25 G 0.25 T 0.25\n\n";
  for (size_t index = 0; index < motifs.size(); ++index) {
    const Motif &motif = motifs[index];
    const std::vector<int64_t> &shape = motif.probabilities.shape;
    if (shape.size() != 2 || shape[1] != kAlphabetSize || shape[0] < 1 ||
        motif.probabilities.size() != shape[0] * kAlphabetSize)
      throw Error(fmt::format("cannot write MEME file '{}': motif {} ('{}') is not a (width, 4) matrix", path, index,
                              motif.id));
    // An identifier with spaces would come back split into id and name.
    if (motif.id.empty() ||
        std::any_of(motif.id.begin(), motif.id.end(), [](unsigned char c) { return std::isspace(c); }))
      throw Error(fmt::format("cannot write MEME file '{}': motif {} has identifier '{}'; expected one word", path,
                              index, motif.id));
    text += fmt::format("MOTIF {}{}{}\n\n", motif.id, motif.name.empty() ? "" : " ", motif.name);
    text += fmt::format("letter-probability matrix: alength= 4 w= {}", motif.width());
    if (motif.sites > 0)
      text += fmt::format(" nsites= {} E= 0", motif.sites);
    text += "\n";
    for (int64_t row = 0; row < motif.width(); ++row) {
      const float *values = motif.probabilities.data.data() + row * kAlphabetSize;
      text += fmt::format("  {:.6f}\t  {:.6f}\t  {:.6f}\t  {:.6f}\t\n", values[0], values[1], values[2], values[3]);
    }
    text += "\n";
  }
  writeFileAtomically(path, text);
}

const Motif &findMotif(const std::vector<Motif> &motifs, const std::string &idOrName) {
  for (const Motif &motif : motifs)
    if (motif.id == idOrName)
      return motif;
  for (const Motif &motif : motifs)
    if (motif.name == idOrName)
      return motif;
  // A case slip or a version number off ("MA0058.2", "max") is the usual mistake: show the look-alikes first.
  std::string wanted = lowercase(idOrName);
  std::string stem = lowercase(idOrName.substr(0, idOrName.find('.')));
  std::vector<std::string> similar, any;
  for (const Motif &motif : motifs) {
    std::string id = lowercase(motif.id), name = lowercase(motif.name);
    bool resembles = (!wanted.empty() && (name.find(wanted) != std::string::npos || id.find(stem) == 0 ||
                                          (name.size() >= 3 && wanted.find(name) != std::string::npos)));
    if (resembles && similar.size() < 8)
      similar.push_back(motif.label());
    if (any.size() < 5)
      any.push_back(motif.label());
  }
  std::string listed;
  for (const std::string &entry : similar.empty() ? any : similar)
    listed += (listed.empty() ? "" : ", ") + entry;
  throw Error(fmt::format("no motif with id or name '{}' among the {} motifs; {}: {}", idOrName, motifs.size(),
                          similar.empty() ? "the first are" : "similar ones are", listed));
}

HostArray<float> reverseComplementMatrix(const HostArray<float> &probabilities) {
  int64_t width = probabilities.shape.at(0);
  HostArray<float> result({width, kAlphabetSize});
  // With columns ordered A C G T, the complement of base b is base 3 - b.
  for (int64_t row = 0; row < width; ++row)
    for (int64_t base = 0; base < kAlphabetSize; ++base)
      result.data[row * kAlphabetSize + base] =
          probabilities.data[(width - 1 - row) * kAlphabetSize + (kAlphabetSize - 1 - base)];
  return result;
}

std::string consensus(const Motif &motif) {
  std::string letters;
  for (int64_t j = 0; j < motif.width(); ++j) {
    const float *row = motif.probabilities.data.data() + j * 4;
    const int64_t best = std::max_element(row, row + 4) - row;
    letters += row[best] >= 0.5f ? "ACGT"[best] : 'n';
  }
  return letters;
}

} // namespace seqjit
