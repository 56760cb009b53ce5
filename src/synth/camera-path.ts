/**
 * The scope's motion: a smooth, seeded path in the scene frame with a continuous time parameter (in
 * frames), so motion blur can sample poses between frames. The scope hovers over the tissue, looking
 * at it obliquely (as an endoscope does), drifting sideways, moving in and out, and turning about
 * all three axes.
 */
import { type Mat4, multiply3, rigidFromRt } from '../shared/math/mat4.js';
import { so3Exp } from '../shared/math/so3.js';
import { Rng, mixSeed } from './random.js';

export interface CameraPathOptions {
  /** Nominal scope speed, mm per frame. */
  speed: number;
  /** Mean tilt of the optical axis away from the tissue normal (radians). */
  tilt: number;
  /** Adds a fast hand tremor on top of the smooth path. */
  shake: boolean;
}

interface Wave {
  amplitude: number;
  /** Radians per mm of path (or per frame for the tremor). */
  rate: number;
  phase: number;
}

export class CameraPath {
  private readonly position: Wave[][];
  private readonly angles: Wave[][];
  private readonly tremor: Wave[][];

  constructor(
    seed: number,
    private readonly opts: CameraPathOptions,
  ) {
    const rng = new Rng(mixSeed(seed, 10));
    const wave = (amplitude: number, period: number): Wave => ({
      amplitude: amplitude * rng.uniform(0.7, 1.2),
      rate: (2 * Math.PI) / (period * rng.uniform(0.8, 1.25)),
      phase: rng.uniform(0, 2 * Math.PI),
    });
    // Periods in mm of path: long sweeps plus a shorter wobble; amplitudes keep |dp/ds| near 1, so the
    // scope moves at about `speed` mm per frame.
    this.position = [[wave(13, 85), wave(3, 30)], [wave(9, 100), wave(2.5, 35)], [wave(5, 110)]];
    this.angles = [[wave(0.12, 80)], [wave(0.14, 95)], [wave(0.3, 120)]];
    // Tremor periods are in frames: a shaky hand at a few hertz.
    this.tremor = [[wave(0.012, 7)], [wave(0.012, 9)], [wave(0.02, 11)], [wave(0.25, 8)], [wave(0.25, 10)]];
  }

  private static sum(waves: readonly Wave[], s: number): number {
    let v = 0;
    for (const w of waves) v += w.amplitude * (Math.sin(w.rate * s + w.phase) - Math.sin(w.phase));
    return v;
  }

  /** Camera-to-scene transform at time t (frames; fractional t lies between frames). */
  sceneFromCamera(t: number): Mat4 {
    const s = t * this.opts.speed;
    let pitch = this.opts.tilt + CameraPath.sum(this.angles[0]!, s);
    let yaw = CameraPath.sum(this.angles[1]!, s);
    let roll = CameraPath.sum(this.angles[2]!, s);
    const p: [number, number, number] = [
      CameraPath.sum(this.position[0]!, s),
      CameraPath.sum(this.position[1]!, s),
      CameraPath.sum(this.position[2]!, s),
    ];
    if (this.opts.shake) {
      pitch += CameraPath.sum(this.tremor[0]!, t);
      yaw += CameraPath.sum(this.tremor[1]!, t);
      roll += CameraPath.sum(this.tremor[2]!, t);
      p[0] += CameraPath.sum(this.tremor[3]!, t);
      p[1] += CameraPath.sum(this.tremor[4]!, t);
    }
    // Positive pitch turns the optical axis towards scene -y: the top of the image looks further away.
    const r = multiply3(multiply3(so3Exp([0, yaw, 0]), so3Exp([pitch, 0, 0])), so3Exp([0, 0, roll]));
    return rigidFromRt(r, p);
  }
}
