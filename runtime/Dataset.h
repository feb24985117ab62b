// Training and evaluation data as numbered examples read a batch at a time, so that a dataset larger than memory
// trains: the interface every data format implements, and its in-memory and HDF5 implementations.
#pragma once

#include "runtime/Hdf5.h"
#include "runtime/HostArray.h"

#include <memory>
#include <span>
#include <string>
#include <vector>

namespace seqjit {

/// A batch of examples: input (B, 4, L) and labels (B, label shape...).
struct Examples {
  HostArray<float> input;
  HostArray<float> labels;
};

class Dataset {
public:
  virtual ~Dataset() = default;
  /// How many examples there are.
  virtual int64_t size() const = 0;
  /// The shape of one example's input, (4, L).
  virtual std::vector<int64_t> inputShape() const = 0;
  /// The shape of one example's labels, (tasks...).
  virtual std::vector<int64_t> labelShape() const = 0;
  /// Examples `indices` (each in [0, size()), any order, repeats allowed), in that order. Throws seqjit::Error
  /// naming the source on a read failure or bad data met only now (a streamed file).
  virtual Examples read(std::span<const int64_t> indices) const = 0;
  /// Names the data in messages: "'d.h5' (X_train, Y_train)", "'seqs.fa' with labels 'labels.tsv'".
  virtual std::string describe() const = 0;
};

/// Examples held in memory.
class ArrayDataset : public Dataset {
public:
  /// Throws seqjit::Error (naming `description`) unless input is (N, 4, L) and labels (N, ...) with the same N.
  ArrayDataset(HostArray<float> input, HostArray<float> labels, std::string description);
  int64_t size() const override;
  std::vector<int64_t> inputShape() const override;
  std::vector<int64_t> labelShape() const override;
  Examples read(std::span<const int64_t> indices) const override;
  std::string describe() const override;

private:
  HostArray<float> input_;
  HostArray<float> labels_;
  std::string description_;
};

/// One split of an HDF5 file in the papers' layout: inputs `inputKey` (N, 4, L) and labels `labelKey` (N, ...),
/// read row by row on demand (one hyperslab read per batch), never whole; the datasets stay open, with the chunk
/// cache of Hdf5Rows.
class Hdf5SplitDataset : public Dataset {
public:
  /// Checks the keys and shapes up front; throws seqjit::Error naming the file and key (listing the keys the file
  /// has when one is missing) for a missing key, an input that is not (N, 4, L), or a count mismatch.
  Hdf5SplitDataset(std::string path, std::string inputKey, std::string labelKey);
  int64_t size() const override;
  std::vector<int64_t> inputShape() const override;
  std::vector<int64_t> labelShape() const override;
  Examples read(std::span<const int64_t> indices) const override;
  std::string describe() const override;

private:
  std::string path_, inputKey_, labelKey_;
  std::vector<int64_t> inputShape_, labelShape_;
  int64_t size_ = 0;
  std::shared_ptr<const Hdf5Rows> inputRows_, labelRows_;
};

/// Sequences without labels (each example's labels have shape (0)), read a batch at a time from `input` (N, 4, L):
/// what predictions and attributions stream from a .npy or HDF5 file.
class UnlabelledDataset : public Dataset {
public:
  /// Throws seqjit::Error naming the input unless it is (N, 4, L).
  explicit UnlabelledDataset(std::unique_ptr<ArrayRows> input);
  int64_t size() const override;
  std::vector<int64_t> inputShape() const override;
  std::vector<int64_t> labelShape() const override;
  Examples read(std::span<const int64_t> indices) const override;
  std::string describe() const override;

private:
  std::unique_ptr<ArrayRows> input_;
};

/// Reads every example of `dataset` into memory (for evaluation and prediction on data that fits).
Examples readAll(const Dataset &dataset);

} // namespace seqjit
