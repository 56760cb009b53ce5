#include "fusion/tsdf_volume.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace navws::fusion {
namespace {

void validateParams(const VolumeParams& p) {
  auto positive = [](const char* name, double v) {
    if (!std::isfinite(v) || v <= 0) {
      std::ostringstream msg;
      msg << "fusion: " << name << " must be a positive finite number, got " << v;
      throw std::invalid_argument(msg.str());
    }
  };
  positive("voxelSize", p.voxelSize);
  positive("truncation", p.truncation);
  positive("maxWeight", p.maxWeight);
  positive("maxDepth", p.maxDepth);
  positive("maxMemoryBytes", p.maxMemoryBytes);
  if (!std::isfinite(p.minDepth) || p.minDepth < 0 || p.minDepth >= p.maxDepth)
    throw std::invalid_argument("fusion: minDepth must be finite, >= 0 and below maxDepth");
  if (p.truncation < p.voxelSize)
    throw std::invalid_argument("fusion: truncation must be at least one voxel (truncation >= voxelSize)");
  if (p.threads > 256) throw std::invalid_argument("fusion: threads must be at most 256");
}

}  // namespace

void validateIntrinsics(const Intrinsics& k) {
  if (k.width <= 0 || k.height <= 0 || k.width > 16384 || k.height > 16384) {
    std::ostringstream msg;
    msg << "fusion: image size " << k.width << "x" << k.height << " is invalid (1..16384 per side)";
    throw std::invalid_argument(msg.str());
  }
  if (!std::isfinite(k.fx) || !std::isfinite(k.fy) || k.fx <= 0 || k.fy <= 0)
    throw std::invalid_argument("fusion: intrinsics fx and fy must be positive finite numbers");
  if (!std::isfinite(k.cx) || !std::isfinite(k.cy))
    throw std::invalid_argument("fusion: intrinsics cx and cy must be finite");
}

void validatePose(const Pose& pose) {
  for (double v : pose.m)
    if (!std::isfinite(v)) throw std::invalid_argument("fusion: pose has a non-finite element");
  const double* m = pose.m;
  if (std::abs(m[12]) > 1e-6 || std::abs(m[13]) > 1e-6 || std::abs(m[14]) > 1e-6 || std::abs(m[15] - 1) > 1e-6)
    throw std::invalid_argument("fusion: pose last row must be [0 0 0 1] (row-major camera-to-world 4x4)");
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      double d = m[i * 4] * m[j * 4] + m[i * 4 + 1] * m[j * 4 + 1] + m[i * 4 + 2] * m[j * 4 + 2];
      if (std::abs(d - (i == j ? 1.0 : 0.0)) > 1e-4)
        throw std::invalid_argument("fusion: pose rotation is not orthonormal (expected a rigid camera-to-world)");
    }
}

TsdfVolume::TsdfVolume(const VolumeParams& params) : params_((validateParams(params), params)), pool_(params.threads) {}

void TsdfVolume::reset() {
  map_.clear();
  scratch_ = FullMeshScratch{};
  limitReached_ = false;
  integrations_ = 0;
}

size_t TsdfVolume::memoryBytes() const {
  size_t scratch = 0;
  for (const auto& e : scratch_.edgeVertex) scratch += e.capacity() * sizeof(int32_t);
  return map_.size() * sizeof(Block) + map_.tableBytes() + scratch + rayScale_.capacity() * sizeof(float);
}

void TsdfVolume::collectTouchedBlocks(const FrameInput& f, std::vector<uint64_t>& keys) {
  const Intrinsics& k = f.k;
  const double* T = f.pose.m;
  const float vs = params_.voxelSize, trunc = params_.truncation;
  const float blockSize = vs * kBlockDim;
  // Samples along the truncation band of each ray, at most half a block apart.
  const int samples = std::max(2, static_cast<int>(std::ceil(2 * trunc / (0.5f * blockSize))) + 1);
  const float invVs = 1.0f / vs;
  const unsigned nThreads = pool_.size();
  std::vector<std::vector<uint64_t>> perThread(nThreads);
  pool_.parallelFor(static_cast<size_t>(k.height), 8, [&](size_t y0, size_t y1, unsigned worker) {
    std::vector<uint64_t>& out = perThread[worker];
    constexpr size_t kCache = 4096;
    std::vector<uint64_t> cache(kCache, ~0ull);
    for (size_t v = y0; v < y1; ++v) {
      const float yn = static_cast<float>((static_cast<double>(v) - k.cy) / k.fy);
      for (int u = 0; u < k.width; ++u) {
        const size_t i = v * static_cast<size_t>(k.width) + static_cast<size_t>(u);
        if (!(pixelWeight_[i] > 0)) continue;
        const float d = f.depth[i];
        const float xn = static_cast<float>((u - k.cx) / k.fx);
        const float s = rayScale_[i];
        // p_world(z) = t + z * R (xn, yn, 1); z is depth along the optical axis.
        const float ax = static_cast<float>(T[0] * xn + T[1] * yn + T[2]);
        const float ay = static_cast<float>(T[4] * xn + T[5] * yn + T[6]);
        const float az = static_cast<float>(T[8] * xn + T[9] * yn + T[10]);
        const float z0 = d - trunc / s, z1 = d + trunc / s;
        for (int j = 0; j < samples; ++j) {
          const float z = z0 + (z1 - z0) * static_cast<float>(j) / static_cast<float>(samples - 1);
          if (z <= 0) continue;
          const double gx = std::floor((T[3] + z * ax) * invVs + 0.5);
          const double gy = std::floor((T[7] + z * ay) * invVs + 0.5);
          const double gz = std::floor((T[11] + z * az) * invVs + 0.5);
          const int64_t bx = static_cast<int64_t>(std::floor(gx / kBlockDim));
          const int64_t by = static_cast<int64_t>(std::floor(gy / kBlockDim));
          const int64_t bz = static_cast<int64_t>(std::floor(gz / kBlockDim));
          if (!coordInRange(bx, by, bz)) continue;
          const uint64_t key =
              packCoord({static_cast<int32_t>(bx), static_cast<int32_t>(by), static_cast<int32_t>(bz)});
          const size_t slot = (key * 0x9E3779B97F4A7C15ull) >> 52;  // top 12 bits
          if (cache[slot] == key) continue;
          cache[slot] = key;
          out.push_back(key);
        }
      }
    }
  });
  keys.clear();
  for (auto& v : perThread) keys.insert(keys.end(), v.begin(), v.end());
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
}

uint32_t TsdfVolume::computePixelWeights(const FrameInput& f) {
  const Intrinsics& k = f.k;
  const int w = k.width, h = k.height;
  pixelWeight_.resize(static_cast<size_t>(w) * h);
  const float minD = params_.minDepth, maxD = params_.maxDepth;
  const float* depth = f.depth;
  auto valid = [&](int u, int v) {
    const float d = depth[static_cast<size_t>(v) * w + u];
    return d >= minD && d <= maxD;
  };
  std::vector<uint32_t> counts(pool_.size(), 0);
  pool_.parallelFor(static_cast<size_t>(h), 8, [&](size_t y0, size_t y1, unsigned worker) {
    uint32_t count = 0;
    for (size_t vv = y0; vv < y1; ++vv) {
      const int v = static_cast<int>(vv);
      const float yn = static_cast<float>((v - k.cy) / k.fy);
      for (int u = 0; u < w; ++u) {
        const size_t i = static_cast<size_t>(v) * w + u;
        float weight = 0;
        if (valid(u, v)) {
          weight = 1;
          if (f.confidence) {
            const float c = f.confidence[i];
            weight = c > 0 && std::isfinite(c) ? c : 0;
          }
        }
        if (weight > 0 && params_.angleWeighting) {
          // Surface tangents from neighbouring back-projected points (central where both exist).
          const float xn = static_cast<float>((u - k.cx) / k.fx);
          auto point = [&](int uu, int vvv, float out[3]) {
            const float d = depth[static_cast<size_t>(vvv) * w + uu];
            out[0] = static_cast<float>((uu - k.cx) / k.fx) * d;
            out[1] = static_cast<float>((vvv - k.cy) / k.fy) * d;
            out[2] = d;
          };
          float a[3], b[3], c[3], e[3];
          const bool l = u > 0 && valid(u - 1, v), r = u + 1 < w && valid(u + 1, v);
          const bool t = v > 0 && valid(u, v - 1), bt = v + 1 < h && valid(u, v + 1);
          float cosine = 0;
          if ((l || r) && (t || bt)) {
            point(r ? u + 1 : u, v, a);
            point(l ? u - 1 : u, v, b);
            point(u, bt ? v + 1 : v, c);
            point(u, t ? v - 1 : v, e);
            const float tx[3] = {a[0] - b[0], a[1] - b[1], a[2] - b[2]};
            const float ty[3] = {c[0] - e[0], c[1] - e[1], c[2] - e[2]};
            const float n[3] = {tx[1] * ty[2] - tx[2] * ty[1], tx[2] * ty[0] - tx[0] * ty[2],
                                tx[0] * ty[1] - tx[1] * ty[0]};
            const float nn = std::sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
            const float rr = rayScale_[i];
            if (nn > 0) cosine = std::abs(n[0] * xn + n[1] * yn + n[2]) / (nn * rr);
          }
          weight *= std::max(cosine, kMinAngleWeight);
        }
        pixelWeight_[i] = weight;
        count += weight > 0;
      }
    }
    counts[worker] += count;
  });
  uint32_t total = 0;
  for (uint32_t c : counts) total += c;
  return total;
}

void TsdfVolume::integrateBlock(Block& block, const FrameInput& f, const double* W, bool& changed) const {
  const float* rayScale = rayScale_.data();
  const float* pixelWeight = pixelWeight_.data();
  const Intrinsics& k = f.k;
  const float vs = params_.voxelSize, trunc = params_.truncation, invTrunc = 1.0f / trunc;
  const float maxW = params_.maxWeight;
  const float fx = static_cast<float>(k.fx), fy = static_cast<float>(k.fy);
  const float cx = static_cast<float>(k.cx), cy = static_cast<float>(k.cy);
  const float uMax = static_cast<float>(k.width) - 0.5f, vMax = static_cast<float>(k.height) - 0.5f;
  const int width = k.width;
  // Camera coordinates of the block's first voxel and the per-voxel steps along world x, y, z.
  const double ox = static_cast<double>(block.coord.x) * kBlockDim * vs;
  const double oy = static_cast<double>(block.coord.y) * kBlockDim * vs;
  const double oz = static_cast<double>(block.coord.z) * kBlockDim * vs;
  const float px0 = static_cast<float>(W[0] * ox + W[1] * oy + W[2] * oz + W[3]);
  const float py0 = static_cast<float>(W[4] * ox + W[5] * oy + W[6] * oz + W[7]);
  const float pz0 = static_cast<float>(W[8] * ox + W[9] * oy + W[10] * oz + W[11]);
  const float sx[3] = {static_cast<float>(W[0] * vs), static_cast<float>(W[4] * vs), static_cast<float>(W[8] * vs)};
  const float sy[3] = {static_cast<float>(W[1] * vs), static_cast<float>(W[5] * vs), static_cast<float>(W[9] * vs)};
  const float sz[3] = {static_cast<float>(W[2] * vs), static_cast<float>(W[6] * vs), static_cast<float>(W[10] * vs)};
  bool any = false;
  Voxel* vox = block.voxels;
  for (int z = 0; z < kBlockDim; ++z) {
    for (int y = 0; y < kBlockDim; ++y) {
      float px = px0 + z * sz[0] + y * sy[0];
      float py = py0 + z * sz[1] + y * sy[1];
      float pz = pz0 + z * sz[2] + y * sy[2];
      Voxel* row = vox + voxelIndex(0, y, z);
      for (int x = 0; x < kBlockDim; ++x, px += sx[0], py += sx[1], pz += sx[2]) {
        if (pz <= 1e-3f) continue;
        const float inv = 1.0f / pz;
        const float u = fx * px * inv + cx, v = fy * py * inv + cy;
        if (!(u >= -0.5f && u < uMax && v >= -0.5f && v < vMax)) continue;
        const int iu = static_cast<int>(u + 0.5f), iv = static_cast<int>(v + 0.5f);
        const size_t i = static_cast<size_t>(iv) * width + iu;
        const float pw = pixelWeight[i];
        if (!(pw > 0)) continue;
        const float sdf = (f.depth[i] - pz) * rayScale[i];
        if (sdf < -trunc) continue;
        const float t = sdf >= trunc ? 1.0f : sdf * invTrunc;
        // Behind the observed surface the projective distance is least reliable (the ray may have
        // grazed the surface); trust fades linearly to the truncation limit.
        const float w = t < 0 ? pw * (1.0f + t) + 1e-3f * pw : pw;
        Voxel& vx = row[x];
        const float W0 = vx.weight, nw = W0 + w, invNw = 1.0f / nw;
        vx.tsdf = (vx.tsdf * W0 + t * w) * invNw;
        if (f.rgb) {
          const uint8_t* c = f.rgb + 3 * i;
          vx.r = static_cast<uint8_t>((vx.r * W0 + c[0] * w) * invNw + 0.5f);
          vx.g = static_cast<uint8_t>((vx.g * W0 + c[1] * w) * invNw + 0.5f);
          vx.b = static_cast<uint8_t>((vx.b * W0 + c[2] * w) * invNw + 0.5f);
        }
        vx.weight = nw < maxW ? nw : maxW;
        any = true;
      }
    }
  }
  changed = any;
}

IntegrateStats TsdfVolume::integrate(const FrameInput& f) {
  validateIntrinsics(f.k);
  validatePose(f.pose);
  if (!f.depth) throw std::invalid_argument("fusion: depth image is missing");
  const Intrinsics& k = f.k;
  if (rayScale_.empty() || rayScaleFor_.width != k.width || rayScaleFor_.height != k.height ||
      rayScaleFor_.fx != k.fx || rayScaleFor_.fy != k.fy || rayScaleFor_.cx != k.cx || rayScaleFor_.cy != k.cy) {
    rayScale_.resize(static_cast<size_t>(k.width) * k.height);
    for (int v = 0; v < k.height; ++v)
      for (int u = 0; u < k.width; ++u) {
        const double xn = (u - k.cx) / k.fx, yn = (v - k.cy) / k.fy;
        rayScale_[static_cast<size_t>(v) * k.width + u] = static_cast<float>(std::sqrt(1 + xn * xn + yn * yn));
      }
    rayScaleFor_ = k;
  }

  IntegrateStats stats;
  stats.validPixels = computePixelWeights(f);

  std::vector<uint64_t> keys;
  collectTouchedBlocks(f, keys);
  ++integrations_;

  std::vector<Block*> blocks;
  blocks.reserve(keys.size());
  for (uint64_t key : keys) {
    const BlockCoord c{static_cast<int32_t>(key >> 42) - kCoordLimit,
                       static_cast<int32_t>((key >> 21) & 0x1FFFFF) - kCoordLimit,
                       static_cast<int32_t>(key & 0x1FFFFF) - kCoordLimit};
    Block* b = map_.find(c);
    if (!b) {
      if (static_cast<double>(memoryBytes() + sizeof(Block)) > params_.maxMemoryBytes) {
        limitReached_ = true;
        ++stats.refusedBlocks;
        continue;
      }
      bool created = false;
      b = map_.findOrCreate(c, created);
      ++stats.newBlocks;
    }
    blocks.push_back(b);
  }
  stats.touchedBlocks = static_cast<uint32_t>(blocks.size());

  // World-to-camera (R^T, -R^T t) as a row-major 3x4.
  const double* T = f.pose.m;
  double W[12];
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) W[r * 4 + c] = T[c * 4 + r];
    W[r * 4 + 3] = -(T[0 * 4 + r] * T[3] + T[1 * 4 + r] * T[7] + T[2 * 4 + r] * T[11]);
  }
  const uint32_t stamp = integrations_;
  pool_.parallelFor(blocks.size(), 16, [&](size_t b0, size_t b1, unsigned) {
    for (size_t b = b0; b < b1; ++b) {
      bool changed = false;
      integrateBlock(*blocks[b], f, W, changed);
      if (changed) {
        blocks[b]->dirty = true;
        blocks[b]->lastIntegration = stamp;
      }
    }
  });
  stats.totalBlocks = static_cast<uint32_t>(map_.size());
  return stats;
}

}  // namespace navws::fusion
