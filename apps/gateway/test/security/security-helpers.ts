import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AdapterErrorCode, CredentialsErrorCode } from '@rolegraph/credentials';
import type { Gateway } from '../../src/create-gateway.js';
import { GatewayErrorCode } from '../../src/errors.js';
import type { GraphQLResponse } from '../helpers.js';

/**
 * Every `extensions.code` a caller may see, except `INTERNAL_SERVER_ERROR` (a bug): the
 * gateway's, the adapters', the credentials package's, and graphql-yoga / graphql-armor's own.
 */
export const KNOWN_CODES: ReadonlySet<string> = new Set([
  ...Object.values(GatewayErrorCode),
  ...Object.values(AdapterErrorCode),
  ...Object.values(CredentialsErrorCode),
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
]);

export type GraphQLErrorBody = NonNullable<GraphQLResponse['body']['errors']>[number];

/** The codes of a response's errors (`undefined` where an error has none). */
export function codesOf(body: GraphQLResponse['body']): Array<string | undefined> {
  return (body.errors ?? []).map((e) =>
    typeof e.extensions?.code === 'string' ? e.extensions.code : undefined,
  );
}

/** Errors whose code is missing, unknown, or INTERNAL_SERVER_ERROR. */
export function unexpectedErrors(body: GraphQLResponse['body']): GraphQLErrorBody[] {
  return (body.errors ?? []).filter((e) => {
    const code = e.extensions?.code;
    return typeof code !== 'string' || !KNOWN_CODES.has(code);
  });
}

/** The gateway on a real socket: 127.0.0.1, an ephemeral port. */
export async function listen(gateway: Gateway): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(gateway);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Total calls the sandbox counted (every service, operation, account). */
export function totalCalls(sandbox: { admin: { counters(): Array<{ count: number }> } }): number {
  return sandbox.admin.counters().reduce((n, c) => n + c.count, 0);
}
