#include "fusion/mc_tables.h"

#include <array>
#include <stdexcept>
#include <vector>

namespace navws::fusion {
namespace {

struct V3 {
  double x, y, z;
};
V3 sub(V3 a, V3 b) { return {a.x - b.x, a.y - b.y, a.z - b.z}; }
V3 cross(V3 a, V3 b) { return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x}; }
double dot(V3 a, V3 b) { return a.x * b.x + a.y * b.y + a.z * b.z; }
V3 cornerPos(int c) { return {double(c & 1), double((c >> 1) & 1), double((c >> 2) & 1)}; }

McTables build() {
  McTables t{};
  int e = 0;
  for (int axis = 0; axis < 3; ++axis)
    for (int c = 0; c < 8; ++c)
      if (!((c >> axis) & 1)) {
        t.edgeCorner[e] = static_cast<uint8_t>(c);
        t.edgeAxis[e] = static_cast<uint8_t>(axis);
        ++e;
      }
  auto edgeEnd = [&](int edge) { return t.edgeCorner[edge] | (1 << t.edgeAxis[edge]); };
  auto edgeMid = [&](int edge) {
    V3 a = cornerPos(t.edgeCorner[edge]), b = cornerPos(edgeEnd(edge));
    return V3{(a.x + b.x) / 2, (a.y + b.y) / 2, (a.z + b.z) / 2};
  };
  // Faces: (axis, side); the edges of a face are those whose both corners lie on it.
  std::vector<std::vector<int>> faceEdges(6);
  for (int f = 0; f < 6; ++f) {
    const int axis = f / 2, side = f % 2;
    for (int edge = 0; edge < 12; ++edge) {
      if (t.edgeAxis[edge] == axis) continue;
      if (((t.edgeCorner[edge] >> axis) & 1) == side) faceEdges[f].push_back(edge);
    }
  }
  auto shareFace = [&](int a, int b) {
    for (const auto& fe : faceEdges) {
      bool ha = false, hb = false;
      for (int x : fe) ha |= x == a, hb |= x == b;
      if (ha && hb) return true;
    }
    return false;
  };

  for (int cfg = 0; cfg < 256; ++cfg) {
    auto inside = [&](int c) { return ((cfg >> c) & 1) != 0; };
    std::array<int, 12> next;
    next.fill(-1);
    for (int f = 0; f < 6; ++f) {
      const int axis = f / 2, side = f % 2;
      V3 n{0, 0, 0};
      (axis == 0 ? n.x : axis == 1 ? n.y : n.z) = side ? 1 : -1;
      std::vector<int> cut;
      for (int edge : faceEdges[f])
        if (inside(t.edgeCorner[edge]) != inside(edgeEnd(edge))) cut.push_back(edge);
      // Segments with a reference inside corner; oriented so that (d x n) points to the inside corner.
      std::vector<std::array<int, 3>> segs;
      if (cut.size() == 2) {
        int ref = -1;
        for (int edge : faceEdges[f]) {
          if (inside(t.edgeCorner[edge])) ref = t.edgeCorner[edge];
          if (inside(edgeEnd(edge))) ref = edgeEnd(edge);
        }
        segs.push_back({cut[0], cut[1], ref});
      } else if (cut.size() == 4) {
        for (int c = 0; c < 8; ++c) {
          if (((c >> axis) & 1) != side || !inside(c)) continue;
          std::vector<int> around;
          for (int edge : cut)
            if (t.edgeCorner[edge] == c || edgeEnd(edge) == c) around.push_back(edge);
          if (around.size() != 2) throw std::logic_error("marching cubes table: bad ambiguous face");
          segs.push_back({around[0], around[1], c});
        }
      }
      for (auto& s : segs) {
        V3 p = edgeMid(s[0]), q = edgeMid(s[1]);
        if (dot(cross(sub(q, p), n), sub(cornerPos(s[2]), p)) < 0) std::swap(s[0], s[1]);
        if (next[s[0]] != -1) throw std::logic_error("marching cubes table: edge leaves twice");
        next[s[0]] = s[1];
      }
    }
    // Walk the closed loops and fan-triangulate each, starting where no diagonal joins two edges of one
    // face (such a diagonal could coincide with a diagonal of the neighbouring cube).
    std::array<bool, 12> used{};
    int out = 0;
    for (int start = 0; start < 12; ++start) {
      if (next[start] == -1 || used[start]) continue;
      std::vector<int> loop;
      for (int edge = start; !used[edge]; edge = next[edge]) {
        used[edge] = true;
        loop.push_back(edge);
        if (next[edge] == -1) throw std::logic_error("marching cubes table: open contour");
      }
      const int n = static_cast<int>(loop.size());
      int best = 0;
      for (int s = 0; s < n && n > 3; ++s) {
        bool ok = true;
        for (int j = 2; j <= n - 2 && ok; ++j) ok = !shareFace(loop[s], loop[(s + j) % n]);
        if (ok) {
          best = s;
          break;
        }
      }
      for (int j = 1; j + 1 < n; ++j) {
        if (out >= kMaxCaseTriangles) throw std::logic_error("marching cubes table: too many triangles");
        t.triangles[cfg][out * 3 + 0] = static_cast<int8_t>(loop[best]);
        t.triangles[cfg][out * 3 + 1] = static_cast<int8_t>(loop[(best + j) % n]);
        t.triangles[cfg][out * 3 + 2] = static_cast<int8_t>(loop[(best + j + 1) % n]);
        ++out;
      }
    }
    t.triangles[cfg][out * 3] = -1;
  }
  return t;
}

}  // namespace

const McTables& marchingCubesTables() {
  static const McTables tables = build();
  return tables;
}

}  // namespace navws::fusion
