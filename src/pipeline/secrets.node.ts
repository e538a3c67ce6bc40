/**
 * What a run folder and a history record keep of a pipeline config: everything but the MongoDB password.
 * `pipeline.json`, the record's `params.reflectkit` and anything derived from them hold the connection
 * string as `mongodb://user:***@host/…`; a resumed run takes the password back from `REFLECTKIT_MONGODB_URI`.
 */
import { redactMongoUri } from '../store/history-mongo.node.js';
import type { PipelineConfig } from './config.js';

/** The config with another MongoDB URI (or none). */
function withMongoUri(config: PipelineConfig, mongodbUri: string | null): PipelineConfig {
  return { ...config, storage: { ...config.storage, history: { ...config.storage.history, mongodbUri } } };
}

/** True for a connection string whose password is `***` (as {@link configWithoutSecrets} wrote it). */
function isRedacted(uri: string): boolean {
  return redactMongoUri(uri) === uri && /^mongodb(?:\+srv)?:\/\/[^/@]*:\*\*\*@/i.test(uri);
}

/**
 * The config as a run folder (`pipeline.json`) and the history record keep it: `storage.history.mongodbUri`
 * with its password replaced by `***` (the user name, hosts and options are kept). The same object when
 * there is no password to remove.
 */
export function configWithoutSecrets(config: PipelineConfig): PipelineConfig {
  const uri = config.storage.history.mongodbUri;
  if (uri === null) return config;
  const redacted = redactMongoUri(uri);
  return redacted === uri ? config : withMongoUri(config, redacted);
}

/**
 * A config read back from `pipeline.json` with the MongoDB password put back, from
 * `REFLECTKIT_MONGODB_URI` when that is the same connection string with its password. Otherwise the config
 * is returned as stored and `warning` says why MongoDB is not tried (the run's record then waits in the
 * embedded store, pending a `reflectkit history sync`).
 */
export function configWithSecrets(config: PipelineConfig, env: Record<string, string | undefined> = process.env): {
  /** The config to run with. */
  config: PipelineConfig;
  /** Set when the stored URI lacks its password and the environment does not give it. */
  warning?: string;
} {
  const stored = config.storage.history.mongodbUri;
  if (stored === null || !isRedacted(stored)) return { config };
  const full = env.REFLECTKIT_MONGODB_URI?.trim();
  if (full !== undefined && full !== stored && redactMongoUri(full) === stored) return { config: withMongoUri(config, full) };
  return {
    config,
    warning:
      `pipeline.json keeps the MongoDB URI without its password (${stored}), and REFLECTKIT_MONGODB_URI does not give it: ` +
      'MongoDB is not tried; the record waits in the embedded history store for `reflectkit history sync` (with the full URI)',
  };
}
