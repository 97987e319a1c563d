// What a page shows when its data could not be loaded: the server's reason in words and a way
// to try again (TanStack Query keeps retrying failed reads a few times before this shows).
import { describeError } from "../api/errors";

export function LoadError({ what, error, onRetry }: { what: string; error: unknown; onRetry: () => void }) {
  return (
    <div className="form-error" role="alert">
      <p>
        Could not load {what}: {describeError(error)}
      </p>
      <button type="button" className="button" onClick={onRetry}>
        Try again
      </button>
    </div>
  );
}
