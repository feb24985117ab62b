// NumPy .npy and .npz files: tensors and weights exchanged with numpy and PyTorch.
#pragma once

#include "runtime/ArrayRows.h"
#include "runtime/HostArray.h"
#include "runtime/core/AtomicFile.h"

#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace seqjit {

/// Parses the bytes of a .npy file (format versions 1.0, 2.0 and 3.0, C order) and converts its elements to T
/// (float or double). Supported dtypes: '<f4' '<f8' '|i1' '|u1' '<i2' '<u2' '<i4' '<u4' '<i8' '<u8' '|b1'.
/// A 0-d array gets an empty shape and one element. `source` names the bytes in errors ("w.npy", or
/// "'m.npz', entry 'w.npy'"); a Fortran-order array, a big-endian or other dtype, a bad magic string or a
/// truncated file throws seqjit::Error saying what was expected.
template <typename T> HostArray<T> parseNpy(std::string_view bytes, const std::string &source);

/// Reads a .npy file; see parseNpy. Throws seqjit::Error naming `path`.
template <typename T> HostArray<T> readNpy(const std::string &path);

/// A .npy file kept open for reading rows a batch at a time (positioned reads, so several threads may read at
/// once), never whole: the header is checked up front (as parseNpy checks it, the file's size included) and each
/// read converts its rows to float.
class NpyRows : public ArrayRows {
public:
  /// Throws seqjit::Error naming `path` for a missing file, a bad header, a truncated file or a 0-d array.
  explicit NpyRows(const std::string &path);
  ~NpyRows() override;
  const std::vector<int64_t> &shape() const override;
  HostArray<float> read(std::span<const int64_t> rows) const override;
  std::string describe() const override;

private:
  struct Open;
  std::unique_ptr<Open> open_;
};

/// The bytes of a version 1.0 .npy file holding `array` ('<f4' for float, '<f8' for double), C order, header
/// padded to a multiple of 64 bytes as numpy does.
template <typename T> std::string serializeNpy(const HostArray<T> &array);

/// A float32 .npy file of `shape` written a block of rows at a time, in order (memory of one block, whatever the
/// array's size): it appears at `path` when finish() has checked that every announced row was written; destroyed
/// before, it leaves nothing behind (see AtomicFileWriter). Throws seqjit::Error naming `path`.
class NpyRowWriter {
public:
  NpyRowWriter(const std::string &path, std::vector<int64_t> shape);
  /// Appends rows (n, shape[1:]...).
  void append(const HostArray<float> &rows);
  void finish();

private:
  std::string path_;
  std::vector<int64_t> shape_;
  int64_t written_ = 0;
  AtomicFileWriter file_;
};

/// Writes `array` as .npy atomically (temporary file in the same directory, then rename).
void writeNpy(const std::string &path, const HostArray<float> &array);
void writeNpy(const std::string &path, const HostArray<double> &array);

/// Reads every array of a .npz (numpy.savez or numpy.savez_compressed) as float, keyed by entry name without
/// the ".npy" suffix. Throws seqjit::Error naming the file and the entry at fault.
std::map<std::string, HostArray<float>> readNpz(const std::string &path);

/// Writes the arrays as a .npz of float32 .npy entries ("<key>.npy", stored uncompressed), atomically.
void writeNpz(const std::string &path, const std::map<std::string, HostArray<float>> &arrays);

} // namespace seqjit
