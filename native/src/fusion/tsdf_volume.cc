#include "fusion/tsdf_volume.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#include <xmmintrin.h>
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
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
  rayScaleMax_ = *std::max_element(rayScale_.begin(), rayScale_.end());
  rayScaleFor_ = k;
}

// View-angle weight near invalid pixels and image borders: surface tangents from one-sided differences
// where a neighbour is missing (central where both exist); kMinAngleWeight when no tangent exists.
float TsdfVolume::fallbackAngleWeight(const FrameInput& f, int u, int v) const {
  const int w = f.k.width, h = f.k.height;
  const float minD = params_.minDepth, maxD = params_.maxDepth;
  const float* depth = f.depth;
  const float* xs = colXn_.data();
  auto valid = [&](int uu, int vv) {
    const float d = depth[static_cast<size_t>(vv) * w + uu];
    return d >= minD && d <= maxD;
  };
  const size_t i = static_cast<size_t>(v) * w + u;
  const float yn = rowYn_[v];
  const bool l = u > 0 && valid(u - 1, v), r = u + 1 < w && valid(u + 1, v);
  const bool t = v > 0 && valid(u, v - 1), bt = v + 1 < h && valid(u, v + 1);
  float cosine = 0;
  if ((l || r) && (t || bt)) {
    const int ur = r ? u + 1 : u, ul = l ? u - 1 : u, vb = bt ? v + 1 : v, vt = t ? v - 1 : v;
    const float dr = depth[i - u + ur], dl = depth[i - u + ul];
    const float db = depth[static_cast<size_t>(vb) * w + u], dt = depth[static_cast<size_t>(vt) * w + u];
    const float tx[3] = {xs[ur] * dr - xs[ul] * dl, yn * (dr - dl), dr - dl};
    const float ty[3] = {xs[u] * (db - dt), rowYn_[vb] * db - rowYn_[vt] * dt, db - dt};
    const float n[3] = {tx[1] * ty[2] - tx[2] * ty[1], tx[2] * ty[0] - tx[0] * ty[2], tx[0] * ty[1] - tx[1] * ty[0]};
    const float nn = std::sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
    if (nn > 0) cosine = std::abs(n[0] * xs[u] + n[1] * yn + n[2]) / (nn * rayScale_[i]);
  }
  return std::max(std::min(cosine, 1.0f), kMinAngleWeight);
}

namespace {

// Largest depth inside [minD, maxD] (0 if none), and how many values are NaN, infinite or negative.
// The largest depth sets how densely the pixel pass samples the truncation band for blocks, so it is
// known before that pass.
struct DepthScan {
  float maxInRange = 0;
  size_t bad = 0;
};

DepthScan scanDepth(const float* depth, size_t n, float minD, float maxD) {
  DepthScan r;
  size_t i = 0;
#if defined(__SSE2__)
  const __m128 lo = _mm_set1_ps(minD), hi = _mm_set1_ps(maxD), zero = _mm_setzero_ps();
  const __m128 inf = _mm_set1_ps(std::numeric_limits<float>::infinity());
  __m128 m4 = _mm_setzero_ps();
  __m128i bad4 = _mm_setzero_si128();
  for (; i + 4 <= n; i += 4) {
    const __m128 d = _mm_loadu_ps(depth + i);
    const __m128 ok = _mm_and_ps(_mm_cmpge_ps(d, lo), _mm_cmple_ps(d, hi));  // false for NaN
    m4 = _mm_max_ps(m4, _mm_and_ps(ok, d));
    // NaN, or < 0 (-inf too), or +inf: each lane adds 1 (the mask is -1).
    const __m128 bad = _mm_or_ps(_mm_or_ps(_mm_cmpunord_ps(d, d), _mm_cmplt_ps(d, zero)), _mm_cmpeq_ps(d, inf));
    bad4 = _mm_sub_epi32(bad4, _mm_castps_si128(bad));
  }
  alignas(16) float lanes[4];
  alignas(16) int32_t counts[4];
  _mm_store_ps(lanes, m4);
  _mm_store_si128(reinterpret_cast<__m128i*>(counts), bad4);
  r.maxInRange = std::max(std::max(lanes[0], lanes[1]), std::max(lanes[2], lanes[3]));
  r.bad = static_cast<size_t>(counts[0]) + counts[1] + counts[2] + counts[3];
#endif
  for (; i < n; ++i) {
    const float d = depth[i];
    if (d >= minD && d <= maxD && d > r.maxInRange) r.maxInRange = d;
    if (!(d >= 0) || std::isinf(d)) ++r.bad;
  }
  return r;
}

}  // namespace

// Where a frame's truncation band can touch blocks, worked out once per frame: the world-to-block
// mapping of the camera rays, how densely pixels and the band are sampled, and the frustum box that
// marks blocks.
struct TsdfVolume::BandPlan {
  // Block coordinates along a pixel ray: p(z) = o + z * (R * (xn, yn, 1)); z is depth on the optical axis.
  float R[9], o[3];
  float limit, margin;
  int samples = 0, stride = 1;
  bool useBox = false;
  int32_t boxLo[3] = {0, 0, 0}, boxDim[3] = {1, 1, 1};
  // Hash-set fallback when the frustum box would be too large: per-thread keys and recent-key filters.
  std::vector<std::vector<uint64_t>> keys, recent;
};

TsdfVolume::BandPlan TsdfVolume::planBand(const FrameInput& f, float frameMaxDepth) {
  const Intrinsics& k = f.k;
  const double* T = f.pose.m;
  const float vs = params_.voxelSize, trunc = params_.truncation;
  const float blockSize = vs * kBlockDim;
  BandPlan plan;
  // Samples along the truncation band of each ray, at most half a block apart.
  plan.samples =
      std::min(kMaxBandSamples, std::max(2, static_cast<int>(std::ceil(2 * trunc / (0.5f * blockSize))) + 1));
  // Block coordinates directly: block(p) = floor((p / vs + 0.5) / 8), since floor(floor(a) / 8) = floor(a / 8).
  const float toBlock = 1.0f / blockSize, half = 0.5f / kBlockDim;
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) plan.R[3 * r + c] = static_cast<float>(T[4 * r + c] * toBlock);
    plan.o[r] = static_cast<float>(T[4 * r + 3] * toBlock) + half;
  }
  plan.limit = static_cast<float>(kCoordLimit - 2);
  // Pixels are sampled `stride` apart, chosen so that neighbouring samples on the surface are at most two
  // voxels apart at the frame's largest depth; each surface sample then marks every block within
  // one voxel plus half the sample spacing of it, so no block a mesh cube needs is skipped.
  const double footprint = frameMaxDepth / std::min(k.fx, k.fy);  // mm per pixel at the largest depth
  plan.stride = std::clamp(static_cast<int>(2.0 * vs / std::max(footprint, 1e-9)), 1, 8);
  plan.margin = static_cast<float>((vs + 0.5 * plan.stride * footprint) / blockSize);  // in blocks
  // Every block a sample can mark lies in the box around the view frustum up to the frame's largest
  // depth plus the band (and the margin): a byte per block of that box marks it, which is cheaper than
  // hashing keys and sorting them. A frustum too large for a small box (far depth, tiny voxels) falls
  // back to a hash set.
  const float far = frameMaxDepth + trunc * rayScaleMax_;
  float lo[3] = {plan.o[0], plan.o[1], plan.o[2]}, hi[3] = {plan.o[0], plan.o[1], plan.o[2]};
  for (const float xn : {colXn_.front(), colXn_.back()})
    for (const float yn : {rowYn_.front(), rowYn_.back()})
      for (int c = 0; c < 3; ++c) {
        const float p = plan.o[c] + far * (plan.R[3 * c] * xn + plan.R[3 * c + 1] * yn + plan.R[3 * c + 2]);
        lo[c] = std::min(lo[c], p);
        hi[c] = std::max(hi[c], p);
      }
  double cells = 1;
  for (int c = 0; c < 3; ++c) {
    const float l = std::max(lo[c] - plan.margin - 1, -plan.limit);
    const float h = std::min(hi[c] + plan.margin + 1, plan.limit);
    plan.boxLo[c] = static_cast<int32_t>(std::floor(l));
    plan.boxDim[c] = std::max(1, static_cast<int32_t>(std::floor(h)) - plan.boxLo[c] + 1);
    cells *= plan.boxDim[c];
  }
  constexpr double kMaxBoxCells = 1 << 22;
  plan.useBox = cells <= kMaxBoxCells;
  if (plan.useBox) {
    const size_t n = static_cast<size_t>(cells);
    if (touchedBox_.size() < n) touchedBox_ = std::vector<std::atomic<uint8_t>>(n);
    for (size_t i = 0; i < n; ++i) touchedBox_[i].store(0, std::memory_order_relaxed);
  } else {
    plan.keys.resize(pool_.size());
    plan.recent.assign(pool_.size(), std::vector<uint64_t>(4096, ~0ull));
  }
  return plan;
}

void TsdfVolume::markBandBlocks(BandPlan& plan, const FrameInput& f, int v, unsigned worker) {
  const int w = f.k.width;
  const float R[9] = {plan.R[0], plan.R[1], plan.R[2], plan.R[3], plan.R[4], plan.R[5], plan.R[6], plan.R[7], plan.R[8]};
  const float o[3] = {plan.o[0], plan.o[1], plan.o[2]};
  const float limit = plan.limit, margin = plan.margin, trunc = params_.truncation;
  const int samples = plan.samples;
  // Locals, not plan fields: a byte store may alias anything, and would make the compiler reload them.
  const bool useBox = plan.useBox;
  const int32_t lo0 = plan.boxLo[0], lo1 = plan.boxLo[1], lo2 = plan.boxLo[2];
  const size_t dim1 = static_cast<size_t>(plan.boxDim[1]), dim2 = static_cast<size_t>(plan.boxDim[2]);
  std::atomic<uint8_t>* const box = touchedBox_.data();
  auto mark = [&](int32_t bx, int32_t by, int32_t bz) {
    if (useBox) {
      std::atomic<uint8_t>& cell = box[(static_cast<size_t>(bx - lo0) * dim1 + static_cast<size_t>(by - lo1)) * dim2 +
                                       static_cast<size_t>(bz - lo2)];
      // Read first: most marks repeat, and a store to a line the other core holds would move it.
      if (!cell.load(std::memory_order_relaxed)) cell.store(1, std::memory_order_relaxed);
      return;
    }
    const uint64_t key = packCoord({bx, by, bz});
    std::vector<uint64_t>& recent = plan.recent[worker];
    const size_t slot = (key * 0x9E3779B97F4A7C15ull) >> 52;  // top 12 bits
    if (recent[slot] == key) return;
    recent[slot] = key;
    plan.keys[worker].push_back(key);
  };
  const float yn = rowYn_[v];
  const float ry[3] = {R[1] * yn + R[2], R[4] * yn + R[5], R[7] * yn + R[8]};
  const size_t rowStart = static_cast<size_t>(v) * w;
  const PixelRecord* row = &pixels_[rowStart];
  for (int u = 0; u < w; u += plan.stride) {
    const PixelRecord& rec = row[u];
    if (!(rec.weight > 0)) continue;
    const float xn = colXn_[u];
    const float a[3] = {R[0] * xn + ry[0], R[3] * xn + ry[1], R[6] * xn + ry[2]};
    const float dz = trunc;  // the band's depth extent (see integrateBlock)
    const float z0 = rec.depth - dz, step = 2 * dz / static_cast<float>(samples - 1);
    for (int j = 0; j < samples; ++j) {
      const float z = z0 + step * static_cast<float>(j);
      if (z <= 0) continue;
      const float p[3] = {o[0] + z * a[0], o[1] + z * a[1], o[2] + z * a[2]};
      if (!(std::abs(p[0]) < limit && std::abs(p[1]) < limit && std::abs(p[2]) < limit)) continue;
      mark(static_cast<int32_t>(std::floor(p[0])), static_cast<int32_t>(std::floor(p[1])),
           static_cast<int32_t>(std::floor(p[2])));
    }
    // The surface point itself also marks the blocks within `margin` of it: the corners of the cubes
    // around the surface must all exist, also where the band of this pixel ends (silhouettes, image
    // borders) and the free-space corner lies in a block no band sample reaches.
    const float ps[3] = {o[0] + rec.depth * a[0], o[1] + rec.depth * a[1], o[2] + rec.depth * a[2]};
    if (!(std::abs(ps[0]) < limit && std::abs(ps[1]) < limit && std::abs(ps[2]) < limit)) continue;
    int lo[3], hi[3];
    for (int c = 0; c < 3; ++c) {
      // Clamped to the box (or the coordinate range): near the limits the margin would reach past it.
      const int first = useBox ? plan.boxLo[c] : -static_cast<int>(limit);
      const int last = useBox ? plan.boxLo[c] + plan.boxDim[c] - 1 : static_cast<int>(limit);
      lo[c] = std::max(first, static_cast<int>(std::floor(ps[c] - margin)));
      hi[c] = std::min(last, static_cast<int>(std::floor(ps[c] + margin)));
    }
    if (lo[0] == hi[0] && lo[1] == hi[1] && lo[2] == hi[2]) continue;  // marked above
    for (int bz = lo[2]; bz <= hi[2]; ++bz)
      for (int by = lo[1]; by <= hi[1]; ++by)
        for (int bx = lo[0]; bx <= hi[0]; ++bx) mark(bx, by, bz);
  }
}

void TsdfVolume::gatherBandBlocks(BandPlan& plan, std::vector<uint64_t>& keys) const {
  keys.clear();
  if (plan.useBox) {
    // x-major scan: keys come out sorted, as packCoord orders them.
    size_t cell = 0;
    for (int32_t x = 0; x < plan.boxDim[0]; ++x)
      for (int32_t y = 0; y < plan.boxDim[1]; ++y)
        for (int32_t z = 0; z < plan.boxDim[2]; ++z, ++cell)
          if (touchedBox_[cell].load(std::memory_order_relaxed))
            keys.push_back(packCoord({plan.boxLo[0] + x, plan.boxLo[1] + y, plan.boxLo[2] + z}));
    return;
  }
  for (auto& v : plan.keys) keys.insert(keys.end(), v.begin(), v.end());
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
}

uint32_t TsdfVolume::preparePixelsAndBand(const FrameInput& f, std::vector<uint64_t>& keys) {
  const Intrinsics& k = f.k;
  const int w = k.width, h = k.height;
  pixels_.resize(static_cast<size_t>(w) * h);
  const float minD = params_.minDepth, maxD = params_.maxDepth;
  const float* depth = f.depth;
  // Split in two so the workers wake (and then spin) while this short pass runs, not during the next.
  DepthScan halves[2];
  const size_t n = pixels_.size();
  pool_.parallelFor(2, 1, [&](size_t c0, size_t c1, unsigned) {
    for (size_t c = c0; c < c1; ++c) halves[c] = scanDepth(depth + c * (n / 2), c == 0 ? n / 2 : n - n / 2, minD, maxD);
  });
  if (const size_t bad = halves[0].bad + halves[1].bad) {
    // Nothing has changed yet: the volume is as it was before this frame.
    size_t first = 0;
    while (first < n && depth[first] >= 0 && !std::isinf(depth[first])) ++first;
    std::ostringstream msg;
    msg << "fusion: depth has " << bad << " NaN, infinite or negative value(s), the first at pixel (" << first % w
        << ", " << first / w << ") = " << depth[first] << "; depth must be finite and >= 0 mm (0 = no measurement)";
    throw std::invalid_argument(msg.str());
  }
  BandPlan plan = planBand(f, std::max(halves[0].maxInRange, halves[1].maxInRange));
  std::vector<uint32_t> counts(pool_.size(), 0);
  const float* conf = f.confidence;
  const bool angle = params_.angleWeighting;
  // One pass: a worker marks the band's blocks from the rows it has just weighted, while their records
  // are in its own cache.
  pool_.parallelFor(static_cast<size_t>(h), 8, [&](size_t y0, size_t y1, unsigned worker) {
    uint32_t count = 0;
    std::vector<float> angleWeight(static_cast<size_t>(w), -1.0f);
    for (size_t vv = y0; vv < y1; ++vv) {
      const int v = static_cast<int>(vv);
      const float yn = rowYn_[v];
      const size_t rowStart = static_cast<size_t>(v) * w;
      const float* dRow = depth + rowStart;
      const bool interiorRow = v > 0 && v + 1 < h;
      // The view-angle weight where the four neighbours are valid (central differences); -1 asks the
      // record pass below for fallbackAngleWeight, which also serves the columns this loop leaves.
      std::fill(angleWeight.begin(), angleWeight.end(), -1.0f);
#if defined(__SSE2__)
      if (angle && interiorRow) {
        const float* dUp = dRow - w;
        const float* dDn = dRow + w;
        const float yUp = rowYn_[v - 1], yDn = rowYn_[v + 1];
        const float* xs = colXn_.data();
        // Four pixels at a time; the cosine through rsqrt (12-bit precision is plenty for a weight) instead
        // of a square root and a division: this loop was a fifth of the integration time at 1 mm.
        const __m128 vyn = _mm_set1_ps(yn), vyUp = _mm_set1_ps(yUp), vyDn = _mm_set1_ps(yDn);
        const __m128 lo = _mm_set1_ps(minD), hi = _mm_set1_ps(maxD), one = _mm_set1_ps(1.0f);
        const __m128 floorW = _mm_set1_ps(kMinAngleWeight), none = _mm_set1_ps(-1.0f), tiny = _mm_set1_ps(1e-30f);
        const __m128 rayYz = _mm_set1_ps(1.0f + yn * yn);
        const __m128 absMask = _mm_castsi128_ps(_mm_set1_epi32(0x7fffffff));
        auto inRange = [&](__m128 d) { return _mm_and_ps(_mm_cmpge_ps(d, lo), _mm_cmple_ps(d, hi)); };
        for (int u = 1; u + 4 < w; u += 4) {
          const __m128 dl = _mm_loadu_ps(dRow + u - 1), dr = _mm_loadu_ps(dRow + u + 1);
          const __m128 dt = _mm_loadu_ps(dUp + u), db = _mm_loadu_ps(dDn + u);
          const __m128 xl = _mm_loadu_ps(xs + u - 1), xc = _mm_loadu_ps(xs + u), xr = _mm_loadu_ps(xs + u + 1);
          const __m128 dx = _mm_sub_ps(dr, dl), dy = _mm_sub_ps(db, dt);
          const __m128 tx0 = _mm_sub_ps(_mm_mul_ps(xr, dr), _mm_mul_ps(xl, dl)), tx1 = _mm_mul_ps(vyn, dx);
          const __m128 ty0 = _mm_mul_ps(xc, dy), ty1 = _mm_sub_ps(_mm_mul_ps(vyDn, db), _mm_mul_ps(vyUp, dt));
          const __m128 n0 = _mm_sub_ps(_mm_mul_ps(tx1, dy), _mm_mul_ps(dx, ty1));
          const __m128 n1 = _mm_sub_ps(_mm_mul_ps(dx, ty0), _mm_mul_ps(tx0, dy));
          const __m128 n2 = _mm_sub_ps(_mm_mul_ps(tx0, ty1), _mm_mul_ps(tx1, ty0));
          const __m128 nn2 = _mm_add_ps(_mm_add_ps(_mm_mul_ps(n0, n0), _mm_mul_ps(n1, n1)), _mm_mul_ps(n2, n2));
          const __m128 ray2 = _mm_add_ps(rayYz, _mm_mul_ps(xc, xc));
          const __m128 dot = _mm_and_ps(_mm_add_ps(_mm_add_ps(_mm_mul_ps(n0, xc), _mm_mul_ps(n1, vyn)), n2), absMask);
          __m128 c = _mm_mul_ps(dot, _mm_rsqrt_ps(_mm_max_ps(_mm_mul_ps(nn2, ray2), tiny)));
          c = _mm_max_ps(_mm_min_ps(c, one), floorW);
          const __m128 ok = _mm_and_ps(_mm_and_ps(inRange(dl), inRange(dr)), _mm_and_ps(inRange(dt), inRange(db)));
          _mm_storeu_ps(angleWeight.data() + u, _mm_or_ps(_mm_and_ps(ok, c), _mm_andnot_ps(ok, none)));
        }
      }
#endif
      // Records (depth, weight), four pixels at a time; the one-sided view angle, needed only near
      // invalid pixels and at borders, for the lanes that need it. Confidence is applied after.
      PixelRecord* __restrict out = &pixels_[rowStart];
      const float* __restrict aw = angleWeight.data();
      uint32_t rowCount = 0;
      int u = 0;
#if defined(__SSE2__)
      {
        static_assert(sizeof(PixelRecord) == 2 * sizeof(float), "records are (depth, weight) float pairs");
        const __m128 lo = _mm_set1_ps(minD), hi = _mm_set1_ps(maxD), one = _mm_set1_ps(1.0f);
        const __m128 zero = _mm_setzero_ps();
        float* rec = reinterpret_cast<float*>(out);
        for (; u + 4 <= w; u += 4) {
          const __m128 d = _mm_loadu_ps(dRow + u);
          const __m128 valid = _mm_and_ps(_mm_cmpge_ps(d, lo), _mm_cmple_ps(d, hi));
          __m128 weight = _mm_and_ps(valid, one);
          int fallbacks = 0;
          if (angle) {
            const __m128 a = _mm_loadu_ps(aw + u);
            const __m128 fallback = _mm_cmplt_ps(a, zero);
            weight = _mm_and_ps(valid, _mm_or_ps(_mm_and_ps(fallback, one), _mm_andnot_ps(fallback, a)));
            fallbacks = _mm_movemask_ps(_mm_and_ps(fallback, valid));
          }
          _mm_storeu_ps(rec + 2 * u, _mm_unpacklo_ps(d, weight));
          _mm_storeu_ps(rec + 2 * u + 4, _mm_unpackhi_ps(d, weight));
          for (; fallbacks != 0; fallbacks &= fallbacks - 1) {
            const int x = u + __builtin_ctz(static_cast<unsigned>(fallbacks));
            out[x].weight = fallbackAngleWeight(f, x, v);
          }
          rowCount += static_cast<uint32_t>(__builtin_popcount(_mm_movemask_ps(valid)));
        }
      }
#endif
      for (; u < w; ++u) {
        const float d = dRow[u];
        const bool valid = (d >= minD) & (d <= maxD);
        const float a = aw[u];
        out[u].depth = d;
        out[u].weight = valid ? (!angle ? 1.0f : a >= 0 ? a : fallbackAngleWeight(f, u, v)) : 0.0f;
        rowCount += valid;
      }
      if (conf) {
        rowCount = 0;
        for (int x = 0; x < w; ++x) {
          const float c = conf[rowStart + x];
          if (out[x].weight > 0) out[x].weight *= c > 0 && std::isfinite(c) ? c : 0;
          rowCount += out[x].weight > 0;
        }
      }
      count += rowCount;
      if (v % plan.stride == 0) markBandBlocks(plan, f, v, worker);
    }
    counts[worker] += count;
  });
  gatherBandBlocks(plan, keys);
  uint32_t total = 0;
  for (uint32_t c : counts) total += c;
  return total;
}

void TsdfVolume::integrateBlock(Block& block, const FrameInput& f, const double* W, bool& changed) const {
  const PixelRecord* pixels = pixels_.data();
  const uint8_t* rgb = f.rgb;
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
  // All of the block's voxels are projected first and their pixels prefetched, then updated: the
  // update loop otherwise stalls on every pixel record and colour it reads (measured: loads of the
  // pixel data were 45% of the update time).
  alignas(16) int32_t pix[kBlockVoxels];
  alignas(16) float depthZ[kBlockVoxels];
  alignas(16) float rayScale[kBlockVoxels];  // |q| / q_z: turns a depth difference into a distance along the ray
  for (int z = 0; z < kBlockDim; ++z) {
    for (int y = 0; y < kBlockDim; ++y) {
      const float px = px0 + z * sz[0] + y * sy[0];
      const float py = py0 + z * sz[1] + y * sy[1];
      const float pz = pz0 + z * sz[2] + y * sy[2];
      const int rowBase = voxelIndex(0, y, z);
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
        alignas(16) int32_t ius[4], ivs[4], ok[4];
        _mm_store_si128(reinterpret_cast<__m128i*>(ius), _mm_cvttps_epi32(u));
        _mm_store_si128(reinterpret_cast<__m128i*>(ivs), _mm_cvttps_epi32(v));
        _mm_store_si128(reinterpret_cast<__m128i*>(ok), _mm_castps_si128(inside));
        _mm_store_ps(depthZ + rowBase + x0, qz);
        const __m128 len2 = _mm_add_ps(_mm_add_ps(_mm_mul_ps(qx, qx), _mm_mul_ps(qy, qy)), _mm_mul_ps(qz, qz));
        _mm_store_ps(rayScale + rowBase + x0, _mm_mul_ps(_mm_sqrt_ps(len2), inv));
        for (int j = 0; j < 4; ++j) {
          const int32_t i = ok[j] ? ivs[j] * width + ius[j] : -1;
          pix[rowBase + x0 + j] = i;
          if (i >= 0) {
            _mm_prefetch(reinterpret_cast<const char*>(pixels + i), _MM_HINT_T0);
            if (rgb) _mm_prefetch(reinterpret_cast<const char*>(rgb + 3 * static_cast<size_t>(i)), _MM_HINT_T0);
          }
        }
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
        pix[rowBase + x] = inside ? i : -1;
        depthZ[rowBase + x] = qz;
        rayScale[rowBase + x] = std::sqrt(qx * qx + qy * qy + qz * qz) * inv;
      }
#endif
    }
  }
  bool any = false;
  Voxel* vox = block.voxels;
  for (int n = 0; n < kBlockVoxels; ++n) {
    if (pix[n] < 0) continue;
    const size_t i = static_cast<size_t>(pix[n]);
    const PixelRecord& rec = pixels[i];
    const float pw = rec.weight;
    if (!(pw > 0)) continue;
    // The band reaches `trunc` behind the surface along the optical axis, as far as the distance
    // along the ray (which is longer off-axis) gives the value: voxels just behind the surface are
    // observed everywhere in the image, and the surface's edges close as completely as on-axis.
    const float dz = rec.depth - depthZ[n];
    if (dz < -trunc) continue;
    const float sdf = dz * rayScale[n];
    const float t = sdf >= trunc ? 1.0f : std::max(sdf * invTrunc, -1.0f);
    // Behind the observed surface the projective distance is least reliable (the ray may have
    // grazed the surface); trust fades linearly to the truncation limit.
    const float w = t < 0 ? pw * (1.0f + t) + 1e-3f * pw : pw;
    Voxel& vx = vox[n];
    const float W0 = vx.weight, nw = W0 + w, invNw = 1.0f / nw;
    vx.tsdf = (vx.tsdf * W0 + t * w) * invNw;
    if (rgb) {
      const uint8_t* c = rgb + 3 * i;
      vx.r = static_cast<uint8_t>((vx.r * W0 + c[0] * w) * invNw + 0.5f);
      vx.g = static_cast<uint8_t>((vx.g * W0 + c[1] * w) * invNw + 0.5f);
      vx.b = static_cast<uint8_t>((vx.b * W0 + c[2] * w) * invNw + 0.5f);
    }
    vx.weight = nw < maxW ? nw : maxW;
    any = true;
  }
  changed = any;
}

IntegrateStats TsdfVolume::integrate(const FrameInput& f) {
  validateIntrinsics(f.k);
  validatePose(f.pose);
  if (!f.depth) throw std::invalid_argument("fusion: depth image is missing");
  prepareRays(f.k);

  IntegrateStats stats;
  using Clock = std::chrono::steady_clock;
  const auto ms = [](Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
  };
  const auto t0 = Clock::now();
  std::vector<uint64_t> keys;
  stats.validPixels = preparePixelsAndBand(f, keys);
  ++integrations_;
  const auto t2 = Clock::now();

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
  const auto t3 = Clock::now();

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
  const auto t4 = Clock::now();
  stats.prepareMs = ms(t0, t2);
  stats.allocateMs = ms(t2, t3);
  stats.updateMs = ms(t3, t4);
  return stats;
}

}  // namespace navws::fusion
