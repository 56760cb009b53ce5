/** Intraoperative view: video with depth overlay beside the growing 3D scene. */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { FrameBundle } from '../../shared/api/binary.js';
import type { NavApi } from '../../shared/api/nav-api.js';
import type { CameraInfo, CaseSummary, RunStatus, SourceInfo, SourceSpec } from '../../shared/api/schemas.js';
import { DepthOverlayControls } from '../components/DepthOverlayControls.js';
import { SceneView, type SceneHandle } from '../components/SceneView.js';
import { VideoDepthView, type VideoDepthHandle } from '../components/VideoDepthView.js';
import { useKeys } from '../lib/use-keys.js';

interface Props {
  api: NavApi;
  active: boolean;
  currentCase: CaseSummary | null;
  run: RunStatus | null;
  onError(message: string): void;
}

const sourceKey = (s: SourceSpec): string => JSON.stringify(s);

export function LiveView({ api, active, currentCase, run, onError }: Props) {
  const video = useRef<VideoDepthHandle>(null);
  const scene = useRef<SceneHandle>(null);
  const [sources, setSources] = useState<SourceInfo[]>([]);
  const [source, setSource] = useState<string>('');
  const [overlay, setOverlay] = useState(true);
  const [opacity, setOpacity] = useState(0.55);
  const [follow, setFollow] = useState(false);
  const [pointCloud, setPointCloud] = useState(false);
  const [mode, setMode] = useState<'product' | 'stereo' | 'gt'>('product');
  // OpenIGTLink streaming to 3D Slicer (docs/openigtlink.md): off unless switched on for a run.
  const [igtl, setIgtl] = useState(false);
  const [igtlHost, setIgtlHost] = useState('127.0.0.1');
  const [igtlPort, setIgtlPort] = useState(18944);
  const camera = useRef<CameraInfo | null>(null);
  camera.current = run?.camera ?? null;
  const runId = useRef<string | null>(null);
  const running = run?.state === 'running' || run?.state === 'starting' || run?.state === 'stopping';

  useEffect(() => {
    if (!active) return;
    api
      .call('sources.list', {})
      .then((list) => {
        setSources(list);
        setSource(
          (s) => s || (list.find((x) => x.available) ? sourceKey(list.find((x) => x.available)!.source) : ''),
        );
      })
      .catch((e: Error) => onError(e.message));
  }, [api, active, onError]);

  useEffect(() => {
    // A new run starts from an empty scene.
    if (run?.runId && run.runId !== runId.current) {
      runId.current = run.runId;
      scene.current?.clear();
      video.current?.clear();
    }
  }, [run?.runId]);

  useEffect(() => {
    const offFrame = api.onFrame((frame) => {
      video.current?.show(frame);
      // Every pose joins the trajectory as it arrives, painted or not (a hidden window paints nothing).
      if (frame.pose) scene.current?.appendTrajectory([frame.pose[3]!, frame.pose[7]!, frame.pose[11]!]);
    });
    const offMesh = api.onMesh((update) => scene.current?.applyMesh(update));
    return () => {
      offFrame();
      offMesh();
    };
  }, [api]);

  // The 3D view's camera takes a frame's pose when its video is painted, so both show the same instant.
  const showPose = useCallback(
    (frame: FrameBundle): void => scene.current?.showCamera(frame, camera.current),
    [],
  );

  const start = (): void => {
    if (!currentCase || !source || running) return;
    api
      .call('run.start', {
        caseId: currentCase.id,
        source: JSON.parse(source) as SourceSpec,
        ...(mode === 'gt'
          ? { depth: 'gt', poses: 'gt' }
          : { depth: mode === 'stereo' ? 'stereo' : 'network', poses: 'track' }),
        igtl: igtl ? { host: igtlHost.trim(), port: igtlPort } : null,
      })
      .catch((e: Error) => onError(e.message));
  };
  const stop = (): void => {
    if (!running) return;
    api.call('run.stop', {}).catch((e: Error) => onError(e.message));
  };

  useKeys(active, {
    r: start,
    x: stop,
    d: () => setOverlay((v) => !v),
    f: () => setFollow((v) => !v),
    p: () => setPointCloud((v) => !v),
  });

  return (
    <div className="view live-view" hidden={!active}>
      <div className="toolbar" role="toolbar" aria-label="Live controls">
        <label>
          Source
          <select
            value={source}
            onChange={(e) => setSource(e.target.value)}
            data-testid="source-select"
            disabled={running}
          >
            {sources.map((s) => (
              <option key={sourceKey(s.source)} value={sourceKey(s.source)} disabled={!s.available}>
                {s.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Stages
          <select
            value={mode}
            onChange={(e) => setMode(e.target.value as 'product' | 'stereo' | 'gt')}
            data-testid="mode-select"
            disabled={running}
          >
            <option value="product">Network + tracking</option>
            <option value="stereo">Stereo + tracking (metric)</option>
            <option value="gt">Ground truth (eval)</option>
          </select>
        </label>
        <label title="Stream pose, surface, video and tracking status over OpenIGTLink (3D Slicer)">
          <input
            type="checkbox"
            checked={igtl}
            onChange={(e) => setIgtl(e.target.checked)}
            disabled={running}
            data-testid="igtl-toggle"
          />
          OpenIGTLink
        </label>
        {igtl && (
          <>
            <input
              type="text"
              aria-label="OpenIGTLink address"
              value={igtlHost}
              onChange={(e) => setIgtlHost(e.target.value)}
              disabled={running}
              size={12}
              data-testid="igtl-host"
            />
            <input
              type="number"
              aria-label="OpenIGTLink port"
              min={0}
              max={65535}
              value={igtlPort}
              onChange={(e) =>
                setIgtlPort(Math.max(0, Math.min(65535, Math.round(Number(e.target.value) || 0))))
              }
              disabled={running}
              style={{ width: '6em' }}
              data-testid="igtl-port"
            />
          </>
        )}
        <button
          type="button"
          className="primary"
          onClick={start}
          disabled={!currentCase || !source || running}
          data-testid="start-run"
        >
          <kbd>R</kbd> Start
        </button>
        <button type="button" className="danger" onClick={stop} disabled={!running} data-testid="stop-run">
          <kbd>X</kbd> Stop
        </button>
        <span className="sep" />
        <DepthOverlayControls
          overlay={overlay}
          setOverlay={setOverlay}
          opacity={opacity}
          setOpacity={setOpacity}
          testIds
        />
        <button
          type="button"
          aria-pressed={follow}
          onClick={() => setFollow(!follow)}
          data-testid="toggle-follow"
        >
          <kbd>F</kbd> {follow ? 'Follow' : 'Orbit'}
        </button>
        <button type="button" aria-pressed={pointCloud} onClick={() => setPointCloud(!pointCloud)}>
          <kbd>P</kbd> Points
        </button>
        <span className="case-label">
          {currentCase ? `Case: ${currentCase.title}` : 'No case open: create or open one first'}
        </span>
      </div>
      <div className="split">
        <VideoDepthView
          ref={video}
          overlay={overlay}
          opacity={opacity}
          label="Endoscope"
          smooth
          queueDepth={2}
          onPainted={showPose}
        />
        <SceneView ref={scene} follow={follow} pointCloud={pointCloud} label="3D reconstruction" />
      </div>
    </div>
  );
}
