// Storage of the sparse TSDF: 8^3 voxel blocks found through an open-addressing hash map from block
// coordinate to block index. Voxel (i, j, k) has its centre at (i, j, k) * voxelSize in the world
// frame (mm); block (bx, by, bz) holds voxels bx*8 .. bx*8+7 (and likewise for y, z).
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

namespace navws::fusion {

constexpr int kBlockDim = 8;
constexpr int kBlockShift = 3;
constexpr int kBlockVoxels = kBlockDim * kBlockDim * kBlockDim;

// 12 bytes, packed so one block (6 KiB) is a contiguous run the integrator streams through.
struct Voxel {
  float tsdf;    // signed distance / truncation, in [-1, 1]; positive in front of the surface
  float weight;  // 0 = never observed
  uint8_t r, g, b, pad;
};
static_assert(sizeof(Voxel) == 12, "Voxel must stay packed");

struct BlockCoord {
  int32_t x, y, z;
  bool operator==(const BlockCoord& o) const { return x == o.x && y == o.y && z == o.z; }
};

struct Block {
  BlockCoord coord;
  uint32_t index = 0;            // position in BlockMap (stable: blocks are never removed one by one)
  uint32_t lastIntegration = 0;  // integration counter when a voxel of this block last changed
  bool dirty = false;            // changed since the last incremental extraction
  bool hasMesh = false;          // its last incremental mesh had triangles (for removal reports)
  Voxel voxels[kBlockVoxels];
};

inline int voxelIndex(int x, int y, int z) { return (z << (2 * kBlockShift)) | (y << kBlockShift) | x; }

// 21 bits per axis: +-2^20 blocks, i.e. kilometres even at 0.5 mm voxels.
constexpr int32_t kCoordLimit = 1 << 20;
inline uint64_t packCoord(const BlockCoord& c) {
  return (static_cast<uint64_t>(c.x + kCoordLimit) << 42) | (static_cast<uint64_t>(c.y + kCoordLimit) << 21) |
         static_cast<uint64_t>(c.z + kCoordLimit);
}
inline bool coordInRange(int64_t x, int64_t y, int64_t z) {
  return x > -kCoordLimit && x < kCoordLimit - 1 && y > -kCoordLimit && y < kCoordLimit - 1 && z > -kCoordLimit &&
         z < kCoordLimit - 1;
}

inline int floorDiv8(int v) { return v >> kBlockShift; }  // arithmetic shift == floor division

// Open addressing with linear probing; readers may run concurrently while nobody inserts.
class BlockMap {
 public:
  BlockMap() { rehash(1024); }

  Block* find(const BlockCoord& c) const {
    const uint64_t key = packCoord(c);
    size_t i = hash(key) & mask_;
    for (;;) {
      const uint64_t k = keys_[i];
      if (k == key) return blocks_[values_[i]].get();
      if (k == kEmpty) return nullptr;
      i = (i + 1) & mask_;
    }
  }

  // Returns the existing block or a freshly zeroed one; sets `created`.
  Block* findOrCreate(const BlockCoord& c, bool& created) {
    const uint64_t key = packCoord(c);
    size_t i = hash(key) & mask_;
    for (;;) {
      const uint64_t k = keys_[i];
      if (k == key) {
        created = false;
        return blocks_[values_[i]].get();
      }
      if (k == kEmpty) break;
      i = (i + 1) & mask_;
    }
    created = true;
    auto block = std::make_unique<Block>();
    std::memset(block->voxels, 0, sizeof(block->voxels));
    block->coord = c;
    block->index = static_cast<uint32_t>(blocks_.size());
    keys_[i] = key;
    values_[i] = static_cast<uint32_t>(blocks_.size());
    blocks_.push_back(std::move(block));
    if (blocks_.size() * 2 > keys_.size()) rehash(keys_.size() * 2);
    return blocks_.back().get();
  }

  size_t size() const { return blocks_.size(); }
  Block* at(size_t i) const { return blocks_[i].get(); }
  size_t tableBytes() const { return keys_.capacity() * sizeof(uint64_t) + values_.capacity() * sizeof(uint32_t); }

  void clear() {
    blocks_.clear();
    blocks_.shrink_to_fit();
    rehash(1024);
  }

 private:
  static constexpr uint64_t kEmpty = ~0ull;
  static uint64_t hash(uint64_t x) {  // splitmix64 finaliser
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
  }
  void rehash(size_t capacity) {
    keys_.assign(capacity, kEmpty);
    values_.assign(capacity, 0);
    mask_ = capacity - 1;
    for (size_t b = 0; b < blocks_.size(); ++b) {
      size_t i = hash(packCoord(blocks_[b]->coord)) & mask_;
      while (keys_[i] != kEmpty) i = (i + 1) & mask_;
      keys_[i] = packCoord(blocks_[b]->coord);
      values_[i] = static_cast<uint32_t>(b);
    }
  }

  std::vector<uint64_t> keys_;
  std::vector<uint32_t> values_;
  std::vector<std::unique_ptr<Block>> blocks_;
  size_t mask_ = 0;
};

// The 27 blocks around a block (index (dz+1)*9 + (dy+1)*3 + dx+1), so voxel lookups one voxel past a
// border skip the hash map. Missing neighbours are null.
struct Neighbourhood {
  Block* blocks[27];

  void load(const BlockMap& map, const BlockCoord& c) {
    for (int dz = -1; dz <= 1; ++dz)
      for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx)
          blocks[(dz + 1) * 9 + (dy + 1) * 3 + dx + 1] = map.find({c.x + dx, c.y + dy, c.z + dz});
  }

  // Local coordinates in [-8, 16) relative to the centre block; null when that block is missing.
  const Voxel* voxel(int x, int y, int z) const {
    const int bx = floorDiv8(x), by = floorDiv8(y), bz = floorDiv8(z);
    const Block* b = blocks[(bz + 1) * 9 + (by + 1) * 3 + bx + 1];
    if (!b) return nullptr;
    return &b->voxels[voxelIndex(x - bx * kBlockDim, y - by * kBlockDim, z - bz * kBlockDim)];
  }
};

}  // namespace navws::fusion
