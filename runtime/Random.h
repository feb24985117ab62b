// The one seeded random number generator: counter-based Philox4x32-10, reproducible across runs and platforms.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace seqjit {

/// The Philox4x32-10 block function of Salmon et al. (SC'11), as in Random123: a keyed bijection of a 128-bit
/// counter. Counter-based means any stream and any position can be reached without generating what precedes it.
struct Philox4x32 {
  using Counter = std::array<uint32_t, 4>;
  using Key = std::array<uint32_t, 2>;
  /// Ten rounds of Philox on `counter` under `key`; equals Random123's philox4x32(ctr, key).
  static Counter block(Counter counter, Key key);
};

/// A stream of random numbers determined only by (seed, stream). The seed is the Philox key; the stream id fills
/// the upper half of the counter and the position within the stream the lower half, so distinct streams never
/// overlap (2^64 blocks each) and drawing from one stream does not disturb another.
class Random {
public:
  /// The generator of stream `stream` under `seed`, positioned at its first number.
  Random(uint64_t seed, uint64_t stream);

  /// The next raw 32 random bits.
  uint32_t nextUint32();
  /// A float uniform on [0, 1): 24 random bits, so every value is exactly representable and 1 is never drawn.
  float uniform();
  /// A double uniform on [0, 1) with 53 random bits.
  double uniformDouble();
  /// A standard normal N(0, 1) by the Box-Muller transform (computed in double; the second value is kept for
  /// the next call).
  float normal();
  /// An integer uniform on [0, n), without modulo bias (Lemire's multiply-and-reject). n must be positive.
  uint64_t uniformInt(uint64_t n);

  /// out[i] = 0 where draw 2 * firstPair + i of stream `stream` under `seed` is below cutoff * 2^-53 (its 53 random
  /// bits, uniformDouble() = bits * 2^-53, are below `cutoff`), else `kept`: a dropout mask, computed from the Philox
  /// blocks of those draws without generating what precedes them (for filling a large mask in chunks, in any order),
  /// eight blocks at a time (in AVX2 registers where the CPU has them).
  static void bernoulliMask(uint64_t seed, uint64_t stream, uint64_t firstPair, std::span<float> out, uint64_t cutoff,
                            float kept);

private:
  void refill();
  static Philox4x32::Counter counter(uint64_t blockIndex, uint64_t stream);
  static Philox4x32::Key key(uint64_t seed);

  Philox4x32::Key key_;
  uint64_t stream_;
  uint64_t blockIndex_ = 0; ///< Index of the next block to generate.
  Philox4x32::Counter buffer_{};
  int bufferUsed_ = 4; ///< Words of buffer_ already handed out; 4 means empty.
  bool hasSpareNormal_ = false;
  double spareNormal_ = 0.0;
};

/// A Philox key for one purpose of a run ("dropout", "shuffle", ...) derived from the run's seed, so that the
/// streams of different purposes never coincide even where they use the same stream numbers.
uint64_t derivedSeed(uint64_t seed, std::string_view purpose);

} // namespace seqjit
