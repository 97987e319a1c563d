// API failures as one error type: the server's JSON envelope ({"error", "detail", ...}) with its
// HTTP status, or a network failure (status 0). `unwrap` turns an openapi-fetch result into data
// or throws this.

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly body: Record<string, unknown>;

  constructor(status: number, code: string, detail: string, body: Record<string, unknown> = {}) {
    super(detail);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.body = body;
  }

  /** The query field the server blamed, when it named one. */
  get field(): string | undefined {
    return typeof this.body.field === "string" ? this.body.field : undefined;
  }

  get isClientError(): boolean {
    return this.status >= 400 && this.status < 500;
  }
}

function fromResponse(response: Response, error: unknown): ApiError {
  if (error && typeof error === "object" && "error" in error && "detail" in error) {
    const body = error as Record<string, unknown>;
    return new ApiError(response.status, String(body.error), String(body.detail), body);
  }
  const text = typeof error === "string" && error ? error : response.statusText;
  return new ApiError(response.status, "HTTPError", `${response.status} ${text}`.trim());
}

interface Result<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The data of a successful call; otherwise an ApiError (network failures have status 0). */
export async function unwrap<T>(request: Promise<Result<T>>): Promise<T> {
  let result: Result<T>;
  try {
    result = await request;
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === "AbortError") throw cause;
    throw new ApiError(0, "NetworkError", "GP4U could not be reached; is the server running?");
  }
  if (!result.response.ok || result.error !== undefined) {
    throw fromResponse(result.response, result.error);
  }
  return result.data as T;
}

/** A sentence for a toast or an inline message. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return "Something went wrong.";
}
