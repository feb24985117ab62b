// FASTA + labels TSV and BED + reference FASTA as Datasets: parsing, validation, and one-hot encoding via htslib faidx.
#include "runtime/SequenceFiles.h"

#include "dsl/Error.h"
#include "runtime/FileExtension.h"

#include <htslib/faidx.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace seqjit {

void detail::FaidxCloser::operator()(faidx_t *index) const { fai_destroy(index); }

AmbiguousBases parseAmbiguousBases(const std::string &name) {
  if (name == "zero")
    return AmbiguousBases::Zero;
  if (name == "uniform")
    return AmbiguousBases::Uniform;
  throw Error(fmt::format("unknown treatment of ambiguous bases '{}' (expected 'zero' or 'uniform')", name));
}

namespace {

/// One-hot weights (A, C, G, T) for every byte, and whether the byte is a base at all.
struct BaseTable {
  std::array<std::array<float, 4>, 256> weights{};
  std::array<bool, 256> valid{};
};

BaseTable makeBaseTable(AmbiguousBases ambiguousBases) {
  BaseTable table;
  auto define = [&](char letter, std::string_view bases) {
    for (char variant : {letter, static_cast<char>(std::tolower(static_cast<unsigned char>(letter)))}) {
      auto byte = static_cast<unsigned char>(variant);
      table.valid[byte] = true;
      if (bases.size() > 1 && ambiguousBases == AmbiguousBases::Zero)
        continue;
      for (char base : bases)
        table.weights[byte][std::string_view("ACGT").find(base)] = 1.0f / static_cast<float>(bases.size());
    }
  };
  define('A', "A");
  define('C', "C");
  define('G', "G");
  define('T', "T");
  define('R', "AG");
  define('Y', "CT");
  define('S', "CG");
  define('W', "AT");
  define('K', "GT");
  define('M', "AC");
  define('B', "CGT");
  define('D', "AGT");
  define('H', "ACT");
  define('V', "ACG");
  define('N', "ACGT");
  return table;
}

const BaseTable &baseTable(AmbiguousBases ambiguousBases) {
  static const BaseTable zero = makeBaseTable(AmbiguousBases::Zero);
  static const BaseTable uniform = makeBaseTable(AmbiguousBases::Uniform);
  return ambiguousBases == AmbiguousBases::Zero ? zero : uniform;
}

/// Adds the one-hot columns of `bases` to `example`, four rows of `length` that start zeroed. Returns the offset of
/// the first byte that is not an IUPAC base (leaving the example partly written), or -1.
int64_t encodeBases(std::string_view bases, const BaseTable &table, float *example, int64_t length) {
  for (size_t position = 0; position < bases.size(); ++position) {
    auto byte = static_cast<unsigned char>(bases[position]);
    if (!table.valid[byte])
      return static_cast<int64_t>(position);
    for (int channel = 0; channel < 4; ++channel)
      example[channel * length + static_cast<int64_t>(position)] = table.weights[byte][channel];
  }
  return -1;
}

/// A character as a message shows it: quoted when printable, named or in hex otherwise.
std::string showCharacter(char character) {
  auto byte = static_cast<unsigned char>(character);
  if (byte == ' ')
    return "a space";
  if (byte == '\t')
    return "a tab";
  if (std::isgraph(byte))
    return fmt::format("'{}'", character);
  return fmt::format("byte 0x{:02x}", byte);
}

std::string badBaseMessage(char character) {
  return fmt::format(
      "{} is not a DNA base (expected A, C, G, T in either case, or an IUPAC code: N R Y S W K M B D H V)",
      showCharacter(character));
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return text;
}

std::vector<std::string_view> splitTabs(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t begin = 0;
  while (true) {
    size_t tab = line.find('\t', begin);
    fields.push_back(line.substr(begin, tab == std::string_view::npos ? std::string_view::npos : tab - begin));
    if (tab == std::string_view::npos)
      return fields;
    begin = tab + 1;
  }
}

/// A finite float, the whole of `text` (surrounding spaces aside), or nothing. NaN and infinities are refused because
/// a single one turns every loss and gradient into NaN; masks are the way to leave labels out.
std::optional<float> parseLabel(std::string_view text) {
  text = trim(text);
  if (!text.empty() && text.front() == '+')
    text.remove_prefix(1);
  float value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || !std::isfinite(value))
    return std::nullopt;
  return value;
}

std::optional<int64_t> parseInteger(std::string_view text) {
  text = trim(text);
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size())
    return std::nullopt;
  return value;
}

/// Reads a text file line by line, counting lines from 1 and dropping a '\r' before the '\n' (Windows files).
class LineReader {
public:
  LineReader(const std::string &path, std::string_view what) : path_(path) {
    std::error_code error;
    if (!std::filesystem::exists(path, error))
      throw Error(fmt::format("{} '{}' does not exist", what, path));
    if (std::filesystem::is_directory(path, error))
      throw Error(fmt::format("{} '{}' is a directory, not a file", what, path));
    stream_.open(path, std::ios::binary);
    if (!stream_)
      throw Error(fmt::format("cannot open {} '{}': {}", what, path, std::strerror(errno)));
  }
  /// The next line, or false at the end of the file. Throws seqjit::Error on a read error.
  bool next(std::string &line) {
    if (!std::getline(stream_, line)) {
      if (stream_.bad())
        throw Error(fmt::format("error reading '{}' after line {}", path_, lineNumber_));
      return false;
    }
    ++lineNumber_;
    rawLength_ = static_cast<int64_t>(line.size());
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    return true;
  }
  int64_t lineNumber() const { return lineNumber_; }
  /// The bytes of the last line before its '\n' (with any '\r').
  int64_t rawLength() const { return rawLength_; }

private:
  std::string path_;
  std::ifstream stream_;
  int64_t lineNumber_ = 0;
  int64_t rawLength_ = 0;
};

/// One line of a .fai index: where a record's sequence lies in the FASTA file.
struct IndexEntry {
  std::string name;
  int64_t length = 0;
  int64_t offset = 0;
  int64_t lineBases = 0;
  int64_t lineBytes = 0;
};

std::vector<IndexEntry> readIndexFile(const std::string &indexPath) {
  LineReader reader(indexPath, "FASTA index");
  std::vector<IndexEntry> entries;
  std::string line;
  while (reader.next(line)) {
    if (line.empty())
      continue;
    std::vector<std::string_view> fields = splitTabs(line);
    std::optional<int64_t> numbers[4];
    for (size_t i = 0; i < 4 && i + 1 < fields.size(); ++i)
      numbers[i] = parseInteger(fields[i + 1]);
    if (fields.size() < 5 || !numbers[0] || !numbers[1] || !numbers[2] || !numbers[3])
      throw Error(fmt::format("'{}' line {}: not a FASTA index line (name, length, offset, line bases, line bytes); "
                              "delete the index and it will be rebuilt",
                              indexPath, reader.lineNumber()));
    entries.push_back({std::string(fields[0]), *numbers[0], *numbers[1], *numbers[2], *numbers[3]});
  }
  return entries;
}

/// Opens `path` with faidx, building `<path>.fai` first when it is missing (htslib would build it too, but doing it
/// here lets a failure be reported as what it is).
std::unique_ptr<faidx_t, detail::FaidxCloser> openIndexedFasta(const std::string &path, std::string_view what) {
  std::error_code error;
  if (!std::filesystem::exists(path, error))
    throw Error(fmt::format("{} '{}' does not exist", what, path));
  if (std::filesystem::is_directory(path, error))
    throw Error(fmt::format("{} '{}' is a directory, not a file", what, path));
  std::string indexPath = path + ".fai";
  if (!std::filesystem::exists(indexPath, error) && fai_build(path.c_str()) != 0)
    throw Error(fmt::format("{} '{}': cannot build its index '{}' (htslib's message above says why; the file must "
                            "be FASTA, plain or bgzip-compressed, and its directory writable)",
                            what, path, indexPath));
  std::unique_ptr<faidx_t, detail::FaidxCloser> index(fai_load(path.c_str()));
  if (!index)
    throw Error(
        fmt::format("{} '{}': cannot load its index '{}' (htslib's message above says why)", what, path, indexPath));
  return index;
}

/// The sequence of record `name` from `start` (0-based) for `length` bases, or an error naming `source`.
std::string fetchSequence(faidx_t *index, const std::string &name, int64_t start, int64_t length,
                          std::string_view source) {
  hts_pos_t fetched = 0;
  char *bases = faidx_fetch_seq64(index, name.c_str(), start, start + length - 1, &fetched);
  if (!bases)
    throw Error(fmt::format("{}: cannot fetch '{}' {}-{} through the index", source, name, start, start + length));
  std::string sequence(bases, static_cast<size_t>(std::max<hts_pos_t>(fetched, 0)));
  std::free(bases);
  if (fetched != length)
    throw Error(fmt::format("{}: fetching '{}' {}-{} gave {} bases instead of {}; has the file changed since it was "
                            "opened?",
                            source, name, start, start + length, fetched, length));
  return sequence;
}

void checkIndices(std::span<const int64_t> indices, int64_t size, const std::string &description) {
  for (int64_t index : indices)
    if (index < 0 || index >= size)
      throw Error(fmt::format("{}: example {} is out of range (the data has {} examples)", description, index, size));
}

/// The record name of a FASTA header line: after '>' and any spaces, up to the first white space (as faidx does).
std::string headerName(std::string_view header) {
  std::string_view rest = header.substr(1);
  while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.front())))
    rest.remove_prefix(1);
  size_t end = 0;
  while (end < rest.size() && !std::isspace(static_cast<unsigned char>(rest[end])))
    ++end;
  return std::string(rest.substr(0, end));
}

/// What one streaming pass over a FASTA file learns: record names, where they are, and their common length.
struct FastaScan {
  std::vector<std::string> names;
  std::vector<int64_t> headerLines;
  std::vector<IndexEntry> layout; // what a correct .fai says, without the names
  int64_t length = 0;
};

FastaScan scanFasta(const std::string &path, const BaseTable &table) {
  LineReader reader(path, "FASTA file");
  {
    std::ifstream probe(path, std::ios::binary);
    unsigned char magic[2] = {0, 0};
    probe.read(reinterpret_cast<char *>(magic), 2);
    if (probe.gcount() == 2 && magic[0] == 0x1f && magic[1] == 0x8b)
      throw Error(fmt::format("FASTA file '{}' is gzip-compressed; sequences with labels are read from plain-text "
                              "FASTA (decompress it first)",
                              path));
  }
  FastaScan scan;
  std::unordered_map<std::string, int64_t> headerLineOf;
  // The record being read.
  bool inRecord = false;
  IndexEntry current;
  int64_t shortLine = 0; // a line shorter than the record's first, which must be its last
  int64_t blankLine = 0; // a blank line, which must end the record
  int64_t bytesRead = 0;

  auto finishRecord = [&] {
    const std::string &name = scan.names.back();
    if (current.length == 0)
      throw Error(fmt::format("'{}' line {}: record '{}' has no sequence", path, scan.headerLines.back(), name));
    if (scan.layout.empty())
      scan.length = current.length;
    else if (current.length != scan.length)
      throw Error(fmt::format("'{}' line {}: record '{}' is {} bases long but the first record '{}' is {}; all "
                              "sequences must have the same length",
                              path, scan.headerLines.back(), name, current.length, scan.names.front(), scan.length));
    scan.layout.push_back(current);
  };

  std::string line;
  while (reader.next(line)) {
    const int64_t lineNumber = reader.lineNumber();
    bytesRead += reader.rawLength() + 1;
    if (!line.empty() && line.front() == '>') {
      if (inRecord)
        finishRecord();
      std::string name = headerName(line);
      if (name.empty())
        throw Error(fmt::format("'{}' line {}: a record header with no name", path, lineNumber));
      auto [existing, inserted] = headerLineOf.emplace(name, lineNumber);
      if (!inserted)
        throw Error(fmt::format("'{}' line {}: record name '{}' repeats the record at line {}; record names must be "
                                "unique",
                                path, lineNumber, name, existing->second));
      scan.names.push_back(std::move(name));
      scan.headerLines.push_back(lineNumber);
      current = IndexEntry{};
      current.offset = bytesRead;
      shortLine = blankLine = 0;
      inRecord = true;
      continue;
    }
    if (line.empty()) {
      if (inRecord && blankLine == 0)
        blankLine = lineNumber;
      continue;
    }
    if (!inRecord)
      throw Error(fmt::format("'{}' line {}: not a FASTA file: the first non-empty line does not start with '>'", path,
                              lineNumber));
    const std::string &name = scan.names.back();
    // faidx finds a base by its line and column, so only the last line of a record may differ in length; a blank
    // line ends a record as far as faidx is concerned.
    if (blankLine != 0)
      throw Error(fmt::format("'{}' line {}: record '{}' continues after the blank line {}; blank lines may only "
                              "come between records",
                              path, lineNumber, name, blankLine));
    const auto bases = static_cast<int64_t>(line.size());
    if (current.lineBases == 0) {
      current.lineBases = bases;
      current.lineBytes = reader.rawLength() + 1;
    } else if (shortLine != 0) {
      throw Error(fmt::format("'{}' line {}: record '{}' continues after the shorter line {}; the index (.fai) needs "
                              "every line of a record but the last to have the same length",
                              path, lineNumber, name, shortLine));
    } else if (bases > current.lineBases) {
      throw Error(fmt::format("'{}' line {}: record '{}' has a line of {} bases after lines of {}; the index (.fai) "
                              "needs every line of a record but the last to have the same length",
                              path, lineNumber, name, bases, current.lineBases));
    } else if (bases < current.lineBases) {
      shortLine = lineNumber;
    }
    for (size_t column = 0; column < line.size(); ++column)
      if (!table.valid[static_cast<unsigned char>(line[column])])
        throw Error(fmt::format("'{}' line {}, column {}: record '{}': {}", path, lineNumber, column + 1, name,
                                badBaseMessage(line[column])));
    current.length += bases;
  }
  if (!inRecord)
    throw Error(fmt::format("'{}' is not a FASTA file: it has no record (no line starting with '>')", path));
  finishRecord();
  return scan;
}

/// Checks that an existing .fai describes the FASTA file as it is now: a stale one would fetch the wrong bases.
void checkIndexMatches(const std::string &fastaPath, const FastaScan &scan) {
  std::string indexPath = fastaPath + ".fai";
  std::vector<IndexEntry> entries = readIndexFile(indexPath);
  std::string problem;
  if (entries.size() != scan.names.size()) {
    problem = fmt::format("it lists {} records, the file has {}", entries.size(), scan.names.size());
  } else {
    for (size_t i = 0; i < entries.size() && problem.empty(); ++i) {
      const IndexEntry &entry = entries[i];
      const IndexEntry &actual = scan.layout[i];
      if (entry.name != scan.names[i])
        problem = fmt::format("its record {} is '{}', the file's is '{}'", i + 1, entry.name, scan.names[i]);
      else if (entry.length != actual.length || entry.offset != actual.offset || entry.lineBases != actual.lineBases ||
               entry.lineBytes != actual.lineBytes)
        problem = fmt::format("its entry for record '{}' (line {}) gives another length, offset or line width",
                              entry.name, scan.headerLines[i]);
    }
  }
  if (!problem.empty())
    throw Error(fmt::format("index '{}' does not match FASTA file '{}' ({}): it is out of date; delete it and it "
                            "will be rebuilt",
                            indexPath, fastaPath, problem));
}

/// The labels TSV as read: rows in file order, and where each name is.
struct LabelsTable {
  std::vector<float> values; // (rows, tasks)
  int64_t tasks = 0;
  struct Row {
    int64_t row;
    int64_t line;
  };
  std::unordered_map<std::string, Row> rows;
  std::vector<std::pair<std::string, int64_t>> order; // name and line, in file order
};

LabelsTable readLabelsTsv(const std::string &path) {
  LineReader reader(path, "labels TSV");
  LabelsTable table;
  int64_t firstRowLine = 0;
  bool firstContentLine = true;
  std::string line;
  while (reader.next(line)) {
    const int64_t lineNumber = reader.lineNumber();
    if (trim(line).empty() || line.front() == '#')
      continue;
    std::vector<std::string_view> fields = splitTabs(line);
    if (firstContentLine && trim(fields[0]) == "name") {
      firstContentLine = false;
      continue;
    }
    firstContentLine = false;
    if (fields.size() < 2)
      throw Error(fmt::format("'{}' line {}: {} field; expected name<TAB>label1<TAB>label2... (tab-separated, at "
                              "least one label)",
                              path, lineNumber, fields.size()));
    auto labels = static_cast<int64_t>(fields.size()) - 1;
    if (table.tasks == 0) {
      table.tasks = labels;
      firstRowLine = lineNumber;
    } else if (labels != table.tasks) {
      throw Error(fmt::format("'{}' line {}: {} fields, but line {} has {}; every row needs the same number of labels",
                              path, lineNumber, fields.size(), firstRowLine, table.tasks + 1));
    }
    std::string name(trim(fields[0]));
    for (size_t field = 1; field < fields.size(); ++field) {
      std::optional<float> value = parseLabel(fields[field]);
      if (!value)
        throw Error(fmt::format("'{}' line {}, field {}: label '{}' of '{}' is not a finite number", path, lineNumber,
                                field + 1, fields[field], name));
      table.values.push_back(*value);
    }
    auto row = static_cast<int64_t>(table.order.size());
    auto [existing, inserted] = table.rows.emplace(name, LabelsTable::Row{row, lineNumber});
    if (!inserted)
      throw Error(fmt::format("'{}' line {}: name '{}' repeats the row at line {}; each record has one labels row",
                              path, lineNumber, name, existing->second.line));
    table.order.emplace_back(std::move(name), lineNumber);
  }
  return table;
}

} // namespace

// ---------------------------------------------------------------------------------------------------------------
// FastaDataset

namespace {

/// Every record needs a labels row and every row a record; names the first of each kind that is missing.
void checkLabelsCoverRecords(const FastaScan &scan, const LabelsTable &table, const std::string &fastaPath,
                             const std::string &labelsPath) {
  std::string recordWithoutRow, rowWithoutRecord;
  for (size_t i = 0; i < scan.names.size() && recordWithoutRow.empty(); ++i)
    if (!table.rows.count(scan.names[i]))
      recordWithoutRow = fmt::format("'{}' line {}: record '{}' has no row in labels TSV '{}'", fastaPath,
                                     scan.headerLines[i], scan.names[i], labelsPath);
  std::unordered_set<std::string_view> recordNames(scan.names.begin(), scan.names.end());
  for (const auto &[name, line] : table.order)
    if (!recordNames.count(name)) {
      rowWithoutRecord = fmt::format("'{}' line {}: labels row '{}' has no record in FASTA file '{}'", labelsPath, line,
                                     name, fastaPath);
      break;
    }
  if (scan.names.size() != table.order.size())
    throw Error(fmt::format("FASTA file '{}' has {} records but labels TSV '{}' has {} labels rows: {}", fastaPath,
                            scan.names.size(), labelsPath, table.order.size(),
                            recordWithoutRow.empty() ? rowWithoutRecord : recordWithoutRow));
  if (!recordWithoutRow.empty())
    throw Error(recordWithoutRow + (rowWithoutRecord.empty() ? "" : "; and " + rowWithoutRecord));
  if (!rowWithoutRecord.empty())
    throw Error(rowWithoutRecord);
}

} // namespace

FastaDataset::FastaDataset(std::string fastaPath, std::string labelsTsvPath, AmbiguousBases ambiguousBases)
    : fastaPath_(std::move(fastaPath)), labelsPath_(std::move(labelsTsvPath)), ambiguousBases_(ambiguousBases) {
  // The labels first: they are small, so a mistake there is reported before a long pass over the FASTA file.
  // Without a labels TSV (prediction) there are no tasks.
  bool labeled = !labelsPath_.empty();
  LabelsTable table = labeled ? readLabelsTsv(labelsPath_) : LabelsTable{};
  FastaScan scan = scanFasta(fastaPath_, baseTable(ambiguousBases_));
  if (labeled)
    checkLabelsCoverRecords(scan, table, fastaPath_, labelsPath_);

  tasks_ = table.tasks;
  length_ = scan.length;
  labels_.resize(scan.names.size() * static_cast<size_t>(tasks_));
  for (size_t i = 0; i < scan.names.size() && labeled; ++i) {
    int64_t row = table.rows.at(scan.names[i]).row;
    std::copy_n(table.values.begin() + row * tasks_, tasks_, labels_.begin() + static_cast<int64_t>(i) * tasks_);
  }

  std::error_code error;
  bool indexExisted = std::filesystem::exists(fastaPath_ + ".fai", error);
  index_ = openIndexedFasta(fastaPath_, "FASTA file");
  if (indexExisted)
    checkIndexMatches(fastaPath_, scan);
  names_ = std::move(scan.names);
}

int64_t FastaDataset::size() const { return static_cast<int64_t>(names_.size()); }

std::vector<int64_t> FastaDataset::inputShape() const { return {4, length_}; }

std::vector<int64_t> FastaDataset::labelShape() const { return {tasks_}; }

Examples FastaDataset::read(std::span<const int64_t> indices) const {
  checkIndices(indices, size(), describe());
  const auto batch = static_cast<int64_t>(indices.size());
  Examples examples{HostArray<float>({batch, 4, length_}), HostArray<float>({batch, tasks_})};
  const BaseTable &table = baseTable(ambiguousBases_);
  const std::string source = fmt::format("FASTA file '{}'", fastaPath_);
  for (int64_t b = 0; b < batch; ++b) {
    const std::string &name = names_[indices[b]];
    std::string sequence = fetchSequence(index_.get(), name, 0, length_, source);
    int64_t bad = encodeBases(sequence, table, examples.input.data.data() + b * 4 * length_, length_);
    if (bad >= 0)
      throw Error(fmt::format("{}: record '{}', position {}: {}; has the file changed since it was opened?", source,
                              name, bad, badBaseMessage(sequence[bad])));
    std::copy_n(labels_.begin() + indices[b] * tasks_, tasks_, examples.labels.data.begin() + b * tasks_);
  }
  return examples;
}

std::string FastaDataset::describe() const {
  return labelsPath_.empty() ? fmt::format("'{}' (unlabeled)", fastaPath_)
                             : fmt::format("'{}' with labels '{}'", fastaPath_, labelsPath_);
}

// ---------------------------------------------------------------------------------------------------------------
// BedDataset

BedDataset::BedDataset(std::string bedPath, std::string referenceFastaPath, AmbiguousBases ambiguousBases,
                       BedLabels labels)
    : bedPath_(std::move(bedPath)), referencePath_(std::move(referenceFastaPath)), ambiguousBases_(ambiguousBases) {
  const bool labeled = labels == BedLabels::InColumns;
  LineReader reader(bedPath_, "BED file");
  index_ = openIndexedFasta(referencePath_, "reference FASTA");
  // The .fai's own lengths: faidx_seq_len returns an int, too small for the longest plant chromosomes.
  std::vector<IndexEntry> entries = readIndexFile(referencePath_ + ".fai");
  std::unordered_map<std::string, int32_t> chromosomeOf;
  std::vector<int64_t> chromosomeLengths;
  for (IndexEntry &entry : entries) {
    chromosomeOf.emplace(entry.name, static_cast<int32_t>(chromosomes_.size()));
    chromosomeLengths.push_back(entry.length);
    chromosomes_.push_back(std::move(entry.name));
  }

  auto unknownChromosome = [&](const std::string &name) {
    std::string known;
    const size_t shown = std::min<size_t>(chromosomes_.size(), 5);
    for (size_t i = 0; i < shown; ++i)
      known += (i ? ", " : "") + chromosomes_[i];
    if (chromosomes_.size() > shown)
      known += fmt::format(" and {} more", chromosomes_.size() - shown);
    std::string hint;
    std::string alternative = name.rfind("chr", 0) == 0 ? name.substr(3) : "chr" + name;
    if (chromosomeOf.count(alternative))
      hint = fmt::format("; did you mean '{}'?", alternative);
    return fmt::format("chromosome '{}' is not in reference FASTA '{}' (it has {}){}", name, referencePath_, known,
                       hint);
  };

  int64_t firstLine = 0;
  std::string line;
  while (reader.next(line)) {
    const int64_t lineNumber = reader.lineNumber();
    std::string_view content = line;
    auto startsWithWord = [&](std::string_view word) {
      return content.substr(0, word.size()) == word &&
             (content.size() == word.size() || std::isspace(static_cast<unsigned char>(content[word.size()])));
    };
    if (trim(content).empty() || content.front() == '#' || startsWithWord("track") || startsWithWord("browser"))
      continue;
    auto where = [&] { return fmt::format("'{}' line {}", bedPath_, lineNumber); };
    std::vector<std::string_view> fields = splitTabs(content);
    if (fields.size() < (labeled ? 4u : 3u))
      throw Error(fmt::format("{}: {} tab-separated columns; expected chrom, start, end{}", where(), fields.size(),
                              labeled ? " and at least one label" : ""));
    std::optional<int64_t> start = parseInteger(fields[1]);
    std::optional<int64_t> end = parseInteger(fields[2]);
    if (!start)
      throw Error(fmt::format("{}: start '{}' is not an integer", where(), fields[1]));
    if (!end)
      throw Error(fmt::format("{}: end '{}' is not an integer", where(), fields[2]));
    if (*start < 0)
      throw Error(fmt::format("{}: start {} is negative (BED positions are 0-based)", where(), *start));
    if (*start >= *end)
      throw Error(fmt::format("{}: start {} is not before end {} (BED intervals are half-open: [start, end))", where(),
                              *start, *end));
    std::string chromosome(trim(fields[0]));
    auto found = chromosomeOf.find(chromosome);
    if (found == chromosomeOf.end())
      throw Error(fmt::format("{}: {}", where(), unknownChromosome(chromosome)));
    const int64_t chromosomeLength = chromosomeLengths[found->second];
    if (*end > chromosomeLength)
      throw Error(fmt::format("{}: interval {}:{}-{} runs past the end of '{}', which is {} bases long", where(),
                              chromosome, *start, *end, chromosome, chromosomeLength));
    auto labelCount = labeled ? static_cast<int64_t>(fields.size()) - 3 : 0;
    const int64_t length = *end - *start;
    if (intervals_.empty()) {
      tasks_ = labelCount;
      length_ = length;
      firstLine = lineNumber;
    } else if (labelCount != tasks_) {
      throw Error(fmt::format("{}: {} labels, but line {} has {}; every line needs the same number of labels "
                              "(columns 4 and after)",
                              where(), labelCount, firstLine, tasks_));
    }
    for (size_t column = 3; labeled && column < fields.size(); ++column) {
      std::optional<float> value = parseLabel(fields[column]);
      if (!value)
        throw Error(fmt::format("{}, column {}: label '{}' is not a finite number (columns 4 and after are numeric "
                                "labels, not BED's name, score and strand)",
                                where(), column + 1, fields[column]));
      labels_.push_back(*value);
    }
    if (length != length_)
      throw Error(fmt::format("{}: interval {}:{}-{} is {} bases long but the first one (line {}) is {}; all "
                              "intervals must have the same length",
                              where(), chromosome, *start, *end, length, firstLine, length_));
    intervals_.push_back({found->second, *start, lineNumber});
  }
  if (intervals_.empty())
    throw Error(fmt::format("BED file '{}' has no intervals", bedPath_));
}

int64_t BedDataset::size() const { return static_cast<int64_t>(intervals_.size()); }

std::vector<int64_t> BedDataset::inputShape() const { return {4, length_}; }

std::vector<int64_t> BedDataset::labelShape() const { return {tasks_}; }

Examples BedDataset::read(std::span<const int64_t> indices) const {
  checkIndices(indices, size(), describe());
  const auto batch = static_cast<int64_t>(indices.size());
  Examples examples{HostArray<float>({batch, 4, length_}), HostArray<float>({batch, tasks_})};
  const BaseTable &table = baseTable(ambiguousBases_);
  const std::string source = fmt::format("reference FASTA '{}'", referencePath_);
  for (int64_t b = 0; b < batch; ++b) {
    const Interval &interval = intervals_[indices[b]];
    const std::string &chromosome = chromosomes_[interval.chromosome];
    std::string sequence = fetchSequence(index_.get(), chromosome, interval.start, length_, source);
    int64_t bad = encodeBases(sequence, table, examples.input.data.data() + b * 4 * length_, length_);
    if (bad >= 0)
      throw Error(fmt::format("{}: chromosome '{}', position {} (0-based): {}; met reading the interval at '{}' line "
                              "{}",
                              source, chromosome, interval.start + bad, badBaseMessage(sequence[bad]), bedPath_,
                              interval.bedLine));
    std::copy_n(labels_.begin() + indices[b] * tasks_, tasks_, examples.labels.data.begin() + b * tasks_);
  }
  return examples;
}

std::string BedDataset::describe() const { return fmt::format("'{}' on reference '{}'", bedPath_, referencePath_); }

std::string BedDataset::intervalName(int64_t index) const {
  const Interval &interval = intervals_.at(static_cast<size_t>(index));
  return fmt::format("{}:{}-{}", chromosomes_[interval.chromosome], interval.start, interval.start + length_);
}

// ---------------------------------------------------------------------------------------------------------------

std::unique_ptr<Dataset> openSequenceDataset(const std::string &path, const std::string &companion,
                                             AmbiguousBases ambiguousBases) {
  std::string extension = lowercaseExtension(path);
  if (extension == ".fa" || extension == ".fasta" || extension == ".fna") {
    if (companion.empty())
      throw Error(fmt::format("'{}': a FASTA file needs a labels TSV", path));
    return std::make_unique<FastaDataset>(path, companion, ambiguousBases);
  }
  if (extension == ".bed") {
    if (companion.empty())
      throw Error(fmt::format("'{}': a BED file needs a reference FASTA", path));
    return std::make_unique<BedDataset>(path, companion, ambiguousBases);
  }
  throw Error(fmt::format("cannot read sequences from '{}': unknown extension '{}' (expected .fa, .fasta or .fna "
                          "with a labels TSV, or .bed with a reference FASTA)",
                          path, extension));
}

} // namespace seqjit
