#!/usr/bin/env node
// Draws the NavWS icon from one list of shapes and writes both build/icon.svg (the editable source)
// and build/icon.png (512x512, what electron-builder and the Linux window use). No image tools needed:
// the PNG is rasterised here with 4x4 supersampling and encoded with fast-png.
// Usage: node build/make-icon.mjs
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encode } from 'fast-png';

const SIZE = 512;
const here = path.dirname(fileURLToPath(import.meta.url));

// The endoscope's round field of view, a reconstructed surface patch (wireframe) and the camera
// trajectory as a green line ending at the current camera.
const lattice = [
  [150, 300],
  [215, 250],
  [290, 238],
  [362, 268],
  [170, 362],
  [240, 318],
  [312, 310],
  [372, 340],
];
const meshEdges = [
  [0, 1],
  [1, 2],
  [2, 3],
  [4, 5],
  [5, 6],
  [6, 7],
  [0, 4],
  [1, 5],
  [2, 6],
  [3, 7],
  [0, 5],
  [1, 6],
  [2, 7],
];
const trajectory = [
  [176, 196],
  [222, 168],
  [280, 160],
  [336, 176],
];

const shapes = [
  { kind: 'rrect', x: 16, y: 16, w: 480, h: 480, r: 96, fill: '#0f1722' },
  { kind: 'ring', cx: 256, cy: 256, r: 186, width: 24, fill: '#2ec4b6' },
  ...meshEdges.map(([a, b]) => ({
    kind: 'segment',
    x1: lattice[a][0],
    y1: lattice[a][1],
    x2: lattice[b][0],
    y2: lattice[b][1],
    width: 7,
    fill: '#8fb8de',
  })),
  ...trajectory.slice(1).map((p, i) => ({
    kind: 'segment',
    x1: trajectory[i][0],
    y1: trajectory[i][1],
    x2: p[0],
    y2: p[1],
    width: 12,
    fill: '#39d353',
  })),
  { kind: 'disc', cx: 336, cy: 176, r: 20, fill: '#39d353' },
];

function toSvg() {
  const body = shapes.map((s) => {
    switch (s.kind) {
      case 'rrect':
        return `<rect x="${s.x}" y="${s.y}" width="${s.w}" height="${s.h}" rx="${s.r}" fill="${s.fill}"/>`;
      case 'ring':
        return `<circle cx="${s.cx}" cy="${s.cy}" r="${s.r}" fill="none" stroke="${s.fill}" stroke-width="${s.width}"/>`;
      case 'segment':
        return `<line x1="${s.x1}" y1="${s.y1}" x2="${s.x2}" y2="${s.y2}" stroke="${s.fill}" stroke-width="${s.width}" stroke-linecap="round"/>`;
      case 'disc':
        return `<circle cx="${s.cx}" cy="${s.cy}" r="${s.r}" fill="${s.fill}"/>`;
    }
    throw new Error(`unknown shape ${s.kind}`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${SIZE}" height="${SIZE}" viewBox="0 0 ${SIZE} ${SIZE}">\n  ${body.join('\n  ')}\n</svg>\n`;
}

function inside(s, x, y) {
  switch (s.kind) {
    case 'rrect': {
      const qx = Math.max(s.x + s.r - x, 0, x - (s.x + s.w - s.r));
      const qy = Math.max(s.y + s.r - y, 0, y - (s.y + s.h - s.r));
      return x >= s.x && x <= s.x + s.w && y >= s.y && y <= s.y + s.h && qx * qx + qy * qy <= s.r * s.r;
    }
    case 'ring':
      return Math.abs(Math.hypot(x - s.cx, y - s.cy) - s.r) <= s.width / 2;
    case 'disc':
      return Math.hypot(x - s.cx, y - s.cy) <= s.r;
    case 'segment': {
      const dx = s.x2 - s.x1;
      const dy = s.y2 - s.y1;
      const t = Math.min(1, Math.max(0, ((x - s.x1) * dx + (y - s.y1) * dy) / (dx * dx + dy * dy)));
      return Math.hypot(x - (s.x1 + t * dx), y - (s.y1 + t * dy)) <= s.width / 2;
    }
  }
  return false;
}

function bounds(s) {
  const pad = 2;
  switch (s.kind) {
    case 'rrect':
      return [s.x - pad, s.y - pad, s.x + s.w + pad, s.y + s.h + pad];
    case 'ring': {
      const r = s.r + s.width / 2 + pad;
      return [s.cx - r, s.cy - r, s.cx + r, s.cy + r];
    }
    case 'disc':
      return [s.cx - s.r - pad, s.cy - s.r - pad, s.cx + s.r + pad, s.cy + s.r + pad];
    case 'segment': {
      const w = s.width / 2 + pad;
      return [
        Math.min(s.x1, s.x2) - w,
        Math.min(s.y1, s.y2) - w,
        Math.max(s.x1, s.x2) + w,
        Math.max(s.y1, s.y2) + w,
      ];
    }
  }
  throw new Error(`unknown shape ${s.kind}`);
}

function rasterise() {
  const rgba = new Float64Array(SIZE * SIZE * 4);
  const SS = 4;
  for (const s of shapes) {
    const colour = [1, 3, 5].map((i) => parseInt(s.fill.slice(i, i + 2), 16));
    const [x0, y0, x1, y1] = bounds(s).map((v) => Math.round(v));
    for (let py = Math.max(0, y0); py < Math.min(SIZE, y1); py++) {
      for (let px = Math.max(0, x0); px < Math.min(SIZE, x1); px++) {
        let hits = 0;
        for (let sy = 0; sy < SS; sy++)
          for (let sx = 0; sx < SS; sx++) if (inside(s, px + (sx + 0.5) / SS, py + (sy + 0.5) / SS)) hits++;
        if (hits === 0) continue;
        const a = hits / (SS * SS);
        const o = (py * SIZE + px) * 4;
        // Premultiplied "over".
        for (let c = 0; c < 3; c++) rgba[o + c] = colour[c] * a + rgba[o + c] * (1 - a);
        rgba[o + 3] = a + rgba[o + 3] * (1 - a);
      }
    }
  }
  const out = new Uint8Array(SIZE * SIZE * 4);
  for (let i = 0; i < SIZE * SIZE; i++) {
    const a = rgba[i * 4 + 3];
    for (let c = 0; c < 3; c++) out[i * 4 + c] = a > 0 ? Math.round(rgba[i * 4 + c] / a) : 0;
    out[i * 4 + 3] = Math.round(a * 255);
  }
  return out;
}

writeFileSync(path.join(here, 'icon.svg'), toSvg());
writeFileSync(
  path.join(here, 'icon.png'),
  encode({ width: SIZE, height: SIZE, data: rasterise(), channels: 4, depth: 8 }),
);
console.log(`wrote ${path.join(here, 'icon.svg')} and icon.png (${SIZE}x${SIZE})`);
