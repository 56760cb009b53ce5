// Ray casting of the TSDF: each pixel's ray is clipped to the bounding box of the allocated blocks,
// jumps through unallocated space a half block at a time, strides by the TSDF value in free space, and
// stops at the first + to - zero crossing, located by linear interpolation between the last two samples.
#include <algorithm>
#include <cmath>
#include <limits>

#include "fusion/tsdf_volume.h"

namespace navws::fusion {
namespace {

// Block lookups cached per ray (consecutive samples mostly stay in one block).
class VoxelSampler {
 public:
  VoxelSampler(const BlockMap& map, float voxelSize) : map_(map), invVs_(1.0f / voxelSize) {}

  const Block* block(int bx, int by, int bz) {
    if (cached_ && bx == last_.x && by == last_.y && bz == last_.z) return lastBlock_;
    last_ = {bx, by, bz};
    cached_ = true;
    lastBlock_ = map_.find(last_);
    return lastBlock_;
  }

  const Voxel* voxel(int gx, int gy, int gz) {
    const Block* b = block(floorDiv8(gx), floorDiv8(gy), floorDiv8(gz));
    if (!b) return nullptr;
    return &b->voxels[voxelIndex(gx & (kBlockDim - 1), gy & (kBlockDim - 1), gz & (kBlockDim - 1))];
  }

  bool allocatedAt(const float p[3]) {
    const int gx = static_cast<int>(std::floor(p[0] * invVs_ + 0.5f));
    const int gy = static_cast<int>(std::floor(p[1] * invVs_ + 0.5f));
    const int gz = static_cast<int>(std::floor(p[2] * invVs_ + 0.5f));
    return block(floorDiv8(gx), floorDiv8(gy), floorDiv8(gz)) != nullptr;
  }

  // Trilinear TSDF (and colour when `rgb` is given); false when a corner is unobserved.
  bool sample(const float p[3], float& tsdf, float* rgb = nullptr) {
    const float g[3] = {p[0] * invVs_, p[1] * invVs_, p[2] * invVs_};
    const int b[3] = {static_cast<int>(std::floor(g[0])), static_cast<int>(std::floor(g[1])),
                      static_cast<int>(std::floor(g[2]))};
    const float f[3] = {g[0] - b[0], g[1] - b[1], g[2] - b[2]};
    float acc = 0, c[3] = {0, 0, 0};
    for (int k = 0; k < 8; ++k) {
      const int ox = k & 1, oy = (k >> 1) & 1, oz = k >> 2;
      const Voxel* v = voxel(b[0] + ox, b[1] + oy, b[2] + oz);
      if (!v || !(v->weight > 0)) return false;
      const float w = (ox ? f[0] : 1 - f[0]) * (oy ? f[1] : 1 - f[1]) * (oz ? f[2] : 1 - f[2]);
      acc += w * v->tsdf;
      if (rgb) {
        c[0] += w * v->r;
        c[1] += w * v->g;
        c[2] += w * v->b;
      }
    }
    tsdf = acc;
    if (rgb) std::copy(c, c + 3, rgb);
    return true;
  }

 private:
  const BlockMap& map_;
  float invVs_;
  BlockCoord last_{0, 0, 0};
  const Block* lastBlock_ = nullptr;
  bool cached_ = false;
};

}  // namespace

RaycastResult TsdfVolume::raycast(const Pose& pose, const Intrinsics& k) const {
  validateIntrinsics(k);
  validatePose(pose);
  const size_t n = static_cast<size_t>(k.width) * k.height;
  RaycastResult out;
  out.depth.assign(n, 0.0f);
  out.normals.assign(3 * n, 0.0f);
  out.colors.assign(3 * n, 0);
  if (map_.size() == 0) return out;

  const float vs = params_.voxelSize, trunc = params_.truncation, blockSize = vs * kBlockDim;
  float lo[3] = {std::numeric_limits<float>::max(), std::numeric_limits<float>::max(),
                 std::numeric_limits<float>::max()};
  float hi[3] = {-lo[0], -lo[1], -lo[2]};
  for (size_t i = 0; i < map_.size(); ++i) {
    const BlockCoord& c = map_.at(i)->coord;
    const int cc[3] = {c.x, c.y, c.z};
    for (int a = 0; a < 3; ++a) {
      lo[a] = std::min(lo[a], (cc[a] * kBlockDim - 0.5f) * vs);
      hi[a] = std::max(hi[a], ((cc[a] + 1) * kBlockDim + 0.5f) * vs);
    }
  }
  const double* T = pose.m;
  const float o[3] = {static_cast<float>(T[3]), static_cast<float>(T[7]), static_cast<float>(T[11])};

  pool_.parallelFor(static_cast<size_t>(k.height), 4, [&](size_t y0, size_t y1, unsigned) {
    VoxelSampler sampler(map_, vs);
    for (size_t v = y0; v < y1; ++v) {
      for (int u = 0; u < k.width; ++u) {
        const double xn = (u - k.cx) / k.fx, yn = (static_cast<double>(v) - k.cy) / k.fy;
        const double s = std::sqrt(1 + xn * xn + yn * yn);
        const double dc[3] = {xn / s, yn / s, 1 / s};  // unit ray, camera frame
        const float d[3] = {static_cast<float>(T[0] * dc[0] + T[1] * dc[1] + T[2] * dc[2]),
                            static_cast<float>(T[4] * dc[0] + T[5] * dc[1] + T[6] * dc[2]),
                            static_cast<float>(T[8] * dc[0] + T[9] * dc[1] + T[10] * dc[2])};
        // Ray parameter = distance along the ray (mm); clip to the depth range and the volume's box.
        float t0 = static_cast<float>(params_.minDepth * s), t1 = static_cast<float>(params_.maxDepth * s);
        for (int a = 0; a < 3; ++a) {
          if (std::abs(d[a]) < 1e-12f) {
            if (o[a] < lo[a] || o[a] > hi[a]) t1 = -1;
            continue;
          }
          float ta = (lo[a] - o[a]) / d[a], tb = (hi[a] - o[a]) / d[a];
          if (ta > tb) std::swap(ta, tb);
          t0 = std::max(t0, ta);
          t1 = std::min(t1, tb);
        }
        if (!(t0 < t1)) continue;
        float t = t0, prevT = 0, prevF = 0;
        bool prevValid = false, hit = false;
        while (t < t1) {
          const float p[3] = {o[0] + t * d[0], o[1] + t * d[1], o[2] + t * d[2]};
          if (!sampler.allocatedAt(p)) {
            prevValid = false;
            t += 0.5f * blockSize;
            continue;
          }
          float f;
          if (!sampler.sample(p, f)) {
            prevValid = false;
            t += vs;
            continue;
          }
          if (prevValid && prevF > 0 && f <= 0) {
            // The TSDF is clamped at +1 away from the surface, so one secant step across a long stride
            // lands short; refine the bracket by false position until it is a small fraction of a voxel.
            float ta = prevT, fa = prevF, tb = t, fb = f;
            for (int it = 0; it < 8 && tb - ta > 0.02f * vs; ++it) {
              const float tm = ta + (tb - ta) * fa / (fa - fb);
              const float pm[3] = {o[0] + tm * d[0], o[1] + tm * d[1], o[2] + tm * d[2]};
              float fm;
              if (!sampler.sample(pm, fm)) break;
              if (fm > 0) {
                ta = tm;
                fa = fm;
              } else {
                tb = tm;
                fb = fm;
              }
              if (fm == 0) ta = tb = tm;
            }
            t = fa - fb > 0 ? ta + (tb - ta) * fa / (fa - fb) : ta;
            hit = true;
            break;
          }
          prevValid = true;
          prevF = f;
          prevT = t;
          t += f > 0 ? std::max(0.5f * vs, 0.75f * std::min(f, 1.0f) * trunc) : vs;
        }
        if (!hit) continue;
        const float p[3] = {o[0] + t * d[0], o[1] + t * d[1], o[2] + t * d[2]};
        const size_t i = v * static_cast<size_t>(k.width) + static_cast<size_t>(u);
        float f, rgb[3] = {0, 0, 0};
        sampler.sample(p, f, rgb);  // may fail right at the edge of the observed region; colour stays 0
        out.depth[i] = static_cast<float>(t * dc[2]);
        for (int c = 0; c < 3; ++c) out.colors[3 * i + c] = static_cast<uint8_t>(std::clamp(rgb[c] + 0.5f, 0.0f, 255.0f));
        float g[3], len2 = 0;
        bool ok = true;
        for (int a = 0; a < 3 && ok; ++a) {
          float q1[3] = {p[0], p[1], p[2]}, q0[3] = {p[0], p[1], p[2]};
          q1[a] += vs;
          q0[a] -= vs;
          float f1, f0;
          ok = sampler.sample(q1, f1) && sampler.sample(q0, f0);
          if (ok) g[a] = f1 - f0;
        }
        if (!ok) continue;
        for (float x : g) len2 += x * x;
        if (!(len2 > 0)) continue;
        const float inv = 1.0f / std::sqrt(len2);
        // World gradient to the camera frame (R^T g).
        for (int r = 0; r < 3; ++r)
          out.normals[3 * i + r] =
              static_cast<float>(T[r] * g[0] + T[4 + r] * g[1] + T[8 + r] * g[2]) * inv;
      }
    }
  });
  return out;
}

}  // namespace navws::fusion
