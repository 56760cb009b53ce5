#include "core/module_registry.h"

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
  return exports;
}

NODE_API_MODULE(navws_native, InitNavwsNative)
