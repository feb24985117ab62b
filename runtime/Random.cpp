// Philox4x32-10 and the distributions drawn from it (uniform, normal, bounded integer).
#include "runtime/Random.h"

#include <cassert>
#include <cmath>
#include <numbers>

namespace seqjit {

namespace {
// Constants of Random123's philox4x32: round multipliers and Weyl key increments (golden ratio, sqrt(3)-1).
constexpr uint32_t kMultiplier0 = 0xD2511F53u;
constexpr uint32_t kMultiplier1 = 0xCD9E8D57u;
constexpr uint32_t kWeyl0 = 0x9E3779B9u;
constexpr uint32_t kWeyl1 = 0xBB67AE85u;

inline void multiplyHighLow(uint32_t a, uint32_t b, uint32_t &high, uint32_t &low) {
  uint64_t product = static_cast<uint64_t>(a) * b;
  high = static_cast<uint32_t>(product >> 32);
  low = static_cast<uint32_t>(product);
}
} // namespace

Philox4x32::Counter Philox4x32::block(Counter counter, Key key) {
  for (int round = 0; round < 10; ++round) {
    uint32_t high0, low0, high1, low1;
    multiplyHighLow(kMultiplier0, counter[0], high0, low0);
    multiplyHighLow(kMultiplier1, counter[2], high1, low1);
    counter = {high1 ^ counter[1] ^ key[0], low1, high0 ^ counter[3] ^ key[1], low0};
    key[0] += kWeyl0;
    key[1] += kWeyl1;
  }
  return counter;
}

Philox4x32::Key Random::key(uint64_t seed) { return {static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)}; }

Philox4x32::Counter Random::counter(uint64_t blockIndex, uint64_t stream) {
  return {static_cast<uint32_t>(blockIndex), static_cast<uint32_t>(blockIndex >> 32), static_cast<uint32_t>(stream),
          static_cast<uint32_t>(stream >> 32)};
}

Random::Random(uint64_t seed, uint64_t stream) : key_(key(seed)), stream_(stream) {}

void Random::refill() {
  buffer_ = Philox4x32::block(counter(blockIndex_, stream_), key_);
  ++blockIndex_;
  bufferUsed_ = 0;
}

uint32_t Random::nextUint32() {
  if (bufferUsed_ == 4)
    refill();
  return buffer_[bufferUsed_++];
}

float Random::uniform() { return static_cast<float>(nextUint32() >> 8) * 0x1.0p-24f; }

uint64_t Random::doubleBits(uint32_t first, uint32_t second) {
  uint64_t high = first >> 5; // 27 bits
  uint64_t low = second >> 6; // 26 bits
  return (high << 26) | low;
}

double Random::uniformDouble() {
  uint32_t first = nextUint32();
  return static_cast<double>(doubleBits(first, nextUint32())) * 0x1.0p-53;
}

void Random::bernoulliMask(uint64_t seed, uint64_t stream, uint64_t firstPair, std::span<float> out, uint64_t cutoff,
                           float kept) {
  // Philox4x32::block on kLanes counters side by side, each word in an array of its own.
  constexpr size_t kLanes = 8;
  const Philox4x32::Key k = key(seed);
  for (size_t i = 0, pair = firstPair; i < out.size(); pair += kLanes) {
    std::array<uint32_t, kLanes> c0, c1, c2, c3;
    for (size_t l = 0; l < kLanes; ++l) {
      c0[l] = static_cast<uint32_t>(pair + l);
      c1[l] = static_cast<uint32_t>((pair + l) >> 32);
      c2[l] = static_cast<uint32_t>(stream);
      c3[l] = static_cast<uint32_t>(stream >> 32);
    }
    uint32_t k0 = k[0], k1 = k[1];
    for (int round = 0; round < 10; ++round) {
      for (size_t l = 0; l < kLanes; ++l) {
        const uint64_t product0 = static_cast<uint64_t>(kMultiplier0) * c0[l];
        const uint64_t product1 = static_cast<uint64_t>(kMultiplier1) * c2[l];
        const uint32_t next0 = static_cast<uint32_t>(product1 >> 32) ^ c1[l] ^ k0;
        const uint32_t next2 = static_cast<uint32_t>(product0 >> 32) ^ c3[l] ^ k1;
        c1[l] = static_cast<uint32_t>(product1);
        c3[l] = static_cast<uint32_t>(product0);
        c0[l] = next0;
        c2[l] = next2;
      }
      k0 += kWeyl0;
      k1 += kWeyl1;
    }
    for (size_t l = 0; l < kLanes && i < out.size(); ++l) {
      out[i++] = doubleBits(c0[l], c1[l]) < cutoff ? 0.0f : kept;
      if (i < out.size())
        out[i++] = doubleBits(c2[l], c3[l]) < cutoff ? 0.0f : kept;
    }
  }
}

float Random::normal() {
  if (hasSpareNormal_) {
    hasSpareNormal_ = false;
    return static_cast<float>(spareNormal_);
  }
  // u1 in (0, 1] so that log(u1) is finite.
  double u1 = 1.0 - uniformDouble();
  double u2 = uniformDouble();
  double radius = std::sqrt(-2.0 * std::log(u1));
  double angle = 2.0 * std::numbers::pi * u2;
  spareNormal_ = radius * std::sin(angle);
  hasSpareNormal_ = true;
  return static_cast<float>(radius * std::cos(angle));
}

uint64_t Random::uniformInt(uint64_t n) {
  assert(n > 0 && "uniformInt needs a positive bound");
  if (n <= (uint64_t{1} << 32)) {
    // Lemire: the high word of x * n is uniform on [0, n) once the few low words below (2^32 mod n) are rejected.
    uint64_t product = static_cast<uint64_t>(nextUint32()) * n;
    uint32_t low = static_cast<uint32_t>(product);
    if (low < n) {
      uint32_t threshold = static_cast<uint32_t>((uint64_t{1} << 32) % n);
      while (low < threshold) {
        product = static_cast<uint64_t>(nextUint32()) * n;
        low = static_cast<uint32_t>(product);
      }
    }
    return product >> 32;
  }
  // The same idea with 64-bit draws for bounds beyond 2^32.
  auto draw64 = [&] { return (static_cast<uint64_t>(nextUint32()) << 32) | nextUint32(); };
  unsigned __int128 product = static_cast<unsigned __int128>(draw64()) * n;
  uint64_t low = static_cast<uint64_t>(product);
  if (low < n) {
    uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      product = static_cast<unsigned __int128>(draw64()) * n;
      low = static_cast<uint64_t>(product);
    }
  }
  return static_cast<uint64_t>(product >> 64);
}

uint64_t derivedSeed(uint64_t seed, std::string_view purpose) {
  // FNV-1a of the purpose, then SplitMix64's finaliser over seed and hash: a fixed, well-mixed function.
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (char c : purpose)
    hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (hash | 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

} // namespace seqjit
