/** Where and how `HubStore` talks to the Hugging Face Hub (or a server speaking its protocol). */
export interface HubOptions {
  /** The repository, `owner/name` (pyreflect's `HF_REPO_ID`). */
  repo: string;
  /** The kind of repository. Default `'dataset'`, as pyreflect. */
  repoType?: 'dataset' | 'model';
  /** Whether `HubStore.ensureRepo` creates the repository private. Default `true` (pyreflect created public ones). An existing repository keeps its visibility. */
  private?: boolean;
  /**
   * The access token (`hf_…`, pyreflect's `HF_TOKEN`). Default `process.env.HF_TOKEN`, read when the store is
   * constructed. Needed for writes and private repositories; checked at the first call that needs it, not
   * at construction. Never logged, never in an error message or a returned object.
   */
  token?: string;
  /** Base URL of the Hub. Default `process.env.HF_ENDPOINT`, else `https://huggingface.co`. */
  hubUrl?: string;
  /** The fetch to use (a proxy, a test). Default the global `fetch`. Every request goes through the retry layer. */
  fetch?: typeof fetch;
  /** Retries per request after the first try (5xx, 429, network errors, timeouts), and per downloaded file. Default 4. */
  retries?: number;
  /** Base of the exponential backoff with jitter, ms: retry n waits between d/2 and d, d = retryDelayMs·2^(n−1) (at most 30 s). Default 500. */
  retryDelayMs?: number;
  /** Per request, ms: the longest wait for the response headers and the longest pause within a response body. Default 120000. */
  timeoutMs?: number;
  /** Told one line per retry, repository creation, commit and removed local file (no token in it). */
  onLog?: (message: string) => void;
}

/** A local file to upload: `name` in the Hub folder `models/{modelId}/`, read from `path`. */
export interface HubFileSource {
  /** Plain file name (no `/`, `\`, `..`). */
  name: string;
  /** Local path. */
  path: string;
}

/** Options of the upload methods of `HubStore`. */
export interface HubUploadOptions {
  /** Delete the local files once the Hub's copies are verified (never before, never on a failure). Default false. */
  removeLocal?: boolean;
  /** Cancels the upload (`ABORTED`); local files are kept. */
  signal?: AbortSignal;
}

/** One uploaded and verified file. */
export interface HubUploadedFile {
  /** File name in the bundle folder. */
  name: string;
  /** Path in the repository, `models/{modelId}/{name}`. */
  pathInRepo: string;
  /** Local path it was read from. */
  localPath: string;
  /** Size, bytes. */
  bytes: number;
  /** SHA-256, lowercase hex. */
  sha256: string;
  /** Whether the Hub stores it through LFS (then verified by SHA-256; else by the git blob id). */
  lfs: boolean;
  /** Download URL (`…/resolve/main/…`, no token). */
  url: string;
}

/** What an upload returns once every file is verified on the Hub. */
export interface HubUploadReport {
  /** `owner/name`. */
  repo: string;
  /** `dataset` or `model`. */
  repoType: 'dataset' | 'model';
  /** The model id (the Hub folder `models/{modelId}/`). */
  modelId: string;
  /** The commit, when the Hub reported one. */
  commit: {
    /** The commit id (git SHA-1, hex). */
    oid: string;
    /** Web page of the commit. */
    url: string;
  } | null;
  /** Web page of the folder (`…/tree/main/models/{modelId}`). */
  browseUrl: string;
  /** The files, in the order given. */
  files: HubUploadedFile[];
  /** Always true: a report is only returned after verification. */
  verified: true;
  /** Local paths deleted after verification (empty unless `removeLocal`). */
  removedLocal: string[];
}

/** A `models/{modelId}/` folder on the Hub. */
export interface HubBundleSummary {
  /** The folder name. */
  modelId: string;
  /** Its files (not sub-folders), sorted by name, with sizes in bytes. */
  files: Array<{
    /** The file name, without the folder. */
    name: string;
    /** Its size, bytes. */
    bytes: number;
  }>;
  /** Total size, bytes. */
  bytes: number;
  /** Whether it holds `config.json` (a bundle that `HubStore.pullBundle` can fetch, not only training data). */
  hasConfig: boolean;
}

/** Links of a Hub folder: the web page and one download link per file, as pyreflect printed them. */
export interface HubUrls {
  /** `{hubUrl}/datasets/{repo}/tree/main/models/{modelId}` (no `datasets/` for a model repository). */
  browse: string;
  /** File name → `{hubUrl}/datasets/{repo}/resolve/main/models/{modelId}/{name}`. */
  files: Record<string, string>;
}
