// JS surface of the fusion kernels: addon.fusion.TsdfVolume. Every argument is validated here or in
// the volume; failures become JS exceptions with a message (never a process crash). Calls are
// synchronous: the TypeScript side runs them inside a worker thread.
#include <napi.h>

#include <cmath>
#include <algorithm>
#include <cstring>
#include <string>

#include "core/module_registry.h"
#include "fusion/tsdf_volume.h"

namespace navws::fusion {
namespace {

[[noreturn]] void fail(Napi::Env env, const std::string& message) { throw Napi::Error::New(env, message); }

double numberField(Napi::Object obj, const char* name, const char* what) {
  Napi::Value v = obj.Get(name);
  if (!v.IsNumber()) fail(obj.Env(), std::string(what) + ": '" + name + "' must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

double optionalNumber(Napi::Object obj, const char* name, double fallback, const char* what) {
  Napi::Value v = obj.Get(name);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsNumber()) fail(obj.Env(), std::string(what) + ": '" + name + "' must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

template <typename T>
T* typedArrayField(Napi::Object obj, const char* name, napi_typedarray_type type, const char* typeName,
                   size_t expected, bool optional, const char* what) {
  Napi::Value v = obj.Get(name);
  if (optional && (v.IsUndefined() || v.IsNull())) return nullptr;
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type)
    fail(obj.Env(), std::string(what) + ": '" + name + "' must be a " + typeName);
  Napi::TypedArray arr = v.As<Napi::TypedArray>();
  if (arr.ElementLength() != expected)
    fail(obj.Env(), std::string(what) + ": '" + name + "' has " + std::to_string(arr.ElementLength()) +
                        " elements, expected " + std::to_string(expected));
  // The element pointer straight from the view: it works for views on a SharedArrayBuffer too (frames
  // shared between threads without a copy), where asking for an ArrayBuffer fails.
  void* data = nullptr;
  if (napi_get_typedarray_info(obj.Env(), arr, nullptr, nullptr, &data, nullptr, nullptr) != napi_ok)
    fail(obj.Env(), std::string(what) + ": '" + name + "' cannot be read");
  return static_cast<T*>(data);
}

int imageSide(Napi::Object obj, const char* name, const char* what) {
  const double v = numberField(obj, name, what);
  if (!(v >= 1 && v <= 16384) || std::floor(v) != v)
    fail(obj.Env(), std::string(what) + ": '" + name + "' must be an integer in 1..16384, got " + std::to_string(v));
  return static_cast<int>(v);
}

Intrinsics parseIntrinsics(Napi::Object obj, const char* what) {
  Intrinsics k;
  k.width = imageSide(obj, "width", what);
  k.height = imageSide(obj, "height", what);
  k.fx = numberField(obj, "fx", what);
  k.fy = numberField(obj, "fy", what);
  k.cx = numberField(obj, "cx", what);
  k.cy = numberField(obj, "cy", what);
  return k;
}

Pose parsePose(Napi::Value v, const char* what) {
  Napi::Env env = v.Env();
  Pose pose;
  if (v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_float64_array) {
    Napi::Float64Array a = v.As<Napi::Float64Array>();
    if (a.ElementLength() != 16) fail(env, std::string(what) + ": pose must have 16 elements (row-major 4x4)");
    std::memcpy(pose.m, a.Data(), sizeof(pose.m));
  } else if (v.IsArray()) {
    Napi::Array a = v.As<Napi::Array>();
    if (a.Length() != 16) fail(env, std::string(what) + ": pose must have 16 elements (row-major 4x4)");
    for (uint32_t i = 0; i < 16; ++i) {
      Napi::Value e = a.Get(i);
      if (!e.IsNumber()) fail(env, std::string(what) + ": pose elements must be numbers");
      pose.m[i] = e.As<Napi::Number>().DoubleValue();
    }
  } else {
    fail(env, std::string(what) + ": pose must be a Float64Array(16) or an array of 16 numbers");
  }
  return pose;
}

template <typename TA, typename T>
TA copyOut(Napi::Env env, const std::vector<T>& v) {
  TA a = TA::New(env, v.size());
  if (!v.empty()) std::memcpy(a.Data(), v.data(), v.size() * sizeof(T));
  return a;
}

class VolumeWrap : public Napi::ObjectWrap<VolumeWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "TsdfVolume",
                       {InstanceMethod("integrate", &VolumeWrap::Integrate),
                        InstanceMethod("extractMesh", &VolumeWrap::ExtractMesh),
                        InstanceMethod("extractMeshIncremental", &VolumeWrap::ExtractIncremental),
                        InstanceMethod("raycast", &VolumeWrap::Raycast),
                        InstanceMethod("memory", &VolumeWrap::Memory), InstanceMethod("reset", &VolumeWrap::Reset)});
  }

  explicit VolumeWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<VolumeWrap>(info) {
    Napi::Env env = info.Env();
    const char* what = "TsdfVolume options";
    VolumeParams p;
    if (info.Length() > 0 && !info[0].IsUndefined()) {
      if (!info[0].IsObject()) fail(env, "TsdfVolume: options must be an object");
      Napi::Object o = info[0].As<Napi::Object>();
      p.voxelSize = static_cast<float>(optionalNumber(o, "voxelSize", p.voxelSize, what));
      p.truncation = static_cast<float>(optionalNumber(o, "truncation", 4 * p.voxelSize, what));
      p.maxWeight = static_cast<float>(optionalNumber(o, "maxWeight", p.maxWeight, what));
      p.minDepth = static_cast<float>(optionalNumber(o, "minDepth", p.minDepth, what));
      p.maxDepth = static_cast<float>(optionalNumber(o, "maxDepth", p.maxDepth, what));
      p.maxMemoryBytes = optionalNumber(o, "maxMemoryBytes", p.maxMemoryBytes, what);
      const double threads = optionalNumber(o, "threads", 0, what);
      if (!(threads >= 0 && threads <= 256) || std::floor(threads) != threads)
        fail(env, "TsdfVolume options: 'threads' must be an integer in 0..256");
      p.threads = static_cast<unsigned>(threads);
      Napi::Value angle = o.Get("angleWeighting");
      if (!angle.IsUndefined() && !angle.IsBoolean()) fail(env, "TsdfVolume options: 'angleWeighting' must be a boolean");
      if (angle.IsBoolean()) p.angleWeighting = angle.As<Napi::Boolean>().Value();
    }
    try {
      volume_ = std::make_unique<TsdfVolume>(p);
    } catch (const std::exception& e) {
      fail(env, e.what());
    }
  }

 private:
  Napi::Value Integrate(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const char* what = "fusion.integrate";
    if (info.Length() < 1 || !info[0].IsObject()) fail(env, "fusion.integrate: expected a frame object");
    Napi::Object o = info[0].As<Napi::Object>();
    FrameInput f;
    f.k = parseIntrinsics(o, what);
    const size_t n = static_cast<size_t>(f.k.width) * f.k.height;
    f.depth = typedArrayField<float>(o, "depth", napi_float32_array, "Float32Array", n, false, what);
    f.rgb = typedArrayField<uint8_t>(o, "rgb", napi_uint8_array, "Uint8Array", 3 * n, true, what);
    f.confidence = typedArrayField<float>(o, "confidence", napi_float32_array, "Float32Array", n, true, what);
    f.pose = parsePose(o.Get("pose"), what);
    IntegrateStats s;
    try {
      s = volume_->integrate(f);
    } catch (const std::exception& e) {
      fail(env, e.what());
    }
    Napi::Object r = Napi::Object::New(env);
    r.Set("validPixels", s.validPixels);
    r.Set("touchedBlocks", s.touchedBlocks);
    r.Set("newBlocks", s.newBlocks);
    r.Set("refusedBlocks", s.refusedBlocks);
    Napi::Object phases = Napi::Object::New(env);
    phases.Set("prepareMs", s.prepareMs);
    phases.Set("allocateMs", s.allocateMs);
    phases.Set("updateMs", s.updateMs);
    r.Set("phases", phases);
    r.Set("totalBlocks", s.totalBlocks);
    r.Set("memoryBytes", static_cast<double>(volume_->memoryBytes()));
    r.Set("volumeBytes", static_cast<double>(volume_->volumeBytes()));
    r.Set("memoryLimitReached", volume_->memoryLimitReached());
    return r;
  }

  Napi::Value ExtractMesh(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    try {
      const FullMeshSizes sizes = volume_->prepareFullMesh();
      Napi::Float32Array positions = Napi::Float32Array::New(env, 3 * sizes.vertices);
      Napi::Float32Array normals = Napi::Float32Array::New(env, 3 * sizes.vertices);
      Napi::Uint8Array colors = Napi::Uint8Array::New(env, 3 * sizes.vertices);
      Napi::Uint32Array indices = Napi::Uint32Array::New(env, 3 * sizes.triangles);
      volume_->writeFullMesh(positions.Data(), normals.Data(), colors.Data(), indices.Data());
      Napi::Object o = Napi::Object::New(env);
      o.Set("positions", positions);
      o.Set("normals", normals);
      o.Set("colors", colors);
      o.Set("indices", indices);
      return o;
    } catch (const Napi::Error&) {
      throw;
    } catch (const std::exception& e) {
      fail(env, std::string("fusion.extractMesh: ") + e.what());
    }
  }

  Napi::Value ExtractIncremental(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    IncrementalMesh m;
    try {
      m = volume_->extractIncremental();
    } catch (const std::exception& e) {
      fail(env, std::string("fusion.extractMeshIncremental: ") + e.what());
    }
    // One set of arrays for all changed blocks (offsets per block): a few large allocations instead of
    // four small typed arrays per block; the TypeScript side hands out per-block views.
    const size_t n = m.changed.size();
    Napi::Int32Array coords = Napi::Int32Array::New(env, 3 * n);
    Napi::Uint32Array vertexOffsets = Napi::Uint32Array::New(env, n + 1);
    Napi::Uint32Array indexOffsets = Napi::Uint32Array::New(env, n + 1);
    size_t nv = 0, ni = 0;
    for (size_t i = 0; i < n; ++i) {
      vertexOffsets[i] = static_cast<uint32_t>(nv);
      indexOffsets[i] = static_cast<uint32_t>(ni);
      nv += m.changed[i].mesh.positions.size() / 3;
      ni += m.changed[i].mesh.indices.size();
    }
    vertexOffsets[n] = static_cast<uint32_t>(nv);
    indexOffsets[n] = static_cast<uint32_t>(ni);
    Napi::Float32Array positions = Napi::Float32Array::New(env, 3 * nv);
    Napi::Float32Array normals = Napi::Float32Array::New(env, 3 * nv);
    Napi::Uint8Array colors = Napi::Uint8Array::New(env, 3 * nv);
    Napi::Uint32Array indices = Napi::Uint32Array::New(env, ni);
    for (size_t i = 0; i < n; ++i) {
      const BlockMesh& b = m.changed[i];
      coords[3 * i] = b.coord.x;
      coords[3 * i + 1] = b.coord.y;
      coords[3 * i + 2] = b.coord.z;
      const size_t v0 = 3 * static_cast<size_t>(vertexOffsets[i]);
      std::copy(b.mesh.positions.begin(), b.mesh.positions.end(), positions.Data() + v0);
      std::copy(b.mesh.normals.begin(), b.mesh.normals.end(), normals.Data() + v0);
      std::copy(b.mesh.colors.begin(), b.mesh.colors.end(), colors.Data() + v0);
      std::copy(b.mesh.indices.begin(), b.mesh.indices.end(), indices.Data() + indexOffsets[i]);
    }
    Napi::Int32Array removed = Napi::Int32Array::New(env, 3 * m.removed.size());
    for (size_t i = 0; i < m.removed.size(); ++i) {
      removed[3 * i] = m.removed[i].x;
      removed[3 * i + 1] = m.removed[i].y;
      removed[3 * i + 2] = m.removed[i].z;
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("coords", coords);
    o.Set("vertexOffsets", vertexOffsets);
    o.Set("indexOffsets", indexOffsets);
    o.Set("positions", positions);
    o.Set("normals", normals);
    o.Set("colors", colors);
    o.Set("indices", indices);
    o.Set("removed", removed);
    return o;
  }

  Napi::Value Raycast(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const char* what = "fusion.raycast";
    if (info.Length() < 2 || !info[1].IsObject()) fail(env, "fusion.raycast: expected (pose, intrinsics)");
    const Pose pose = parsePose(info[0], what);
    const Intrinsics k = parseIntrinsics(info[1].As<Napi::Object>(), what);
    RaycastResult r;
    try {
      r = volume_->raycast(pose, k);
    } catch (const std::exception& e) {
      fail(env, e.what());
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("depth", copyOut<Napi::Float32Array>(env, r.depth));
    o.Set("normals", copyOut<Napi::Float32Array>(env, r.normals));
    o.Set("colors", copyOut<Napi::Uint8Array>(env, r.colors));
    return o;
  }

  Napi::Value Memory(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("bytes", static_cast<double>(volume_->memoryBytes()));
    o.Set("volumeBytes", static_cast<double>(volume_->volumeBytes()));
    o.Set("blocks", static_cast<double>(volume_->blockCount()));
    o.Set("bytesPerBlock", static_cast<double>(sizeof(Block)));
    o.Set("limitBytes", volume_->params().maxMemoryBytes);
    o.Set("limitReached", volume_->memoryLimitReached());
    o.Set("integrations", volume_->integrations());
    return o;
  }

  Napi::Value Reset(const Napi::CallbackInfo& info) {
    volume_->reset();
    return info.Env().Undefined();
  }

  std::unique_ptr<TsdfVolume> volume_;
};

void InitFusion(Napi::Env env, Napi::Object exports) {
  exports.Set("TsdfVolume", VolumeWrap::Define(env));
  exports.Set("blockDim", kBlockDim);
}

}  // namespace
}  // namespace navws::fusion

NAVWS_REGISTER_MODULE(fusion, navws::fusion::InitFusion);
