// Reading option objects passed from JavaScript, with errors that name the kernel family and the key
// ("tracking: 'levels' must be an integer in [1, 8], got 9"). One place for every module's bindings.
#pragma once

#include <napi.h>

#include <cmath>
#include <string>

namespace navws::js {

[[noreturn]] inline void ThrowType(Napi::Env env, const char* module, const std::string& msg) {
  throw Napi::TypeError::New(env, std::string(module) + ": " + msg);
}
[[noreturn]] inline void ThrowRange(Napi::Env env, const char* module, const std::string& msg) {
  throw Napi::RangeError::New(env, std::string(module) + ": " + msg);
}

inline double GetNumber(const char* module, Napi::Object o, const char* key, double fallback, bool required) {
  Napi::Env env = o.Env();
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) {
    if (required) ThrowType(env, module, std::string("'") + key + "' is required");
    return fallback;
  }
  if (!v.IsNumber()) ThrowType(env, module, std::string("'") + key + "' must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) ThrowRange(env, module, std::string("'") + key + "' must be finite");
  return d;
}

inline int GetInt(const char* module, Napi::Object o, const char* key, int fallback, int lo, int hi,
                  bool required) {
  const double d = GetNumber(module, o, key, fallback, required);
  if (d != std::floor(d) || d < lo || d > hi) {
    ThrowRange(o.Env(), module,
               std::string("'") + key + "' must be an integer in [" + std::to_string(lo) + ", " +
                   std::to_string(hi) + "], got " + std::to_string(d));
  }
  return static_cast<int>(d);
}

}  // namespace navws::js
