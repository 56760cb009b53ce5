/**
 * Seeded pseudo-random numbers for the phantom. Every random choice of a scene or a frame draws from
 * a stream derived from (seed, purpose), so a scene is reproducible bit for bit and the frames do not
 * depend on the order in which they are rendered.
 */

/** 32-bit integer hash (lowbias32); mixes seeds and lattice coordinates. */
export function hash32(x: number): number {
  x = x >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Combines a seed with further integers into one 32-bit stream key. */
export function mixSeed(seed: number, ...parts: number[]): number {
  let h = hash32(seed ^ 0x9e3779b9);
  for (const p of parts) h = hash32(h ^ hash32(p + 0x632be5ab));
  return h;
}

/** mulberry32: small, fast, and good enough for rendering noise and scene layout. */
export class Rng {
  private state: number;
  private spare: number | null = null;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** Standard normal (Box-Muller, both values used). */
  gaussian(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = this.next();
    while (u <= 1e-12) u = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    const a = 2 * Math.PI * this.next();
    this.spare = r * Math.sin(a);
    return r * Math.cos(a);
  }
}
