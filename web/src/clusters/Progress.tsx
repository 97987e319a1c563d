// A cluster's progress: the share of its compute delivered, as a labelled bar.
import { percent } from "../app/format";

export function Progress({ share, label, caption = true }: { share: number; label: string; caption?: boolean }) {
  const clamped = Math.min(1, Math.max(0, share));
  return (
    <div className="progress-wrap">
      <span
        className="progress"
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(clamped * 100)}
      >
        <span style={{ width: `${clamped * 100}%` }} />
      </span>
      {caption ? <span className="progress-label">{percent(clamped)} delivered</span> : null}
    </div>
  );
}
