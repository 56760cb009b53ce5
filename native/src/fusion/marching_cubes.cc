// Marching cubes over the allocated blocks. A cube is the 2x2x2 voxels whose lowest corner is a voxel
// of the block that owns it; a cube is meshed only when all eight voxels were observed. A mesh vertex
// sits on a voxel edge and belongs to the block of the edge's lower voxel, so the full mesh shares every
// vertex across block borders; both extraction paths compute a vertex with the same arithmetic.
#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>

#include "fusion/mc_tables.h"
#include "fusion/tsdf_volume.h"

namespace navws::fusion {
namespace {

// The TSDF of a block and a one-voxel apron on every side (two on the + sides, where cubes reach one
// voxel into the neighbours and gradients one more), gathered once so every cube and gradient below
// reads a dense array with constant strides. Unobserved voxels are NaN.
struct DenseBlock {
  static constexpr int kLo = -1, kHi = kBlockDim + 1, kSide = kHi - kLo + 1;  // local -1 .. 9
  float v[kSide * kSide * kSide];
  bool hasSurface;  // observed voxels of both signs in local 0 .. 8

  static int at(int x, int y, int z) { return ((z - kLo) * kSide + (y - kLo)) * kSide + (x - kLo); }
  float operator()(int x, int y, int z) const { return v[at(x, y, z)]; }

  void gather(const Neighbourhood& nb) {
    std::fill(std::begin(v), std::end(v), std::numeric_limits<float>::quiet_NaN());
    for (int bz = -1; bz <= 1; ++bz)
      for (int by = -1; by <= 1; ++by)
        for (int bx = -1; bx <= 1; ++bx) {
          const Block* b = nb.blocks[(bz + 1) * 9 + (by + 1) * 3 + bx + 1];
          if (!b) continue;
          // Local range of this neighbour inside [kLo, kHi].
          const int x0 = std::max(kLo, bx * kBlockDim), x1 = std::min(kHi, bx * kBlockDim + kBlockDim - 1);
          const int y0 = std::max(kLo, by * kBlockDim), y1 = std::min(kHi, by * kBlockDim + kBlockDim - 1);
          const int z0 = std::max(kLo, bz * kBlockDim), z1 = std::min(kHi, bz * kBlockDim + kBlockDim - 1);
          for (int z = z0; z <= z1; ++z)
            for (int y = y0; y <= y1; ++y) {
              const Voxel* src = &b->voxels[voxelIndex(0, y - by * kBlockDim, z - bz * kBlockDim)];
              float* dst = &v[at(x0, y, z)];
              for (int x = x0; x <= x1; ++x, ++dst) {
                const Voxel& vx = src[x - bx * kBlockDim];
                if (vx.weight > 0) *dst = vx.tsdf;
              }
            }
        }
    bool neg = false, pos = false;
    for (int z = 0; z <= kBlockDim; ++z)
      for (int y = 0; y <= kBlockDim; ++y) {
        const float* row = &v[at(0, y, z)];
        for (int x = 0; x <= kBlockDim; ++x) {
          neg |= row[x] < 0;
          pos |= row[x] >= 0;
        }
      }
    hasSurface = neg && pos;
  }
};

constexpr int kDx = 1, kDy = DenseBlock::kSide, kDz = DenseBlock::kSide * DenseBlock::kSide;
constexpr int kAxisStride[3] = {kDx, kDy, kDz};
// Offsets of the eight cube corners in the dense array, in corner order (c & 1, c >> 1 & 1, c >> 2 & 1).
constexpr int kCornerOffset[8] = {0, kDx, kDy, kDx + kDy, kDz, kDx + kDz, kDy + kDz, kDx + kDy + kDz};

// TSDF gradient at a voxel by central differences (one-sided at the edge of the observed region).
void gradientAt(const DenseBlock& d, int x, int y, int z, float g[3]) {
  const int i = DenseBlock::at(x, y, z);
  const float c = d.v[i];
  for (int a = 0; a < 3; ++a) {
    const float p = d.v[i + kAxisStride[a]], m = d.v[i - kAxisStride[a]];
    const bool hp = p == p, hm = m == m;
    g[a] = hp && hm ? 0.5f * (p - m) : hp ? p - c : hm ? c - m : 0.0f;
  }
}

struct Vertex {
  float p[3], n[3];
  uint8_t c[3];
};

// Vertex on the edge from local voxel (x, y, z) along `axis`; both voxels observed, signs differ.
Vertex edgeVertex(const DenseBlock& d, const Neighbourhood& nb, const BlockCoord& centre, float vs, int x, int y,
                  int z, int axis) {
  const int dx = axis == 0, dy = axis == 1, dz = axis == 2;
  const float fa = d(x, y, z), fb = d(x + dx, y + dy, z + dz);
  const float t = fa / (fa - fb);
  Vertex v;
  const int gx = centre.x * kBlockDim + x, gy = centre.y * kBlockDim + y, gz = centre.z * kBlockDim + z;
  v.p[0] = (static_cast<float>(gx) + (dx ? t : 0.0f)) * vs;
  v.p[1] = (static_cast<float>(gy) + (dy ? t : 0.0f)) * vs;
  v.p[2] = (static_cast<float>(gz) + (dz ? t : 0.0f)) * vs;
  float ga[3], gb[3];
  gradientAt(d, x, y, z, ga);
  gradientAt(d, x + dx, y + dy, z + dz, gb);
  float n[3], len2 = 0;
  for (int i = 0; i < 3; ++i) {
    n[i] = ga[i] + t * (gb[i] - ga[i]);
    len2 += n[i] * n[i];
  }
  const float inv = len2 > 0 ? 1.0f / std::sqrt(len2) : 0.0f;
  for (int i = 0; i < 3; ++i) v.n[i] = n[i] * inv;
  const Voxel* a = nb.voxel(x, y, z);
  const Voxel* b = nb.voxel(x + dx, y + dy, z + dz);
  v.c[0] = static_cast<uint8_t>(a->r + t * (b->r - a->r) + 0.5f);
  v.c[1] = static_cast<uint8_t>(a->g + t * (b->g - a->g) + 0.5f);
  v.c[2] = static_cast<uint8_t>(a->b + t * (b->b - a->b) + 0.5f);
  return v;
}

// Case index of the cube with lowest corner (x, y, z); -1 when a corner is unobserved.
inline int cubeCase(const DenseBlock& d, int x, int y, int z) {
  const float* c = &d.v[DenseBlock::at(x, y, z)];
  float sum = 0;
  int cfg = 0;
  for (int k = 0; k < 8; ++k) {
    const float f = c[kCornerOffset[k]];
    sum += f;
    cfg |= (f < 0) << k;
  }
  return sum == sum ? cfg : -1;  // NaN (an unobserved corner) propagates through the sum
}

void appendVertex(MeshBuffers& m, const Vertex& v) {
  m.positions.insert(m.positions.end(), v.p, v.p + 3);
  m.normals.insert(m.normals.end(), v.n, v.n + 3);
  m.colors.insert(m.colors.end(), v.c, v.c + 3);
}

}  // namespace

FullMeshSizes TsdfVolume::prepareFullMesh() {
  const McTables& mc = marchingCubesTables();
  const float vs = params_.voxelSize;
  const size_t nb = map_.size();
  auto& s = scratch_;
  s.edgeVertex.resize(nb);
  s.blockVerts.assign(nb, MeshBuffers{});
  s.blockTris.assign(nb, {});
  s.vertexOffset.assign(nb + 1, 0);
  s.triangleOffset.assign(nb + 1, 0);

  // Pass 1: vertices on the edges each block owns, where at least one adjacent cube will be meshed.
  pool_.parallelFor(nb, 4, [&](size_t b0, size_t b1, unsigned) {
    Neighbourhood hood;
    auto dense = std::make_unique<DenseBlock>();
    for (size_t b = b0; b < b1; ++b) {
      const Block& block = *map_.at(b);
      hood.load(map_, block.coord);
      dense->gather(hood);
      std::vector<int32_t>& table = s.edgeVertex[b];
      if (!dense->hasSurface) {
        table.clear();  // owns no crossing edge: a crossing would put both signs in its 0..8 range
        continue;
      }
      table.assign(kBlockVoxels * 3, -1);
      MeshBuffers& verts = s.blockVerts[b];
      int32_t count = 0;
      for (int z = 0; z < kBlockDim; ++z)
        for (int y = 0; y < kBlockDim; ++y)
          for (int x = 0; x < kBlockDim; ++x) {
            const float f = (*dense)(x, y, z);
            if (f != f) continue;
            for (int axis = 0; axis < 3; ++axis) {
              const int dx = axis == 0, dy = axis == 1, dz = axis == 2;
              const float g = (*dense)(x + dx, y + dy, z + dz);
              if (g != g || (f < 0) == (g < 0)) continue;
              // The four cubes around this edge have lowest corners offset by 0/-1 in the other axes.
              const int a1 = (axis + 1) % 3, a2 = (axis + 2) % 3;
              bool used = false;
              for (int k = 0; k < 4 && !used; ++k) {
                int o[3] = {x, y, z};
                o[a1] -= k & 1;
                o[a2] -= k >> 1;
                used = cubeCase(*dense, o[0], o[1], o[2]) >= 0;
              }
              if (!used) continue;
              table[voxelIndex(x, y, z) * 3 + axis] = count++;
              appendVertex(verts, edgeVertex(*dense, hood, block.coord, vs, x, y, z, axis));
            }
          }
    }
  });
  for (size_t b = 0; b < nb; ++b) s.vertexOffset[b + 1] = s.vertexOffset[b] + s.blockVerts[b].positions.size() / 3;

  // Pass 2: triangles of the cubes each block owns, with global vertex indices.
  pool_.parallelFor(nb, 4, [&](size_t b0, size_t b1, unsigned) {
    Neighbourhood hood;
    auto dense = std::make_unique<DenseBlock>();
    for (size_t b = b0; b < b1; ++b) {
      const Block& block = *map_.at(b);
      hood.load(map_, block.coord);
      dense->gather(hood);
      if (!dense->hasSurface) continue;
      std::vector<uint32_t>& tris = s.blockTris[b];
      for (int z = 0; z < kBlockDim; ++z)
        for (int y = 0; y < kBlockDim; ++y)
          for (int x = 0; x < kBlockDim; ++x) {
            const int cfg = cubeCase(*dense, x, y, z);
            if (cfg <= 0 || cfg == 255) continue;
            const int8_t* tri = mc.triangles[cfg];
            for (int i = 0; tri[i] >= 0; i += 3) {
              uint32_t idx[3];
              bool ok = true;
              for (int j = 0; j < 3 && ok; ++j) {
                const int e = tri[i + j], c = mc.edgeCorner[e];
                const int vx = x + (c & 1), vy = y + ((c >> 1) & 1), vz = z + ((c >> 2) & 1);
                const int ox = floorDiv8(vx), oy = floorDiv8(vy), oz = floorDiv8(vz);
                const Block* owner = hood.blocks[(oz + 1) * 9 + (oy + 1) * 3 + ox + 1];
                const std::vector<int32_t>& table = s.edgeVertex[owner->index];
                const int32_t local =
                    table.empty() ? -1
                                  : table[voxelIndex(vx - ox * kBlockDim, vy - oy * kBlockDim, vz - oz * kBlockDim) * 3 +
                                          mc.edgeAxis[e]];
                ok = local >= 0;  // always true when both passes agree; never emit a dangling index
                if (ok) idx[j] = static_cast<uint32_t>(s.vertexOffset[owner->index] + static_cast<size_t>(local));
              }
              if (ok) tris.insert(tris.end(), idx, idx + 3);
            }
          }
    }
  });
  for (size_t b = 0; b < nb; ++b) s.triangleOffset[b + 1] = s.triangleOffset[b] + s.blockTris[b].size() / 3;
  return {s.vertexOffset[nb], s.triangleOffset[nb]};
}

void TsdfVolume::writeFullMesh(float* positions, float* normals, uint8_t* colors, uint32_t* indices) {
  auto& s = scratch_;
  const size_t nb = s.blockVerts.size();
  pool_.parallelFor(nb, 16, [&](size_t b0, size_t b1, unsigned) {
    for (size_t b = b0; b < b1; ++b) {
      const MeshBuffers& v = s.blockVerts[b];
      std::copy(v.positions.begin(), v.positions.end(), positions + 3 * s.vertexOffset[b]);
      std::copy(v.normals.begin(), v.normals.end(), normals + 3 * s.vertexOffset[b]);
      std::copy(v.colors.begin(), v.colors.end(), colors + 3 * s.vertexOffset[b]);
      std::copy(s.blockTris[b].begin(), s.blockTris[b].end(), indices + 3 * s.triangleOffset[b]);
    }
  });
  s.blockVerts.clear();
  s.blockTris.clear();
}

void TsdfVolume::meshBlockStandalone(const Block& block, MeshBuffers& out) const {
  const McTables& mc = marchingCubesTables();
  Neighbourhood hood;
  hood.load(map_, block.coord);
  thread_local std::unique_ptr<DenseBlock> dense;
  if (!dense) dense = std::make_unique<DenseBlock>();
  dense->gather(hood);
  if (!dense->hasSurface) return;
  constexpr int kSide = kBlockDim + 1;  // cube corners reach one voxel into the +x/+y/+z neighbours
  out.indices.reserve(3 * 256);
  out.positions.reserve(3 * 160);
  out.normals.reserve(3 * 160);
  out.colors.reserve(3 * 160);
  thread_local std::vector<int32_t> table;
  table.assign(kSide * kSide * kSide * 3, -1);
  int32_t count = 0;
  for (int z = 0; z < kBlockDim; ++z)
    for (int y = 0; y < kBlockDim; ++y)
      for (int x = 0; x < kBlockDim; ++x) {
        const int cfg = cubeCase(*dense, x, y, z);
        if (cfg <= 0 || cfg == 255) continue;
        const int8_t* tri = mc.triangles[cfg];
        for (int i = 0; tri[i] >= 0; ++i) {
          const int e = tri[i], c = mc.edgeCorner[e];
          const int vx = x + (c & 1), vy = y + ((c >> 1) & 1), vz = z + ((c >> 2) & 1);
          int32_t& slot = table[((vz * kSide + vy) * kSide + vx) * 3 + mc.edgeAxis[e]];
          if (slot < 0) {
            slot = count++;
            appendVertex(out, edgeVertex(*dense, hood, block.coord, params_.voxelSize, vx, vy, vz, mc.edgeAxis[e]));
          }
          out.indices.push_back(static_cast<uint32_t>(slot));
        }
      }
}

IncrementalMesh TsdfVolume::extractIncremental() {
  // A block's cubes read its +x/+y/+z neighbours, so a changed block also invalidates the blocks at
  // -x/-y/-z of it.
  std::vector<Block*> todo;
  std::vector<uint8_t> queued(map_.size(), 0);
  for (size_t i = 0; i < map_.size(); ++i) {
    Block* b = map_.at(i);
    if (!b->dirty) continue;
    b->dirty = false;
    for (int d = 0; d < 8; ++d) {
      Block* n = d == 0 ? b : map_.find({b->coord.x - (d & 1), b->coord.y - ((d >> 1) & 1), b->coord.z - (d >> 2)});
      if (n && !queued[n->index]) {
        queued[n->index] = 1;
        todo.push_back(n);
      }
    }
  }
  std::vector<MeshBuffers> meshes(todo.size());
  pool_.parallelFor(todo.size(), 2, [&](size_t b0, size_t b1, unsigned) {
    for (size_t i = b0; i < b1; ++i) meshBlockStandalone(*todo[i], meshes[i]);
  });
  IncrementalMesh result;
  for (size_t i = 0; i < todo.size(); ++i) {
    Block* b = todo[i];
    if (!meshes[i].indices.empty()) {
      b->hasMesh = true;
      result.changed.push_back({b->coord, std::move(meshes[i])});
    } else if (b->hasMesh) {
      b->hasMesh = false;
      result.removed.push_back(b->coord);
    }
  }
  return result;
}

}  // namespace navws::fusion
