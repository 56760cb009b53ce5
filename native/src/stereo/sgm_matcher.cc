#include "stereo/sgm_matcher.h"

#include <algorithm>
#include <bitset>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "core/thread_pool.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
// NAVWS_SGM_SCALAR builds the portable C++ kernels on x86 too (to check them against the SIMD ones).
#if defined(__SSE2__) && !defined(NAVWS_SGM_SCALAR)
#define NAVWS_SGM_SIMD 1
#else
#define NAVWS_SGM_SIMD 0
#endif
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h>
#endif

namespace navws::stereo {
namespace {

constexpr int kHalfW = 4, kHalfH = 3;  // 9x7 census
// Path costs start here at the ends of the disparity range; low enough that adding P1 stays well inside
// int16, so the signed SSE2 minimum is exact.
constexpr uint16_t kInf = 0x3FFF;
// Disparities that would look left of the right image's first column: as bad as a full census mismatch.
constexpr uint8_t kOutsideCost = kCensusBits;
constexpr size_t kMinBandRows = 48;

enum class Sum { kNone, kInit, kAdd };

// A (2r+1)^2 box of census costs (at most 62 each) shifted right by this fits a byte.
int BoxShift(int r) {
  const int max = (2 * r + 1) * (2 * r + 1) * kCensusBits;
  int shift = 0;
  while ((max >> shift) > 255) ++shift;
  return shift;
}

#if defined(__GNUC__)
#define NAVWS_ALWAYS_INLINE inline __attribute__((always_inline))
inline int Popcount64(uint64_t v) { return __builtin_popcountll(v); }
#else
#define NAVWS_ALWAYS_INLINE inline
inline int Popcount64(uint64_t v) { return static_cast<int>(std::bitset<64>(v).count()); }
#endif

struct BandArgs {
  int W, H, D, mind, y0, y1, overlap, paths, p1, p2, uniq, lr;
  const uint16_t* p2_lut;  // P2 by |intensity step| 0..255
  bool p2_adaptive;        // false: the table is constant
  int box, box_shift;      // cost box radius (0 = raw census) and the shift that scales its sum to a byte
  const uint8_t* grey;
  const uint64_t *cl, *cr;
  uint8_t* cost;
  uint16_t* sum;
  float *disparity, *confidence;
  SgmBandScratch* s;
  size_t *rejected_uniqueness, *rejected_lr;
};


namespace base {
#define SGM_AVX2 0
#include "stereo/sgm_rows.h"  // NOLINT: included twice on purpose
#undef SGM_AVX2
}  // namespace base

#if NAVWS_SGM_SIMD && defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define NAVWS_SGM_HAVE_AVX2 1
// The same row kernels compiled for AVX2 + POPCNT (16 disparities per instruction, hardware popcount),
// used when the CPU reports both; the addon itself stays baseline x86-64.
#pragma GCC push_options
#pragma GCC target("avx2,popcnt")
namespace avx2 {
#define SGM_AVX2 1
#include "stereo/sgm_rows.h"  // NOLINT: included twice on purpose
#undef SGM_AVX2
}  // namespace avx2
#pragma GCC pop_options
bool UseAvx2() {
  static const bool use = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt") &&
                          !std::getenv("NAVWS_STEREO_NO_AVX2");
  return use;
}
#endif

}  // namespace

void RgbToGrey(const uint8_t* rgb, size_t pixels, uint8_t* grey) {
  for (size_t i = 0; i < pixels; ++i) {
    grey[i] = static_cast<uint8_t>((77 * rgb[3 * i] + 150 * rgb[3 * i + 1] + 29 * rgb[3 * i + 2] + 128) >> 8);
  }
}

SgmMatcher::SgmMatcher(int width, int height, const SgmOptions& options, ThreadPool& pool)
    : width_(width), height_(height), opt_(options), pool_(pool), D_(options.num_disparities) {
  if (width < 16 || height < 8) throw std::invalid_argument("image must be at least 16x8 pixels");
  if (D_ < 8 || D_ > 256 || D_ % 8 != 0) throw std::invalid_argument("numDisparities must be a multiple of 8 in [8, 256]");
  if (opt_.min_disparity < 0) throw std::invalid_argument("minDisparity must be >= 0");
  if (opt_.paths != 4 && opt_.paths != 5 && opt_.paths != 8) throw std::invalid_argument("paths must be 4, 5 or 8");
  if (opt_.p1 < 0 || opt_.p2 < opt_.p1 || opt_.p2 > 1000) throw std::invalid_argument("need 0 <= P1 <= P2 <= 1000");
  if (opt_.cost_box < 0 || opt_.cost_box > 3) throw std::invalid_argument("costBox must be in [0, 3]");
  if (opt_.cost_box > 0 && opt_.paths != 5) throw std::invalid_argument("costBox needs paths 5 (one sweep)");
  const size_t n = static_cast<size_t>(width) * height;
  padded_.resize(static_cast<size_t>(width + 2 * kHalfW) * (height + 2 * kHalfH));
  census_l_.resize(n);
  census_r_.resize(n);
  // P2 at an intensity step |dI|: P1 + (P2 - P1) g / (g + |dI|), tabulated (a division per pixel and
  // path would cost more than the path step itself).
  p2_lut_.resize(256);
  for (int diff = 0; diff < 256; ++diff) {
    const int g = opt_.p2_gradient;
    p2_lut_[diff] = static_cast<uint16_t>(g <= 0 ? opt_.p2 : opt_.p1 + (opt_.p2 - opt_.p1) * g / (g + diff));
  }
  if (opt_.paths != 5) {
    cost_.resize(n * D_);
    sum_.resize(n * D_);
  }
  padded_disp_.resize(static_cast<size_t>(width + 2) * (height + 2));
  labels_.resize(padded_disp_.size());
  stack_.resize(n);
}

size_t SgmMatcher::MemoryBytes() const {
  size_t b = padded_.size() + (census_l_.size() + census_r_.size()) * 8 + cost_.size() + sum_.size() * 2 +
             labels_.size() + padded_disp_.size() * 4 + stack_.size() * 4;
  const size_t row = static_cast<size_t>(width_) * D_;
  b += bands_.size() * (row * (1 + 2 + 12 * 2) + width_ * 16);
  return b;
}

void SgmMatcher::Census(const uint8_t* grey, uint64_t* out) {
  const int W = width_, H = height_, pw = W + 2 * kHalfW;
  // Border pixels replicated, so the window never needs a bounds test.
  for (int py = 0; py < H + 2 * kHalfH; ++py) {
    const int y = std::clamp(py - kHalfH, 0, H - 1);
    uint8_t* row = &padded_[static_cast<size_t>(py) * pw];
    std::memcpy(row + kHalfW, grey + static_cast<size_t>(y) * W, W);
    std::memset(row, grey[static_cast<size_t>(y) * W], kHalfW);
    std::memset(row + kHalfW + W, grey[static_cast<size_t>(y) * W + W - 1], kHalfW);
  }
  const uint8_t* pad = padded_.data();
  pool_.parallelFor(static_cast<size_t>(H), 8, [&](size_t y0, size_t y1, unsigned) {
    for (size_t y = y0; y < y1; ++y) {
      const uint8_t* centre_row = pad + (y + kHalfH) * pw + kHalfW;
      uint64_t* o = out + y * W;
#if defined(NAVWS_SGM_HAVE_AVX2)
      if (UseAvx2()) {
        avx2::CensusRow(centre_row, pw, W, o);
        continue;
      }
#endif
      base::CensusRow(centre_row, pw, W, o);
    }
  });
}

void SgmMatcher::MatchBand(int y0, int y1, SgmBandScratch& s, const uint8_t* gl, float* disparity, float* confidence,
                           SgmStats& stats) {
  const BandArgs args{width_,
                      height_,
                      D_,
                      opt_.min_disparity,
                      y0,
                      y1,
                      opt_.band_overlap,
                      opt_.paths,
                      opt_.p1,
                      opt_.p2,
                      opt_.uniqueness,
                      opt_.lr_max_diff,
                      p2_lut_.data(),
                      opt_.p2_gradient > 0,
                      opt_.cost_box,
                      BoxShift(opt_.cost_box),
                      gl,
                      census_l_.data(),
                      census_r_.data(),
                      cost_.data(),
                      sum_.data(),
                      disparity,
                      confidence,
                      &s,
                      &stats.rejected_uniqueness,
                      &stats.rejected_lr};
#if defined(NAVWS_SGM_HAVE_AVX2)
  if (UseAvx2()) {
    avx2::MatchBandRows(args);
    return;
  }
#endif
  base::MatchBandRows(args);
}

bool SgmMatcher::UsesAvx2() {
#if defined(NAVWS_SGM_HAVE_AVX2)
  return UseAvx2();
#else
  return false;
#endif
}

size_t SgmMatcher::SpeckleFilter(float* disparity, float* confidence) {
  // Flood fill on a copy with a one-pixel invalid border, so neighbours need no bounds tests and indices
  // no division.
  const int W = width_, H = height_, pw = W + 2;
  float* pad = padded_disp_.data();
  std::fill(padded_disp_.begin(), padded_disp_.end(), 0.0f);
  for (int y = 0; y < H; ++y) std::memcpy(pad + (y + 1) * pw + 1, disparity + static_cast<size_t>(y) * W, W * sizeof(float));
  std::fill(labels_.begin(), labels_.end(), uint8_t{0});
  uint8_t* seen = labels_.data();
  const float range = opt_.speckle_range;
  const int32_t offs[4] = {-1, 1, -pw, pw};
  size_t removed = 0;
  int32_t* list = stack_.data();
  for (int y = 0; y < H; ++y) {
    for (int x = 0; x < W; ++x) {
      const int32_t seed = (y + 1) * pw + x + 1;
      if (seen[seed] || !(pad[seed] > 0)) continue;
      size_t head = 0, tail = 0;
      list[tail++] = seed;
      seen[seed] = 1;
      while (head < tail) {
        const int32_t p = list[head++];
        const float dp = pad[p];
        for (int32_t o : offs) {
          const int32_t q = p + o;
          if (seen[q] || !(pad[q] > 0) || std::fabs(pad[q] - dp) > range) continue;
          seen[q] = 1;
          list[tail++] = q;
        }
      }
      if (tail < static_cast<size_t>(opt_.speckle_window)) {
        for (size_t i = 0; i < tail; ++i) {
          const int32_t q = list[i];
          const size_t idx = static_cast<size_t>(q / pw - 1) * W + (q % pw - 1);
          disparity[idx] = 0;
          confidence[idx] = 0;
        }
        removed += tail;
      }
    }
  }
  return removed;
}

SgmStats SgmMatcher::Compute(const uint8_t* left, const uint8_t* right, float* disparity, float* confidence) {
  Census(left, census_l_.data());
  Census(right, census_r_.data());
  const size_t chunks = pool_.chunkCount(static_cast<size_t>(height_), kMinBandRows);
  const size_t row = static_cast<size_t>(width_) * D_;
  const size_t guarded = static_cast<size_t>(D_) + 2 * kPathGuard;
  while (bands_.size() < chunks) {
    SgmBandScratch s;
    s.cost_row.resize(row);
    if (opt_.paths == 5) s.sum_row.resize(row);
    if (opt_.cost_box > 0) {
      s.box_ring.resize(row * (2 * opt_.cost_box + 1));
      s.box_cols.resize(row);
      s.box_acc.resize(D_);
    }
    // Guards stay kInf for the matcher's life: only the D values between them are ever written.
    for (int i = 0; i < 3; ++i) {
      s.prev[i].assign(guarded * width_, kInf);
      s.cur[i].assign(guarded * width_, kInf);
      s.prev_min[i].resize(width_);
      s.cur_min[i].resize(width_);
    }
    s.lh.assign(guarded, kInf);
    s.lh2.assign(guarded, kInf);
    s.lh3.assign(guarded, kInf);
    s.lh4.assign(guarded, kInf);
    s.start.assign(guarded, kInf);
    std::fill(s.start.begin() + kPathGuard, s.start.begin() + kPathGuard + D_, uint16_t{0});
    s.right_cost.resize(width_ + D_ + opt_.min_disparity);
    s.right_disp.resize(width_ + D_ + opt_.min_disparity);
    s.best.resize(width_);
    bands_.push_back(std::move(s));
  }
  std::vector<SgmStats> band_stats(chunks);
  pool_.parallelChunks(static_cast<size_t>(height_), kMinBandRows, [&](size_t chunk, size_t begin, size_t end) {
    MatchBand(static_cast<int>(begin), static_cast<int>(end), bands_[chunk], left, disparity, confidence,
              band_stats[chunk]);
  });
  SgmStats stats;
  for (const SgmStats& b : band_stats) {
    stats.rejected_uniqueness += b.rejected_uniqueness;
    stats.rejected_lr += b.rejected_lr;
  }
  stats.bands = static_cast<unsigned>(chunks);
  if (opt_.speckle_window > 0) stats.rejected_speckle = SpeckleFilter(disparity, confidence);
  const size_t n = static_cast<size_t>(width_) * height_;
  for (size_t i = 0; i < n; ++i) stats.valid += disparity[i] > 0 ? 1 : 0;
  return stats;
}

}  // namespace navws::stereo
