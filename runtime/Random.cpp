// Philox4x32-10 and the distributions drawn from it (uniform, normal, bounded integer).
#include "runtime/Random.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <numbers>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

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

/// uniformDouble()'s 53 bits from two successive 32-bit words: 27 bits of the first above 26 of the second.
constexpr int kFirstWordShift = 5, kSecondWordShift = 6, kSecondWordBits = 26;
inline uint64_t doubleBits(uint32_t first, uint32_t second) {
  return (uint64_t{first >> kFirstWordShift} << kSecondWordBits) | (second >> kSecondWordShift);
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

double Random::uniformDouble() {
  uint32_t first = nextUint32();
  return static_cast<double>(doubleBits(first, nextUint32())) * 0x1.0p-53;
}

namespace {

/// Counters side by side in Random::bernoulliMask: word w of lane l's counter is c[w][l].
constexpr size_t kMaskLanes = 8;
using MaskWords = std::array<std::array<uint32_t, kMaskLanes>, 4>;

/// The 2 * kMaskLanes mask values of the counters `c` under key `k` (see Random::bernoulliMask): out[2l] from words 0
/// and 1 of lane l's Philox block, out[2l + 1] from words 2 and 3.
void philoxMask(MaskWords c, Philox4x32::Key k, uint64_t cutoff, float kept, float *out) {
  for (size_t l = 0; l < kMaskLanes; ++l) {
    const Philox4x32::Counter block = Philox4x32::block({c[0][l], c[1][l], c[2][l], c[3][l]}, k);
    out[2 * l] = doubleBits(block[0], block[1]) < cutoff ? 0.0f : kept;
    out[2 * l + 1] = doubleBits(block[2], block[3]) < cutoff ? 0.0f : kept;
  }
}

#if defined(__x86_64__)
/// The 64-bit products of `a`'s 32-bit lanes with `m`'s, as their high and low halves in lane order: vpmuludq
/// multiplies the even lanes; the odd ones are shifted down for a second one, and blends interleave the halves.
__attribute__((target("avx2"))) inline void multiplyHighLowAvx2(__m256i a, __m256i m, __m256i &high, __m256i &low) {
  const __m256i even = _mm256_mul_epu32(a, m), odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
  low = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
  high = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
}

/// Where doubleBits(first, second) < cutoff, lane by lane, in 32-bit lanes: the 27 high bits below the cutoff's, or
/// equal to them with the 26 low bits below the cutoff's.
__attribute__((target("avx2"))) inline __m256i belowCutoffAvx2(__m256i first, __m256i second, __m256i cutoffHigh,
                                                               __m256i cutoffLow) {
  const __m256i high = _mm256_srli_epi32(first, kFirstWordShift), low = _mm256_srli_epi32(second, kSecondWordShift);
  return _mm256_or_si256(_mm256_cmpgt_epi32(cutoffHigh, high),
                         _mm256_and_si256(_mm256_cmpeq_epi32(high, cutoffHigh), _mm256_cmpgt_epi32(cutoffLow, low)));
}

/// philoxMask with Philox4x32::block's rounds on eight lanes of AVX2 registers: the same values, several times faster
/// than one block at a time, which the compiler does not vectorise (it would need vpmuludq's even-lane products).
__attribute__((target("avx2"))) void philoxMaskAvx2(MaskWords c, Philox4x32::Key k, uint64_t cutoff, float kept,
                                                    float *out) {
  static_assert(sizeof(MaskWords) == 4 * sizeof(__m256i), "one AVX2 register per word");
  const auto *words = reinterpret_cast<const __m256i *>(c.data());
  __m256i c0 = _mm256_loadu_si256(words), c1 = _mm256_loadu_si256(words + 1), c2 = _mm256_loadu_si256(words + 2),
          c3 = _mm256_loadu_si256(words + 3);
  const __m256i m0 = _mm256_set1_epi32(static_cast<int>(kMultiplier0)),
                m1 = _mm256_set1_epi32(static_cast<int>(kMultiplier1));
  for (int round = 0; round < 10; ++round) {
    __m256i high0, low0, high1, low1;
    multiplyHighLowAvx2(c0, m0, high0, low0);
    multiplyHighLowAvx2(c2, m1, high1, low1);
    c0 = _mm256_xor_si256(_mm256_xor_si256(high1, c1), _mm256_set1_epi32(static_cast<int>(k[0])));
    c2 = _mm256_xor_si256(_mm256_xor_si256(high0, c3), _mm256_set1_epi32(static_cast<int>(k[1])));
    c1 = low1;
    c3 = low0;
    k[0] += kWeyl0;
    k[1] += kWeyl1;
  }
  // The cutoff is at most 2^53 (bernoulliMask): both of its parts fit a positive int32, as do the draws' 27 and 26
  // bits.
  const __m256i cutoffHigh = _mm256_set1_epi32(static_cast<int>(cutoff >> kSecondWordBits)),
                cutoffLow = _mm256_set1_epi32(static_cast<int>(cutoff & ((uint64_t{1} << kSecondWordBits) - 1)));
  const __m256i keptBits = _mm256_castps_si256(_mm256_set1_ps(kept));
  const __m256i even = _mm256_andnot_si256(belowCutoffAvx2(c0, c1, cutoffHigh, cutoffLow), keptBits),
                odd = _mm256_andnot_si256(belowCutoffAvx2(c2, c3, cutoffHigh, cutoffLow), keptBits);
  // Lanes 0, 1, 4, 5 and 2, 3, 6, 7 interleaved within each half, then the halves put in lane order.
  const __m256i first = _mm256_unpacklo_epi32(even, odd), second = _mm256_unpackhi_epi32(even, odd);
  _mm256_storeu_si256(reinterpret_cast<__m256i *>(out), _mm256_permute2x128_si256(first, second, 0x20));
  _mm256_storeu_si256(reinterpret_cast<__m256i *>(out) + 1, _mm256_permute2x128_si256(first, second, 0x31));
}
#endif

} // namespace

void Random::bernoulliMask(uint64_t seed, uint64_t stream, uint64_t firstPair, std::span<float> out, uint64_t cutoff,
                           float kept) {
#if defined(__x86_64__)
  static const auto mask = __builtin_cpu_supports("avx2") ? philoxMaskAvx2 : philoxMask;
#else
  constexpr auto mask = philoxMask;
#endif
  cutoff = std::min(cutoff, uint64_t{1} << 53); // every draw is below 2^53: the same mask, and its parts fit an int32
  const Philox4x32::Key k = key(seed);
  constexpr size_t kBlock = 2 * kMaskLanes;
  for (size_t i = 0, pair = firstPair; i < out.size(); i += kBlock, pair += kMaskLanes) {
    MaskWords c;
    for (size_t l = 0; l < kMaskLanes; ++l) {
      c[0][l] = static_cast<uint32_t>(pair + l);
      c[1][l] = static_cast<uint32_t>((pair + l) >> 32);
      c[2][l] = static_cast<uint32_t>(stream);
      c[3][l] = static_cast<uint32_t>(stream >> 32);
    }
    if (out.size() - i >= kBlock) {
      mask(c, k, cutoff, kept, out.data() + i);
      continue;
    }
    std::array<float, kBlock> last;
    mask(c, k, cutoff, kept, last.data());
    std::copy_n(last.begin(), out.size() - i, out.begin() + i);
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
