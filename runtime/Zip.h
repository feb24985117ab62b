// Minimal ZIP archive reading (stored and deflated entries, ZIP64) and writing (stored entries): the .npz container.
#pragma once

#include <string>
#include <vector>

namespace seqjit {

/// One file inside a ZIP archive, uncompressed.
struct ZipEntry {
  std::string name;
  std::string bytes;
};

/// Reads every entry of the ZIP archive at `path`, inflating deflated entries (zlib raw inflate) and checking
/// each CRC-32. Handles what Python's zipfile writes, including the ZIP64 records numpy.savez forces.
/// Throws seqjit::Error naming the file (and entry) for a missing, truncated, encrypted or malformed archive.
std::vector<ZipEntry> readZipArchive(const std::string &path);

/// The bytes of a ZIP archive holding `entries` uncompressed ("stored"), with CRC-32s from zlib and a fixed
/// 1980-01-01 timestamp so that the same entries always give the same bytes. `path` only names errors
/// (an archive too large for the 32-bit format).
std::string buildZipArchive(const std::vector<ZipEntry> &entries, const std::string &path);

/// The whole contents of a file; throws seqjit::Error naming `path` if it cannot be read.
std::string readWholeFile(const std::string &path);

} // namespace seqjit
