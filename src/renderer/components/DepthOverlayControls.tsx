/** The depth overlay's toggle (key D) and opacity slider, shared by the live and review views. */
export interface DepthOverlayControlsProps {
  overlay: boolean;
  setOverlay: (on: boolean) => void;
  opacity: number;
  setOpacity: (opacity: number) => void;
  /** Test ids for the end-to-end tests (the live view's controls are the ones they drive). */
  testIds?: boolean;
}

export function DepthOverlayControls({
  overlay,
  setOverlay,
  opacity,
  setOpacity,
  testIds,
}: DepthOverlayControlsProps) {
  return (
    <>
      <button
        type="button"
        aria-pressed={overlay}
        onClick={() => setOverlay(!overlay)}
        data-testid={testIds ? 'toggle-overlay' : undefined}
      >
        <kbd>D</kbd> Depth
      </button>
      <label className="slider">
        Opacity
        <input
          type="range"
          min={0}
          max={1}
          step={0.05}
          value={opacity}
          onChange={(e) => setOpacity(Number(e.target.value))}
          aria-label="Depth overlay opacity"
          data-testid={testIds ? 'overlay-opacity' : undefined}
        />
      </label>
    </>
  );
}
