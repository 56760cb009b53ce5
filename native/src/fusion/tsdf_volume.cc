#include "fusion/tsdf_volume.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

size_t TsdfVolume::volumeBytes() const { return map_.size() * sizeof(Block) + map_.tableBytes(); }

size_t TsdfVolume::memoryBytes() const {
  size_t scratch = 0;
  for (const auto& e : scratch_.edgeVertex) scratch += e.capacity() * sizeof(int32_t);
  const size_t frame = (rayScale_.capacity() + colXn_.capacity() + rowYn_.capacity()) * sizeof(float) +
                       pixels_.capacity() * sizeof(PixelRecord);
  return volumeBytes() + scratch + frame;
}

void TsdfVolume::prepareRays(const Intrinsics& k) {
  if (!rayScale_.empty() && rayScaleFor_.width == k.width && rayScaleFor_.height == k.height &&
      rayScaleFor_.fx == k.fx && rayScaleFor_.fy == k.fy && rayScaleFor_.cx == k.cx && rayScaleFor_.cy == k.cy)
    return;
  colXn_.resize(static_cast<size_t>(k.width));
  rowYn_.resize(static_cast<size_t>(k.height));
  for (int u = 0; u < k.width; ++u) colXn_[u] = static_cast<float>((u - k.cx) / k.fx);
  for (int v = 0; v < k.height; ++v) rowYn_[v] = static_cast<float>((v - k.cy) / k.fy);
  rayScale_.resize(static_cast<size_t>(k.width) * k.height);
  for (int v = 0; v < k.height; ++v)
    for (int u = 0; u < k.width; ++u) {
      const double xn = (u - k.cx) / k.fx, yn = (v - k.cy) / k.fy;
      rayScale_[static_cast<size_t>(v) * k.width + u] = static_cast<float>(std::sqrt(1 + xn * xn + yn * yn));
    }
  rayScaleFor_ = k;
}

uint32_t TsdfVolume::preparePixels(const FrameInput& f) {
  const Intrinsics& k = f.k;
  const int w = k.width, h = k.height;
  pixels_.resize(static_cast<size_t>(w) * h);
  const float minD = params_.minDepth, maxD = params_.maxDepth;
  const float* depth = f.depth;
  const float* xs = colXn_.data();
  auto valid = [&](int u, int v) {
    const float d = depth[static_cast<size_t>(v) * w + u];
    return d >= minD && d <= maxD;
  };
  std::vector<uint32_t> counts(pool_.size(), 0);
  std::vector<float> maxDepths(pool_.size(), 0.0f);
  pool_.parallelFor(static_cast<size_t>(h), 8, [&](size_t y0, size_t y1, unsigned worker) {
    uint32_t count = 0;
    float maxDepth = 0;
    std::vector<float> centralCos(static_cast<size_t>(w), 0.0f);
    for (size_t vv = y0; vv < y1; ++vv) {
      const int v = static_cast<int>(vv);
      const float yn = rowYn_[v];
      const float* dRow = depth + static_cast<size_t>(v) * w;
      const bool interiorRow = v > 0 && v + 1 < h;
      if (params_.angleWeighting && interiorRow) {
        // View-angle cosine from central differences for the whole row, branch-free so it vectorises;
        // used below wherever the four neighbours are valid (the common case).
        const float* dUp = dRow - w;
        const float* dDn = dRow + w;
        const float yUp = rowYn_[v - 1], yDn = rowYn_[v + 1];
        const float* rs = &rayScale_[static_cast<size_t>(v) * w];
        for (int u = 1; u + 1 < w; ++u) {
          const float dl = dRow[u - 1], dr = dRow[u + 1], dt = dUp[u], db = dDn[u];
          const float tx0 = xs[u + 1] * dr - xs[u - 1] * dl, tx1 = yn * (dr - dl), tx2 = dr - dl;
          const float ty0 = xs[u] * (db - dt), ty1 = yDn * db - yUp * dt, ty2 = db - dt;
          const float n0 = tx1 * ty2 - tx2 * ty1, n1 = tx2 * ty0 - tx0 * ty2, n2 = tx0 * ty1 - tx1 * ty0;
          const float nn = std::sqrt(n0 * n0 + n1 * n1 + n2 * n2);
          centralCos[u] = std::abs(n0 * xs[u] + n1 * yn + n2) / (nn * rs[u] + 1e-30f);
        }
      }
      for (int u = 0; u < w; ++u) {
        const size_t i = static_cast<size_t>(v) * w + u;
        PixelRecord& rec = pixels_[i];
        rec.depth = depth[i];
        rec.rayScale = rayScale_[i];
        if (f.rgb) {
          rec.r = f.rgb[3 * i];
          rec.g = f.rgb[3 * i + 1];
          rec.b = f.rgb[3 * i + 2];
        }
        float weight = 0;
        if (valid(u, v)) {
          weight = 1;
          if (f.confidence) {
            const float c = f.confidence[i];
            weight = c > 0 && std::isfinite(c) ? c : 0;
          }
        }
        if (weight > 0 && params_.angleWeighting && interiorRow && u > 0 && u + 1 < w && valid(u - 1, v) &&
            valid(u + 1, v) && valid(u, v - 1) && valid(u, v + 1)) {
          weight *= std::max(std::min(centralCos[u], 1.0f), kMinAngleWeight);
        } else if (weight > 0 && params_.angleWeighting) {
          // Near invalid pixels and image borders: one-sided differences where needed.
          // Surface tangents from neighbouring back-projected points (central where both exist).
          const bool l = u > 0 && valid(u - 1, v), r = u + 1 < w && valid(u + 1, v);
          const bool t = v > 0 && valid(u, v - 1), bt = v + 1 < h && valid(u, v + 1);
          float cosine = 0;
          if ((l || r) && (t || bt)) {
            const int ur = r ? u + 1 : u, ul = l ? u - 1 : u, vb = bt ? v + 1 : v, vt = t ? v - 1 : v;
            const float dr = depth[i - u + ur], dl = depth[i - u + ul];
            const float db = depth[static_cast<size_t>(vb) * w + u], dt = depth[static_cast<size_t>(vt) * w + u];
            const float tx[3] = {xs[ur] * dr - xs[ul] * dl, yn * (dr - dl), dr - dl};
            const float ty[3] = {xs[u] * (db - dt), rowYn_[vb] * db - rowYn_[vt] * dt, db - dt};
            const float n[3] = {tx[1] * ty[2] - tx[2] * ty[1], tx[2] * ty[0] - tx[0] * ty[2],
                                tx[0] * ty[1] - tx[1] * ty[0]};
            const float nn = std::sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
            if (nn > 0) cosine = std::abs(n[0] * xs[u] + n[1] * yn + n[2]) / (nn * rec.rayScale);
          }
          weight *= std::max(cosine, kMinAngleWeight);
        }
        rec.weight = weight;
        if (weight > 0) {
          ++count;
          maxDepth = std::max(maxDepth, rec.depth);
        }
      }
    }
    counts[worker] += count;
    maxDepths[worker] = std::max(maxDepths[worker], maxDepth);
  });
  uint32_t total = 0;
  for (uint32_t c : counts) total += c;
  frameMaxDepth_ = *std::max_element(maxDepths.begin(), maxDepths.end());
  return total;
}

void TsdfVolume::collectTouchedBlocks(const FrameInput& f, std::vector<uint64_t>& keys) {
  const Intrinsics& k = f.k;
  const double* T = f.pose.m;
  const float vs = params_.voxelSize, trunc = params_.truncation;
  const float blockSize = vs * kBlockDim;
  // Samples along the truncation band of each ray, at most half a block apart.
  const int samples = std::min(kMaxBandSamples, std::max(2, static_cast<int>(std::ceil(2 * trunc / (0.5f * blockSize))) + 1));
  // Block coordinates directly: block(p) = floor((p / vs + 0.5) / 8), since floor(floor(a) / 8) = floor(a / 8).
  const float toBlock = 1.0f / blockSize, half = 0.5f / kBlockDim;
  const float R[9] = {static_cast<float>(T[0] * toBlock), static_cast<float>(T[1] * toBlock),
                      static_cast<float>(T[2] * toBlock), static_cast<float>(T[4] * toBlock),
                      static_cast<float>(T[5] * toBlock), static_cast<float>(T[6] * toBlock),
                      static_cast<float>(T[8] * toBlock), static_cast<float>(T[9] * toBlock),
                      static_cast<float>(T[10] * toBlock)};
  const float o[3] = {static_cast<float>(T[3] * toBlock) + half, static_cast<float>(T[7] * toBlock) + half,
                      static_cast<float>(T[11] * toBlock) + half};
  const float limit = static_cast<float>(kCoordLimit - 2);
  // Pixels are sampled `stride` apart, chosen so that neighbouring samples on the surface are at most two
  // voxels apart at the frame's largest depth; each surface sample then allocates every block within
  // one voxel plus half the sample spacing of it, so no block a mesh cube needs is skipped.
  const double footprint = frameMaxDepth_ / std::min(k.fx, k.fy);  // mm per pixel at the largest depth
  const int stride = std::clamp(static_cast<int>(2.0 * vs / std::max(footprint, 1e-9)), 1, 4);
  const float margin = static_cast<float>((vs + 0.5 * stride * footprint) / blockSize);  // in blocks
  const size_t sampledRows = (static_cast<size_t>(k.height) + stride - 1) / stride;
  const unsigned nThreads = pool_.size();
  std::vector<std::vector<uint64_t>> perThread(nThreads);
  constexpr size_t kCache = 4096;  // per-thread direct-mapped filter of recently emitted keys
  std::vector<std::vector<uint64_t>> caches(nThreads, std::vector<uint64_t>(kCache, ~0ull));
  pool_.parallelFor(sampledRows, 4, [&](size_t r0, size_t r1, unsigned worker) {
    const size_t y0 = r0 * stride, y1 = std::min(static_cast<size_t>(k.height), r1 * stride);
    std::vector<uint64_t>& out = perThread[worker];
    std::vector<uint64_t>& cache = caches[worker];
    uint64_t last[kMaxBandSamples + 8];
    std::fill(std::begin(last), std::end(last), ~0ull);
    for (size_t v = y0; v < y1; v += stride) {
      const float yn = rowYn_[v];
      const float ry[3] = {R[1] * yn + R[2], R[4] * yn + R[5], R[7] * yn + R[8]};
      const PixelRecord* row = &pixels_[v * static_cast<size_t>(k.width)];
      for (int u = 0; u < k.width; u += stride) {
        const PixelRecord& rec = row[u];
        if (!(rec.weight > 0)) continue;
        const float xn = colXn_[u];
        // p_block(z) = o + z * a; z is depth along the optical axis.
        const float a[3] = {R[0] * xn + ry[0], R[3] * xn + ry[1], R[6] * xn + ry[2]};
        const float dz = trunc / rec.rayScale;
        const float z0 = rec.depth - dz, step = 2 * dz / static_cast<float>(samples - 1);
        auto emit = [&](uint64_t key, int slotHint) {
          if (key == last[slotHint]) return;  // neighbouring pixels mostly fall in the same blocks
          last[slotHint] = key;
          const size_t slot = (key * 0x9E3779B97F4A7C15ull) >> 52;  // top 12 bits
          if (cache[slot] == key) return;
          cache[slot] = key;
          out.push_back(key);
        };
        for (int j = 0; j < samples; ++j) {
          const float z = z0 + step * static_cast<float>(j);
          if (z <= 0) continue;
          const float p[3] = {o[0] + z * a[0], o[1] + z * a[1], o[2] + z * a[2]};
          if (!(std::abs(p[0]) < limit && std::abs(p[1]) < limit && std::abs(p[2]) < limit)) continue;
          const float bxf = std::floor(p[0]), byf = std::floor(p[1]), bzf = std::floor(p[2]);
          emit(packCoord({static_cast<int32_t>(bxf), static_cast<int32_t>(byf), static_cast<int32_t>(bzf)}), j);
        }
        // The surface point itself also allocates the blocks within `margin` of it: the corners of the
        // cubes around the surface must all exist, also where the band of this pixel ends (silhouettes,
        // image borders) and the free-space corner lies in a block no band sample reaches.
        const float ps[3] = {o[0] + rec.depth * a[0], o[1] + rec.depth * a[1], o[2] + rec.depth * a[2]};
        if (!(std::abs(ps[0]) < limit && std::abs(ps[1]) < limit && std::abs(ps[2]) < limit)) continue;
        int lo[3], hi[3];
        for (int c = 0; c < 3; ++c) {
          lo[c] = static_cast<int>(std::floor(ps[c] - margin));
          hi[c] = static_cast<int>(std::floor(ps[c] + margin));
        }
        if (lo[0] == hi[0] && lo[1] == hi[1] && lo[2] == hi[2]) continue;  // already allocated above
        int n = 0;
        for (int bz = lo[2]; bz <= hi[2]; ++bz)
          for (int by = lo[1]; by <= hi[1]; ++by)
            for (int bx = lo[0]; bx <= hi[0]; ++bx) emit(packCoord({bx, by, bz}), samples + n++);
      }
    }
  });
  keys.clear();
  for (auto& v : perThread) keys.insert(keys.end(), v.begin(), v.end());
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
}

void TsdfVolume::integrateBlock(Block& block, const FrameInput& f, const double* W, bool& changed) const {
  const PixelRecord* pixels = pixels_.data();
  const bool hasColour = f.rgb != nullptr;
  const Intrinsics& k = f.k;
  const float vs = params_.voxelSize, trunc = params_.truncation, invTrunc = 1.0f / trunc;
  const float maxW = params_.maxWeight;
  const float fx = static_cast<float>(k.fx), fy = static_cast<float>(k.fy);
  const float cx = static_cast<float>(k.cx), cy = static_cast<float>(k.cy);
  const float uLimit = static_cast<float>(k.width), vLimit = static_cast<float>(k.height);
  const int32_t width = k.width;
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
      const float px = px0 + z * sz[0] + y * sy[0];
      const float py = py0 + z * sz[1] + y * sy[1];
      const float pz = pz0 + z * sz[2] + y * sy[2];
      Voxel* row = vox + voxelIndex(0, y, z);
      // Project the row's eight voxels first (vectorised), then update the ones that land on a pixel.
      int32_t pix[kBlockDim];
      float depthZ[kBlockDim];
#if defined(__SSE2__)
      // Four voxels at a time (x86-64 always has SSE2); same arithmetic as the scalar path below.
      for (int x0 = 0; x0 < kBlockDim; x0 += 4) {
        const __m128 xs4 = _mm_setr_ps(static_cast<float>(x0), static_cast<float>(x0 + 1),
                                       static_cast<float>(x0 + 2), static_cast<float>(x0 + 3));
        const __m128 qx = _mm_add_ps(_mm_set1_ps(px), _mm_mul_ps(xs4, _mm_set1_ps(sx[0])));
        const __m128 qy = _mm_add_ps(_mm_set1_ps(py), _mm_mul_ps(xs4, _mm_set1_ps(sx[1])));
        const __m128 qz = _mm_add_ps(_mm_set1_ps(pz), _mm_mul_ps(xs4, _mm_set1_ps(sx[2])));
        const __m128 eps = _mm_set1_ps(1e-3f);
        const __m128 inv = _mm_div_ps(_mm_set1_ps(1.0f), _mm_max_ps(qz, eps));
        const __m128 lo = _mm_set1_ps(-1.0f), half = _mm_set1_ps(0.5f);
        const __m128 uL = _mm_set1_ps(uLimit), vL = _mm_set1_ps(vLimit);
        __m128 u = _mm_add_ps(_mm_add_ps(_mm_mul_ps(_mm_mul_ps(_mm_set1_ps(fx), qx), inv), _mm_set1_ps(cx)), half);
        __m128 v = _mm_add_ps(_mm_add_ps(_mm_mul_ps(_mm_mul_ps(_mm_set1_ps(fy), qy), inv), _mm_set1_ps(cy)), half);
        u = _mm_min_ps(_mm_max_ps(u, lo), uL);
        v = _mm_min_ps(_mm_max_ps(v, lo), vL);
        const __m128 inside = _mm_and_ps(
            _mm_and_ps(_mm_cmpgt_ps(qz, eps), _mm_and_ps(_mm_cmpge_ps(u, _mm_setzero_ps()), _mm_cmplt_ps(u, uL))),
            _mm_and_ps(_mm_cmpge_ps(v, _mm_setzero_ps()), _mm_cmplt_ps(v, vL)));
        const __m128i iu = _mm_cvttps_epi32(u), iv = _mm_cvttps_epi32(v);
        alignas(16) int32_t ius[4], ivs[4], ok[4];
        _mm_store_si128(reinterpret_cast<__m128i*>(ius), iu);
        _mm_store_si128(reinterpret_cast<__m128i*>(ivs), iv);
        _mm_store_si128(reinterpret_cast<__m128i*>(ok), _mm_castps_si128(inside));
        _mm_storeu_ps(depthZ + x0, qz);
        for (int j = 0; j < 4; ++j) pix[x0 + j] = ok[j] ? ivs[j] * width + ius[j] : -1;
      }
#else
      for (int x = 0; x < kBlockDim; ++x) {
        const float qx = px + x * sx[0], qy = py + x * sx[1], qz = pz + x * sx[2];
        const float inv = 1.0f / std::max(qz, 1e-3f);
        // +0.5 and truncation = nearest pixel for u >= -0.5; clamped so the conversion is always defined.
        const float u = std::min(std::max(fx * qx * inv + cx + 0.5f, -1.0f), uLimit);
        const float v = std::min(std::max(fy * qy * inv + cy + 0.5f, -1.0f), vLimit);
        const bool inside = (qz > 1e-3f) & (u >= 0.0f) & (u < uLimit) & (v >= 0.0f) & (v < vLimit);
        const int32_t i = static_cast<int32_t>(v) * width + static_cast<int32_t>(u);
        pix[x] = inside ? i : -1;
        depthZ[x] = qz;
      }
#endif
      for (int x = 0; x < kBlockDim; ++x) {
        if (pix[x] < 0) continue;
        const size_t i = static_cast<size_t>(pix[x]);
        const float pz = depthZ[x];
        const PixelRecord& rec = pixels[i];
        const float pw = rec.weight;
        if (!(pw > 0)) continue;
        const float sdf = (rec.depth - pz) * rec.rayScale;
        if (sdf < -trunc) continue;
        const float t = sdf >= trunc ? 1.0f : sdf * invTrunc;
        // Behind the observed surface the projective distance is least reliable (the ray may have
        // grazed the surface); trust fades linearly to the truncation limit.
        const float w = t < 0 ? pw * (1.0f + t) + 1e-3f * pw : pw;
        Voxel& vx = row[x];
        const float W0 = vx.weight, nw = W0 + w, invNw = 1.0f / nw;
        vx.tsdf = (vx.tsdf * W0 + t * w) * invNw;
        if (hasColour) {
          vx.r = static_cast<uint8_t>((vx.r * W0 + rec.r * w) * invNw + 0.5f);
          vx.g = static_cast<uint8_t>((vx.g * W0 + rec.g * w) * invNw + 0.5f);
          vx.b = static_cast<uint8_t>((vx.b * W0 + rec.b * w) * invNw + 0.5f);
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
  prepareRays(f.k);

  IntegrateStats stats;
  stats.validPixels = preparePixels(f);

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
      if (static_cast<double>(volumeBytes() + sizeof(Block)) > params_.maxMemoryBytes) {
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
