#include "tracking/frame_pyramid.h"

#include <algorithm>
#include <cmath>

#include "core/thread_pool.h"

namespace navws::tracking {
namespace {

// Runs fn(y0, y1) over row bands of an image on the shared pool.
template <typename Fn>
void ParallelRows(int h, Fn&& fn) {
  ThreadPool::shared().parallelChunks(static_cast<size_t>(std::max(h, 0)), 8, [&](size_t, size_t y0, size_t y1) {
    fn(static_cast<int>(y0), static_cast<int>(y1));
  });
}

// Marks every pixel within `radius` (Chebyshev distance) of a bad pixel as bad: separable max filter.
void GrowBad(std::vector<uint8_t>& bad, int w, int h, int radius) {
  if (radius <= 0 || std::find(bad.begin(), bad.end(), 1) == bad.end()) return;
  std::vector<uint8_t> tmp(bad.size());
  ParallelRows(h, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      const uint8_t* row = &bad[static_cast<size_t>(y) * w];
      uint8_t* out = &tmp[static_cast<size_t>(y) * w];
      for (int x = 0; x < w; ++x) {
        uint8_t b = 0;
        for (int dx = std::max(0, x - radius); dx <= std::min(w - 1, x + radius) && !b; ++dx) b = row[dx];
        out[x] = b;
      }
    }
  });
  ParallelRows(h, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      for (int x = 0; x < w; ++x) {
        uint8_t b = 0;
        for (int dy = std::max(0, y - radius); dy <= std::min(h - 1, y + radius) && !b; ++dy) {
          b = tmp[static_cast<size_t>(dy) * w + x];
        }
        bad[static_cast<size_t>(y) * w + x] = b;
      }
    }
  });
}

// Central-difference gradients; the outermost pixel ring has none and is masked out.
void ComputeGradients(PyramidLevel& lv, const std::vector<float>& grey) {
  const int w = lv.width, h = lv.height;
  lv.igrad.assign(static_cast<size_t>(w) * h * 4, 0.0f);
  ParallelRows(h, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      for (int x = 0; x < w; ++x) {
        const size_t i = static_cast<size_t>(y) * w + x;
        float* g = &lv.igrad[i * 4];
        g[0] = grey[i];
        if (x == 0 || y == 0 || x == w - 1 || y == h - 1) {
          lv.mask[i] = 0;
          continue;
        }
        g[1] = 0.5f * (grey[i + 1] - grey[i - 1]);
        g[2] = 0.5f * (grey[i + w] - grey[i - w]);
      }
    }
  });
}

// Central-difference depth gradients; pixels next to unknown depth or across a depth edge (neighbours
// differing by more than 10%) are marked untrustworthy.
void ComputeDepthGradients(PyramidLevel& lv) {
  const int w = lv.width, h = lv.height;
  lv.dgrad.assign(static_cast<size_t>(w) * h * 4, 0.0f);
  ParallelRows(h, [&](int y0, int y1) {
    for (int y = std::max(1, y0); y < std::min(h - 1, y1); ++y) {
      for (int x = 1; x < w - 1; ++x) {
        const size_t i = static_cast<size_t>(y) * w + x;
        const float z = lv.depth[i], l = lv.depth[i - 1], r = lv.depth[i + 1], u = lv.depth[i - w],
                    d = lv.depth[i + w];
        float* g = &lv.dgrad[i * 4];
        g[0] = z;
        if (!(z > 0 && l > 0 && r > 0 && u > 0 && d > 0)) continue;
        const float lim = 0.1f * z;
        if (std::fabs(r - l) > lim || std::fabs(d - u) > lim) continue;
        g[1] = 0.5f * (r - l);
        g[2] = 0.5f * (d - u);
        g[3] = 1.0f;
      }
    }
  });
}

void SelectPoints(PyramidLevel& lv, const PointOptions& opts) {
  const int w = lv.width, h = lv.height;
  const float g2min = opts.min_gradient * opts.min_gradient;
  const int max_points = std::max(16, opts.max_points);
  const int cell = std::max(1, static_cast<int>(std::floor(std::sqrt(static_cast<double>(w) * h / max_points))));
  lv.points.clear();
  const int cell_rows = (h + cell - 1) / cell;
  ThreadPool& pool = ThreadPool::shared();
  // One list per chunk of cell rows, joined in order: the selection does not depend on the threads.
  std::vector<std::vector<KeyPoint>> parts(pool.chunkCount(static_cast<size_t>(cell_rows), 4));
  pool.parallelChunks(static_cast<size_t>(cell_rows), 4, [&](size_t chunk, size_t r0, size_t r1) {
  std::vector<KeyPoint>& out = parts[chunk];
  for (int cy = static_cast<int>(r0) * cell; cy < static_cast<int>(r1) * cell; cy += cell) {
    for (int cx = 0; cx < w; cx += cell) {
      float best = g2min;
      int bx = -1, by = -1;
      for (int y = cy; y < std::min(h, cy + cell); ++y) {
        for (int x = cx; x < std::min(w, cx + cell); ++x) {
          const size_t i = static_cast<size_t>(y) * w + x;
          const float z = lv.depth[i];
          if (!lv.mask[i] || !(z > 0.0f) || !std::isfinite(z)) continue;
          const float* g = &lv.igrad[i * 4];
          const float g2 = g[1] * g[1] + g[2] * g[2];
          if (g2 >= best) {
            best = g2;
            bx = x;
            by = y;
          }
        }
      }
      if (bx < 0) continue;
      const size_t i = static_cast<size_t>(by) * w + bx;
      const float z = lv.depth[i];
      const float x3 = static_cast<float>((bx - lv.k.cx) / lv.k.fx) * z;
      const float y3 = static_cast<float>((by - lv.k.cy) / lv.k.fy) * z;
      out.push_back({x3, y3, z, lv.igrad[i * 4], static_cast<float>(bx), static_cast<float>(by)});
    }
  }
  });
  for (const std::vector<KeyPoint>& part : parts) lv.points.insert(lv.points.end(), part.begin(), part.end());
}

// grey <- 128 + 100 (grey - mean) / mean, with the mean over usable pixels in a (2r+1)^2 window
// (integral images, so the cost does not depend on r).
void NormaliseIllumination(std::vector<float>& grey, const std::vector<uint8_t>& usable, int w, int h, int r) {
  const size_t W = static_cast<size_t>(w) + 1;
  std::vector<double> sum(W * (h + 1), 0.0), cnt(W * (h + 1), 0.0);
  for (int y = 0; y < h; ++y) {
    double rs = 0, rc = 0;
    for (int x = 0; x < w; ++x) {
      const size_t i = static_cast<size_t>(y) * w + x;
      if (usable[i]) {
        rs += grey[i];
        rc += 1;
      }
      sum[(y + 1) * W + x + 1] = sum[y * W + x + 1] + rs;
      cnt[(y + 1) * W + x + 1] = cnt[y * W + x + 1] + rc;
    }
  }
  ThreadPool::shared().parallelChunks(static_cast<size_t>(h), 16, [&](size_t, size_t y0, size_t y1) {
    for (int y = static_cast<int>(y0); y < static_cast<int>(y1); ++y) {
      const int ya = std::max(0, y - r), yb = std::min(h, y + r + 1);
      for (int x = 0; x < w; ++x) {
        const int xa = std::max(0, x - r), xb = std::min(w, x + r + 1);
        const double s = sum[yb * W + xb] - sum[ya * W + xb] - sum[yb * W + xa] + sum[ya * W + xa];
        const double c = cnt[yb * W + xb] - cnt[ya * W + xb] - cnt[yb * W + xa] + cnt[ya * W + xa];
        const size_t i = static_cast<size_t>(y) * w + x;
        const double mean = c > 0 ? s / c : 128.0;
        grey[i] = static_cast<float>(128.0 + 100.0 * (grey[i] - mean) / std::max(mean, 8.0));
      }
    }
  });
}

}  // namespace

FramePyramid::FramePyramid(const uint8_t* rgb, const float* depth, int width, int height, const PinholeK& k,
                           int levels, const MaskOptions& mask_opts, const PointOptions& point_opts) {
  has_depth_ = depth != nullptr;
  const size_t n = static_cast<size_t>(width) * height;
  std::vector<float> grey(n);
  std::vector<uint8_t> bad_dark(n), bad_spec(n);
  ThreadPool::shared().parallelChunks(n, 8192, [&](size_t, size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      const int r = rgb[3 * i], g = rgb[3 * i + 1], b = rgb[3 * i + 2];
      const float v = 0.299f * r + 0.587f * g + 0.114f * b;
      grey[i] = v;
      bad_dark[i] = v < mask_opts.dark;
      bad_spec[i] = std::max(r, std::max(g, b)) >= mask_opts.saturation;
    }
  });
  GrowBad(bad_dark, width, height, mask_opts.dark_margin);
  GrowBad(bad_spec, width, height, mask_opts.specular_margin);

  levels_.resize(static_cast<size_t>(std::max(1, levels)));
  PyramidLevel& l0 = levels_[0];
  l0.width = width;
  l0.height = height;
  l0.k = k;
  l0.mask.resize(n);
  size_t usable = 0;
  for (size_t i = 0; i < n; ++i) {
    l0.mask[i] = !(bad_dark[i] || bad_spec[i]);
    usable += l0.mask[i];
  }
  usable_fraction_ = n ? static_cast<double>(usable) / n : 0.0;
  const int radius = mask_opts.normalise_radius < 0 ? std::max(4, width / 12) : mask_opts.normalise_radius;
  if (radius > 0) NormaliseIllumination(grey, l0.mask, width, height, radius);
  if (has_depth_) {
    l0.depth.resize(n);
    for (size_t i = 0; i < n; ++i) {
      const float z = depth[i];
      l0.depth[i] = (std::isfinite(z) && z > 0.0f) ? z : 0.0f;
    }
  }
  ComputeGradients(l0, grey);
  {
    const float g2min = point_opts.min_gradient * point_opts.min_gradient;
    size_t textured = 0;
    for (size_t i = 0; i < n; ++i) {
      const float* g = &l0.igrad[i * 4];
      textured += l0.mask[i] && g[1] * g[1] + g[2] * g[2] >= g2min;
    }
    textured_fraction_ = n ? static_cast<double>(textured) / n : 0.0;
  }

  std::vector<float> prev_grey = std::move(grey);
  for (size_t li = 1; li < levels_.size(); ++li) {
    const PyramidLevel& src = levels_[li - 1];
    PyramidLevel& dst = levels_[li];
    dst.width = std::max(1, src.width / 2);
    dst.height = std::max(1, src.height / 2);
    // Pixel centres at integer coordinates: a 2x2 block's centre is at 2x + 0.5.
    dst.k = {src.k.fx / 2, src.k.fy / 2, (src.k.cx + 0.5) / 2 - 0.5, (src.k.cy + 0.5) / 2 - 0.5};
    const int w = dst.width, h = dst.height, sw = src.width;
    std::vector<float> g(static_cast<size_t>(w) * h);
    dst.mask.assign(g.size(), 0);
    if (has_depth_) dst.depth.assign(g.size(), 0.0f);
    ParallelRows(h, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      for (int x = 0; x < w; ++x) {
        const size_t s = static_cast<size_t>(2 * y) * sw + 2 * x;
        const size_t idx[4] = {s, s + 1, s + sw, s + sw + 1};
        const size_t d = static_cast<size_t>(y) * w + x;
        float sum = 0;
        for (size_t j : idx) sum += prev_grey[j];
        // A coarse pixel is usable only when all four fine pixels are: the mask shrinks, never grows.
        const uint8_t ok = src.mask[idx[0]] && src.mask[idx[1]] && src.mask[idx[2]] && src.mask[idx[3]];
        g[d] = 0.25f * sum;
        dst.mask[d] = ok;
        if (has_depth_) {
          float zsum = 0, zmin = 1e30f, zmax = 0;
          int zn = 0;
          for (size_t j : idx) {
            const float z = src.depth[j];
            if (z > 0) {
              zsum += z;
              zmin = std::min(zmin, z);
              zmax = std::max(zmax, z);
              ++zn;
            }
          }
          // Averaging across a depth edge would invent a surface between foreground and background.
          if (zn >= 2 && zmax - zmin <= 0.05f * (zsum / zn)) dst.depth[d] = zsum / zn;
        }
      }
    }
    });
    ComputeGradients(dst, g);
    prev_grey = std::move(g);
  }

  if (has_depth_) {
    for (PyramidLevel& lv : levels_) ComputeDepthGradients(lv);
    for (size_t li = 0; li < levels_.size(); ++li) {
      PointOptions opts = point_opts;
      opts.max_points = std::max(16, point_opts.max_points >> li);
      SelectPoints(levels_[li], opts);
    }
    std::vector<float> zs;
    zs.reserve(levels_[0].points.size());
    for (const KeyPoint& p : levels_[0].points) zs.push_back(p.z);
    if (!zs.empty()) {
      std::nth_element(zs.begin(), zs.begin() + zs.size() / 2, zs.end());
      median_point_depth_ = zs[zs.size() / 2];
    }
  }
}

size_t FramePyramid::MemoryBytes() const {
  size_t bytes = 0;
  for (const PyramidLevel& lv : levels_) {
    bytes += lv.mask.size() + (lv.igrad.size() + lv.dgrad.size() + lv.depth.size()) * sizeof(float) +
             lv.points.size() * sizeof(KeyPoint);
  }
  return bytes;
}

}  // namespace navws::tracking
