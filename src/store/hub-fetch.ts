import type { Scrub } from './hub-errors.js';

/** How {@link createRetryingFetch} retries. */
export interface RetryPolicy {
  /** Retries after the first attempt (so at most `retries + 1` requests). */
  retries: number;
  /** Base of the exponential backoff, ms: before retry n the wait is `d/2 + random·d/2` with `d = retryDelayMs·2^(n−1)`, at most 30 s. */
  retryDelayMs: number;
  /**
   * Per request, ms: the longest wait for the response headers (plus {@link UPLOAD_ALLOWANCE_MS_PER_MIB} per
   * MiB of request body, since the wait includes sending it), and the longest pause between two chunks of a
   * response body.
   */
  timeoutMs: number;
  /** The caller's signal: aborts the request in flight and any wait; an aborted request is never retried. */
  signal?: AbortSignal;
  /** Told once per retry, with a one-line message (method, URL without query, reason, wait). */
  onRetry?: (message: string) => void;
  /** Applied to every message built here (removes the token). */
  scrub: Scrub;
  /** Random numbers in [0, 1) for the jitter (tests pass a fixed one). */
  random?: () => number;
}

/** Extra wait for the answer per MiB of request body, ms: uploads slower than 256 KiB/s time out. */
export const UPLOAD_ALLOWANCE_MS_PER_MIB = 4000;

/** The size of a request body in bytes (strings counted in UTF-16 units), 0 when unknown. */
function bodySize(body: RequestInit['body']): number {
  if (typeof body === 'string') return body.length;
  if (body instanceof Blob) return body.size;
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return body.byteLength;
  return 0;
}

/** The longest `Retry-After` honoured, ms: a longer one is cut to this. */
export const MAX_RETRY_AFTER_MS = 120_000;
const MAX_BACKOFF_MS = 30_000;

/** A request or a response body that did not progress within {@link RetryPolicy.timeoutMs}. */
export class HubTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HubTimeoutError';
  }
}

/** `METHOD origin/path` of a request, without the query (signed links carry secrets there). */
function describe(input: string | URL | Request, init: RequestInit | undefined, scrub: Scrub): string {
  const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
  const raw = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  let where = raw;
  try {
    const url = new URL(raw);
    where = `${url.origin}${url.pathname}`;
  } catch {
    where = raw.split('?')[0] ?? raw;
  }
  return scrub(`${method} ${where}`);
}

/** True when the body can be sent again (not a one-shot stream, not a used Request). */
function canResend(input: string | URL | Request, init: RequestInit | undefined): boolean {
  if (input instanceof Request && input.body !== null && init?.body === undefined) return false;
  const body = init?.body;
  if (body === undefined || body === null) return true;
  if (typeof body === 'string' || body instanceof ArrayBuffer || ArrayBuffer.isView(body) || body instanceof Blob) return true;
  if (body instanceof URLSearchParams || body instanceof FormData) return true;
  return false;
}

/**
 * Waits at least `ms` by the monotonic clock (`performance.now()`), or rejects with the signal's reason when
 * one of `signals` fires. A timer measures from the event loop's cached time and may fire up to a few ms
 * early by the real clock; it is re-armed for what is left, so a `Retry-After` is never cut short.
 */
export function sleep(ms: number, signals: Array<AbortSignal | undefined | null>): Promise<void> {
  const live = signals.filter((s): s is AbortSignal => s !== undefined && s !== null);
  const end = performance.now() + ms;
  return new Promise((resolve, reject) => {
    const fired = live.find((s) => s.aborted);
    if (fired) {
      reject(fired.reason);
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = (event: Event) => {
      clearTimeout(timer);
      for (const s of live) s.removeEventListener('abort', onAbort);
      reject((event.target as AbortSignal).reason);
    };
    const arm = (): void => {
      const left = end - performance.now();
      if (left > 0) {
        timer = setTimeout(arm, Math.ceil(left));
        return;
      }
      for (const s of live) s.removeEventListener('abort', onAbort);
      resolve();
    };
    for (const s of live) s.addEventListener('abort', onAbort, { once: true });
    arm();
  });
}

/** The wait a 429/503 asks for through `Retry-After` (seconds or an HTTP date), ms, or undefined. */
export function retryAfterMs(response: Response, now = Date.now()): number | undefined {
  const header = response.headers.get('retry-after');
  if (header === null) return undefined;
  const trimmed = header.trim();
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(trimmed)) ms = Number(trimmed) * 1000;
  else {
    const date = Date.parse(trimmed);
    if (Number.isNaN(date)) return undefined;
    ms = Math.max(0, date - now);
  }
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}

/** The backoff before retry `n` (1-based), ms. */
export function backoffMs(n: number, baseMs: number, random: () => number = Math.random): number {
  const d = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** (n - 1));
  return d / 2 + random() * (d / 2);
}

/**
 * The Hub's reason for a failed answer, at most 200 characters: its `X-Error-Message` header, else the
 * `error` of a small JSON body. Consumes (or cancels) the body.
 */
async function errorDetail(response: Response): Promise<string | undefined> {
  let detail = response.headers.get('x-error-message') ?? undefined;
  const small = Number(response.headers.get('content-length') ?? Infinity) <= 65_536;
  if (detail === undefined && small && response.headers.get('content-type')?.includes('json')) {
    try {
      const error = ((await response.json()) as { error?: unknown }).error;
      if (typeof error === 'string') detail = error;
    } catch {
      // Not JSON after all: no detail.
    }
  }
  await response.body?.cancel().catch(() => undefined);
  return detail === undefined ? undefined : detail.replace(/\s+/g, ' ').slice(0, 200);
}

/** Statuses worth another try: server errors and rate limiting. */
function retryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/** Network failures (undici's `fetch failed`, reset sockets) and our timeouts; never an abort by the caller. */
function retryableError(error: unknown): boolean {
  if (error instanceof HubTimeoutError) return true;
  if (error instanceof TypeError) return true; // undici: "fetch failed", "terminated", with the socket error as cause
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|UND_ERR_)/.test(code);
}

/**
 * The response with its body wrapped so that a pause longer than `timeoutMs` between chunks (while the
 * reader waits) aborts the request with a {@link HubTimeoutError}.
 */
function withIdleTimeout(response: Response, controller: AbortController, timeoutMs: number, label: string): Response {
  const source = response.body;
  if (source === null || [101, 103, 204, 205, 304].includes(response.status)) return response;
  const reader = source.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(out) {
        timer = setTimeout(() => controller.abort(new HubTimeoutError(`${label}: the response body stalled for more than ${timeoutMs} ms`)), timeoutMs);
        try {
          const { done, value } = await reader.read();
          if (done) out.close();
          else out.enqueue(value);
        } catch (error) {
          out.error(controller.signal.aborted && controller.signal.reason instanceof HubTimeoutError ? controller.signal.reason : error);
        } finally {
          clearTimeout(timer);
        }
      },
      cancel(reason) {
        clearTimeout(timer);
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
  const wrapped = new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  Object.defineProperty(wrapped, 'url', { value: response.url });
  Object.defineProperty(wrapped, 'redirected', { value: response.redirected });
  return wrapped;
}

/** `AbortSignal.any` (Node ≥ 20.3; missing from TypeScript's DOM types here). */
function anySignal(signals: AbortSignal[]): AbortSignal {
  return (AbortSignal as unknown as { any(signals: AbortSignal[]): AbortSignal }).any(signals);
}

/** One attempt: the request with a headers timeout and an idle timeout on the body. */
async function attempt(base: typeof fetch, input: string | URL | Request, init: RequestInit | undefined, policy: RetryPolicy, label: string): Promise<Response> {
  const controller = new AbortController();
  const signals = [controller.signal, policy.signal, init?.signal].filter((s): s is AbortSignal => s !== undefined && s !== null);
  const limit = policy.timeoutMs + Math.ceil((bodySize(init?.body) / 1_048_576) * UPLOAD_ALLOWANCE_MS_PER_MIB);
  const timer = setTimeout(() => controller.abort(new HubTimeoutError(`no response within ${limit} ms`)), limit);
  try {
    const response = await base(input, { ...init, signal: anySignal(signals) });
    return withIdleTimeout(response, controller, policy.timeoutMs, label);
  } catch (error) {
    if (controller.signal.aborted && controller.signal.reason instanceof HubTimeoutError) throw controller.signal.reason;
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Wraps `base` (the global `fetch` or the caller's) so that each request is retried up to
 * `policy.retries` times on a 5xx or 429 answer (waiting what `Retry-After` asks, else exponential backoff
 * with jitter), on a network error and on a timeout (see {@link RetryPolicy.timeoutMs}). A request whose
 * body cannot be re-sent (a stream) is tried once. The caller's signal (and the request's own) abort
 * everything and are never retried. When the retries run out, the last answer is returned (so the Hub
 * client reports its status) or the last error thrown.
 */
export function createRetryingFetch(base: typeof fetch, policy: RetryPolicy): typeof fetch {
  const random = policy.random ?? Math.random;
  return async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const label = describe(input, init, policy.scrub);
    const attempts = canResend(input, init) ? policy.retries + 1 : 1;
    for (let n = 1; ; n++) {
      policy.signal?.throwIfAborted();
      init?.signal?.throwIfAborted();
      let response: Response | undefined;
      let failure: unknown;
      try {
        response = await attempt(base, input, init, policy, label);
      } catch (error) {
        if (policy.signal?.aborted || init?.signal?.aborted) throw error;
        failure = error;
      }
      const retryable = response !== undefined ? retryableStatus(response.status) : retryableError(failure);
      if (!retryable || n >= attempts) {
        if (response !== undefined) return response;
        if (!retryable) throw failure;
        throw Object.assign(new Error(`${label}, ${n} ${n === 1 ? 'try' : 'tries'}`, { cause: failure }), { name: 'HubRequestError' });
      }
      let wait = backoffMs(n, policy.retryDelayMs, random);
      let reason: string;
      if (response !== undefined) {
        const asked = response.status === 429 || response.status === 503 ? retryAfterMs(response) : undefined;
        if (asked !== undefined) wait = asked;
        const detail = await errorDetail(response);
        reason = `answered ${response.status}${detail ? ` "${policy.scrub(detail)}"` : ''}${asked !== undefined ? ` (Retry-After ${(asked / 1000).toFixed(1)} s)` : ''}`;
      } else {
        reason = failure instanceof HubTimeoutError ? 'timed out' : `failed (${policy.scrub(failure instanceof Error ? `${failure.message}${failure.cause instanceof Error ? `: ${failure.cause.message}` : ''}` : String(failure))})`;
      }
      policy.onRetry?.(`hub: ${label} ${reason}; retry ${n} of ${policy.retries} in ${(wait / 1000).toFixed(2)} s`);
      await sleep(wait, [policy.signal, init?.signal]);
    }
  };
}
