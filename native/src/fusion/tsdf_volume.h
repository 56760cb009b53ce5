// Sparse TSDF volume: integration of RGB-D frames (projective truncated signed distance along the
// ray, weighted running average capped at maxWeight), marching-cubes extraction (full or incremental)
// and ray casting. Units: millimetres; poses are camera-to-world; camera frame x right, y down, z forward.
//
// Memory policy: when allocating a new block would exceed maxMemoryBytes, the block is not allocated
// (the frame still updates every block that already exists), memoryLimitReached() becomes true and stays
// true until reset(). Nothing already fused is ever evicted, so the reconstructed surface never loses
// parts behind the surgeon's back; the caller decides what to do (reset, coarser voxels, new volume).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "fusion/voxel_block.h"

namespace navws::fusion {

constexpr float kMinAngleWeight = 0.05f;

struct VolumeParams {
  float voxelSize = 0.5f;        // mm
  float truncation = 2.0f;       // mm
  float maxWeight = 64.0f;       // running-average cap: lets the model follow slow tissue motion
  float minDepth = 1.0f;         // mm; depth outside [minDepth, maxDepth] is ignored
  float maxDepth = 500.0f;       // mm
  double maxMemoryBytes = 2.0e9;  // voxel blocks + hash table (volumeBytes)
  // Weight each observation by the cosine between the viewing ray and the surface normal estimated
  // from the depth image (floored at kMinAngleWeight). Grazing rays and depth discontinuities carry
  // the largest projective-distance errors (silhouettes carve "inside" values into free space); with
  // this, views that see the surface head-on dominate wherever they exist.
  bool angleWeighting = true;
  unsigned threads = 0;          // 0 = hardware concurrency
};

struct Intrinsics {
  int width = 0, height = 0;
  double fx = 0, fy = 0, cx = 0, cy = 0;
};

// Row-major 4x4 camera-to-world.
struct Pose {
  double m[16];
};

struct FrameInput {
  Intrinsics k;
  const float* depth = nullptr;       // mm along the optical axis; <= 0 or non-finite = unknown
  const uint8_t* rgb = nullptr;       // optional, RGB8
  const float* confidence = nullptr;  // optional, per-pixel weight (<= 0 or non-finite: pixel ignored)
  Pose pose;
};

struct IntegrateStats {
  uint32_t validPixels = 0;
  uint32_t touchedBlocks = 0;
  uint32_t newBlocks = 0;
  uint32_t refusedBlocks = 0;  // not allocated because of the memory limit
  uint32_t totalBlocks = 0;
  // Wall time of the phases, ms: pixel weights with the band's blocks, allocation, voxel updates.
  double prepareMs = 0, allocateMs = 0, updateMs = 0;
};

struct MeshBuffers {
  std::vector<float> positions, normals;
  std::vector<uint8_t> colors;
  std::vector<uint32_t> indices;
};

struct BlockMesh {
  BlockCoord coord;
  MeshBuffers mesh;
};

struct IncrementalMesh {
  std::vector<BlockMesh> changed;   // blocks whose triangles must replace what the caller holds
  std::vector<BlockCoord> removed;  // blocks that no longer hold triangles
};

struct RaycastResult {
  std::vector<float> depth;    // mm along the optical axis, 0 = no surface
  std::vector<float> normals;  // unit, camera frame, 3 per pixel (0 where no surface)
  std::vector<uint8_t> colors;  // RGB8 per pixel
};

// Throw std::invalid_argument with a message naming the problem.
void validateIntrinsics(const Intrinsics& k);
void validatePose(const Pose& pose);

// Sizes of outputs the binding allocates in JS memory before the threads fill them.
struct FullMeshSizes {
  size_t vertices = 0, triangles = 0;
};

class TsdfVolume {
 public:
  explicit TsdfVolume(const VolumeParams& params);

  const VolumeParams& params() const { return params_; }
  IntegrateStats integrate(const FrameInput& frame);

  // Full extraction with globally shared vertices. Two steps so the binding can allocate the output
  // arrays in between: prepare() meshes vertices and counts triangles, write() fills the outputs.
  FullMeshSizes prepareFullMesh();
  void writeFullMesh(float* positions, float* normals, uint8_t* colors, uint32_t* indices);

  // Meshes only the blocks whose voxels (or whose +x/+y/+z neighbours' voxels) changed since the last
  // incremental extraction; each block mesh is standalone (vertices on a border are repeated).
  IncrementalMesh extractIncremental();

  RaycastResult raycast(const Pose& pose, const Intrinsics& k) const;

  size_t blockCount() const { return map_.size(); }
  // Voxel blocks and hash table: what maxMemoryBytes limits.
  size_t volumeBytes() const;
  // Everything the volume holds, including per-frame buffers and mesh scratch.
  size_t memoryBytes() const;
  bool memoryLimitReached() const { return limitReached_; }
  uint32_t integrations() const { return integrations_; }
  void reset();

 private:
  // What a voxel update reads of its pixel, 8 bytes so a frame's records stay small in cache; colour is
  // read from the frame itself and the ray length from the voxel's own position.
  struct PixelRecord {
    float depth;
    float weight;  // 0 = unusable (invalid, out of range, zero confidence); else confidence x view angle
  };
  static constexpr int kMaxBandSamples = 16;

  void prepareRays(const Intrinsics& k);
  float fallbackAngleWeight(const FrameInput& f, int u, int v) const;
  struct BandPlan;
  // Fills pixels_ and the keys of the blocks the frame's truncation band touches (sorted, unique);
  // returns the number of usable pixels.
  uint32_t preparePixelsAndBand(const FrameInput& frame, std::vector<uint64_t>& keys);
  BandPlan planBand(const FrameInput& frame, float frameMaxDepth);
  void markBandBlocks(BandPlan& plan, const FrameInput& frame, int v, unsigned worker);
  void gatherBandBlocks(BandPlan& plan, std::vector<uint64_t>& keys) const;
  void integrateBlock(Block& block, const FrameInput& frame, const double* worldToCam, bool& changed) const;
  void meshBlockStandalone(const Block& block, MeshBuffers& out) const;

  VolumeParams params_;
  BlockMap map_;
  mutable ThreadPool pool_;
  bool limitReached_ = false;
  uint32_t integrations_ = 0;

  // Per-pixel length of the unit-depth ray (sqrt(1 + x^2 + y^2)), cached per intrinsics.
  std::vector<float> rayScale_;
  float rayScaleMax_ = 1;
  std::vector<std::atomic<uint8_t>> touchedBox_;  // block marks of markBandBlocks (frustum box)
  Intrinsics rayScaleFor_;
  std::vector<float> colXn_, rowYn_;  // normalised image coordinates per column / row
  std::vector<PixelRecord> pixels_;

  // Scratch kept between full extractions: per block, vertex index of each owned edge.
  struct FullMeshScratch {
    std::vector<Block*> blocks;
    std::vector<std::vector<int32_t>> edgeVertex;  // kBlockVoxels * 3 per block, -1 = none
    std::vector<MeshBuffers> blockVerts;           // vertices owned by each block
    std::vector<std::vector<uint32_t>> blockTris;  // triangles (global indices) of each block
    std::vector<size_t> vertexOffset, triangleOffset;
  } scratch_;
};

}  // namespace navws::fusion
