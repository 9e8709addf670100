// Temporal client plumbing shared by the web server and the worker.
import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import type { Sql } from '../db/sql';
import { SEARCH_ATTRIBUTES } from './names';
import { payloadStorage } from './payload-storage';

export interface TemporalHandle {
  connection: Connection;
  client: Client;
  namespace: string;
  taskQueue: string;
}

/**
 * Connects lazily, so the web server starts (and reports not-ready) while Temporal is down.
 * With `sql`, large payloads go to PostgreSQL (lib/payload-storage.ts), as the worker's do: pass it
 * wherever runs are started, updated or read.
 */
export function createTemporalClient(opts: { address: string; namespace: string; taskQueue: string; sql?: Sql }): TemporalHandle {
  // A few quick retries ride out a blip; a Temporal that is down answers (a 503) in about 2 s, not the SDK's 20.
  const connection = Connection.lazy({ address: opts.address, interceptors: [makeGrpcRetryInterceptor(defaultGrpcRetryOptions({ maxAttempts: 5 }))] });
  const client = new Client({ connection, namespace: opts.namespace, ...(opts.sql ? { dataConverter: payloadStorage(opts.sql) } : {}) });
  return { connection, client, namespace: opts.namespace, taskQueue: opts.taskQueue };
}

/** Registers the custom search attributes of DESIGN.md where they are missing. */
export async function ensureSearchAttributes(connection: Connection | NativeConnection, namespace: string): Promise<string[]> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = Object.values(SEARCH_ATTRIBUTES).filter((name) => !(name in (customAttributes ?? {})));
  if (missing.length === 0) return [];
  const KEYWORD = 2; // temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((name) => [name, KEYWORD])),
  });
  return missing;
}
