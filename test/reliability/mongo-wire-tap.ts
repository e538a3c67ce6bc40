/**
 * A TCP proxy in front of a MongoDB-wire server (FerretDB) that decodes every OP_MSG the client sends, so a
 * test sees the exact commands a store puts on the wire (filters, sorts, projections) without touching the
 * store's internals. Used by the security and history-scale tests.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { BSON, MongoClient, type Document } from 'mongodb';
import { startFerretDb, type FerretDb } from '../helpers/ferretdb.js';

/** One command as it went over the wire. */
export interface TappedCommand {
  /** The command name (`find`, `insert`, `findAndModify`, `delete`, `hello`, …). */
  name: string;
  /** The command document, with OP_MSG document sequences (`documents`, `deletes`, `updates`) merged in. */
  body: Document;
}

/** A running tap. */
export interface WireTap {
  /** `mongodb://127.0.0.1:<tap port>/` plus `suffix` (e.g. `?authSource=…`). */
  uri(suffix?: string): string;
  /** Every command so far, in order. */
  readonly commands: TappedCommand[];
  /** Commands that read or write records (not handshakes, heartbeats or index management). */
  crud(): TappedCommand[];
  /** Stops listening and drops every connection. */
  close(): Promise<void>;
}

const OP_MSG = 2013;
const CRUD = new Set(['find', 'insert', 'update', 'delete', 'findAndModify', 'aggregate', 'count', 'distinct', 'getMore']);

/** Decodes one OP_MSG message (header included) into its command. */
function decode(message: Buffer): TappedCommand | undefined {
  if (message.readInt32LE(12) !== OP_MSG) return undefined;
  const flags = message.readUInt32LE(16);
  const end = message.length - ((flags & 1) !== 0 ? 4 : 0);
  let body: Document | undefined;
  const sequences: Record<string, Document[]> = {};
  let offset = 20;
  while (offset < end) {
    const kind = message[offset]!;
    offset += 1;
    const size = message.readInt32LE(offset);
    if (kind === 0) {
      body = BSON.deserialize(message.subarray(offset, offset + size));
    } else {
      const zero = message.indexOf(0, offset + 4);
      const identifier = message.toString('utf8', offset + 4, zero);
      const docs: Document[] = [];
      for (let at = zero + 1; at < offset + size; ) {
        const length = message.readInt32LE(at);
        docs.push(BSON.deserialize(message.subarray(at, at + length)));
        at += length;
      }
      sequences[identifier] = docs;
    }
    offset += size;
  }
  if (body === undefined) return undefined;
  return { name: Object.keys(body)[0]!, body: { ...body, ...sequences } };
}

/** Starts a tap on a free loopback port that forwards to `127.0.0.1:targetPort`. */
export async function startWireTap(targetPort: number): Promise<WireTap> {
  const commands: TappedCommand[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    let pending = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4 && pending.length >= pending.readInt32LE(0)) {
        const length = pending.readInt32LE(0);
        const command = decode(pending.subarray(0, length));
        if (command !== undefined) commands.push(command);
        pending = pending.subarray(length);
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', drop).on('error', drop);
    upstream.on('close', drop).on('error', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    uri: (suffix = '') => `mongodb://127.0.0.1:${port}/${suffix}`,
    commands,
    crud: () => commands.filter((c) => CRUD.has(c.name)),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A FerretDB behind a wire tap, with a plain client straight to the server (for checks that must not be tapped). */
export interface TappedFerretDb {
  /** The server. */
  ferret: FerretDb;
  /** The tap in front of it. */
  tap: WireTap;
  /** A client connected to the server directly. */
  raw: MongoClient;
  /** Closes the client and the tap and stops the server. */
  close(): Promise<void>;
}

/** Starts a FerretDB, a tap in front of it and a direct client. */
export async function startTappedFerretDb(): Promise<TappedFerretDb> {
  const ferret = await startFerretDb();
  const tap = await startWireTap(ferret.port);
  const raw = new MongoClient(ferret.uri);
  return {
    ferret,
    tap,
    raw,
    close: async () => {
      await raw.close();
      await tap.close();
      await ferret.destroy();
    },
  };
}
