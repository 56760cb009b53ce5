/**
 * The endoscope image with its depth overlay. Frames are painted imperatively (show()) on the next
 * animation frame, newest frame wins; React only renders the controls. Video and depth of a frame
 * always come from the same FrameBundle, so they cannot drift apart.
 */
import { useEffect, useImperativeHandle, useRef, useState, type Ref } from 'react';
import type { FrameBundle } from '../../shared/api/binary.js';
import {
  type DepthRange,
  depthToImageData,
  rgbToImageData,
  robustDepthRange,
  smoothRange,
} from '../lib/paint.js';
import { uiPerf } from '../lib/perf.js';
import { turboCss } from '../lib/turbo.js';

export interface VideoDepthHandle {
  show(frame: FrameBundle): void;
  clear(): void;
}

interface Props {
  ref?: Ref<VideoDepthHandle>;
  overlay: boolean;
  opacity: number;
  label: string;
  /** Smooth the colour range over frames (live) or fit each frame exactly (review). */
  smooth: boolean;
}

export function VideoDepthView({ ref, overlay, opacity, label, smooth }: Props) {
  const videoRef = useRef<HTMLCanvasElement>(null);
  const depthRef = useRef<HTMLCanvasElement>(null);
  const pending = useRef<FrameBundle | null>(null);
  const raf = useRef<number | null>(null);
  const images = useRef<{ video: ImageData; depth: ImageData } | null>(null);
  const range = useRef<DepthRange | null>(null);
  const [legend, setLegend] = useState<DepthRange | null>(null);
  const [info, setInfo] = useState<{ frameId: number; timeS: number; hasDepth: boolean } | null>(null);
  const lastLegendUpdate = useRef(0);

  const paint = (): void => {
    raf.current = null;
    const frame = pending.current;
    pending.current = null;
    const vc = videoRef.current;
    const dc = depthRef.current;
    if (!frame || !vc || !dc) return;
    const { width, height } = frame.rgb;
    if (vc.width !== width || vc.height !== height) {
      vc.width = dc.width = width;
      vc.height = dc.height = height;
      images.current = null;
    }
    const vctx = vc.getContext('2d');
    const dctx = dc.getContext('2d');
    if (!vctx || !dctx) return;
    images.current ??= {
      video: vctx.createImageData(width, height),
      depth: dctx.createImageData(width, height),
    };
    rgbToImageData(frame.rgb, images.current.video);
    vctx.putImageData(images.current.video, 0, 0);
    if (frame.depth) {
      const r = robustDepthRange(frame.depth);
      if (r) range.current = smooth ? smoothRange(range.current, r) : r;
      if (range.current) {
        depthToImageData(frame.depth, range.current, images.current.depth);
        dctx.putImageData(images.current.depth, 0, 0);
      }
    } else dctx.clearRect(0, 0, width, height);
    uiPerf.painted(frame);
    // Text updates at 4 Hz: enough to read, and React is kept off the per-frame path.
    const t = performance.now();
    if (!smooth || t - lastLegendUpdate.current > 250) {
      lastLegendUpdate.current = t;
      setLegend(range.current ? { ...range.current } : null);
      setInfo({ frameId: frame.frameId, timeS: frame.timeS, hasDepth: frame.depth !== null });
    }
  };

  useImperativeHandle(ref, () => ({
    show(frame) {
      if (pending.current) uiPerf.superseded();
      pending.current = frame;
      raf.current ??= requestAnimationFrame(paint);
    },
    clear() {
      pending.current = null;
      for (const c of [videoRef.current, depthRef.current])
        c?.getContext('2d')?.clearRect(0, 0, c.width, c.height);
      range.current = null;
      setLegend(null);
      setInfo(null);
    },
  }));

  useEffect(
    () => () => {
      if (raf.current !== null) cancelAnimationFrame(raf.current);
    },
    [],
  );

  const ticks = legend
    ? [0, 0.25, 0.5, 0.75, 1].map((x) => legend.nearMm + x * (legend.farMm - legend.nearMm))
    : [];
  return (
    <section className="panel video-panel" aria-label={label}>
      <header className="panel-title">
        <span>{label}</span>
        <span className="mono" data-testid="video-frame-info">
          {info
            ? `frame ${info.frameId} · ${info.timeS.toFixed(2)} s${info.hasDepth ? '' : ' · no depth'}`
            : 'no video'}
        </span>
      </header>
      <div className="video-stack">
        <canvas ref={videoRef} className="video-canvas" data-testid="video-canvas" width={384} height={288} />
        <canvas
          ref={depthRef}
          className="video-canvas depth-canvas"
          data-testid="depth-canvas"
          width={384}
          height={288}
          style={{ opacity: overlay ? opacity : 0 }}
        />
      </div>
      <div className="legend" aria-label="depth legend in millimetres" data-testid="depth-legend">
        <div className="legend-bar">
          {Array.from({ length: 32 }, (_, i) => (
            <span key={i} style={{ background: turboCss(1 - i / 31) }} />
          ))}
        </div>
        <div className="legend-ticks mono">
          {ticks.length ? ticks.map((t, i) => <span key={i}>{t.toFixed(0)}</span>) : <span>depth (mm)</span>}
        </div>
        <div className="legend-caption">near ← depth, mm → far</div>
      </div>
    </section>
  );
}
