// Saving a CSV the server made (`format=csv`) as a file. The request goes through the typed
// client, so it carries the login's bearer token (a plain link could not); the file is then
// handed to the browser through a temporary blob link, named as the server's
// Content-Disposition says.
import { ApiError, unwrap } from "../api/errors";

/** The file name in a Content-Disposition header, or `fallback`. Never a path. */
export function filenameFrom(header: string | null, fallback: string): string {
  const match = header ? /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(header) : null;
  const name = match?.[1] ? decodeURIComponent(match[1].trim()).split(/[\\/]/).pop() : undefined;
  return name || fallback;
}

interface BlobResult {
  data?: Blob;
  error?: unknown;
  response: Response;
}

/** Run a `parseAs: "blob"` request and save its body; resolves to the saved file's name. */
export async function saveDownload(request: Promise<BlobResult>, fallback: string): Promise<string> {
  let response: Response | undefined;
  const blob = await unwrap(
    request.then((result) => {
      response = result.response;
      return result;
    }),
  );
  if (!(blob instanceof Blob)) throw new ApiError(0, "DownloadError", "The server sent no file.");
  const name = filenameFrom(response?.headers.get("Content-Disposition") ?? null, fallback);
  const url = URL.createObjectURL(blob);
  try {
    const link = document.createElement("a");
    link.href = url;
    link.download = name;
    link.hidden = true;
    document.body.append(link);
    link.click();
    link.remove();
  } finally {
    // Revoked after the click has been handled: the browser has started reading it by then.
    window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
  return name;
}

/**
 * The JSON body of an endpoint that can also answer CSV (`format=csv`): its generated type is
 * JSON-or-text, and without `format=csv` the server always sends JSON.
 */
export function asJson<T extends object>(data: T | string): T {
  if (typeof data === "string") throw new ApiError(0, "UnexpectedText", "The server answered text where JSON was expected.");
  return data;
}
