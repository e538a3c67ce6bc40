import type { RepoId } from '@huggingface/hub';
import type { Scrub } from './hub-errors.js';

/** The `@huggingface/hub` module (loaded on first use, not when reflectkit is imported). */
export type HubClient = typeof import('@huggingface/hub');

let client: Promise<HubClient> | undefined;

/** Loads `@huggingface/hub` once. */
export function loadHubClient(): Promise<HubClient> {
  client ??= import('@huggingface/hub');
  return client;
}

/** The parameters every client call of one operation shares. */
export interface HubCall {
  /** `{ type: 'dataset' | 'model', name: 'owner/name' }`. */
  repo: RepoId;
  /** Base URL of the Hub, no trailing slash. */
  hubUrl: string;
  /** The token, or undefined for anonymous reads. */
  accessToken: string | undefined;
  /** The retrying fetch of this operation (it carries the caller's signal). */
  fetch: typeof fetch;
}

/** A {@link HubCall} plus what helpers need to retry, log and report one operation. */
export interface HubOperation {
  call: HubCall;
  client: HubClient;
  scrub: Scrub;
  /** The caller's signal, if any. */
  signal: AbortSignal | undefined;
  /** Retries per request (and per downloaded file). */
  retries: number;
  /** Base backoff, ms. */
  retryDelayMs: number;
  /** One scrubbed line to the caller's `onLog`. */
  log: (message: string) => void;
}
