/**
 * Review a recorded run: timeline scrub and play, with the video frame, its depth and the camera pose
 * of the same instant; bookmarks; distance measurement between two points picked on the surface.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { FrameBundle } from '../../shared/api/binary.js';
import type { NavApi } from '../../shared/api/nav-api.js';
import type { Annotation, CaseDetail, Measurement, RunSummary, TimedPose } from '../../shared/api/schemas.js';
import { DepthOverlayControls } from '../components/DepthOverlayControls.js';
import { SceneView, type SceneHandle, type Vec3 } from '../components/SceneView.js';
import { VideoDepthView, type VideoDepthHandle } from '../components/VideoDepthView.js';
import { useKeys } from '../lib/use-keys.js';

interface Props {
  api: NavApi;
  active: boolean;
  detail: CaseDetail | null;
  onChanged(): void;
  onError(message: string): void;
}

const SPEEDS = [0.25, 0.5, 1, 2, 4];

/** What a distance in this run's millimetres is worth, said next to every measurement. */
function scaleNote(source: RunSummary['scaleSource']): { metric: boolean; text: string } {
  switch (source) {
    case 'stereo':
      return { metric: true, text: 'Scale: stereo (metric, from the calibrated pair)' };
    case 'ground truth':
      return { metric: true, text: "Scale: the dataset's ground truth" };
    case 'network (unverified)':
      return {
        metric: false,
        text: "Scale: the depth network's own, not verified — distances are not metric",
      };
    default:
      return { metric: false, text: 'Scale: unknown for this run — distances are not verified' };
  }
}

export function ReviewView({ api, active, detail, onChanged, onError }: Props) {
  const video = useRef<VideoDepthHandle>(null);
  const scene = useRef<SceneHandle>(null);
  const [runId, setRunId] = useState<string | null>(null);
  const [poses, setPoses] = useState<TimedPose[]>([]);
  const [time, setTime] = useState(0);
  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState(1);
  const [overlay, setOverlay] = useState(true);
  const [opacity, setOpacity] = useState(0.55);
  const [measuring, setMeasuring] = useState(false);
  const [picked, setPicked] = useState<Vec3[]>([]);
  const [shown, setShown] = useState<{ frameId: number; timeS: number; pose: number[] | null } | null>(null);
  const [label, setLabel] = useState('');
  const inflight = useRef(false);
  const wanted = useRef<number | null>(null);

  const runs = detail?.runs ?? [];
  const run = runs.find((r) => r.id === runId) ?? null;
  const duration = Math.max(run?.durationS ?? 0, poses.length ? poses[poses.length - 1]!.timeS : 0);
  const step = run && run.fps > 0 ? 1 / run.fps : 1 / 30;
  const caseId = detail?.summary.id ?? null;
  const annotations: Annotation[] = (detail?.annotations ?? []).filter(
    (a) => a.runId === runId || a.runId === null,
  );
  const measurements: Measurement[] = (detail?.measurements ?? []).filter(
    (m) => m.runId === runId || m.runId === null,
  );

  useEffect(() => {
    // Default: the latest run with frames.
    const latest = [...runs].reverse().find((r) => r.frameCount > 0) ?? runs[runs.length - 1];
    if (!runs.some((r) => r.id === runId)) setRunId(latest?.id ?? null);
  }, [runs, runId]);

  const show = useCallback(
    (frame: FrameBundle) => {
      video.current?.show(frame);
      scene.current?.showCamera(frame, run?.camera ?? null);
      setShown({
        frameId: frame.frameId,
        timeS: frame.timeS,
        pose: frame.pose ? Array.from(frame.pose) : null,
      });
    },
    [run?.camera],
  );

  /** Newest request wins; at most one frame request in flight. */
  const requestFrame = useCallback(
    (t: number) => {
      if (!caseId || !runId) return;
      wanted.current = t;
      if (inflight.current) return;
      inflight.current = true;
      const next = (): void => {
        const target = wanted.current;
        wanted.current = null;
        if (target === null) {
          inflight.current = false;
          return;
        }
        api
          .reviewFrame({ caseId, runId, timeS: target })
          .then(show)
          .catch((e: Error) => onError(e.message))
          .finally(next);
      };
      next();
    },
    [api, caseId, runId, show, onError],
  );

  useEffect(() => {
    if (!caseId || !runId || !active) return;
    let cancelled = false;
    scene.current?.clear();
    video.current?.clear();
    setPicked([]);
    api
      .call('review.trajectory', { caseId, runId })
      .then((t) => {
        if (cancelled) return;
        setPoses(t.poses);
        scene.current?.setTrajectory(t.poses.map((p) => [p.pose[3]!, p.pose[7]!, p.pose[11]!]));
      })
      .catch((e: Error) => onError(e.message));
    if (run?.hasMesh) {
      api
        .reviewMesh({ caseId, runId })
        .then((m) => !cancelled && scene.current?.applyMesh(m))
        .catch((e: Error) => onError(e.message));
    }
    setTime(0);
    requestFrame(0);
    return () => {
      cancelled = true;
    };
  }, [api, caseId, runId, active, run?.hasMesh]);

  useEffect(() => {
    if (!playing) return;
    let last = performance.now();
    let raf = requestAnimationFrame(function tick(now) {
      const dt = (now - last) / 1000;
      last = now;
      setTime((t) => {
        const next = t + dt * speed;
        if (next >= duration) {
          setPlaying(false);
          requestFrame(duration);
          return duration;
        }
        requestFrame(next);
        return next;
      });
      raf = requestAnimationFrame(tick);
    });
    return () => cancelAnimationFrame(raf);
  }, [playing, speed, duration, requestFrame]);

  const seek = (t: number): void => {
    const clamped = Math.min(duration, Math.max(0, t));
    setTime(clamped);
    requestFrame(clamped);
  };

  const addBookmark = (): void => {
    if (!caseId) return;
    const text = label.trim() || `Bookmark ${time.toFixed(2)} s`;
    api
      .call('annotations.add', {
        caseId,
        runId,
        timeS: time,
        kind: label.trim() ? 'note' : 'bookmark',
        label: text,
      })
      .then(() => {
        setLabel('');
        onChanged();
      })
      .catch((e: Error) => onError(e.message));
  };

  const onPick = (p: Vec3): void => {
    if (!measuring || !caseId) return;
    const points = picked.length >= 2 ? [p] : [...picked, p];
    setPicked(points);
    scene.current?.setMeasurePoints(points);
    if (points.length === 2) {
      api
        .call('measurements.add', {
          caseId,
          runId,
          a: points[0]!,
          b: points[1]!,
          label: `at ${time.toFixed(2)} s`,
        })
        .then(() => onChanged())
        .catch((e: Error) => onError(e.message));
    }
  };

  useKeys(active, {
    ' ': () => setPlaying((p) => !p),
    ArrowRight: () => seek(time + step),
    ArrowLeft: () => seek(time - step),
    b: addBookmark,
    m: () => setMeasuring((m) => !m),
    d: () => setOverlay((v) => !v),
  });

  const lastDistance = measurements.length ? measurements[measurements.length - 1]!.distanceMm : null;
  const scale = scaleNote(run?.scaleSource ?? null);
  return (
    <div className="view review-view" hidden={!active}>
      <div className="toolbar" role="toolbar" aria-label="Review controls">
        <label>
          Run
          <select value={runId ?? ''} onChange={(e) => setRunId(e.target.value)} data-testid="run-select">
            {runs.map((r) => (
              <option key={r.id} value={r.id}>
                {r.startedAt.slice(0, 19).replace('T', ' ')} · {r.frameCount} frames · {r.state}
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          className="primary"
          onClick={() => setPlaying(!playing)}
          data-testid="play"
          disabled={!runId}
        >
          <kbd>Space</kbd> {playing ? 'Pause' : 'Play'}
        </button>
        <label>
          Speed
          <select value={speed} onChange={(e) => setSpeed(Number(e.target.value))} data-testid="speed">
            {SPEEDS.map((s) => (
              <option key={s} value={s}>
                {s}×
              </option>
            ))}
          </select>
        </label>
        <DepthOverlayControls
          overlay={overlay}
          setOverlay={setOverlay}
          opacity={opacity}
          setOpacity={setOpacity}
        />
        <button
          type="button"
          aria-pressed={measuring}
          onClick={() => setMeasuring(!measuring)}
          data-testid="measure-toggle"
        >
          <kbd>M</kbd> {measuring ? 'Measuring: click 2 surface points' : 'Measure'}
        </button>
        <span className="case-label">{detail ? `Case: ${detail.summary.title}` : 'No case open'}</span>
      </div>
      <div className="timeline-row">
        <span className="mono time" data-testid="review-time">
          {time.toFixed(2)} / {duration.toFixed(2)} s
        </span>
        <div className="timeline">
          <input
            type="range"
            min={0}
            max={Math.max(duration, step)}
            step={step}
            value={time}
            onChange={(e) => seek(Number(e.target.value))}
            aria-label="Timeline"
            data-testid="timeline"
          />
          <div className="marks" aria-hidden="true">
            {annotations.map((a) => (
              <span
                key={a.id}
                className={`mark ${a.kind}`}
                style={{ left: `${duration > 0 ? (a.timeS / duration) * 100 : 0}%` }}
                title={a.label}
              />
            ))}
          </div>
        </div>
      </div>
      <div className="split">
        <VideoDepthView
          ref={video}
          overlay={overlay}
          opacity={opacity}
          label="Recorded video"
          smooth={false}
        />
        <SceneView ref={scene} follow={false} pointCloud={false} onPick={onPick} label="3D review" />
      </div>
      <div className="review-bottom">
        <section className="panel small" aria-label="Pose of this instant">
          <header className="panel-title">
            <span>Pose at this instant</span>
          </header>
          <div className="mono" data-testid="review-pose">
            {shown
              ? shown.pose
                ? `frame ${shown.frameId} · t ${shown.timeS.toFixed(2)} s · camera at (${shown.pose[3]!.toFixed(1)}, ${shown.pose[7]!.toFixed(1)}, ${shown.pose[11]!.toFixed(1)}) mm`
                : `frame ${shown.frameId} · t ${shown.timeS.toFixed(2)} s · tracking lost`
              : '—'}
          </div>
        </section>
        <section className="panel small" aria-label="Bookmarks">
          <header className="panel-title">
            <span>Bookmarks</span>
            <span className="inline-form">
              <input
                value={label}
                onChange={(e) => setLabel(e.target.value)}
                placeholder="Note (optional)"
                aria-label="Bookmark note"
                maxLength={200}
              />
              <button type="button" onClick={addBookmark} data-testid="add-bookmark" disabled={!caseId}>
                <kbd>B</kbd> Add
              </button>
            </span>
          </header>
          <ul className="list" data-testid="bookmarks">
            {annotations.map((a) => (
              <li key={a.id}>
                <button type="button" className="link" onClick={() => seek(a.timeS)}>
                  {a.timeS.toFixed(2)} s
                </button>{' '}
                {a.label}
              </li>
            ))}
          </ul>
        </section>
        <section className="panel small" aria-label="Measurements">
          <header className="panel-title">
            <span>Measurements</span>
            <span className="mono big" data-testid="last-distance">
              {lastDistance !== null ? `${lastDistance.toFixed(1)} mm` : ''}
            </span>
          </header>
          {measurements.length > 0 && (
            <p className={`scale-note ${scale.metric ? '' : 'warn'}`} data-testid="measurement-scale">
              {scale.text}
            </p>
          )}
          <ul className="list" data-testid="measurements">
            {measurements.map((m) => (
              <li key={m.id} className="mono">
                {m.distanceMm.toFixed(2)} mm{scale.metric ? '' : ' (not verified)'} {m.label}
              </li>
            ))}
          </ul>
        </section>
      </div>
    </div>
  );
}
