// Direct photometric alignment of a tracking frame to a keyframe: minimises
//   sum_p rho( I_t(pi(T * X_p)) - (gain * (I_k(p) - 128) + 128 + bias) )
// over T in SE(3) (keyframe camera -> tracking camera) and the affine brightness (gain, bias), by
// Levenberg-damped Gauss-Newton on left-multiplicative se(3) increments [v; w], coarse to fine.
// rho is Huber at k * sigma, truncated to zero weight beyond `truncation` * sigma, where sigma is
// re-estimated from the residuals (1.4826 * median |r|) at every accepted step. When the tracked frame
// has depth, a geometric residual (its depth minus the warped point's depth) joins the photometric one.
#pragma once

#include <array>
#include <string>

#include "tracking/frame_pyramid.h"

namespace navws::tracking {

struct AlignOptions {
  int max_iterations_coarse = 30;  // per level above the finest
  int max_iterations_fine = 12;    // finest level
  int finest_level = 0;            // stop at this level (speed/accuracy trade)
  bool estimate_affine = true;
  double huber_k = 1.345;
  double truncation = 5.0;
  double min_sigma = 1.0;  // grey levels; keeps Huber from collapsing to L1 on noise-free input
  int min_points = 40;     // fewer valid residuals than this at a level: the level cannot constrain 6 DoF
  double step_epsilon = 1e-5;  // rad, and mm per mm of scene depth
  double init_gain = 1.0;
  double init_bias = 0.0;
  // Per-point quadratic priors pulling (gain, bias) towards their initial values. Without them a badly
  // misaligned coarse level can "explain" its residuals by gain -> 0 and a large bias. Scaled so a gain
  // change of 0.1 costs as much as one grey level of residual on every point.
  double gain_prior = 50.0;
  double bias_prior = 0.005;
  // Geometric term (when the tracked frame has depth): r_d = c * D_frame(pi(T X)) - z(T X), as in
  // dense RGB-D odometry, with c a per-pair depth scale (nuisance) so inconsistently scaled network
  // depth cannot bias the translation. Its residuals are scaled by sigma_photo / sigma_depth (each re-estimated by MAD),
  // so both terms are in units of their own noise; the weight multiplies that. 0 disables it.
  double depth_weight = 1.0;
  double min_sigma_depth = 0.05;  // mm
};

struct AlignResult {
  std::array<double, 16> pose{};  // T_tracking_keyframe, row-major
  double gain = 1.0, bias = 0.0;
  bool ok = false;
  std::string reason;  // why not ok
  int iterations = 0;
  std::array<int, 8> level_iterations{};
  double rms = 0;          // RMS residual (grey levels) at the finest level, all valid points
  double sigma = 0;        // robust residual scale at the finest level
  double cost = 0;         // mean robust cost at the finest level
  int valid_points = 0;    // keyframe points that land on usable pixels of the tracking frame
  int total_points = 0;    // keyframe points at the finest level
  double inlier_ratio = 0; // share of valid points within the truncation threshold
  int depth_points = 0;     // points with a geometric residual at the finest level
  double depth_rms = 0;     // RMS depth residual (mm) over them
  double depth_scale = 1;   // estimated scale of the frame's depth relative to the keyframe's
  // Geometric consistency with the tracking frame's own depth (when it has depth): keyframe point ->
  // tracking frame (estimated pose) -> back-projected with the tracking depth -> keyframe again.
  int checked_points = 0;
  int consistent_points = 0;      // round trip within `consistency_px`
  double reprojection_error = 0;  // mean round-trip distance (px) over consistent points
};

constexpr double kConsistencyPx = 2.0;

// pose_init: T_tracking_keyframe guess, row-major 4x4 rigid. Never throws on degenerate data:
// returns ok = false with a reason and the (finite) initial pose instead.
AlignResult Align(const FramePyramid& keyframe, const FramePyramid& frame, const std::array<double, 16>& pose_init,
                  const AlignOptions& opts);

}  // namespace navws::tracking
