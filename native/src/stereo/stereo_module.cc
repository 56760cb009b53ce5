// JS surface of the stereo kernel (addon.stereo):
//   new Matcher({ width, height, minDisparity?, numDisparities?, p1?, p2?, p2Gradient?, paths?, uniqueness?,
//                 lrMaxDiff?, speckleWindow?, speckleRange?, bandOverlap? })
//   matcher.compute({ left, right, fx?, baseline?, disparityOffset?, minDepth?, maxDepth? })
//     -> { disparity, confidence, depth?, valid, rejectedUniqueness, rejectedLr, rejectedSpeckle, rejectedRange }
// left/right: Uint8Array of width*height (grey) or width*height*3 (RGB) of a rectified pair. Invalid pixels
// have disparity 0, confidence 0 and depth 0 (unknown). depth = fx * baseline / disparity (mm) when fx and
// baseline (mm) are given; disparityOffset = cx_left - cx_right of the rectified pair (default 0) is
// subtracted first. The matcher keeps its cost volumes between calls (one allocation per size).
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "core/js_options.h"
#include "core/module_registry.h"
#include "core/thread_pool.h"
#include "stereo/sgm_matcher.h"

namespace navws::stereo {
namespace {

constexpr const char* kModule = "stereo";

[[noreturn]] void ThrowType(Napi::Env env, const std::string& msg) { js::ThrowType(env, kModule, msg); }
[[noreturn]] void ThrowRange(Napi::Env env, const std::string& msg) { js::ThrowRange(env, kModule, msg); }

double GetNumber(Napi::Object o, const char* key, double fallback, bool required = false) {
  return js::GetNumber(kModule, o, key, fallback, required);
}

int GetInt(Napi::Object o, const char* key, int fallback, int lo, int hi, bool required = false) {
  return js::GetInt(kModule, o, key, fallback, lo, hi, required);
}

class MatcherWrap : public Napi::ObjectWrap<MatcherWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Matcher", {InstanceMethod("compute", &MatcherWrap::Compute)});
  }

  explicit MatcherWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<MatcherWrap>(info) {
    Napi::Env env = info.Env();
    if (!info.IsConstructCall()) ThrowType(env, "Matcher must be called with new");
    if (info.Length() < 1 || !info[0].IsObject()) ThrowType(env, "Matcher(options): options object expected");
    Napi::Object o = info[0].As<Napi::Object>();
    const int width = GetInt(o, "width", 0, 16, 1 << 14, true);
    const int height = GetInt(o, "height", 0, 8, 1 << 14, true);
    SgmOptions opt;
    opt.min_disparity = GetInt(o, "minDisparity", opt.min_disparity, 0, 4096);
    opt.num_disparities = GetInt(o, "numDisparities", opt.num_disparities, 8, 256);
    if (opt.num_disparities % 8 != 0) ThrowRange(env, "'numDisparities' must be a multiple of 8");
    opt.p1 = GetInt(o, "p1", opt.p1, 0, 1000);
    opt.p2 = GetInt(o, "p2", opt.p2, 0, 1000);
    if (opt.p2 < opt.p1) ThrowRange(env, "'p2' must be >= 'p1'");
    opt.p2_gradient = GetInt(o, "p2Gradient", opt.p2_gradient, 0, 255);
    opt.paths = GetInt(o, "paths", opt.paths, 4, 8);
    if (opt.paths != 4 && opt.paths != 5 && opt.paths != 8) ThrowRange(env, "'paths' must be 4, 5 or 8");
    opt.uniqueness = GetInt(o, "uniqueness", opt.uniqueness, 0, 99);
    opt.lr_max_diff = GetInt(o, "lrMaxDiff", opt.lr_max_diff, -1, 256);
    opt.speckle_window = GetInt(o, "speckleWindow", opt.speckle_window, 0, 1 << 20);
    opt.speckle_range = static_cast<float>(GetNumber(o, "speckleRange", opt.speckle_range));
    if (!(opt.speckle_range >= 0)) ThrowRange(env, "'speckleRange' must be >= 0");
    opt.band_overlap = GetInt(o, "bandOverlap", opt.band_overlap, 0, 1 << 14);
    opt.cost_box = GetInt(o, "costBox", opt.cost_box, 0, 3);
    if (opt.cost_box > 0 && opt.paths != 5) ThrowRange(env, "'costBox' needs 'paths' 5 (one sweep)");
    matcher_ = std::make_unique<SgmMatcher>(width, height, opt, ThreadPool::shared());
    external_bytes_ = static_cast<int64_t>(matcher_->MemoryBytes());
    Napi::MemoryManagement::AdjustExternalMemory(env, external_bytes_);
  }

  ~MatcherWrap() override {
    if (external_bytes_ > 0) Napi::MemoryManagement::AdjustExternalMemory(Env(), -external_bytes_);
  }

 private:
  // Grey view of an image argument: the bytes themselves, or a converted copy of RGB.
  const uint8_t* Grey(Napi::Object o, const char* key, std::vector<uint8_t>& scratch) {
    Napi::Env env = o.Env();
    Napi::Value v = o.Get(key);
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      ThrowType(env, std::string("'") + key + "' must be a Uint8Array (grey or RGB)");
    }
    Napi::Uint8Array a = v.As<Napi::Uint8Array>();
    const size_t n = static_cast<size_t>(matcher_->width()) * matcher_->height();
    if (a.ElementLength() == n) return a.Data();
    if (a.ElementLength() == 3 * n) {
      scratch.resize(n);
      RgbToGrey(a.Data(), n, scratch.data());
      return scratch.data();
    }
    ThrowRange(env, std::string("'") + key + "' has " + std::to_string(a.ElementLength()) + " bytes, expected " +
                        std::to_string(n) + " (grey) or " + std::to_string(3 * n) + " (RGB) for " +
                        std::to_string(matcher_->width()) + "x" + std::to_string(matcher_->height()));
  }

  Napi::Value Compute(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) ThrowType(env, "compute({ left, right, ... }): object expected");
    Napi::Object o = info[0].As<Napi::Object>();
    const uint8_t* left = Grey(o, "left", grey_l_);
    const uint8_t* right = Grey(o, "right", grey_r_);
    const bool want_depth = !o.Get("fx").IsUndefined() || !o.Get("baseline").IsUndefined();
    const double fx = GetNumber(o, "fx", 0, want_depth);
    const double baseline = GetNumber(o, "baseline", 0, want_depth);
    if (want_depth && (!(fx > 0) || !(baseline > 0))) ThrowRange(env, "'fx' and 'baseline' must be positive");
    const double offset = GetNumber(o, "disparityOffset", 0);
    const double min_depth = GetNumber(o, "minDepth", 0);
    const double max_depth = GetNumber(o, "maxDepth", 0);
    if (min_depth < 0 || max_depth < 0) ThrowRange(env, "'minDepth' and 'maxDepth' must be >= 0");

    const size_t n = static_cast<size_t>(matcher_->width()) * matcher_->height();
    Napi::Float32Array disparity = Napi::Float32Array::New(env, n);
    Napi::Float32Array confidence = Napi::Float32Array::New(env, n);
    const SgmStats st = matcher_->Compute(left, right, disparity.Data(), confidence.Data());
    Napi::Object out = Napi::Object::New(env);
    size_t valid = st.valid, rejected_range = 0;
    if (want_depth) {
      Napi::Float32Array depth = Napi::Float32Array::New(env, n);
      float* dp = depth.Data();
      float* dis = disparity.Data();
      float* conf = confidence.Data();
      const double fb = fx * baseline;
      for (size_t i = 0; i < n; ++i) {
        dp[i] = 0;
        if (!(dis[i] > 0)) continue;
        const double shifted = dis[i] - offset;
        const double z = shifted > 0 ? fb / shifted : 0;
        if (!(z > 0) || (min_depth > 0 && z < min_depth) || (max_depth > 0 && z > max_depth)) {
          dis[i] = 0;
          conf[i] = 0;
          ++rejected_range;
          --valid;
          continue;
        }
        dp[i] = static_cast<float>(z);
      }
      out.Set("depth", depth);
    }
    out.Set("disparity", disparity);
    out.Set("confidence", confidence);
    out.Set("valid", static_cast<double>(valid));
    out.Set("rejectedUniqueness", static_cast<double>(st.rejected_uniqueness));
    out.Set("rejectedLr", static_cast<double>(st.rejected_lr));
    out.Set("rejectedSpeckle", static_cast<double>(st.rejected_speckle));
    out.Set("rejectedRange", static_cast<double>(rejected_range));
    out.Set("bands", static_cast<double>(st.bands));
    out.Set("avx2", SgmMatcher::UsesAvx2());
    return out;
  }

  std::unique_ptr<SgmMatcher> matcher_;
  std::vector<uint8_t> grey_l_, grey_r_;
  int64_t external_bytes_ = 0;
};

// remapRgb(src, width, height, mapX, mapY, outWidth, outHeight) -> Uint8Array: bilinear resampling of an
// RGB image through a lookup table (source pixel coordinates per output pixel; outside = black). The
// rectification of each stereo frame, on the shared pool.
Napi::Value RemapRgbJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 7) ThrowType(env, "remapRgb(src, width, height, mapX, mapY, outWidth, outHeight) needs 7 arguments");
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    ThrowType(env, "remapRgb: 'src' must be a Uint8Array");
  for (int i : {1, 2, 5, 6})
    if (!info[i].IsNumber()) ThrowType(env, "remapRgb: sizes must be numbers");
  for (int i : {3, 4})
    if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      ThrowType(env, "remapRgb: 'mapX' and 'mapY' must be Float32Arrays");
  const int w = info[1].As<Napi::Number>().Int32Value(), h = info[2].As<Napi::Number>().Int32Value();
  const int ow = info[5].As<Napi::Number>().Int32Value(), oh = info[6].As<Napi::Number>().Int32Value();
  if (w < 2 || h < 2 || ow < 1 || oh < 1 || w > (1 << 14) || h > (1 << 14) || ow > (1 << 14) || oh > (1 << 14))
    ThrowRange(env, "remapRgb: sizes out of range");
  Napi::Uint8Array src = info[0].As<Napi::Uint8Array>();
  Napi::Float32Array mx = info[3].As<Napi::Float32Array>(), my = info[4].As<Napi::Float32Array>();
  const size_t n = static_cast<size_t>(ow) * oh;
  if (src.ElementLength() != static_cast<size_t>(w) * h * 3) ThrowRange(env, "remapRgb: 'src' is not width*height*3 bytes");
  if (mx.ElementLength() != n || my.ElementLength() != n) ThrowRange(env, "remapRgb: the maps are not outWidth*outHeight");
  Napi::Uint8Array out = Napi::Uint8Array::New(env, n * 3);
  const uint8_t* s = src.Data();
  const float* px = mx.Data();
  const float* py = my.Data();
  uint8_t* o = out.Data();
  ThreadPool::shared().parallelFor(static_cast<size_t>(oh), 8, [&](size_t y0, size_t y1, unsigned) {
    for (size_t i = y0 * ow; i < y1 * ow; ++i) {
      const float x = px[i], y = py[i];
      uint8_t* q = o + 3 * i;
      if (!(x >= 0 && y >= 0 && x <= w - 1 && y <= h - 1)) {
        q[0] = q[1] = q[2] = 0;
        continue;
      }
      const int x0 = std::min(w - 2, static_cast<int>(x)), y0i = std::min(h - 2, static_cast<int>(y));
      const float fx = x - x0, fy = y - y0i;
      const uint8_t* a = s + 3 * (static_cast<size_t>(y0i) * w + x0);
      const uint8_t* b = a + 3 * static_cast<size_t>(w);
      for (int c = 0; c < 3; ++c) {
        const float top = a[c] + fx * (a[3 + c] - a[c]);
        const float bottom = b[c] + fx * (b[3 + c] - b[c]);
        q[c] = static_cast<uint8_t>(std::lround(top + fy * (bottom - top)));
      }
    }
  });
  return out;
}

void InitStereo(Napi::Env env, Napi::Object exports) {
  exports.Set("Matcher", MatcherWrap::Define(env));
  exports.Set("remapRgb", Napi::Function::New(env, RemapRgbJs, "remapRgb"));
  // A function, not a value: reading the size creates the pool, which must wait for the thread budget.
  exports.Set("threads", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
    return Napi::Number::New(info.Env(), ThreadPool::shared().size());
  }));
  exports.Set("censusBits", kCensusBits);
}

}  // namespace
}  // namespace navws::stereo

NAVWS_REGISTER_MODULE(stereo, navws::stereo::InitStereo);
