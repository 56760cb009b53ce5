/**
 * The endoscope image with its depth overlay, blended into one canvas. Frames are painted
 * imperatively (show()) on the next animation frame, newest frame wins; React only renders the
 * controls and the legend. Video and depth of a frame always come from the same FrameBundle, so they
 * cannot drift apart.
 */
import { useEffect, useImperativeHandle, useRef, useState, type Ref } from 'react';
import type { FrameBundle } from '../../shared/api/binary.js';
import { type DepthRange, composeFrame, robustDepthRange, smoothRange } from '../lib/paint.js';
import { PAINT_ORDER, frameClock } from '../lib/frame-clock.js';
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
  /**
   * Frames waiting to be painted, one per animation frame; beyond this the oldest is dropped (counted as
   * superseded). Live: 2, so two frames arriving within one display refresh are both shown; review: 1,
   * newest wins while scrubbing.
   */
  queueDepth?: number;
  /** Called in the animation frame that paints a new frame (after the paint). */
  onPainted?: (frame: FrameBundle) => void;
}

/** Between keyframes the overlay is the latest keyframe's depth (the network runs on keyframes only). */
function depthNote(frameId: number, depthFrameId: number | null): string {
  if (depthFrameId === null) return ' · no depth';
  return depthFrameId === frameId ? '' : ` · depth of keyframe ${depthFrameId}`;
}

export function VideoDepthView({ ref, overlay, opacity, label, smooth, queueDepth = 1, onPainted }: Props) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const pending = useRef<FrameBundle[]>([]);
  const shown = useRef<FrameBundle | null>(null);
  const image = useRef<ImageData | null>(null);
  const range = useRef<DepthRange | null>(null);
  const blend = useRef(overlay ? opacity : 0);
  blend.current = overlay ? opacity : 0;
  const [legend, setLegend] = useState<DepthRange | null>(null);
  const [info, setInfo] = useState<{ frameId: number; timeS: number; depthFrameId: number | null } | null>(
    null,
  );
  const lastLegendUpdate = useRef(0);
  const textGeneration = useRef(0);

  const paint = (): void => {
    const fresh = pending.current.shift() ?? null;
    if (pending.current.length > 0) schedule();
    const frame = fresh ?? shown.current;
    const canvas = canvasRef.current;
    if (!frame || !canvas) return;
    const began = performance.now();
    const { width, height } = frame.rgb;
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
      image.current = null;
    }
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    image.current ??= ctx.createImageData(width, height);
    if (fresh && frame.depth) {
      const r = robustDepthRange(frame.depth);
      if (r) range.current = smooth ? smoothRange(range.current, r) : r;
    }
    const known = composeFrame(frame.rgb, frame.depth, range.current, blend.current, image.current);
    ctx.putImageData(image.current, 0, 0);
    canvas.dataset.frameId = String(frame.frameId);
    canvas.dataset.depthKnown = known.toFixed(3);
    canvas.dataset.overlayAlpha = blend.current.toFixed(2);
    shown.current = frame;
    if (!fresh) return;
    uiPerf.work('paint', performance.now() - began);
    uiPerf.painted(frame);
    onPaintedRef.current?.(frame);
    // Text updates at 4 Hz: enough to read, and React is kept off the per-frame path. They render in a
    // task of their own, after this animation frame, so a re-render never lengthens a frame's paint.
    const t = performance.now();
    if (!smooth || t - lastLegendUpdate.current > 250) {
      lastLegendUpdate.current = t;
      const legendNow = range.current ? { ...range.current } : null;
      const infoNow = {
        frameId: frame.frameId,
        timeS: frame.timeS,
        depthFrameId: frame.depth ? frame.depthFrameId : null,
      };
      const generation = textGeneration.current;
      setTimeout(() => {
        // A clear() in between (a new run) wins over the text of a frame painted before it.
        if (generation !== textGeneration.current) return;
        setLegend(legendNow);
        setInfo(infoNow);
      }, 0);
    }
  };

  // The clock calls a stable function; it paints with this render's props.
  const paintRef = useRef(paint);
  paintRef.current = paint;
  const painter = useRef(() => paintRef.current());
  const schedule = (): void => frameClock.request(painter.current);

  useImperativeHandle(ref, () => ({
    show(frame) {
      pending.current.push(frame);
      while (pending.current.length > Math.max(1, queueDepth)) {
        pending.current.shift();
        uiPerf.superseded();
      }
      schedule();
    },
    clear() {
      textGeneration.current++;
      pending.current = [];
      shown.current = null;
      const c = canvasRef.current;
      c?.getContext('2d')?.clearRect(0, 0, c.width, c.height);
      range.current = null;
      setLegend(null);
      setInfo(null);
    },
  }));

  const onPaintedRef = useRef(onPainted);
  onPaintedRef.current = onPainted;
  useEffect(() => frameClock.add(painter.current, PAINT_ORDER.video), []);

  // Overlay toggle and opacity re-blend the frame on screen.
  useEffect(schedule, [overlay, opacity]);

  const ticks = legend
    ? [0, 0.25, 0.5, 0.75, 1].map((x) => legend.nearMm + x * (legend.farMm - legend.nearMm))
    : [];
  return (
    <section className="panel video-panel" aria-label={label}>
      <header className="panel-title">
        <span>{label}</span>
        <span className="mono" data-testid="video-frame-info">
          {info
            ? `frame ${info.frameId} · ${info.timeS.toFixed(2)} s${depthNote(info.frameId, info.depthFrameId)}`
            : 'no video'}
        </span>
      </header>
      <div className="video-stack">
        <canvas
          ref={canvasRef}
          className="video-canvas"
          data-testid="video-canvas"
          width={384}
          height={288}
        />
      </div>
      <div className="legend" aria-label="depth legend in millimetres" data-testid="depth-legend">
        <div className={`legend-bar ${overlay ? '' : 'off'}`}>
          {Array.from({ length: 32 }, (_, i) => (
            <span key={i} style={{ background: turboCss(1 - i / 31) }} />
          ))}
        </div>
        <div className="legend-ticks mono">
          {ticks.length ? ticks.map((t, i) => <span key={i}>{t.toFixed(0)}</span>) : <span>depth (mm)</span>}
        </div>
        <div className="legend-caption">{overlay ? 'near ← depth, mm → far' : 'depth overlay off (D)'}</div>
      </div>
    </section>
  );
}
