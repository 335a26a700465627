import { type Sandbox, type SandboxOptions, startSandbox } from '@rolegraph/sandbox';
import { parseConfig } from '../src/config/load-config.js';
import { createGateway, type Gateway, type GatewayDeps } from '../src/create-gateway.js';
import { demoAccounts } from '../src/demo.js';
import type { LogEntry } from '../src/observability/log.js';

export const CSRF = { 'x-graphql-yoga-csrf': '1' };

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  body: {
    data?: T | null;
    errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, unknown> }>;
    extensions?: Record<string, unknown>;
  };
  headers: Headers;
}

/** POST a GraphQL operation to the gateway in-process. */
export async function gql<T = Record<string, unknown>>(
  gateway: Pick<Gateway, 'fetch'>,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<T>> {
  const response = await gateway.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as GraphQLResponse<T>['body'];
  return { status: response.status, body, headers: response.headers };
}

export interface Harness {
  sandbox: Sandbox;
  gateway: Gateway;
  logs: LogEntry[];
  close(): Promise<void>;
}

/** A sandbox with the demo fixture and a gateway over its reader roles. */
export async function startHarness(
  options: {
    sandbox?: SandboxOptions;
    config?: Record<string, unknown>;
    durationSeconds?: number;
    deps?: Partial<GatewayDeps>;
  } = {},
): Promise<Harness> {
  const sandbox = await startSandbox({ port: 0, host: '127.0.0.1', ...options.sandbox });
  const logs: LogEntry[] = [];
  const { aws, ...rest } = options.config ?? {};
  const config = await parseConfig({
    accounts: demoAccounts(sandbox, options.durationSeconds),
    ...rest,
    aws: { endpoint: sandbox.endpoint, ...(aws as Record<string, unknown> | undefined) },
  });
  const identity = { ...sandbox.credentials };
  const gateway = createGateway({
    config,
    sourceCredentials: async () => identity,
    clientDefaults: { maxAttempts: 1 },
    log: (entry) => logs.push(entry),
    ...options.deps,
  });
  return {
    sandbox,
    gateway,
    logs,
    async close() {
      await gateway.close();
      await sandbox.close();
    },
  };
}
