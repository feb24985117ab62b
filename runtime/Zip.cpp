// ZIP reading and writing for .npz files: central-directory driven, so data descriptors and ZIP64 work.
#include "runtime/Zip.h"

#include "dsl/Error.h"
#include "runtime/core/Crc32.h"

#include <fmt/format.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

namespace seqjit {

namespace {

constexpr uint32_t kLocalHeaderSignature = 0x04034b50;
constexpr uint32_t kCentralHeaderSignature = 0x02014b50;
constexpr uint32_t kEndOfCentralDirectorySignature = 0x06054b50;
constexpr uint32_t kZip64EndOfCentralDirectorySignature = 0x06064b50;
constexpr uint32_t kZip64LocatorSignature = 0x07064b50;
constexpr uint16_t kZip64ExtraId = 0x0001;
constexpr uint16_t kMethodStored = 0;
constexpr uint16_t kMethodDeflated = 8;
constexpr size_t kLocalHeaderSize = 30;
constexpr size_t kCentralHeaderSize = 46;
constexpr size_t kEndOfCentralDirectorySize = 22;
constexpr size_t kZip64LocatorSize = 20;
constexpr size_t kZip64EndOfCentralDirectorySize = 56;

/// Bounds-checked little-endian reads from the archive bytes; every overrun becomes a "truncated" error.
class ByteReader {
public:
  ByteReader(const std::string &bytes, const std::string &path) : bytes_(bytes), path_(path) {}
  void require(uint64_t offset, uint64_t length, const std::string &what) const {
    if (offset > bytes_.size() || length > bytes_.size() - offset)
      throw Error(fmt::format("'{}' is not a valid .npz/ZIP archive: truncated {} (needs bytes {}..{}, file has {})",
                              path_, what, offset, offset + length, bytes_.size()));
  }
  uint64_t read(uint64_t offset, int width, const std::string &what) const {
    require(offset, static_cast<uint64_t>(width), what);
    uint64_t value = 0;
    for (int i = width - 1; i >= 0; --i)
      value = (value << 8) | static_cast<unsigned char>(bytes_[offset + i]);
    return value;
  }
  uint16_t u16(uint64_t offset, const std::string &what) const { return static_cast<uint16_t>(read(offset, 2, what)); }
  uint32_t u32(uint64_t offset, const std::string &what) const { return static_cast<uint32_t>(read(offset, 4, what)); }
  uint64_t u64(uint64_t offset, const std::string &what) const { return read(offset, 8, what); }
  size_t size() const { return bytes_.size(); }
  const std::string &bytes() const { return bytes_; }

private:
  const std::string &bytes_;
  const std::string &path_;
};

void appendLittleEndian(std::string &out, uint64_t value, int width) {
  for (int i = 0; i < width; ++i)
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

std::string inflateRaw(const char *data, uint64_t compressedSize, uint64_t uncompressedSize,
                       const std::string &where) {
  std::string out(uncompressedSize, '\0');
  z_stream stream{};
  // Negative window bits: raw deflate data, no zlib header (the ZIP format's convention).
  if (inflateInit2(&stream, -MAX_WBITS) != Z_OK)
    throw Error(fmt::format("{}: cannot initialise zlib inflate", where));
  stream.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(data));
  stream.avail_in = static_cast<uInt>(compressedSize);
  stream.next_out = reinterpret_cast<Bytef *>(out.data());
  stream.avail_out = static_cast<uInt>(uncompressedSize);
  if (compressedSize > std::numeric_limits<uInt>::max() || uncompressedSize > std::numeric_limits<uInt>::max()) {
    inflateEnd(&stream);
    throw Error(fmt::format("{}: deflated entries above 4 GiB are not supported", where));
  }
  int status = inflate(&stream, Z_FINISH);
  uint64_t produced = stream.total_out;
  std::string message = stream.msg ? stream.msg : "";
  inflateEnd(&stream);
  if (status != Z_STREAM_END)
    throw Error(fmt::format("{}: corrupt deflate data (zlib status {}{}{})", where, status,
                            message.empty() ? "" : ": ", message));
  if (produced != uncompressedSize)
    throw Error(fmt::format("{}: inflated to {} bytes, the directory says {}", where, produced, uncompressedSize));
  return out;
}

} // namespace

std::string readWholeFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(fmt::format("cannot open '{}': {}", path, std::strerror(errno)));
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad())
    throw Error(fmt::format("cannot read '{}': {}", path, std::strerror(errno)));
  return std::move(contents).str();
}

std::vector<ZipEntry> readZipArchive(const std::string &path) {
  std::string bytes = readWholeFile(path);
  ByteReader reader(bytes, path);
  auto malformed = [&](const std::string &what) {
    return Error(fmt::format("'{}' is not a valid .npz/ZIP archive: {}", path, what));
  };

  // The end-of-central-directory record is the last 22 bytes plus a comment of up to 65535 bytes.
  if (bytes.size() < kEndOfCentralDirectorySize)
    throw malformed(fmt::format("only {} bytes, too short for a ZIP end record", bytes.size()));
  int64_t endRecord = -1;
  int64_t lowest = std::max<int64_t>(0, static_cast<int64_t>(bytes.size() - kEndOfCentralDirectorySize) - 65535);
  for (int64_t offset = static_cast<int64_t>(bytes.size() - kEndOfCentralDirectorySize); offset >= lowest; --offset)
    if (reader.u32(offset, "end record") == kEndOfCentralDirectorySignature) {
      endRecord = offset;
      break;
    }
  if (endRecord < 0)
    throw malformed("no end-of-central-directory record (not a ZIP file, or truncated)");

  uint64_t entryCount = reader.u16(endRecord + 10, "end record");
  uint64_t directorySize = reader.u32(endRecord + 12, "end record");
  uint64_t directoryOffset = reader.u32(endRecord + 16, "end record");
  if (endRecord >= static_cast<int64_t>(kZip64LocatorSize) &&
      reader.u32(endRecord - kZip64LocatorSize, "ZIP64 locator") == kZip64LocatorSignature) {
    uint64_t zip64Record = reader.u64(endRecord - kZip64LocatorSize + 8, "ZIP64 locator");
    reader.require(zip64Record, kZip64EndOfCentralDirectorySize, "ZIP64 end record");
    if (reader.u32(zip64Record, "ZIP64 end record") != kZip64EndOfCentralDirectorySignature)
      throw malformed("bad ZIP64 end-of-central-directory signature");
    entryCount = reader.u64(zip64Record + 32, "ZIP64 end record");
    directorySize = reader.u64(zip64Record + 40, "ZIP64 end record");
    directoryOffset = reader.u64(zip64Record + 48, "ZIP64 end record");
  }
  reader.require(directoryOffset, directorySize, "central directory");

  std::vector<ZipEntry> entries;
  std::set<std::string> seen;
  uint64_t cursor = directoryOffset;
  for (uint64_t index = 0; index < entryCount; ++index) {
    if (reader.u32(cursor, "central directory") != kCentralHeaderSignature)
      throw malformed(fmt::format("central directory entry {} has a bad signature", index));
    reader.require(cursor, kCentralHeaderSize, "central directory");
    uint16_t flags = reader.u16(cursor + 8, "central directory");
    uint16_t method = reader.u16(cursor + 10, "central directory");
    uint32_t crc = reader.u32(cursor + 16, "central directory");
    uint64_t compressedSize = reader.u32(cursor + 20, "central directory");
    uint64_t uncompressedSize = reader.u32(cursor + 24, "central directory");
    uint16_t nameLength = reader.u16(cursor + 28, "central directory");
    uint16_t extraLength = reader.u16(cursor + 30, "central directory");
    uint16_t commentLength = reader.u16(cursor + 32, "central directory");
    uint64_t localOffset = reader.u32(cursor + 42, "central directory");
    reader.require(cursor + kCentralHeaderSize, uint64_t{nameLength} + extraLength + commentLength,
                   "central directory");
    std::string name = bytes.substr(cursor + kCentralHeaderSize, nameLength);
    std::string where = fmt::format("'{}', entry '{}'", path, name);

    // ZIP64 extra field: 64-bit values replace exactly those 32-bit fields that read 0xFFFFFFFF, in this order.
    uint64_t extra = cursor + kCentralHeaderSize + nameLength;
    uint64_t extraEnd = extra + extraLength;
    while (extra + 4 <= extraEnd) {
      uint16_t id = reader.u16(extra, "extra field");
      uint16_t length = reader.u16(extra + 2, "extra field");
      if (extra + 4 + length > extraEnd)
        throw malformed(fmt::format("entry '{}' has an extra field running past its end", name));
      if (id == kZip64ExtraId) {
        uint64_t field = extra + 4;
        auto take = [&](uint64_t &value) {
          if (value != 0xFFFFFFFFu)
            return;
          if (field + 8 > extra + 4 + length)
            throw malformed(fmt::format("entry '{}' has a short ZIP64 extra field", name));
          value = reader.u64(field, "ZIP64 extra field");
          field += 8;
        };
        take(uncompressedSize);
        take(compressedSize);
        take(localOffset);
      }
      extra += 4 + length;
    }
    cursor = extraEnd + commentLength;

    if (flags & 1)
      throw Error(fmt::format("{}: encrypted entries are not supported", where));
    if (!seen.insert(name).second)
      throw Error(fmt::format("{}: the entry name occurs twice", where));
    if (reader.u32(localOffset, "local header") != kLocalHeaderSignature)
      throw Error(fmt::format("{}: bad local header signature at offset {}", where, localOffset));
    reader.require(localOffset, kLocalHeaderSize, "local header");
    // Sizes in the local header may be placeholders (data descriptor, ZIP64); only its lengths are used.
    uint64_t dataOffset = localOffset + kLocalHeaderSize + reader.u16(localOffset + 26, "local header") +
                          reader.u16(localOffset + 28, "local header");
    if (dataOffset > bytes.size() || compressedSize > bytes.size() - dataOffset)
      throw Error(fmt::format("{}: truncated (data needs bytes {}..{}, file has {})", where, dataOffset,
                              dataOffset + compressedSize, bytes.size()));

    ZipEntry entry;
    entry.name = name;
    if (method == kMethodStored) {
      if (compressedSize != uncompressedSize)
        throw Error(fmt::format("{}: stored entry with compressed size {} != size {}", where, compressedSize,
                                uncompressedSize));
      entry.bytes = bytes.substr(dataOffset, uncompressedSize);
    } else if (method == kMethodDeflated) {
      entry.bytes = inflateRaw(bytes.data() + dataOffset, compressedSize, uncompressedSize, where);
    } else {
      throw Error(fmt::format("{}: compression method {} is not supported (expected 0 stored or 8 deflated)", where,
                              method));
    }
    uint32_t actualCrc = crc32Of(entry.bytes);
    if (actualCrc != crc)
      throw Error(fmt::format("{}: CRC-32 mismatch (stored {:08x}, computed {:08x}): the file is corrupt", where,
                              crc, actualCrc));
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::string buildZipArchive(const std::vector<ZipEntry> &entries, const std::string &path) {
  constexpr uint16_t kVersionNeeded = 20;
  constexpr uint16_t kDosTime = 0;           // 00:00:00
  constexpr uint16_t kDosDate = (1 << 5) | 1; // 1980-01-01, the DOS epoch
  if (entries.size() > 0xFFFF)
    throw Error(fmt::format("cannot write '{}': {} entries exceed the ZIP limit of 65535", path, entries.size()));

  std::string archive;
  std::string directory;
  for (const ZipEntry &entry : entries) {
    uint64_t localOffset = archive.size();
    if (entry.bytes.size() >= 0xFFFFFFFFu || localOffset >= 0xFFFFFFFFu || entry.name.size() > 0xFFFF)
      throw Error(fmt::format("cannot write '{}': entry '{}' is too large for a non-ZIP64 archive", path,
                              entry.name));
    uint32_t crc = crc32Of(entry.bytes);
    auto commonFields = [&](std::string &out) {
      appendLittleEndian(out, kVersionNeeded, 2);
      appendLittleEndian(out, 0, 2); // flags
      appendLittleEndian(out, kMethodStored, 2);
      appendLittleEndian(out, kDosTime, 2);
      appendLittleEndian(out, kDosDate, 2);
      appendLittleEndian(out, crc, 4);
      appendLittleEndian(out, entry.bytes.size(), 4);
      appendLittleEndian(out, entry.bytes.size(), 4);
      appendLittleEndian(out, entry.name.size(), 2);
      appendLittleEndian(out, 0, 2); // extra length
    };
    appendLittleEndian(archive, kLocalHeaderSignature, 4);
    commonFields(archive);
    archive += entry.name;
    archive += entry.bytes;

    appendLittleEndian(directory, kCentralHeaderSignature, 4);
    appendLittleEndian(directory, kVersionNeeded, 2); // version made by: MS-DOS, 2.0
    commonFields(directory);
    appendLittleEndian(directory, 0, 2); // comment length
    appendLittleEndian(directory, 0, 2); // disk number
    appendLittleEndian(directory, 0, 2); // internal attributes
    appendLittleEndian(directory, 0, 4); // external attributes
    appendLittleEndian(directory, localOffset, 4);
    directory += entry.name;
  }
  uint64_t directoryOffset = archive.size();
  if (directoryOffset >= 0xFFFFFFFFu)
    throw Error(fmt::format("cannot write '{}': archive exceeds 4 GiB (ZIP64 writing is not supported)", path));
  archive += directory;
  appendLittleEndian(archive, kEndOfCentralDirectorySignature, 4);
  appendLittleEndian(archive, 0, 2); // this disk
  appendLittleEndian(archive, 0, 2); // disk with the directory
  appendLittleEndian(archive, entries.size(), 2);
  appendLittleEndian(archive, entries.size(), 2);
  appendLittleEndian(archive, directory.size(), 4);
  appendLittleEndian(archive, directoryOffset, 4);
  appendLittleEndian(archive, 0, 2); // comment length
  return archive;
}

} // namespace seqjit
