// Marching-cubes case tables, generated at start-up rather than typed in. Each of the 256 corner-sign
// cases is triangulated by tracing the iso-contour across the six cube faces; an ambiguous face (two
// diagonal inside corners) always separates the inside corners. The decision depends on the face alone,
// so the two cubes sharing a face agree and the mesh is watertight; triangles wind counter-clockwise
// seen from the positive (free-space) side.
//
// Corner c sits at offset (c & 1, c >> 1 & 1, c >> 2 & 1). Edge e runs along axis e / 4 from corner
// kEdgeCorner[e] (whose bit for that axis is 0).
#pragma once

#include <cstdint>

namespace navws::fusion {

constexpr int kMaxCaseTriangles = 12;

struct McTables {
  uint8_t edgeCorner[12];     // lower corner of each edge
  uint8_t edgeAxis[12];
  int8_t triangles[256][kMaxCaseTriangles * 3 + 1];  // edge triples, -1 terminated
};

const McTables& marchingCubesTables();

}  // namespace navws::fusion
