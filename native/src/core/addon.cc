#include "core/module_registry.h"
#include "core/thread_pool.h"

namespace navws {

std::vector<ModuleEntry>& ModuleRegistry() {
  static std::vector<ModuleEntry> registry;
  return registry;
}

}  // namespace navws

static Napi::Object InitNavwsNative(Napi::Env env, Napi::Object exports) {
  Napi::Array names = Napi::Array::New(env);
  uint32_t i = 0;
  for (const navws::ModuleEntry& entry : navws::ModuleRegistry()) {
    Napi::Object sub = Napi::Object::New(env);
    entry.init(env, sub);
    exports.Set(entry.name, sub);
    names.Set(i++, Napi::String::New(env, entry.name));
  }
  exports.Set("modules", names);
  exports.Set("abi", Napi::Number::New(env, NAPI_VERSION));
  exports.Set("configureThreadPool", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
    const Napi::Env e = info.Env();
    if (info.Length() < 1 || !info[0].IsNumber()) {
      Napi::TypeError::New(e, "configureThreadPool(threads): threads must be a number").ThrowAsJavaScriptException();
      return e.Undefined();
    }
    const double n = info[0].As<Napi::Number>().DoubleValue();
    if (!(n >= 1 && n <= 64) || n != static_cast<double>(static_cast<unsigned>(n))) {
      Napi::RangeError::New(e, "configureThreadPool(threads): threads must be a whole number from 1 to 64")
          .ThrowAsJavaScriptException();
      return e.Undefined();
    }
    return Napi::Number::New(e, navws::ThreadPool::configureShared(static_cast<unsigned>(n)));
  }));
  return exports;
}

NODE_API_MODULE(navws_native, InitNavwsNative)
