// Marching cubes over the allocated blocks. A cube is the 2x2x2 voxels whose lowest corner is a voxel
// of the block that owns it; a cube is meshed only when all eight voxels were observed. A mesh vertex
// sits on a voxel edge and belongs to the block of the edge's lower voxel, so the full mesh shares every
// vertex across block borders; both extraction paths compute a vertex with the same arithmetic.
#include <algorithm>
#include <cmath>

#include "fusion/mc_tables.h"
#include "fusion/tsdf_volume.h"

namespace navws::fusion {
namespace {

bool observed(const Voxel* v) { return v && v->weight > 0; }

// TSDF gradient at a voxel by central differences (one-sided at the edge of the observed region).
void gradientAt(const Neighbourhood& nb, int x, int y, int z, float g[3]) {
  const Voxel* c = nb.voxel(x, y, z);
  for (int a = 0; a < 3; ++a) {
    const int dx = a == 0, dy = a == 1, dz = a == 2;
    const Voxel* p = nb.voxel(x + dx, y + dy, z + dz);
    const Voxel* m = nb.voxel(x - dx, y - dy, z - dz);
    const bool hp = observed(p), hm = observed(m);
    g[a] = hp && hm ? 0.5f * (p->tsdf - m->tsdf) : hp ? p->tsdf - c->tsdf : hm ? c->tsdf - m->tsdf : 0.0f;
  }
}

struct Vertex {
  float p[3], n[3];
  uint8_t c[3];
};

// Vertex on the edge from local voxel (x, y, z) along `axis`; both voxels observed, signs differ.
Vertex edgeVertex(const Neighbourhood& nb, const BlockCoord& centre, float vs, int x, int y, int z, int axis) {
  const int dx = axis == 0, dy = axis == 1, dz = axis == 2;
  const Voxel* a = nb.voxel(x, y, z);
  const Voxel* b = nb.voxel(x + dx, y + dy, z + dz);
  const float t = a->tsdf / (a->tsdf - b->tsdf);
  Vertex v;
  const int gx = centre.x * kBlockDim + x, gy = centre.y * kBlockDim + y, gz = centre.z * kBlockDim + z;
  v.p[0] = (static_cast<float>(gx) + (dx ? t : 0.0f)) * vs;
  v.p[1] = (static_cast<float>(gy) + (dy ? t : 0.0f)) * vs;
  v.p[2] = (static_cast<float>(gz) + (dz ? t : 0.0f)) * vs;
  float ga[3], gb[3];
  gradientAt(nb, x, y, z, ga);
  gradientAt(nb, x + dx, y + dy, z + dz, gb);
  float n[3], len2 = 0;
  for (int i = 0; i < 3; ++i) {
    n[i] = ga[i] + t * (gb[i] - ga[i]);
    len2 += n[i] * n[i];
  }
  const float inv = len2 > 0 ? 1.0f / std::sqrt(len2) : 0.0f;
  for (int i = 0; i < 3; ++i) v.n[i] = n[i] * inv;
  v.c[0] = static_cast<uint8_t>(a->r + t * (b->r - a->r) + 0.5f);
  v.c[1] = static_cast<uint8_t>(a->g + t * (b->g - a->g) + 0.5f);
  v.c[2] = static_cast<uint8_t>(a->b + t * (b->b - a->b) + 0.5f);
  return v;
}

// Case index of the cube with lowest corner (x, y, z); -1 when a corner is unobserved.
int cubeCase(const Neighbourhood& nb, int x, int y, int z) {
  int cfg = 0;
  for (int c = 0; c < 8; ++c) {
    const Voxel* v = nb.voxel(x + (c & 1), y + ((c >> 1) & 1), z + ((c >> 2) & 1));
    if (!observed(v)) return -1;
    if (v->tsdf < 0) cfg |= 1 << c;
  }
  return cfg;
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
    for (size_t b = b0; b < b1; ++b) {
      const Block& block = *map_.at(b);
      hood.load(map_, block.coord);
      std::vector<int32_t>& table = s.edgeVertex[b];
      table.assign(kBlockVoxels * 3, -1);
      MeshBuffers& verts = s.blockVerts[b];
      int32_t count = 0;
      for (int z = 0; z < kBlockDim; ++z)
        for (int y = 0; y < kBlockDim; ++y)
          for (int x = 0; x < kBlockDim; ++x) {
            const Voxel& v = block.voxels[voxelIndex(x, y, z)];
            if (!(v.weight > 0)) continue;
            for (int axis = 0; axis < 3; ++axis) {
              const int dx = axis == 0, dy = axis == 1, dz = axis == 2;
              const Voxel* w = hood.voxel(x + dx, y + dy, z + dz);
              if (!observed(w) || (v.tsdf < 0) == (w->tsdf < 0)) continue;
              // The four cubes around this edge have lowest corners offset by 0/-1 in the other axes.
              const int a1 = (axis + 1) % 3, a2 = (axis + 2) % 3;
              bool used = false;
              for (int k = 0; k < 4 && !used; ++k) {
                int o[3] = {x, y, z};
                o[a1] -= k & 1;
                o[a2] -= k >> 1;
                used = cubeCase(hood, o[0], o[1], o[2]) >= 0;
              }
              if (!used) continue;
              table[voxelIndex(x, y, z) * 3 + axis] = count++;
              appendVertex(verts, edgeVertex(hood, block.coord, vs, x, y, z, axis));
            }
          }
    }
  });
  for (size_t b = 0; b < nb; ++b) s.vertexOffset[b + 1] = s.vertexOffset[b] + s.blockVerts[b].positions.size() / 3;

  // Pass 2: triangles of the cubes each block owns, with global vertex indices.
  pool_.parallelFor(nb, 4, [&](size_t b0, size_t b1, unsigned) {
    Neighbourhood hood;
    for (size_t b = b0; b < b1; ++b) {
      const Block& block = *map_.at(b);
      hood.load(map_, block.coord);
      std::vector<uint32_t>& tris = s.blockTris[b];
      for (int z = 0; z < kBlockDim; ++z)
        for (int y = 0; y < kBlockDim; ++y)
          for (int x = 0; x < kBlockDim; ++x) {
            const int cfg = cubeCase(hood, x, y, z);
            if (cfg <= 0 || cfg == 255) continue;
            const int8_t* tri = mc.triangles[cfg];
            for (int i = 0; tri[i] >= 0; i += 3) {
              uint32_t idx[3];
              bool ok = true;
              for (int j = 0; j < 3; ++j) {
                const int e = tri[i + j], c = mc.edgeCorner[e];
                const int vx = x + (c & 1), vy = y + ((c >> 1) & 1), vz = z + ((c >> 2) & 1);
                const int ox = floorDiv8(vx), oy = floorDiv8(vy), oz = floorDiv8(vz);
                const Block* owner = hood.blocks[(oz + 1) * 9 + (oy + 1) * 3 + ox + 1];
                const int32_t local = s.edgeVertex[owner->index][voxelIndex(vx - ox * kBlockDim, vy - oy * kBlockDim,
                                                                            vz - oz * kBlockDim) * 3 + mc.edgeAxis[e]];
                if (local < 0) {
                  ok = false;  // cannot happen when pass 1 and this pass agree; never emit a dangling index
                  break;
                }
                idx[j] = static_cast<uint32_t>(s.vertexOffset[owner->index] + static_cast<size_t>(local));
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
  constexpr int kSide = kBlockDim + 1;  // cube corners reach one voxel into the +x/+y/+z neighbours
  thread_local std::vector<int32_t> table;
  table.assign(kSide * kSide * kSide * 3, -1);
  int32_t count = 0;
  for (int z = 0; z < kBlockDim; ++z)
    for (int y = 0; y < kBlockDim; ++y)
      for (int x = 0; x < kBlockDim; ++x) {
        const int cfg = cubeCase(hood, x, y, z);
        if (cfg <= 0 || cfg == 255) continue;
        const int8_t* tri = mc.triangles[cfg];
        for (int i = 0; tri[i] >= 0; ++i) {
          const int e = tri[i], c = mc.edgeCorner[e];
          const int vx = x + (c & 1), vy = y + ((c >> 1) & 1), vz = z + ((c >> 2) & 1);
          int32_t& slot = table[((vz * kSide + vy) * kSide + vx) * 3 + mc.edgeAxis[e]];
          if (slot < 0) {
            slot = count++;
            appendVertex(out, edgeVertex(hood, block.coord, params_.voxelSize, vx, vy, vz, mc.edgeAxis[e]));
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
