// Grey-level image pyramid of one video frame, with the pixel mask the photometric tracker trusts, and
// (when the frame has depth) the keyframe points it aligns from. Intensities are grey levels 0..255,
// depth is millimetres along the optical axis, pixel centres at integer coordinates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace navws::tracking {

struct PinholeK {
  double fx, fy, cx, cy;
};

struct MaskOptions {
  // Any channel at or above this is a specular highlight or saturation: its intensity says nothing
  // about the surface, and it moves with the light, not with the scene.
  int saturation = 250;
  // Grey below this is the black border / outside the endoscope's circular field of view.
  int dark = 12;
  // Extra pixels excluded around dark and saturated regions: their edges have the strongest image
  // gradients and would otherwise dominate the alignment.
  int dark_margin = 3;
  int specular_margin = 2;
  // Radius (px, finest level) of the local mean that intensities are normalised by; 0 disables it.
  // The scope's light cone, inverse-square falloff, vignetting and smoke haze are fixed to the camera
  // and smooth: left in, they pull coarse pyramid levels towards "no motion". Dividing by the local
  // mean removes the multiplicative part, subtracting it the additive part, and keeps the texture.
  int normalise_radius = -1;  // -1: width / 12
};

struct PointOptions {
  // Gradient magnitude (grey levels per pixel, central differences) a keyframe point needs.
  float min_gradient = 3.0f;
  // Upper bound of points per level; above it, the strongest-gradient pixel of each grid cell is kept,
  // which spreads the points over the image.
  int max_points = 12000;
};

// One keyframe point: camera-frame position (mm), its grey level, and its pixel at its level.
struct KeyPoint {
  float x, y, z, intensity, u, v;
};

struct PyramidLevel {
  int width = 0, height = 0;
  PinholeK k{};
  std::vector<uint8_t> mask;  // 1 = usable intensity
  // Per pixel: intensity, d/du, d/dv, pad; packed so one bilinear lookup touches one cache line pair.
  std::vector<float> igrad;
  std::vector<float> depth;  // mm, 0 = unknown; empty when the frame has no depth
  // Per pixel: depth, d/du, d/dv, 1 where all three are trustworthy (no unknown neighbour, no depth
  // edge); empty when the frame has no depth. Feeds the geometric (depth) residual.
  std::vector<float> dgrad;
  std::vector<KeyPoint> points;
};

class FramePyramid {
 public:
  // rgb: width*height*3 bytes; depth: width*height mm values or nullptr. levels >= 1.
  FramePyramid(const uint8_t* rgb, const float* depth, int width, int height, const PinholeK& k, int levels,
               const MaskOptions& mask_opts, const PointOptions& point_opts);

  int Levels() const { return static_cast<int>(levels_.size()); }
  const PyramidLevel& Level(int i) const { return levels_[static_cast<size_t>(i)]; }
  bool HasDepth() const { return has_depth_; }
  // Median depth (mm) of the finest level's keyframe points; 0 when none.
  double MedianPointDepth() const { return median_point_depth_; }
  // Fraction of finest-level pixels the mask keeps.
  double UsableFraction() const { return usable_fraction_; }
  // Fraction of finest-level pixels that are usable and have at least the point gradient: near zero
  // for uniform, black or washed-out frames, which carry no photometric information.
  double TexturedFraction() const { return textured_fraction_; }
  size_t MemoryBytes() const;

 private:
  std::vector<PyramidLevel> levels_;
  bool has_depth_ = false;
  double median_point_depth_ = 0;
  double usable_fraction_ = 0;
  double textured_fraction_ = 0;
};

}  // namespace navws::tracking
