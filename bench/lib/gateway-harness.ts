/**
 * What the gateway benchmarks share: a gateway over a sandbox (in this process or another),
 * in-process GraphQL, the injected latency, and "am I the main module".
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGateway, demoAccounts, type Gateway, parseConfig, silentLog } from '@rolegraph/gateway';
import type { LatencyOptions, SandboxFixture } from '@rolegraph/sandbox';

/** Injected latency per AWS call unless a case says otherwise. */
export const AWS_LATENCY_MS = 20;

/** The same fixed latency on STS, EC2 and S3. */
export const latencyOf = (fixedMs: number): LatencyOptions => ({
  sts: { fixedMs },
  ec2: { fixedMs },
  s3: { fixedMs },
});

/** True when the module at `url` is the script node was started with. */
export const isMain = (url: string): boolean =>
  process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(url);

export interface BenchGatewayOptions {
  fixture: Pick<SandboxFixture, 'accounts'>;
  endpoint: string;
  /** The central principal's keys (they call AssumeRole). */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Only the first `accounts` member accounts. @default all */
  accounts?: number;
  server?: Record<string, unknown>;
  limits?: Record<string, unknown>;
  /** Merged into `aws` (e.g. `{ sandbox: {} }`: sandbox mode, the limits mirror its buckets). */
  aws?: Record<string, unknown>;
  /** The SDK client settings. @default { maxAttempts: 1 } (no retries: counts stay exact) */
  clientDefaults?: Record<string, unknown>;
  /**
   * The gateway's `cache` config. @default { enabled: false }: a benchmark measures the work of
   * every request unless it is about the AWS-answer cache.
   */
  cache?: Record<string, unknown>;
}

/** A gateway over the sandbox's reader roles, silent, no SDK retries (counts stay exact). */
export async function startBenchGateway(options: BenchGatewayOptions): Promise<Gateway> {
  const all = demoAccounts({ fixture: options.fixture as SandboxFixture });
  const config = await parseConfig(
    {
      accounts: options.accounts === undefined ? all : all.slice(0, options.accounts),
      aws: { endpoint: options.endpoint, ...options.aws },
      ...(options.server ? { server: options.server } : {}),
      ...(options.limits ? { limits: options.limits } : {}),
      cache: options.cache ?? { enabled: false },
    },
    { file: '<bench>' },
  );
  const identity = { ...options.credentials };
  return createGateway({
    config,
    sourceCredentials: async () => identity,
    clientDefaults: options.clientDefaults ?? { maxAttempts: 1 },
    log: silentLog,
  });
}

export const CSRF_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };

export interface GraphQLBody {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, unknown> }>;
}

/** POST one operation to a yoga instance in-process. */
export async function gql(
  server: { fetch: (url: string, init: RequestInit) => Response | Promise<Response> },
  query: string,
  variables?: Record<string, unknown>,
): Promise<GraphQLBody> {
  const response = await server.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: CSRF_HEADERS,
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GraphQLBody;
}

/** Throws with the first GraphQL error, so a benchmark never times failures. */
export function expectData(body: GraphQLBody, what: string): Record<string, unknown> {
  if (body.errors?.length || !body.data) {
    const first = body.errors?.[0];
    throw new Error(`${what}: ${first ? `${first.message} (${String(first.extensions?.code)})` : 'no data'}`);
  }
  return body.data;
}

/** Runs `task(i)` for i in 0..count-1 with at most `concurrency` in flight. */
export async function runBounded(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        await task(i);
      }
    }),
  );
}
