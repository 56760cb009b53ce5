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

  // The voxel nearest to p: 0 = its block is not allocated, 1 = unobserved, 2 = observed (value in f).
  int nearest(const float p[3], float& f) {
    const int gx = static_cast<int>(std::floor(p[0] * invVs_ + 0.5f));
    const int gy = static_cast<int>(std::floor(p[1] * invVs_ + 0.5f));
    const int gz = static_cast<int>(std::floor(p[2] * invVs_ + 0.5f));
    const Block* b = block(floorDiv8(gx), floorDiv8(gy), floorDiv8(gz));
    if (!b) return 0;
    const Voxel& v = b->voxels[voxelIndex(gx & (kBlockDim - 1), gy & (kBlockDim - 1), gz & (kBlockDim - 1))];
    if (!(v.weight > 0)) return 1;
    f = v.tsdf;
    return 2;
  }

  // Trilinear TSDF at p; false when a corner is unobserved. With `grad`/`rgb`, also the gradient of
  // the trilinear interpolant (per voxel) and the interpolated colour, from the same eight voxels.
  bool sample(const float p[3], float& tsdf, float* grad = nullptr, float* rgb = nullptr) {
    const float g[3] = {p[0] * invVs_, p[1] * invVs_, p[2] * invVs_};
    const int b[3] = {static_cast<int>(std::floor(g[0])), static_cast<int>(std::floor(g[1])),
                      static_cast<int>(std::floor(g[2]))};
    const float f[3] = {g[0] - b[0], g[1] - b[1], g[2] - b[2]};
    const Voxel* v[8];
    const int lx = b[0] & (kBlockDim - 1), ly = b[1] & (kBlockDim - 1), lz = b[2] & (kBlockDim - 1);
    if (lx < kBlockDim - 1 && ly < kBlockDim - 1 && lz < kBlockDim - 1) {
      // All eight corners in one block (the common case): one lookup.
      const Block* blk = block(floorDiv8(b[0]), floorDiv8(b[1]), floorDiv8(b[2]));
      if (!blk) return false;
      const Voxel* base = &blk->voxels[voxelIndex(lx, ly, lz)];
      for (int k = 0; k < 8; ++k)
        v[k] = base + voxelIndex(k & 1, (k >> 1) & 1, k >> 2);
    } else {
      for (int k = 0; k < 8; ++k) {
        v[k] = voxel(b[0] + (k & 1), b[1] + ((k >> 1) & 1), b[2] + (k >> 2));
        if (!v[k]) return false;
      }
    }
    float c[8];
    for (int k = 0; k < 8; ++k) {
      if (!(v[k]->weight > 0)) return false;
      c[k] = v[k]->tsdf;
    }
    // Interpolate along x, then y, then z.
    const float c00 = c[0] + f[0] * (c[1] - c[0]), c10 = c[2] + f[0] * (c[3] - c[2]);
    const float c01 = c[4] + f[0] * (c[5] - c[4]), c11 = c[6] + f[0] * (c[7] - c[6]);
    const float c0 = c00 + f[1] * (c10 - c00), c1 = c01 + f[1] * (c11 - c01);
    tsdf = c0 + f[2] * (c1 - c0);
    if (grad) {
      const float dx0 = (c[1] - c[0]) + f[1] * ((c[3] - c[2]) - (c[1] - c[0]));
      const float dx1 = (c[5] - c[4]) + f[1] * ((c[7] - c[6]) - (c[5] - c[4]));
      grad[0] = dx0 + f[2] * (dx1 - dx0);
      grad[1] = (c10 - c00) + f[2] * ((c11 - c01) - (c10 - c00));
      grad[2] = c1 - c0;
    }
    if (rgb) {
      rgb[0] = rgb[1] = rgb[2] = 0;
      for (int k = 0; k < 8; ++k) {
        const float w = ((k & 1) ? f[0] : 1 - f[0]) * ((k & 2) ? f[1] : 1 - f[1]) * ((k & 4) ? f[2] : 1 - f[2]);
        rgb[0] += w * v[k]->r;
        rgb[1] += w * v[k]->g;
        rgb[2] += w * v[k]->b;
      }
    }
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

  // Block-level visibility: project the corners of every block (grown by the voxel a trilinear sample
  // may borrow) into 8x8-pixel tiles and keep each tile's depth range, so rays march only where blocks
  // can be, not through the empty space between the camera and the surface.
  constexpr int kTile = 8;
  const int tilesX = (k.width + kTile - 1) / kTile, tilesY = (k.height + kTile - 1) / kTile;
  std::vector<float> tileNear(static_cast<size_t>(tilesX) * tilesY, std::numeric_limits<float>::max());
  std::vector<float> tileFar(tileNear.size(), 0.0f);
  {
    double W[12];  // world-to-camera
    for (int r = 0; r < 3; ++r) {
      for (int c = 0; c < 3; ++c) W[r * 4 + c] = T[c * 4 + r];
      W[r * 4 + 3] = -(T[r] * T[3] + T[4 + r] * T[7] + T[8 + r] * T[11]);
    }
    const double nearZ = std::max(1e-3, static_cast<double>(params_.minDepth));
    for (size_t b = 0; b < map_.size(); ++b) {
      const BlockCoord& c = map_.at(b)->coord;
      double zmin = std::numeric_limits<double>::max(), zmax = -zmin;
      double umin = zmin, umax = -zmin, vmin = zmin, vmax = -zmin;
      double cam[8][3];
      for (int i = 0; i < 8; ++i) {
        const double x = ((c.x * kBlockDim) + ((i & 1) ? kBlockDim : -1)) * static_cast<double>(vs);
        const double y = ((c.y * kBlockDim) + ((i & 2) ? kBlockDim : -1)) * static_cast<double>(vs);
        const double z = ((c.z * kBlockDim) + ((i & 4) ? kBlockDim : -1)) * static_cast<double>(vs);
        for (int r = 0; r < 3; ++r) cam[i][r] = W[r * 4] * x + W[r * 4 + 1] * y + W[r * 4 + 2] * z + W[r * 4 + 3];
        zmin = std::min(zmin, cam[i][2]);
        zmax = std::max(zmax, cam[i][2]);
      }
      if (zmax < nearZ || zmin > params_.maxDepth) continue;
      auto extend = [&](double x, double y, double z) {
        const double u = k.fx * x / z + k.cx, v = k.fy * y / z + k.cy;
        umin = std::min(umin, u);
        umax = std::max(umax, u);
        vmin = std::min(vmin, v);
        vmax = std::max(vmax, v);
      };
      // The box clipped to z >= nearZ is convex: its image is bounded by the images of the corners in
      // front and of the points where box edges cross the near plane.
      for (int i = 0; i < 8; ++i) {
        if (cam[i][2] >= nearZ) extend(cam[i][0], cam[i][1], cam[i][2]);
        for (int bit = 1; bit < 8; bit <<= 1) {
          const int j = i | bit;
          if (j == i) continue;
          const double zi = cam[i][2] - nearZ, zj = cam[j][2] - nearZ;
          if ((zi < 0) == (zj < 0)) continue;
          const double t = zi / (zi - zj);
          extend(cam[i][0] + t * (cam[j][0] - cam[i][0]), cam[i][1] + t * (cam[j][1] - cam[i][1]), nearZ);
        }
      }
      if (umax < -0.5 || vmax < -0.5 || umin > k.width - 0.5 || vmin > k.height - 0.5) continue;
      const int tx0 = std::max(0, static_cast<int>(std::floor(std::max(umin + 0.5, 0.0) / kTile)));
      const int tx1 = std::min(tilesX - 1, static_cast<int>(std::floor(std::min(umax + 0.5, 1e7) / kTile)));
      const int ty0 = std::max(0, static_cast<int>(std::floor(std::max(vmin + 0.5, 0.0) / kTile)));
      const int ty1 = std::min(tilesY - 1, static_cast<int>(std::floor(std::min(vmax + 0.5, 1e7) / kTile)));
      const float zn = static_cast<float>(std::max(zmin, nearZ)), zf = static_cast<float>(zmax);
      for (int ty = ty0; ty <= ty1; ++ty)
        for (int tx = tx0; tx <= tx1; ++tx) {
          float& n = tileNear[static_cast<size_t>(ty) * tilesX + tx];
          float& f = tileFar[static_cast<size_t>(ty) * tilesX + tx];
          n = std::min(n, zn);
          f = std::max(f, zf);
        }
    }
  }

  // Trilinear and nearest-voxel values differ by at most the TSDF change over ~0.87 voxel; allow twice
  // the nominal gradient (1 / truncation per mm) for oblique, projective distances.
  const float nearMargin = 2.0f * 0.87f * vs / trunc;
  const float farValue = nearMargin + 0.15f;
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
        const size_t tile = (v / kTile) * static_cast<size_t>(tilesX) + static_cast<size_t>(u / kTile);
        t0 = std::max(t0, static_cast<float>(tileNear[tile] * s));
        t1 = std::min(t1, static_cast<float>(tileFar[tile] * s));
        if (!(t0 < t1)) continue;
        float t = t0, prevT = 0, prevF = 0;
        bool prevValid = false, hit = false;
        while (t < t1) {
          const float p[3] = {o[0] + t * d[0], o[1] + t * d[1], o[2] + t * d[2]};
          float f;
          const int state = sampler.nearest(p, f);
          if (state == 0) {
            prevValid = false;
            t += 0.5f * blockSize;
            continue;
          }
          if (state == 2 && f > farValue) {
            // Clearly in free space: the trilinear value here is at least f - nearMargin > 0, so stride
            // on the single nearest voxel instead of eight.
            prevValid = true;
            prevF = f - nearMargin;
            prevT = t;
            t += std::max(0.5f * vs, 0.75f * std::min(prevF, 1.0f) * trunc);
            continue;
          }
          if (!sampler.sample(p, f)) {
            prevValid = false;
            t += vs;
            continue;
          }
          if (prevValid && prevF > 0 && f <= 0) {
            // The TSDF is clamped at +1 away from the surface, so one secant step across a long stride
            // lands short; refine the bracket by false position until it is a small fraction of a voxel.
            float ta = prevT, fa = prevF, tb = t, fb = f;
            for (int it = 0; it < 6 && tb - ta > 0.05f * vs; ++it) {
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
        float f, g[3], rgb[3] = {0, 0, 0};
        out.depth[i] = static_cast<float>(t * dc[2]);
        // The hit can sit right at the edge of the observed region; then normal and colour stay 0.
        if (!sampler.sample(p, f, g, rgb)) continue;
        for (int c = 0; c < 3; ++c) out.colors[3 * i + c] = static_cast<uint8_t>(std::clamp(rgb[c] + 0.5f, 0.0f, 255.0f));
        float len2 = 0;
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
