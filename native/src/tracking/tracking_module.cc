// JS surface of the tracking kernels (addon.tracking):
//   new Frame({ rgb, width, height, depth?, fx, fy, cx, cy, levels?, ... })  -- pyramid + keyframe points
//   frame.info() -> { width, height, levels, hasDepth, points: number[], medianDepth, usableFraction }
//   align(keyframe, frame, poseInit, options?) -> { pose, gain, bias, ok, reason, iterations, ... }
// Every argument is validated and a bad one throws a TypeError/RangeError naming it; degenerate data is
// not an error but an `ok: false` result, so the tracker can report 'lost' instead of crashing.
#include <napi.h>

#include <cmath>
#include <memory>
#include <string>

#include "core/js_options.h"
#include "core/module_registry.h"
#include "tracking/frame_pyramid.h"
#include "tracking/photometric_aligner.h"
#include "core/thread_pool.h"

namespace navws::tracking {
namespace {

constexpr napi_type_tag kFrameTag = {0x6e61767773747261ULL, 0x636b6672616d6531ULL};
constexpr int kMaxLevels = 8;

constexpr const char* kModule = "tracking";

[[noreturn]] void ThrowType(Napi::Env env, const std::string& msg) { js::ThrowType(env, kModule, msg); }
[[noreturn]] void ThrowRange(Napi::Env env, const std::string& msg) { js::ThrowRange(env, kModule, msg); }

double GetNumber(Napi::Object o, const char* key, double fallback, bool required = false) {
  return js::GetNumber(kModule, o, key, fallback, required);
}

int GetInt(Napi::Object o, const char* key, int fallback, int lo, int hi, bool required = false) {
  return js::GetInt(kModule, o, key, fallback, lo, hi, required);
}

bool GetBool(Napi::Object o, const char* key, bool fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsBoolean()) ThrowType(o.Env(), std::string("'") + key + "' must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

class FrameWrap : public Napi::ObjectWrap<FrameWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Frame", {InstanceMethod("info", &FrameWrap::Info)});
  }

  explicit FrameWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<FrameWrap>(info) {
    Napi::Env env = info.Env();
    if (!info.IsConstructCall()) ThrowType(env, "Frame must be called with new");
    if (info.Length() < 1 || !info[0].IsObject()) ThrowType(env, "Frame(options): options object expected");
    Napi::Object o = info[0].As<Napi::Object>();
    const int width = GetInt(o, "width", 0, 8, 1 << 14, true);
    const int height = GetInt(o, "height", 0, 8, 1 << 14, true);
    const size_t n = static_cast<size_t>(width) * height;
    Napi::Value rgbv = o.Get("rgb");
    if (!rgbv.IsTypedArray() || rgbv.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      ThrowType(env, "'rgb' must be a Uint8Array of width*height*3 bytes");
    }
    Napi::Uint8Array rgb = rgbv.As<Napi::Uint8Array>();
    if (rgb.ElementLength() != n * 3) {
      ThrowRange(env, "'rgb' has " + std::to_string(rgb.ElementLength()) + " bytes, expected " +
                          std::to_string(n * 3) + " for " + std::to_string(width) + "x" + std::to_string(height));
    }
    const float* depth = nullptr;
    Napi::Value dv = o.Get("depth");
    if (!dv.IsUndefined() && !dv.IsNull()) {
      if (!dv.IsTypedArray() || dv.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
        ThrowType(env, "'depth' must be a Float32Array (mm) or null");
      }
      Napi::Float32Array d = dv.As<Napi::Float32Array>();
      if (d.ElementLength() != n) {
        ThrowRange(env, "'depth' has " + std::to_string(d.ElementLength()) + " values, expected " + std::to_string(n));
      }
      depth = d.Data();
    }
    PinholeK k{GetNumber(o, "fx", 0, true), GetNumber(o, "fy", 0, true), GetNumber(o, "cx", 0, true),
               GetNumber(o, "cy", 0, true)};
    if (!(k.fx > 0) || !(k.fy > 0)) ThrowRange(env, "'fx' and 'fy' must be positive");
    int levels = GetInt(o, "levels", 4, 1, kMaxLevels);
    // Never build a level smaller than 8 pixels across: it could not hold a keyframe.
    while (levels > 1 && ((width >> (levels - 1)) < 8 || (height >> (levels - 1)) < 8)) --levels;
    MaskOptions mo;
    mo.saturation = GetInt(o, "saturation", mo.saturation, 1, 256);
    mo.dark = GetInt(o, "dark", mo.dark, 0, 255);
    mo.dark_margin = GetInt(o, "darkMargin", mo.dark_margin, 0, 64);
    mo.specular_margin = GetInt(o, "specularMargin", mo.specular_margin, 0, 64);
    mo.normalise_radius = GetInt(o, "normaliseRadius", mo.normalise_radius, -1, 4096);
    PointOptions po;
    po.min_gradient = static_cast<float>(GetNumber(o, "minGradient", po.min_gradient));
    if (!(po.min_gradient >= 0)) ThrowRange(env, "'minGradient' must be >= 0");
    po.max_points = GetInt(o, "maxPoints", po.max_points, 16, 1 << 22);
    pyramid_ = std::make_unique<FramePyramid>(rgb.Data(), depth, width, height, k, levels, mo, po);
    external_bytes_ = static_cast<int64_t>(pyramid_->MemoryBytes());
    Napi::MemoryManagement::AdjustExternalMemory(env, external_bytes_);
    info.This().As<Napi::Object>().TypeTag(&kFrameTag);
  }

  ~FrameWrap() override {
    if (external_bytes_ > 0) Napi::MemoryManagement::AdjustExternalMemory(Env(), -external_bytes_);
  }

  const FramePyramid& Pyramid() const { return *pyramid_; }

  static const FrameWrap* From(Napi::Value v, const char* what) {
    if (!v.IsObject() || !v.As<Napi::Object>().CheckTypeTag(&kFrameTag)) {
      ThrowType(v.Env(), std::string("'") + what + "' must be a tracking.Frame");
    }
    return Napi::ObjectWrap<FrameWrap>::Unwrap(v.As<Napi::Object>());
  }

 private:
  Napi::Value Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    const PyramidLevel& l0 = pyramid_->Level(0);
    out.Set("width", l0.width);
    out.Set("height", l0.height);
    out.Set("levels", pyramid_->Levels());
    out.Set("hasDepth", pyramid_->HasDepth());
    Napi::Array pts = Napi::Array::New(env, static_cast<size_t>(pyramid_->Levels()));
    for (int i = 0; i < pyramid_->Levels(); ++i) {
      pts.Set(static_cast<uint32_t>(i), static_cast<double>(pyramid_->Level(i).points.size()));
    }
    out.Set("points", pts);
    out.Set("medianDepth", pyramid_->MedianPointDepth());
    out.Set("usableFraction", pyramid_->UsableFraction());
    out.Set("texturedFraction", pyramid_->TexturedFraction());
    return out;
  }

  std::unique_ptr<FramePyramid> pyramid_;
  int64_t external_bytes_ = 0;
};

std::array<double, 16> ReadPose(Napi::Value v, const char* what) {
  Napi::Env env = v.Env();
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
      v.As<Napi::TypedArray>().ElementLength() != 16) {
    ThrowType(env, std::string("'") + what + "' must be a Float64Array of 16 (row-major 4x4)");
  }
  Napi::Float64Array a = v.As<Napi::Float64Array>();
  std::array<double, 16> m{};
  for (size_t i = 0; i < 16; ++i) {
    m[i] = a[i];
    if (!std::isfinite(m[i])) ThrowRange(env, std::string("'") + what + "' has a non-finite element");
  }
  // Rigid: orthonormal rotation, last row [0 0 0 1].
  double worst = std::fabs(m[12]) + std::fabs(m[13]) + std::fabs(m[14]) + std::fabs(m[15] - 1);
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      double s = 0;
      for (int c = 0; c < 3; ++c) s += m[i * 4 + c] * m[j * 4 + c];
      worst = std::max(worst, std::fabs(s - (i == j ? 1.0 : 0.0)));
    }
  }
  if (worst > 1e-4) ThrowRange(env, std::string("'") + what + "' is not a rigid transform");
  return m;
}

Napi::Value AlignJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3) ThrowType(env, "align(keyframe, frame, poseInit, options?) needs 3 arguments");
  const FrameWrap* kf = FrameWrap::From(info[0], "keyframe");
  const FrameWrap* tf = FrameWrap::From(info[1], "frame");
  const std::array<double, 16> pose = ReadPose(info[2], "poseInit");
  const PyramidLevel& a = kf->Pyramid().Level(0);
  const PyramidLevel& b = tf->Pyramid().Level(0);
  if (a.width != b.width || a.height != b.height) ThrowRange(env, "keyframe and frame differ in size");
  AlignOptions opts;
  if (info.Length() > 3 && !info[3].IsUndefined() && !info[3].IsNull()) {
    if (!info[3].IsObject()) ThrowType(env, "'options' must be an object");
    Napi::Object o = info[3].As<Napi::Object>();
    opts.max_iterations_coarse = GetInt(o, "maxIterationsCoarse", opts.max_iterations_coarse, 0, 1000);
    opts.max_iterations_fine = GetInt(o, "maxIterationsFine", opts.max_iterations_fine, 0, 1000);
    opts.finest_level = GetInt(o, "finestLevel", opts.finest_level, 0, kMaxLevels - 1);
    opts.estimate_affine = GetBool(o, "estimateAffine", opts.estimate_affine);
    opts.huber_k = GetNumber(o, "huberK", opts.huber_k);
    opts.truncation = GetNumber(o, "truncation", opts.truncation);
    opts.min_sigma = GetNumber(o, "minSigma", opts.min_sigma);
    opts.min_points = GetInt(o, "minPoints", opts.min_points, 8, 1 << 22);
    opts.init_gain = GetNumber(o, "gain", opts.init_gain);
    opts.init_bias = GetNumber(o, "bias", opts.init_bias);
    opts.depth_weight = GetNumber(o, "depthWeight", opts.depth_weight);
    opts.min_sigma_depth = GetNumber(o, "minSigmaDepth", opts.min_sigma_depth);
    if (!(opts.depth_weight >= 0) || !(opts.min_sigma_depth > 0)) {
      ThrowRange(env, "'depthWeight' must be >= 0 and 'minSigmaDepth' positive");
    }
    if (!(opts.huber_k > 0) || !(opts.truncation > 0) || !(opts.min_sigma > 0)) {
      ThrowRange(env, "'huberK', 'truncation' and 'minSigma' must be positive");
    }
    if (!(opts.init_gain > 0)) ThrowRange(env, "'gain' must be positive");
  }
  const AlignResult r = Align(kf->Pyramid(), tf->Pyramid(), pose, opts);
  Napi::Object out = Napi::Object::New(env);
  Napi::Float64Array p = Napi::Float64Array::New(env, 16);
  for (size_t i = 0; i < 16; ++i) p[i] = r.pose[i];
  out.Set("pose", p);
  out.Set("ok", r.ok);
  out.Set("reason", r.reason);
  out.Set("gain", r.gain);
  out.Set("bias", r.bias);
  out.Set("iterations", r.iterations);
  Napi::Array li = Napi::Array::New(env);
  for (int i = 0; i < kf->Pyramid().Levels() && i < 8; ++i) li.Set(static_cast<uint32_t>(i), r.level_iterations[i]);
  out.Set("levelIterations", li);
  out.Set("rms", r.rms);
  out.Set("sigma", r.sigma);
  out.Set("cost", r.cost);
  out.Set("validPoints", r.valid_points);
  out.Set("totalPoints", r.total_points);
  out.Set("inlierRatio", r.inlier_ratio);
  out.Set("depthPoints", r.depth_points);
  out.Set("depthRms", r.depth_rms);
  out.Set("depthScale", r.depth_scale);
  out.Set("checkedPoints", r.checked_points);
  out.Set("consistentPoints", r.consistent_points);
  out.Set("reprojectionError", r.reprojection_error);
  return out;
}

void InitTracking(Napi::Env env, Napi::Object exports) {
  exports.Set("Frame", FrameWrap::Define(env));
  exports.Set("align", Napi::Function::New(env, AlignJs, "align"));
  exports.Set("consistencyPx", kConsistencyPx);
  // A function, not a value: reading the size creates the pool, which must wait for the thread budget.
  exports.Set("threads", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
    return Napi::Number::New(info.Env(), ThreadPool::shared().size());
  }));
}

}  // namespace
}  // namespace navws::tracking

NAVWS_REGISTER_MODULE(tracking, navws::tracking::InitTracking);
