#include "tracking/photometric_aligner.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/thread_pool.h"

namespace navws::tracking {
namespace {

constexpr int kMaxParams = 9;  // [v(3) w(3) gain bias depth-scale]
constexpr size_t kMinChunk = 1024;
// The affine model pivots on mid-grey, I_t = gain * (I_k - 128) + 128 + bias, so that gain and bias are
// nearly uncorrelated on normalised images (whose mean is ~128).
constexpr float kPivot = 128.0f;
constexpr double kMinGain = 0.4, kMaxGain = 2.5;
// The frame's depth may differ from the keyframe's by a scale (per-frame network depth): the geometric
// residual is c * D_frame - z with c a nuisance parameter in this range, so only the shape of the depth
// constrains the pose and its overall scale cannot pull the translation.
constexpr double kMinDepthScale = 0.7, kMaxDepthScale = 1.4;
constexpr double kDepthScalePrior = 100.0;
// Below this share of textured pixels a frame is not trusted even if its depth would align.
constexpr double kMinTexturedFraction = 0.01;

struct Rigid {
  double r[9];
  double t[3];
};

Rigid FromMatrix(const std::array<double, 16>& m) {
  return {{m[0], m[1], m[2], m[4], m[5], m[6], m[8], m[9], m[10]}, {m[3], m[7], m[11]}};
}

std::array<double, 16> ToMatrix(const Rigid& a) {
  return {a.r[0], a.r[1], a.r[2], a.t[0], a.r[3], a.r[4], a.r[5], a.t[1],
          a.r[6], a.r[7], a.r[8], a.t[2], 0,      0,      0,      1};
}

Rigid Compose(const Rigid& a, const Rigid& b) {
  Rigid c{};
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      c.r[i * 3 + j] = a.r[i * 3] * b.r[j] + a.r[i * 3 + 1] * b.r[3 + j] + a.r[i * 3 + 2] * b.r[6 + j];
    }
    c.t[i] = a.r[i * 3] * b.t[0] + a.r[i * 3 + 1] * b.t[1] + a.r[i * 3 + 2] * b.t[2] + a.t[i];
  }
  return c;
}

Rigid Inverse(const Rigid& a) {
  Rigid b{};
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) b.r[i * 3 + j] = a.r[j * 3 + i];
  }
  for (int i = 0; i < 3; ++i) b.t[i] = -(b.r[i * 3] * a.t[0] + b.r[i * 3 + 1] * a.t[1] + b.r[i * 3 + 2] * a.t[2]);
  return b;
}

// exp of the twist [v; w] (same convention as src/shared/math/se3.ts).
Rigid Se3Exp(const double* xi) {
  const double wx = xi[3], wy = xi[4], wz = xi[5];
  const double th2 = wx * wx + wy * wy + wz * wz;
  const double th = std::sqrt(th2);
  const double a = th < 1e-4 ? 1 - th2 / 6 : std::sin(th) / th;
  const double b = th < 1e-4 ? 0.5 - th2 / 24 : (1 - std::cos(th)) / th2;
  const double c = th < 1e-4 ? 1.0 / 6 - th2 / 120 : (th - std::sin(th)) / (th2 * th);
  const double k[9] = {0, -wz, wy, wz, 0, -wx, -wy, wx, 0};
  double k2[9];
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) k2[i * 3 + j] = k[i * 3] * k[j] + k[i * 3 + 1] * k[3 + j] + k[i * 3 + 2] * k[6 + j];
  }
  Rigid out{};
  double v[9];
  for (int i = 0; i < 9; ++i) {
    const double id = (i % 4 == 0) ? 1.0 : 0.0;
    out.r[i] = id + a * k[i] + b * k2[i];
    v[i] = id + b * k[i] + c * k2[i];
  }
  for (int i = 0; i < 3; ++i) out.t[i] = v[i * 3] * xi[0] + v[i * 3 + 1] * xi[1] + v[i * 3 + 2] * xi[2];
  return out;
}

bool IsFinite(const Rigid& a) {
  for (double x : a.r) {
    if (!std::isfinite(x)) return false;
  }
  for (double x : a.t) {
    if (!std::isfinite(x)) return false;
  }
  return true;
}

// Residuals and what the Jacobian needs, per keyframe point, for one pose hypothesis.
struct Warp {
  std::vector<float> r, gx, gy, qx, qy, qz;
  std::vector<float> rd, dgx, dgy;  // depth residual (mm) and depth gradient of the frame
  std::vector<uint8_t> valid, dvalid;
  void Resize(size_t n) {
    rd.resize(n);
    dgx.resize(n);
    dgy.resize(n);
    dvalid.resize(n);
    r.resize(n);
    gx.resize(n);
    gy.resize(n);
    qx.resize(n);
    qy.resize(n);
    qz.resize(n);
    valid.resize(n);
  }
  void Swap(Warp& o) {
    r.swap(o.r);
    gx.swap(o.gx);
    gy.swap(o.gy);
    qx.swap(o.qx);
    qy.swap(o.qy);
    qz.swap(o.qz);
    valid.swap(o.valid);
    rd.swap(o.rd);
    dgx.swap(o.dgx);
    dgy.swap(o.dgy);
    dvalid.swap(o.dvalid);
  }
};

struct Robust {
  double delta;  // Huber threshold
  double cut;    // truncation threshold
  // Weight for IRLS and the robust cost of one residual.
  inline void Eval(double r, double& w, double& rho) const {
    const double a = std::fabs(r);
    if (a > cut) {
      w = 0;
      rho = delta * (cut - 0.5 * delta);  // constant beyond the cut: no pull, bounded cost
    } else if (a > delta) {
      w = delta / a;
      rho = delta * (a - 0.5 * delta);
    } else {
      w = 1;
      rho = 0.5 * r * r;
    }
  }
};

Robust MakeRobust(double sigma, const AlignOptions& o) {
  return {o.huber_k * sigma, std::max(o.truncation, o.huber_k * 1.5) * sigma};
}

// How residuals are weighted for one step: the robust kernel (photometric units) and the factor that
// brings depth residuals (mm) into photometric units; 0 = no geometric term.
struct Weights {
  Robust robust;
  double depth_scale;
};

struct Partial {
  double cost = 0;
  size_t n = 0;
};

// Mean (per point) cost of the affine priors.
double Priors(double gain, double bias, double depth_scale, const AlignOptions& o) {
  const double dc = depth_scale - 1.0;
  double p = 0.5 * kDepthScalePrior * dc * dc;
  if (!o.estimate_affine) return p;
  const double dg = gain - o.init_gain, db = bias - o.init_bias;
  return p + 0.5 * (o.gain_prior * dg * dg + o.bias_prior * db * db);
}

// Warps every point with (pose, gain, bias), fills `out`, and returns the robust cost under `robust`.
Partial ResidualPass(const PyramidLevel& kf, const PyramidLevel& tf, const Rigid& pose, double gain, double bias,
                     double depth_scale, const Weights& wt, Warp& out) {
  const float cscale = static_cast<float>(depth_scale);
  const Robust& robust = wt.robust;
  const bool use_depth = wt.depth_scale > 0 && !tf.dgrad.empty();
  const std::vector<KeyPoint>& pts = kf.points;
  out.Resize(pts.size());
  ThreadPool& pool = ThreadPool::shared();
  std::vector<Partial> parts(pool.chunkCount(pts.size(), kMinChunk));
  const float r00 = static_cast<float>(pose.r[0]), r01 = static_cast<float>(pose.r[1]),
              r02 = static_cast<float>(pose.r[2]), r10 = static_cast<float>(pose.r[3]),
              r11 = static_cast<float>(pose.r[4]), r12 = static_cast<float>(pose.r[5]),
              r20 = static_cast<float>(pose.r[6]), r21 = static_cast<float>(pose.r[7]),
              r22 = static_cast<float>(pose.r[8]);
  const float t0 = static_cast<float>(pose.t[0]), t1 = static_cast<float>(pose.t[1]),
              t2 = static_cast<float>(pose.t[2]);
  const float fx = static_cast<float>(tf.k.fx), fy = static_cast<float>(tf.k.fy), cx = static_cast<float>(tf.k.cx),
              cy = static_cast<float>(tf.k.cy);
  const int w = tf.width, h = tf.height;
  const float g = static_cast<float>(gain), o = static_cast<float>(bias);
  pool.parallelChunks(pts.size(), kMinChunk, [&](size_t chunk, size_t begin, size_t end) {
    Partial acc;
    for (size_t i = begin; i < end; ++i) {
      const KeyPoint& p = pts[i];
      const float qx = r00 * p.x + r01 * p.y + r02 * p.z + t0;
      const float qy = r10 * p.x + r11 * p.y + r12 * p.z + t1;
      const float qz = r20 * p.x + r21 * p.y + r22 * p.z + t2;
      out.valid[i] = 0;
      out.dvalid[i] = 0;
      if (!(qz > 1e-3f)) continue;
      const float iz = 1.0f / qz;
      const float u = fx * qx * iz + cx, v = fy * qy * iz + cy;
      if (!(u >= 0.0f && v >= 0.0f && u < static_cast<float>(w - 1) && v < static_cast<float>(h - 1))) continue;
      const int ui = static_cast<int>(u), vi = static_cast<int>(v);
      const size_t idx = static_cast<size_t>(vi) * w + ui;
      if (!(tf.mask[idx] & tf.mask[idx + 1] & tf.mask[idx + w] & tf.mask[idx + w + 1])) continue;
      const float du = u - ui, dv = v - vi;
      const float w00 = (1 - du) * (1 - dv), w01 = du * (1 - dv), w10 = (1 - du) * dv, w11 = du * dv;
      const float* a = &tf.igrad[idx * 4];
      const float* b = a + 4;
      const float* c = a + static_cast<size_t>(w) * 4;
      const float* d = c + 4;
      const float it = w00 * a[0] + w01 * b[0] + w10 * c[0] + w11 * d[0];
      out.gx[i] = w00 * a[1] + w01 * b[1] + w10 * c[1] + w11 * d[1];
      out.gy[i] = w00 * a[2] + w01 * b[2] + w10 * c[2] + w11 * d[2];
      const float r = it - (g * (p.intensity - kPivot) + kPivot + o);
      out.r[i] = r;
      out.qx[i] = qx;
      out.qy[i] = qy;
      out.qz[i] = qz;
      out.valid[i] = 1;
      double wgt, rho;
      robust.Eval(r, wgt, rho);
      acc.cost += rho;
      ++acc.n;
      if (use_depth) {
        const float* da = &tf.dgrad[idx * 4];
        const float* db = da + 4;
        const float* dc = da + static_cast<size_t>(w) * 4;
        const float* dd = dc + 4;
        if (da[3] > 0 && db[3] > 0 && dc[3] > 0 && dd[3] > 0) {
          out.rd[i] = cscale * (w00 * da[0] + w01 * db[0] + w10 * dc[0] + w11 * dd[0]) - qz;
          out.dgx[i] = cscale * (w00 * da[1] + w01 * db[1] + w10 * dc[1] + w11 * dd[1]);
          out.dgy[i] = cscale * (w00 * da[2] + w01 * db[2] + w10 * dc[2] + w11 * dd[2]);
          out.dvalid[i] = 1;
          robust.Eval(wt.depth_scale * out.rd[i], wgt, rho);
          acc.cost += rho;
        }
      }
    }
    parts[chunk] = acc;
  });
  Partial total;
  for (const Partial& p : parts) {
    total.cost += p.cost;
    total.n += p.n;
  }
  return total;
}

double RobustScale(const Warp& wp, const AlignOptions& o) {
  std::vector<float> a;
  a.reserve(wp.r.size());
  for (size_t i = 0; i < wp.r.size(); ++i) {
    if (wp.valid[i]) a.push_back(std::fabs(wp.r[i]));
  }
  if (a.empty()) return o.min_sigma;
  std::nth_element(a.begin(), a.begin() + a.size() / 2, a.end());
  return std::max(o.min_sigma, 1.4826 * a[a.size() / 2]);
}

double DepthScale(const Warp& wp, const AlignOptions& o) {
  std::vector<float> a;
  a.reserve(wp.rd.size());
  for (size_t i = 0; i < wp.rd.size(); ++i) {
    if (wp.valid[i] && wp.dvalid[i]) a.push_back(std::fabs(wp.rd[i]));
  }
  if (a.size() < 16) return 0;
  std::nth_element(a.begin(), a.begin() + a.size() / 2, a.end());
  return std::max(o.min_sigma_depth, 1.4826 * a[a.size() / 2]);
}

// Re-estimates both residual scales at the current warp.
Weights MakeWeights(const Warp& wp, const PyramidLevel& tf, const AlignOptions& o) {
  const double sigma = RobustScale(wp, o);
  double depth_scale = 0;
  if (o.depth_weight > 0 && !tf.dgrad.empty()) {
    const double sd = DepthScale(wp, o);
    if (sd > 0) depth_scale = std::sqrt(o.depth_weight) * sigma / sd;
  }
  return {MakeRobust(sigma, o), depth_scale};
}

struct Normal {
  double h[kMaxParams * kMaxParams] = {};  // upper triangle used
  double g[kMaxParams] = {};
  double cost = 0;
  size_t n = 0;
  size_t inliers = 0;
  double sq = 0;
  size_t nd = 0;
  double sqd = 0;
};

// Weighted normal equations H = sum w J J^T, g = sum w J r, with per-chunk partial sums.
// All parameters are accumulated; SolveDamped keeps the active ones.
Normal Accumulate(const PyramidLevel& kf, const PyramidLevel& tf, const Warp& wp, const Weights& wt,
                  double depth_scale) {
  const Robust& robust = wt.robust;
  const double ds = wt.depth_scale;
  const std::vector<KeyPoint>& pts = kf.points;
  ThreadPool& pool = ThreadPool::shared();
  std::vector<Normal> parts(pool.chunkCount(pts.size(), kMinChunk));
  const double fx = tf.k.fx, fy = tf.k.fy;
  pool.parallelChunks(pts.size(), kMinChunk, [&](size_t chunk, size_t begin, size_t end) {
    Normal acc;
    double j[kMaxParams];
    for (size_t i = begin; i < end; ++i) {
      if (!wp.valid[i]) continue;
      const double r = wp.r[i];
      double wgt, rho;
      robust.Eval(r, wgt, rho);
      acc.cost += rho;
      acc.sq += r * r;
      ++acc.n;
      const double qx = wp.qx[i], qy = wp.qy[i], iz = 1.0 / wp.qz[i];
      const double qz = wp.qz[i];
      if (ds > 0 && wp.dvalid[i]) {
        // r_d = D(pi(q)) - q_z, scaled into photometric units.
        const double rd = ds * wp.rd[i];
        double wd, rhod;
        robust.Eval(rd, wd, rhod);
        acc.cost += rhod;
        acc.sqd += static_cast<double>(wp.rd[i]) * wp.rd[i];
        ++acc.nd;
        if (wd > 0) {
          const double du = wp.dgx[i] * fx * iz, dv = wp.dgy[i] * fy * iz;
          const double d0 = ds * du, d1 = ds * dv, d2 = ds * (-(du * qx + dv * qy) * iz - 1.0);
          // d r_d / d c = D_frame(u) = (r_d + z) / c.
          const double dc = ds * (wp.rd[i] + qz) / depth_scale;
          double jd[kMaxParams] = {d0, d1, d2, qy * d2 - qz * d1, qz * d0 - qx * d2, qx * d1 - qy * d0, 0, 0, dc};
          for (int a = 0; a < kMaxParams; ++a) {
            if (a == 6 || a == 7) continue;
            const double wa = wd * jd[a];
            acc.g[a] += wa * rd;
            for (int b = a; b < kMaxParams; ++b) acc.h[a * kMaxParams + b] += wa * jd[b];
          }
        }
      }
      if (wgt <= 0) continue;
      ++acc.inliers;
      const double ju = wp.gx[i] * fx * iz, jv = wp.gy[i] * fy * iz;
      // dI/dq for the camera-frame point q, then dq/d(xi) = [I | -[q]x] for a left increment.
      const double jq0 = ju, jq1 = jv, jq2 = -(ju * qx + jv * qy) * iz;
      j[0] = jq0;
      j[1] = jq1;
      j[2] = jq2;
      j[3] = qy * jq2 - qz * jq1;
      j[4] = qz * jq0 - qx * jq2;
      j[5] = qx * jq1 - qy * jq0;
      j[6] = -(pts[i].intensity - kPivot);
      j[7] = -1.0;
      for (int a = 0; a < 8; ++a) {
        const double wa = wgt * j[a];
        acc.g[a] += wa * r;
        for (int b = a; b < 8; ++b) acc.h[a * kMaxParams + b] += wa * j[b];
      }
    }
    parts[chunk] = acc;
  });
  Normal total;
  for (const Normal& p : parts) {
    for (int a = 0; a < kMaxParams * kMaxParams; ++a) total.h[a] += p.h[a];
    for (int a = 0; a < kMaxParams; ++a) total.g[a] += p.g[a];
    total.cost += p.cost;
    total.n += p.n;
    total.inliers += p.inliers;
    total.sq += p.sq;
    total.nd += p.nd;
    total.sqd += p.sqd;
  }
  for (int a = 0; a < kMaxParams; ++a) {
    for (int b = 0; b < a; ++b) total.h[a * kMaxParams + b] = total.h[b * kMaxParams + a];
  }
  return total;
}

// The priors' share of the normal equations of the summed cost (n points).
void AddPriors(Normal& ne, double gain, double bias, double depth_scale, const AlignOptions& o) {
  const double n = static_cast<double>(ne.n);
  ne.h[8 * kMaxParams + 8] += n * kDepthScalePrior;
  ne.g[8] += n * kDepthScalePrior * (depth_scale - 1.0);
  if (!o.estimate_affine) return;
  ne.h[6 * kMaxParams + 6] += n * o.gain_prior;
  ne.g[6] += n * o.gain_prior * (gain - o.init_gain);
  ne.h[7 * kMaxParams + 7] += n * o.bias_prior;
  ne.g[7] += n * o.bias_prior * (bias - o.init_bias);
}

// Solves (H + lambda diag(H)) x = -g by Cholesky; false when the damped system is not positive definite.
// Only the parameters flagged in `active` are solved for; the others get a zero step.
bool SolveDamped(const Normal& ne, const bool* active, double lambda, double* x_out) {
  int idx[kMaxParams];
  int n = 0;
  for (int i = 0; i < kMaxParams; ++i) {
    x_out[i] = 0;
    if (active[i]) idx[n++] = i;
  }
  double a[kMaxParams * kMaxParams];
  double x[kMaxParams];
  double maxdiag = 0;
  for (int i = 0; i < n; ++i) maxdiag = std::max(maxdiag, ne.h[idx[i] * kMaxParams + idx[i]]);
  if (!(maxdiag > 0) || !std::isfinite(maxdiag)) return false;
  for (int i = 0; i < n; ++i) {
    for (int k = 0; k < n; ++k) a[i * n + k] = ne.h[idx[i] * kMaxParams + idx[k]];
    a[i * n + i] *= 1 + lambda;
  }
  // In place: lower triangle becomes L with A = L L^T.
  for (int c = 0; c < n; ++c) {
    double d = a[c * n + c];
    for (int k = 0; k < c; ++k) d -= a[c * n + k] * a[c * n + k];
    if (!(d > 1e-12 * maxdiag)) return false;
    d = std::sqrt(d);
    a[c * n + c] = d;
    for (int r = c + 1; r < n; ++r) {
      double s = a[r * n + c];
      for (int k = 0; k < c; ++k) s -= a[r * n + k] * a[c * n + k];
      a[r * n + c] = s / d;
    }
  }
  double y[kMaxParams];
  for (int r = 0; r < n; ++r) {
    double s = -ne.g[idx[r]];
    for (int k = 0; k < r; ++k) s -= a[r * n + k] * y[k];
    y[r] = s / a[r * n + r];
  }
  for (int r = n - 1; r >= 0; --r) {
    double s = y[r];
    for (int k = r + 1; k < n; ++k) s -= a[k * n + r] * x[k];
    x[r] = s / a[r * n + r];
  }
  for (int i = 0; i < n; ++i) {
    if (!std::isfinite(x[i])) return false;
    x_out[idx[i]] = x[i];
  }
  return true;
}

void MeasureConsistency(const PyramidLevel& kf, const PyramidLevel& tf, const Rigid& pose, AlignResult& res) {
  if (tf.depth.empty()) return;
  const Rigid inv = Inverse(pose);
  double sum = 0;
  int checked = 0, consistent = 0;
  for (const KeyPoint& p : kf.points) {
    const double qx = pose.r[0] * p.x + pose.r[1] * p.y + pose.r[2] * p.z + pose.t[0];
    const double qy = pose.r[3] * p.x + pose.r[4] * p.y + pose.r[5] * p.z + pose.t[1];
    const double qz = pose.r[6] * p.x + pose.r[7] * p.y + pose.r[8] * p.z + pose.t[2];
    if (!(qz > 1e-3)) continue;
    const double u = tf.k.fx * qx / qz + tf.k.cx, v = tf.k.fy * qy / qz + tf.k.cy;
    const long ui = std::lround(u), vi = std::lround(v);
    if (ui < 0 || vi < 0 || ui >= tf.width || vi >= tf.height) continue;
    const float z = tf.depth[static_cast<size_t>(vi) * tf.width + ui];
    if (!(z > 0)) continue;
    ++checked;
    const double bx = (u - tf.k.cx) / tf.k.fx * z, by = (v - tf.k.cy) / tf.k.fy * z, bz = z;
    const double kx = inv.r[0] * bx + inv.r[1] * by + inv.r[2] * bz + inv.t[0];
    const double ky = inv.r[3] * bx + inv.r[4] * by + inv.r[5] * bz + inv.t[1];
    const double kz = inv.r[6] * bx + inv.r[7] * by + inv.r[8] * bz + inv.t[2];
    if (!(kz > 1e-3)) continue;
    const double du = kf.k.fx * kx / kz + kf.k.cx - p.u, dv = kf.k.fy * ky / kz + kf.k.cy - p.v;
    const double e = std::sqrt(du * du + dv * dv);
    if (e <= kConsistencyPx) {
      ++consistent;
      sum += e;
    }
  }
  res.checked_points = checked;
  res.consistent_points = consistent;
  res.reprojection_error = consistent > 0 ? sum / consistent : 0;
}

}  // namespace

AlignResult Align(const FramePyramid& keyframe, const FramePyramid& frame, const std::array<double, 16>& pose_init,
                  const AlignOptions& opts) {
  AlignResult res;
  Rigid pose = FromMatrix(pose_init);
  double gain = opts.init_gain, bias = opts.init_bias, depth_scale = 1.0;
  res.pose = ToMatrix(pose);
  res.gain = gain;
  res.bias = bias;
  if (!keyframe.HasDepth()) {
    res.reason = "keyframe has no depth";
    return res;
  }
  if (frame.TexturedFraction() < kMinTexturedFraction) {
    res.reason = "frame has no usable texture (uniform, black or saturated)";
    return res;
  }
  const int levels = std::min(keyframe.Levels(), frame.Levels());
  const int finest = std::clamp(opts.finest_level, 0, levels - 1);
  // Coarse levels start far from the optimum, where lowering the gain "explains" misalignment better
  // than moving; the brightness model is estimated only on the two finest levels.
  const int affine_from = finest + 1;
  const double scene_depth = keyframe.MedianPointDepth() > 0 ? keyframe.MedianPointDepth() : 1.0;
  Warp cur, cand;
  bool any_level = false;
  bool finest_ok = false;
  for (int level = levels - 1; level >= finest; --level) {
    const PyramidLevel& kl = keyframe.Level(level);
    const PyramidLevel& tl = frame.Level(level);
    const int max_it = level == finest ? opts.max_iterations_fine : opts.max_iterations_coarse;
    const bool affine = opts.estimate_affine && level <= affine_from;
    bool active[kMaxParams] = {true, true, true, true, true, true, affine, affine, false};
    const size_t min_points = static_cast<size_t>(std::max(opts.min_points, 8));
    if (kl.points.size() < min_points) continue;
    // The first pass only collects residuals; its weights are replaced before anything uses them.
    Weights wt{MakeRobust(opts.min_sigma, opts), opts.depth_weight > 0 ? 1.0 : 0.0};
    Partial p = ResidualPass(kl, tl, pose, gain, bias, depth_scale, wt, cur);
    if (p.n < min_points) continue;
    wt = MakeWeights(cur, tl, opts);
    Normal ne = Accumulate(kl, tl, cur, wt, depth_scale);
    AddPriors(ne, gain, bias, depth_scale, opts);
    double cost = ne.cost / static_cast<double>(ne.n) + Priors(gain, bias, depth_scale, opts);
    double lambda = 0;
    int it = 0;
    bool solvable = true;
    while (it < max_it) {
      double x[kMaxParams] = {};
      active[8] = wt.depth_scale > 0;
      if (!SolveDamped(ne, active, lambda, x)) {
        if (lambda == 0) {
          lambda = 1e-4;
          continue;
        }
        solvable = false;
        break;
      }
      ++it;
      const Rigid cand_pose = Compose(Se3Exp(x), pose);
      const double cand_gain = affine ? gain + x[6] : gain;
      const double cand_bias = affine ? bias + x[7] : bias;
      const double cand_scale = depth_scale + x[8];
      if (!IsFinite(cand_pose) || !std::isfinite(cand_gain) || !std::isfinite(cand_bias)) {
        solvable = false;
        break;
      }
      double cand_cost = INFINITY;
      // A gain outside the plausible range means the brightness model is fitting misalignment.
      if (cand_gain >= kMinGain && cand_gain <= kMaxGain && cand_scale >= kMinDepthScale &&
          cand_scale <= kMaxDepthScale) {
        const Partial cp = ResidualPass(kl, tl, cand_pose, cand_gain, cand_bias, cand_scale, wt, cand);
        if (cp.n >= min_points) {
          cand_cost = cp.cost / static_cast<double>(cp.n) + Priors(cand_gain, cand_bias, cand_scale, opts);
        }
      }
      const double step_t = std::sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]) / scene_depth;
      const double step_r = std::sqrt(x[3] * x[3] + x[4] * x[4] + x[5] * x[5]);
      if (cand_cost < cost) {
        pose = cand_pose;
        gain = cand_gain;
        bias = cand_bias;
        depth_scale = cand_scale;
        cur.Swap(cand);
        wt = MakeWeights(cur, tl, opts);
        ne = Accumulate(kl, tl, cur, wt, depth_scale);
        AddPriors(ne, gain, bias, depth_scale, opts);
        cost = ne.cost / static_cast<double>(ne.n) + Priors(gain, bias, depth_scale, opts);
        lambda = lambda < 1e-5 ? 0 : lambda * 0.1;
        if (step_t < opts.step_epsilon && step_r < opts.step_epsilon) break;
      } else {
        // Rejected: damp towards gradient descent; a tiny rejected step means we are at the minimum.
        if (step_t < opts.step_epsilon && step_r < opts.step_epsilon) break;
        lambda = lambda == 0 ? 1e-4 : lambda * 10;
        if (lambda > 1e4) break;
      }
    }
    res.level_iterations[static_cast<size_t>(std::min(level, 7))] = it;
    res.iterations += it;
    any_level = true;
    if (level == finest) {
      finest_ok = solvable && ne.n >= min_points;
      res.rms = std::sqrt(ne.sq / static_cast<double>(std::max<size_t>(ne.n, 1)));
      res.sigma = wt.robust.delta / opts.huber_k;
      res.depth_points = static_cast<int>(ne.nd);
      res.depth_scale = depth_scale;
      res.depth_rms = ne.nd ? std::sqrt(ne.sqd / static_cast<double>(ne.nd)) : 0;
      res.cost = cost;
      res.valid_points = static_cast<int>(ne.n);
      res.total_points = static_cast<int>(kl.points.size());
      res.inlier_ratio = ne.n ? static_cast<double>(ne.inliers) / static_cast<double>(ne.n) : 0;
      if (!solvable) res.reason = "normal equations are singular (too little texture or too few points)";
    }
  }
  if (!any_level || !finest_ok) {
    if (res.reason.empty()) {
      res.reason = keyframe.Level(finest).points.empty()
                       ? "keyframe has no usable points (no texture, depth or unmasked pixels)"
                       : "too few keyframe points land on usable pixels of the frame";
    }
    res.total_points = static_cast<int>(keyframe.Level(finest).points.size());
    res.pose = ToMatrix(FromMatrix(pose_init));
    res.gain = opts.init_gain;
    res.bias = opts.init_bias;
    return res;
  }
  res.pose = ToMatrix(pose);
  res.gain = gain;
  res.bias = bias;
  res.ok = true;
  MeasureConsistency(keyframe.Level(finest), frame.Level(finest), pose, res);
  return res;
}

}  // namespace navws::tracking
