import { ReflectkitError, type ReflectkitErrorCode } from '../errors.js';

/** Replaces secrets in a text we are about to show (a log line, an error message). */
export type Scrub = (text: string) => string;

/**
 * A {@link Scrub} that replaces every occurrence of `token` with `***`, any `Bearer …` credential with
 * `Bearer ***`, and the query of URLs (signed upload links carry signatures there) with `?…`.
 */
export function makeScrubber(token: string | undefined): Scrub {
  return (text) => {
    let out = token ? text.split(token).join('***') : text;
    out = out.replace(/Bearer\s+[^\s"',;]+/g, 'Bearer ***');
    return out.replace(/(https?:\/\/[^\s?#"']+)\?[^\s#"']*/g, '$1?…');
  };
}

/** The HTTP status of a failed Hub call (`HubApiError.statusCode` of the client), if the error carries one. */
export function hubStatus(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** The message of an error and its causes (undici's `fetch failed` keeps the reason in `cause`), scrubbed. */
export function errorText(error: unknown, scrub: Scrub): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 4; depth++) {
    const message = current instanceof Error ? current.message || current.name : typeof current === 'string' ? current : String(current);
    const code = (current as { code?: unknown }).code;
    const text = typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
    if (text && !parts.includes(text)) parts.push(text);
    current = current instanceof Error ? current.cause : undefined;
  }
  return scrub(parts.join(': ') || 'unknown error');
}

/** A copy of `error` safe to keep as a `cause`: its name, scrubbed message and HTTP status, nothing else (no headers, no request). */
export function sanitizedCause(error: unknown, scrub: Scrub): Error {
  const copy = new Error(errorText(error, scrub));
  copy.name = error instanceof Error ? error.name : 'Error';
  const status = hubStatus(error);
  if (status !== undefined) Object.assign(copy, { statusCode: status });
  return copy;
}

/** True when the failure is the caller's own cancellation. */
export function wasAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** What {@link hubFailure} needs besides the error. */
export interface FailureContext {
  scrub: Scrub;
  /** The caller's signal: when it fired, the failure is `ABORTED`. */
  signal?: AbortSignal;
  /** Appended to the message (e.g. "the local files are kept: …"). */
  suffix?: string;
  /** The field or Hub path the failure is about. */
  path?: string;
}

/**
 * Converts any failure of a Hub call to a {@link ReflectkitError}: `ABORTED` when the caller's signal fired,
 * a `ReflectkitError` unchanged (it is already ours), otherwise `code` with the scrubbed message, a hint
 * for 401/403, and a sanitized cause.
 */
export function hubFailure(code: ReflectkitErrorCode, action: string, error: unknown, context: FailureContext): ReflectkitError {
  const suffix = context.suffix ? `; ${context.suffix}` : '';
  if (wasAborted(context.signal)) {
    return new ReflectkitError('ABORTED', `${action} was cancelled${suffix}`, { path: context.path ?? '', cause: sanitizedCause(error, context.scrub) });
  }
  if (error instanceof ReflectkitError) return error;
  const status = hubStatus(error);
  const hint =
    status === 401 || status === 403
      ? ' (check the token: pass `token` or set HF_TOKEN, with write access for uploads)'
      : status === 429
        ? ' (rate limited by the Hub)'
        : '';
  return new ReflectkitError(code, `${action} failed: ${errorText(error, context.scrub)}${hint}${suffix}`, {
    path: context.path ?? '',
    cause: sanitizedCause(error, context.scrub),
  });
}
