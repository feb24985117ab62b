// Parsing and writing the .npy format, and .npz as a ZIP of .npy entries.
#include "runtime/Npy.h"

#include "dsl/Error.h"
#include "runtime/Zip.h"
#include "runtime/core/AtomicFile.h"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <limits>
#include <optional>

namespace seqjit {

// Elements are copied with memcpy from little-endian files; a big-endian host would need byte swaps.
static_assert(std::endian::native == std::endian::little, "the .npy reader assumes a little-endian host");

namespace {

constexpr std::string_view kMagic = "\x93NUMPY";

enum class ElementType { Float32, Float64, Int8, UInt8, Int16, UInt16, Int32, UInt32, Int64, UInt64, Bool };

struct DtypeInfo {
  ElementType type;
  size_t itemSize;
};

std::optional<DtypeInfo> dtypeFromDescriptor(const std::string &descriptor) {
  // Single-byte types have no byte order; numpy writes '|' but '<' and '=' are harmless spellings of the same.
  if (descriptor.size() == 3 && (descriptor[0] == '|' || descriptor[0] == '<' || descriptor[0] == '=')) {
    std::string kind = descriptor.substr(1);
    if (kind == "i1")
      return DtypeInfo{ElementType::Int8, 1};
    if (kind == "u1")
      return DtypeInfo{ElementType::UInt8, 1};
    if (kind == "b1")
      return DtypeInfo{ElementType::Bool, 1};
  }
  if (descriptor.size() == 3 && descriptor[0] == '<') {
    std::string kind = descriptor.substr(1);
    if (kind == "f4")
      return DtypeInfo{ElementType::Float32, 4};
    if (kind == "f8")
      return DtypeInfo{ElementType::Float64, 8};
    if (kind == "i2")
      return DtypeInfo{ElementType::Int16, 2};
    if (kind == "u2")
      return DtypeInfo{ElementType::UInt16, 2};
    if (kind == "i4")
      return DtypeInfo{ElementType::Int32, 4};
    if (kind == "u4")
      return DtypeInfo{ElementType::UInt32, 4};
    if (kind == "i8")
      return DtypeInfo{ElementType::Int64, 8};
    if (kind == "u8")
      return DtypeInfo{ElementType::UInt64, 8};
  }
  return std::nullopt;
}

/// Reads the Python-literal header dictionary numpy writes: {'descr': '<f4', 'fortran_order': False,
/// 'shape': (2, 3), }. Only what numpy itself produces is accepted, with errors that say which field is off.
class HeaderParser {
public:
  HeaderParser(std::string_view header, const std::string &source) : header_(header), source_(source) {}

  std::string stringField(const std::string &key) {
    size_t at = valueStart(key);
    char quote = header_[at];
    if (quote != '\'' && quote != '"')
      throw bad(fmt::format("'{}' should be a quoted string", key));
    size_t end = header_.find(quote, at + 1);
    if (end == std::string_view::npos)
      throw bad(fmt::format("unterminated string for '{}'", key));
    return std::string(header_.substr(at + 1, end - at - 1));
  }

  bool boolField(const std::string &key) {
    size_t at = valueStart(key);
    if (header_.substr(at, 4) == "True")
      return true;
    if (header_.substr(at, 5) == "False")
      return false;
    throw bad(fmt::format("'{}' should be True or False", key));
  }

  std::vector<int64_t> tupleField(const std::string &key) {
    size_t at = valueStart(key);
    if (header_[at] != '(')
      throw bad(fmt::format("'{}' should be a tuple", key));
    size_t end = header_.find(')', at);
    if (end == std::string_view::npos)
      throw bad(fmt::format("unterminated tuple for '{}'", key));
    std::vector<int64_t> values;
    size_t cursor = at + 1;
    while (cursor < end) {
      while (cursor < end && (std::isspace(static_cast<unsigned char>(header_[cursor])) || header_[cursor] == ','))
        ++cursor;
      if (cursor >= end)
        break;
      size_t digitsEnd = cursor;
      while (digitsEnd < end && std::isdigit(static_cast<unsigned char>(header_[digitsEnd])))
        ++digitsEnd;
      // numpy may write Python 2 longs as "3L".
      if (digitsEnd == cursor)
        throw bad(
            fmt::format("'{}' holds '{}', expected non-negative integers", key, header_.substr(at, end - at + 1)));
      std::string digits(header_.substr(cursor, digitsEnd - cursor));
      if (digits.size() > 18)
        throw bad(fmt::format("dimension {} of '{}' is too large", digits, key));
      values.push_back(std::stoll(digits));
      cursor = digitsEnd;
      if (cursor < end && header_[cursor] == 'L')
        ++cursor;
    }
    return values;
  }

private:
  Error bad(const std::string &what) const {
    return Error(fmt::format("{}: malformed .npy header ({}): {}", source_, what, header_));
  }
  size_t valueStart(const std::string &key) {
    size_t at = std::string_view::npos;
    for (char quote : {'\'', '"'}) {
      std::string quoted = std::string(1, quote) + key + std::string(1, quote);
      at = header_.find(quoted);
      if (at != std::string_view::npos) {
        at += quoted.size();
        break;
      }
    }
    if (at == std::string_view::npos)
      throw bad(fmt::format("no '{}' field", key));
    while (at < header_.size() && std::isspace(static_cast<unsigned char>(header_[at])))
      ++at;
    if (at >= header_.size() || header_[at] != ':')
      throw bad(fmt::format("no ':' after '{}'", key));
    ++at;
    while (at < header_.size() && std::isspace(static_cast<unsigned char>(header_[at])))
      ++at;
    if (at >= header_.size())
      throw bad(fmt::format("no value for '{}'", key));
    return at;
  }

  std::string_view header_;
  const std::string &source_;
};

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string text = "(";
  for (size_t i = 0; i < shape.size(); ++i)
    text += fmt::format("{}{}", i ? ", " : "", shape[i]);
  return text + (shape.size() == 1 ? ",)" : ")");
}

/// Where a .npy header ends (from its first bytes: magic, version, header length), or an error naming `source`.
size_t npyHeaderEnd(std::string_view bytes, const std::string &source) {
  if (bytes.size() < 10 || bytes.substr(0, kMagic.size()) != kMagic)
    throw Error(fmt::format("{}: not a .npy file (expected the magic string \\x93NUMPY at the start)", source));
  int major = static_cast<unsigned char>(bytes[6]);
  int minor = static_cast<unsigned char>(bytes[7]);
  if (major == 1)
    return 10 + (static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8));
  if (major != 2 && major != 3)
    throw Error(
        fmt::format("{}: .npy format version {}.{} is not supported (expected 1.0, 2.0 or 3.0)", source, major, minor));
  if (bytes.size() < 12)
    throw Error(fmt::format("{}: truncated .npy header", source));
  size_t headerLength = 0;
  for (int i = 3; i >= 0; --i)
    headerLength = (headerLength << 8) | static_cast<unsigned char>(bytes[8 + i]);
  return 12 + headerLength;
}

/// What a .npy header says: the shape, the element type, and where the data starts.
struct NpyLayout {
  std::vector<int64_t> shape;
  std::string descriptor;
  DtypeInfo dtype;
  size_t dataStart;
  uint64_t count; ///< elements
};

/// Parses the header of a .npy file whose first bytes are `bytes` (the header at least); checks that `fileSize`
/// bytes hold the data it announces.
NpyLayout parseNpyLayout(std::string_view bytes, uint64_t fileSize, const std::string &source) {
  size_t headerEnd = npyHeaderEnd(bytes, source);
  size_t headerStart = static_cast<unsigned char>(bytes[6]) == 1 ? 10 : 12;
  if (headerEnd > bytes.size())
    throw Error(fmt::format("{}: truncated .npy header (header needs {} bytes, {} are left)", source,
                            headerEnd - headerStart, bytes.size() - headerStart));
  std::string_view header = bytes.substr(headerStart, headerEnd - headerStart);
  HeaderParser parser(header, source);
  std::string descriptor = parser.stringField("descr");
  bool fortranOrder = parser.boolField("fortran_order");
  std::vector<int64_t> shape = parser.tupleField("shape");

  std::optional<DtypeInfo> dtype = dtypeFromDescriptor(descriptor);
  if (!dtype)
    throw Error(fmt::format("{}: unsupported dtype '{}' (expected one of '<f4' '<f8' '|i1' '|u1' '<i2' '<u2' "
                            "'<i4' '<u4' '<i8' '<u8' '|b1', little-endian)",
                            source, descriptor));
  if (fortranOrder)
    throw Error(fmt::format("{}: array of shape {} is stored in Fortran order; expected C order (save "
                            "numpy.ascontiguousarray(a) instead)",
                            source, shapeText(shape)));

  uint64_t count = 1;
  for (int64_t dimension : shape) {
    if (dimension != 0 && count > std::numeric_limits<uint64_t>::max() / 16 / static_cast<uint64_t>(dimension))
      throw Error(fmt::format("{}: shape {} is too large", source, shapeText(shape)));
    count *= static_cast<uint64_t>(dimension);
  }
  uint64_t needed = count * dtype->itemSize;
  if (needed > fileSize - headerEnd)
    throw Error(fmt::format("{}: truncated: shape {} of '{}' needs {} bytes of data, the file has {}", source,
                            shapeText(shape), descriptor, needed, fileSize - headerEnd));
  return {shape, descriptor, *dtype, headerEnd, count};
}

/// Converts `count` elements of `layout`'s type at `data` to T.
template <typename T> void convertNpyElements(const NpyLayout &layout, const char *data, size_t count, T *out) {
  auto convert = [&]<typename Source>(Source) {
    for (size_t i = 0; i < count; ++i) {
      Source value;
      std::memcpy(&value, data + i * sizeof(Source), sizeof(Source));
      out[i] = static_cast<T>(value);
    }
  };
  switch (layout.dtype.type) {
  case ElementType::Float32:
    convert(float{});
    break;
  case ElementType::Float64:
    convert(double{});
    break;
  case ElementType::Int8:
    convert(int8_t{});
    break;
  case ElementType::UInt8:
    convert(uint8_t{});
    break;
  case ElementType::Int16:
    convert(int16_t{});
    break;
  case ElementType::UInt16:
    convert(uint16_t{});
    break;
  case ElementType::Int32:
    convert(int32_t{});
    break;
  case ElementType::UInt32:
    convert(uint32_t{});
    break;
  case ElementType::Int64:
    convert(int64_t{});
    break;
  case ElementType::UInt64:
    convert(uint64_t{});
    break;
  case ElementType::Bool:
    // Any non-zero byte is True, as numpy reads it.
    for (size_t i = 0; i < count; ++i)
      out[i] = data[i] != 0 ? T(1) : T(0);
    break;
  }
}

} // namespace

template <typename T> HostArray<T> parseNpy(std::string_view bytes, const std::string &source) {
  NpyLayout layout = parseNpyLayout(bytes, bytes.size(), source);
  HostArray<T> array;
  array.shape = layout.shape;
  array.data.resize(layout.count);
  convertNpyElements(layout, bytes.data() + layout.dataStart, layout.count, array.data.data());
  return array;
}

struct NpyRows::Open {
  std::string path;
  int descriptor = -1;
  NpyLayout layout;
  int64_t rowElements = 0;
  ~Open() {
    if (descriptor >= 0)
      ::close(descriptor);
  }
};

namespace {

/// Reads `size` bytes at `offset` of the open file `descriptor`; throws naming `path` on a short or failed read.
void readAt(int descriptor, const std::string &path, uint64_t offset, size_t size, char *out) {
  while (size > 0) {
    ssize_t got = ::pread(descriptor, out, size, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      throw Error(fmt::format("'{}': read failed at byte {}: {}", path, offset,
                              got < 0 ? std::strerror(errno) : "the file ended early (was it truncated?)"));
    out += got;
    offset += static_cast<uint64_t>(got);
    size -= static_cast<size_t>(got);
  }
}

} // namespace

NpyRows::NpyRows(const std::string &path) : open_(std::make_unique<Open>()) {
  open_->path = path;
  std::string source = fmt::format("'{}'", path);
  open_->descriptor = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (open_->descriptor < 0)
    throw Error(fmt::format("cannot open '{}': {}", path, std::strerror(errno)));
  struct stat status {};
  if (::fstat(open_->descriptor, &status) != 0)
    throw Error(fmt::format("cannot read '{}': {}", path, std::strerror(errno)));
  uint64_t fileSize = static_cast<uint64_t>(status.st_size);
  std::string start(std::min<uint64_t>(fileSize, 12), '\0');
  readAt(open_->descriptor, path, 0, start.size(), start.data());
  size_t headerEnd = npyHeaderEnd(start, source);
  constexpr size_t kMaxHeader = size_t{1} << 20; // numpy writes headers of a few hundred bytes
  if (headerEnd > kMaxHeader || headerEnd > fileSize)
    throw Error(fmt::format("{}: .npy header of {} bytes is {}", source, headerEnd,
                            headerEnd > fileSize ? "longer than the file" : "implausibly large"));
  std::string header(headerEnd, '\0');
  readAt(open_->descriptor, path, 0, header.size(), header.data());
  open_->layout = parseNpyLayout(header, fileSize, source);
  if (open_->layout.shape.empty())
    throw Error(fmt::format("{}: a 0-d array has no rows to read", source));
  open_->rowElements = 1;
  for (size_t i = 1; i < open_->layout.shape.size(); ++i)
    open_->rowElements *= open_->layout.shape[i];
}

NpyRows::~NpyRows() = default;

const std::vector<int64_t> &NpyRows::shape() const { return open_->layout.shape; }

std::string NpyRows::describe() const { return fmt::format("'{}'", open_->path); }

HostArray<float> NpyRows::read(std::span<const int64_t> rows) const {
  const NpyLayout &layout = open_->layout;
  std::vector<int64_t> shape = layout.shape;
  shape[0] = static_cast<int64_t>(rows.size());
  HostArray<float> out(shape);
  size_t rowBytes = static_cast<size_t>(open_->rowElements) * layout.dtype.itemSize;
  std::vector<char> buffer;
  for (size_t i = 0; i < rows.size();) {
    if (rows[i] < 0 || rows[i] >= layout.shape[0])
      throw Error(
          fmt::format("'{}': row {} is out of range (the array has {})", open_->path, rows[i], layout.shape[0]));
    size_t run = 1; // consecutive rows are one read
    while (i + run < rows.size() && rows[i + run] == rows[i] + static_cast<int64_t>(run))
      ++run;
    if (rows[i] + static_cast<int64_t>(run) > layout.shape[0])
      run = static_cast<size_t>(layout.shape[0] - rows[i]);
    buffer.resize(run * rowBytes);
    readAt(open_->descriptor, open_->path, layout.dataStart + static_cast<uint64_t>(rows[i]) * rowBytes, buffer.size(),
           buffer.data());
    convertNpyElements(layout, buffer.data(), run * static_cast<size_t>(open_->rowElements),
                       out.data.data() + i * static_cast<size_t>(open_->rowElements));
    i += run;
  }
  return out;
}

template <typename T> HostArray<T> readNpy(const std::string &path) {
  std::string bytes = readWholeFile(path);
  return parseNpy<T>(bytes, fmt::format("'{}'", path));
}

namespace {

/// The magic string, version and header dictionary of a C-order .npy file of `descriptor` elements and `shape`.
std::string npyHeader(const std::vector<int64_t> &shape, const char *descriptor) {
  std::string dictionary =
      fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", descriptor, shapeText(shape));
  // numpy pads with spaces and ends with a newline so that the data starts on a 64-byte boundary.
  size_t unpadded = 10 + dictionary.size() + 1;
  size_t padding = (64 - unpadded % 64) % 64;
  std::string header = dictionary + std::string(padding, ' ') + "\n";
  std::string out(kMagic);
  if (header.size() <= 0xFFFF) {
    out += '\x01';
    out += '\x00';
    out += static_cast<char>(header.size() & 0xff);
    out += static_cast<char>(header.size() >> 8);
  } else {
    // Version 2.0 only widens the length field; pad again for its 12-byte preamble.
    size_t unpadded2 = 12 + dictionary.size() + 1;
    header = dictionary + std::string((64 - unpadded2 % 64) % 64, ' ') + "\n";
    out += '\x02';
    out += '\x00';
    for (int i = 0; i < 4; ++i)
      out += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  }
  return out + header;
}

} // namespace

template <typename T> std::string serializeNpy(const HostArray<T> &array) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, ".npy writing is for float and double");
  if (static_cast<int64_t>(array.data.size()) != HostArray<T>::elementCount(array.shape))
    throw Error(fmt::format("cannot write .npy: shape {} has {} elements but the array holds {}",
                            shapeText(array.shape), HostArray<T>::elementCount(array.shape), array.data.size()));
  std::string out = npyHeader(array.shape, std::is_same_v<T, float> ? "<f4" : "<f8");
  out.append(reinterpret_cast<const char *>(array.data.data()), array.data.size() * sizeof(T));
  return out;
}

NpyRowWriter::NpyRowWriter(const std::string &path, std::vector<int64_t> shape)
    : path_(path), shape_(std::move(shape)), file_(path) {
  if (shape_.empty())
    throw Error(fmt::format("cannot write '{}' row by row: a 0-d array has no rows", path));
  file_.write(npyHeader(shape_, "<f4"));
}

void NpyRowWriter::append(const HostArray<float> &rows) {
  if (rows.shape.empty() || !std::equal(rows.shape.begin() + 1, rows.shape.end(), shape_.begin() + 1, shape_.end()) ||
      rows.size() != HostArray<float>::elementCount(rows.shape))
    throw Error(fmt::format("cannot write '{}': rows of shape {} do not fit an array of shape {}", path_,
                            shapeText(rows.shape), shapeText(shape_)));
  if (written_ + rows.shape[0] > shape_[0])
    throw Error(fmt::format("cannot write '{}': {} rows are more than the {} announced", path_,
                            written_ + rows.shape[0], shape_[0]));
  file_.write({reinterpret_cast<const char *>(rows.data.data()), rows.data.size() * sizeof(float)});
  written_ += rows.shape[0];
}

void NpyRowWriter::finish() {
  if (written_ != shape_[0])
    throw Error(fmt::format("cannot write '{}': {} of the {} announced rows were written", path_, written_, shape_[0]));
  file_.commit();
}

void writeNpy(const std::string &path, const HostArray<float> &array) {
  writeFileAtomically(path, serializeNpy(array));
}

void writeNpy(const std::string &path, const HostArray<double> &array) {
  writeFileAtomically(path, serializeNpy(array));
}

std::map<std::string, HostArray<float>> readNpz(const std::string &path) {
  std::map<std::string, HostArray<float>> arrays;
  for (const ZipEntry &entry : readZipArchive(path)) {
    std::string key = entry.name;
    if (key.size() > 4 && key.ends_with(".npy"))
      key.resize(key.size() - 4);
    arrays[key] = parseNpy<float>(entry.bytes, fmt::format("'{}', entry '{}'", path, entry.name));
  }
  return arrays;
}

void writeNpz(const std::string &path, const std::map<std::string, HostArray<float>> &arrays) {
  std::vector<ZipEntry> entries;
  entries.reserve(arrays.size());
  for (const auto &[key, array] : arrays)
    entries.push_back({key + ".npy", serializeNpy(array)});
  writeFileAtomically(path, buildZipArchive(entries, path));
}

template HostArray<float> parseNpy<float>(std::string_view, const std::string &);
template HostArray<double> parseNpy<double>(std::string_view, const std::string &);
template HostArray<float> readNpy<float>(const std::string &);
template HostArray<double> readNpy<double>(const std::string &);
template std::string serializeNpy<float>(const HostArray<float> &);
template std::string serializeNpy<double>(const HostArray<double> &);

} // namespace seqjit
