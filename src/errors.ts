/**
 * Stable error codes. Each names one kind of failure and never changes meaning between versions,
 * so callers can branch on `error.code` instead of parsing messages.
 */
export const ERROR_CODES = [
  /** A layer model (`layer_desc`) is not usable: too few layers, a bad value, a wrong type. */
  'INVALID_LAYERS',
  /** A parameter bound (`layer_bound`) is not usable: lo > hi, an index outside the layers, an unknown `par`. */
  'INVALID_BOUNDS',
  /** A Q grid is not usable: Q ≤ 0, not strictly increasing, too few points, bad resolution. */
  'INVALID_Q',
  /** A generator, simulation or CLI option is out of range or of the wrong type. */
  'INVALID_OPTION',
  /** A configuration file is not valid JSON or does not match its schema. */
  'INVALID_CONFIG',
  /** An array does not have the shape an operation needs. */
  'BAD_SHAPE',
  /** A `.npy` file is malformed, truncated, or uses a layout reflectkit does not read. */
  'NPY_FORMAT',
  /** A file or folder could not be read or written. */
  'IO_ERROR',
  /** The operation was cancelled through its AbortSignal. */
  'ABORTED',
  /** A worker thread failed. */
  'WORKER_FAILED',
  /** No tfjs backend (or not the one requested) could be loaded. */
  'BACKEND_UNAVAILABLE',
  /** A model or batch does not fit the memory the backend can use (wasm: a 4 GiB heap). */
  'MEMORY_LIMIT',
  /** A checkpoint or saved model is missing, incomplete or does not match the model. */
  'CHECKPOINT_INVALID',
  /** A measured-data file (4-column text, ORSO `.ort`) is malformed or holds no usable points. */
  'MEASURED_FORMAT',
  /** An SLD profile (z, SLD) is not usable: too few points, non-finite values, z not monotonic. */
  'INVALID_PROFILE',
  /** A PyTorch `.pth` file (or another pickle, such as pyreflect's stats `.npy`) is malformed, truncated or not a state_dict. */
  'PTH_FORMAT',
  /** A pickle asks for something reflectkit never does: a global outside its whitelist, or an opcode that builds or calls objects. */
  'PTH_UNSAFE',
  /** An identifier (user id, record id, model id, repository name) is malformed: it never reaches a query or a path. */
  'INVALID_ID',
  /** A history record, a bundle or a Hub file does not exist (or belongs to another user). */
  'NOT_FOUND',
  /** The Hugging Face Hub (or a server speaking its protocol) refused a request or could not be reached after retries. */
  'HUB_REQUEST',
  /** A file uploaded to the Hub does not match the local file (size or SHA-256): the local copy is kept. */
  'HUB_VERIFY',
  /** The history database could not be reached or refused an operation. */
  'HISTORY_UNAVAILABLE',
] as const;

/** One of {@link ERROR_CODES}. */
export type ReflectkitErrorCode = (typeof ERROR_CODES)[number];

/** Details carried by every {@link ReflectkitError}. */
export interface ReflectkitErrorDetails {
  /** JSON path of the offending field, e.g. `layers[3].thickness` or `layerBound[0].bounds`; `''` when the whole input is at fault. */
  path?: string;
  /** What was expected there, in words (e.g. `a finite number ≥ 0`). */
  expected?: string;
  /** The value that was received, when it is small enough to show. */
  received?: unknown;
  /** The underlying error, if one was caught. */
  cause?: unknown;
}

/**
 * The one error class reflectkit throws for bad input and failed operations.
 *
 * @example
 * ```ts
 * try { new ReflectivityDataGenerator({ numLayers: 2, layerBound: [{ i: 9, par: 'sld', bounds: [0, 1] }] }); }
 * catch (e) { if (e instanceof ReflectkitError) console.log(e.code, e.path, e.expected); }
 * ```
 */
export class ReflectkitError extends Error {
  /** Stable machine-readable code. */
  readonly code: ReflectkitErrorCode;
  /** JSON path of the offending field (`''` when not about one field). */
  readonly path: string;
  /** What was expected, in words. */
  readonly expected: string | undefined;
  /** The received value, if small. */
  readonly received: unknown;

  constructor(code: ReflectkitErrorCode, message: string, details: ReflectkitErrorDetails = {}) {
    const where = details.path ? ` at ${details.path}` : '';
    const want = details.expected ? ` (expected ${details.expected})` : '';
    super(`${code}${where}: ${message}${want}`, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ReflectkitError';
    this.code = code;
    this.path = details.path ?? '';
    this.expected = details.expected;
    this.received = details.received;
  }

  /** A plain-object form for JSON output (CLI `--json`, logs). */
  toJSON(): {
    /** Always `'ReflectkitError'`. */
    name: string;
    /** The stable {@link ReflectkitErrorCode}. */
    code: ReflectkitErrorCode;
    /** JSON path of the offending field (`''` when not about one field). */
    path: string;
    /** What was expected, in words; absent when not known. */
    expected?: string;
    /** The full message: `CODE at path: message (expected …)`. */
    message: string;
  } {
    return {
      name: this.name,
      code: this.code,
      path: this.path,
      ...(this.expected === undefined ? {} : { expected: this.expected }),
      message: this.message,
    };
  }
}

/** True when `value` is a {@link ReflectkitError}, also across realms (worker threads, bundles). */
export function isReflectkitError(value: unknown): value is ReflectkitError {
  return (
    value instanceof ReflectkitError ||
    (typeof value === 'object' && value !== null && (value as { name?: unknown }).name === 'ReflectkitError' &&
      typeof (value as { code?: unknown }).code === 'string')
  );
}
