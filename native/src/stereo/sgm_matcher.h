// Semi-global matching (Hirschmüller 2008) on a rectified pair: 9x7 census cost (Hamming distance),
// aggregation along 4, 5 (one sweep, optionally over box-summed costs) or 8 paths with P1/P2 (P2 optionally
// lowered across intensity edges), winner-takes-all with
// parabola sub-pixel refinement, uniqueness and left-right consistency checks, a speckle filter and a
// per-pixel confidence. Disparity d means x_right = x_left - d (left view is the reference).
//
// Parallel in horizontal bands of rows on the shared thread pool. The vertical and diagonal paths are
// recursive along y, so each band starts them `band_overlap` rows early (costs computed, results
// dropped): the path costs forget their start within a few dozen rows because every jump is capped by P2,
// so the seams are invisible while no band waits for another.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace navws {
class ThreadPool;
}

namespace navws::stereo {

constexpr int kCensusBits = 62;  // 9x7 window without its centre

struct SgmOptions {
  int min_disparity = 0;
  int num_disparities = 64;  // multiple of 8, at most 256
  int p1 = 10;
  int p2 = 120;
  // P2 at a pixel is P1 + (P2 - P1) * g / (g + |I(p) - I(p - r)|): depth may jump where intensity does.
  // 0 keeps P2 constant.
  int p2_gradient = 24;
  // 4 (horizontal, vertical), 5 (horizontal and the three from above, one sweep, no cost volume kept) or 8
  int paths = 8;
  int uniqueness = 5;  // percent: the best cost must beat any non-adjacent one by this margin
  int lr_max_diff = 1;  // pixels; negative disables the left-right check
  int speckle_window = 100;  // regions smaller than this are dropped; 0 disables
  float speckle_range = 1.0f;  // max disparity step inside one region
  int band_overlap = 32;
  // Census costs summed over a (2r+1)^2 box before aggregation (r in 0..3; 0 = none). One sweep (5 paths) only.
  int cost_box = 0;
};

struct SgmStats {
  size_t valid = 0;
  size_t rejected_uniqueness = 0;
  size_t rejected_lr = 0;
  size_t rejected_speckle = 0;
  // Row bands matched in parallel (min(pool size, rows / 48)); the result depends slightly on it, as each
  // band restarts its vertical paths 32 rows early.
  unsigned bands = 1;
};

// Per-band working rows. Path costs are stored per pixel with kPathGuard lanes of "infinity" on both
// sides of its D values, so the neighbours L(d - 1) and L(d + 1) are plain unaligned loads.
constexpr int kPathGuard = 8;
struct SgmBandScratch {
  std::vector<uint8_t> cost_row;  // warm-up rows outside the band; every row with 5 paths
  std::vector<uint16_t> sum_row;  // the row being aggregated with 5 paths
  std::vector<uint8_t> box_ring;  // raw census cost rows of the cost box
  std::vector<uint16_t> box_cols, box_acc;
  std::vector<uint16_t> prev[3], cur[3];  // vertical and diagonal path costs, W * (D + 2 guards) each
  std::vector<uint16_t> prev_min[3], cur_min[3];
  std::vector<uint16_t> lh, lh2, lh3, lh4, start;  // horizontal path costs at the previous pixel; a path's start
  std::vector<uint16_t> right_cost;
  std::vector<int16_t> right_disp;
  std::vector<uint16_t> best;
};

class SgmMatcher {
 public:
  SgmMatcher(int width, int height, const SgmOptions& options, ThreadPool& pool);

  int width() const { return width_; }
  int height() const { return height_; }
  const SgmOptions& options() const { return opt_; }
  size_t MemoryBytes() const;
  // Whether the AVX2 + POPCNT build of the row kernels runs on this CPU.
  static bool UsesAvx2();

  // left/right: 8-bit grey, width*height. disparity: 0 where invalid, else > 0 (pixels, sub-pixel).
  // confidence in [0, 1]: relative margin of the best aggregated cost over the best non-adjacent one;
  // 0 where invalid.
  SgmStats Compute(const uint8_t* left, const uint8_t* right, float* disparity, float* confidence);

 private:
  void Census(const uint8_t* grey, uint64_t* out);
  void MatchBand(int y0, int y1, SgmBandScratch& s, const uint8_t* gl, float* disparity, float* confidence,
                 SgmStats& stats);
  size_t SpeckleFilter(float* disparity, float* confidence);

  int width_, height_;
  SgmOptions opt_;
  ThreadPool& pool_;
  int D_;
  std::vector<uint16_t> p2_lut_;
  std::vector<uint8_t> padded_;
  std::vector<uint64_t> census_l_, census_r_;
  std::vector<uint8_t> cost_;   // W*H*D
  std::vector<uint16_t> sum_;   // W*H*D
  std::vector<SgmBandScratch> bands_;
  std::vector<float> padded_disp_;
  std::vector<uint8_t> labels_;
  std::vector<int32_t> stack_;
};

// Row-major grey from interleaved RGB (ITU-R BT.601 weights in 8-bit fixed point).
void RgbToGrey(const uint8_t* rgb, size_t pixels, uint8_t* grey);

}  // namespace navws::stereo
