// One Node-API addon hosts every native kernel family (fusion, tracking, ...). Each family registers
// its exports from its own translation unit, so adding one never edits a shared switchboard file.
#pragma once

#include <napi.h>

#include <functional>
#include <string>
#include <vector>

namespace navws {

using ModuleInit = std::function<void(Napi::Env env, Napi::Object exports)>;

struct ModuleEntry {
  std::string name;
  ModuleInit init;
};

// Function-local static: safe to use from static initialisers in other translation units.
std::vector<ModuleEntry>& ModuleRegistry();

struct ModuleRegistrar {
  ModuleRegistrar(const char* name, ModuleInit init) { ModuleRegistry().push_back({name, std::move(init)}); }
};

}  // namespace navws

// Registers `init_fn` under `exports.<name>`.
#define NAVWS_REGISTER_MODULE(name, init_fn) \
  static ::navws::ModuleRegistrar navws_registrar_##name(#name, init_fn)
