import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { hashApiKey } from '../../src/auth/authenticate.js';
import { createLog, type LogEntry } from '../../src/observability/log.js';
import { CSRF, type Harness, startHarness } from '../helpers.js';
import { listen } from './security-helpers.js';

// One test runs every error and fault scenario it can against a gateway on a real socket,
// captures every response status line, header and body and every log line, then checks that
// no access key id, secret access key or session token the sandbox ever issued appears in any
// of them (the sandbox lists its fixture users' keys and every session it minted).

const ALL_KEY = 'secrets-test-all-accounts';
const PROD_KEY = 'secrets-test-prod-only';
const SECRET = 'a-test-secret-that-is-long-enough-0123456789';
const KEY_SHAPED = /(AKIA|ASIA)[A-Z0-9]{12,}/;

describe('no credential the sandbox issued ever leaves the gateway', () => {
  let h: Harness;
  let url: string;
  let closeServer: () => Promise<void>;
  const captured: string[] = [];
  const codes = new Set<string>();
  // What the call sites log, and what the production logger (pino, both formats) writes from it.
  const entries: LogEntry[] = [];
  const written: string[] = [];
  const json = createLog({ format: 'json', minLevel: 'debug', write: (line) => written.push(line) });
  const pretty = createLog({
    format: 'pretty',
    minLevel: 'debug',
    colorize: false,
    write: (line) => written.push(line),
  });

  beforeAll(async () => {
    h = await startHarness({
      config: {
        auth: {
          apiKeys: [
            { name: 'ops', sha256: hashApiKey(ALL_KEY), accounts: ['*'] },
            { name: 'ci', sha256: hashApiKey(PROD_KEY), accounts: ['prod'] },
          ],
          jwt: { issuer: 'https://issuer.test/', audience: 'rolegraph', secret: SECRET },
        },
      },
      // The session cache's default retry backoff would keep a failed account failing for the
      // rest of this short test; the recovery after each fault is part of what is exercised.
      deps: {
        log: (entry) => {
          entries.push(entry);
          json(entry);
          pretty(entry);
        },
        refresh: { refreshBackoff: { minMs: 1, maxMs: 5 }, nonRecoverableErrorTtl: { minMs: 1, maxMs: 5 } },
      },
    });
    const server = await listen(h.gateway);
    url = server.url;
    closeServer = server.close;
  });
  afterAll(async () => {
    vi.useRealTimers();
    await closeServer?.();
    await h?.close();
  });

  async function send(init: {
    query?: string;
    variables?: unknown;
    headers?: Record<string, string>;
    raw?: string;
    path?: string;
    method?: string;
  }) {
    const target = init.path ? url.replace('/graphql', init.path) : url;
    const response = await fetch(target, {
      method: init.method ?? 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...init.headers },
      ...(init.method === 'GET'
        ? {}
        : { body: init.raw ?? JSON.stringify({ query: init.query, variables: init.variables }) }),
    });
    const body = await response.text();
    captured.push(`${response.status} ${response.statusText}`);
    for (const [name, value] of response.headers) captured.push(`${name}: ${value}`);
    captured.push(body);
    try {
      const parsed = JSON.parse(body) as { errors?: Array<{ extensions?: { code?: unknown } }> };
      for (const e of parsed.errors ?? [])
        if (typeof e.extensions?.code === 'string') codes.add(e.extensions.code);
    } catch {
      // Not JSON (metrics): captured as text all the same.
    }
    return response.status;
  }
  // no-cache: every fault scenario below must reach the (faulty) sandbox, not the answer cache.
  const as = (key: string) => ({ 'x-api-key': key, 'cache-control': 'no-cache' });
  const everything = `{ accounts { alias status { callerIdentity { account arn userId } credentialState lastError { code message } }
      instances { nodes { id securityGroups { id } volumes { id } } } buckets { nodes { name region tags { key } encryption { algorithm } } } } }`;

  it('every scenario, then no key id, secret or session token anywhere', async () => {
    const sb = h.sandbox.admin;
    // Bad auth.
    await send({ query: '{ accounts { alias } }' });
    await send({ query: '{ accounts { alias } }', headers: as('wrong') });
    await send({ query: '{ accounts { alias } }', headers: { authorization: 'Bearer not.a.jwt' } });
    const expired = await new SignJWT({ accounts: ['*'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('https://issuer.test/')
      .setAudience('rolegraph')
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(new TextEncoder().encode(SECRET));
    await send({ query: '{ accounts { alias } }', headers: { authorization: `Bearer ${expired}` } });
    // A source key sent as an API key must not be echoed back.
    await send({ query: '{ accounts { alias } }', headers: as(h.sandbox.credentials.accessKeyId) });
    // Bad GraphQL and bad input.
    await send({ query: '{ accounts { alias ', headers: as(ALL_KEY) });
    await send({ raw: '{ "query": ', headers: as(ALL_KEY) });
    await send({ query: '{ nope }', headers: as(ALL_KEY) });
    await send({
      query: 'query ($a: String!) { account(account: $a) { alias } }',
      variables: { a: 1 },
      headers: as(ALL_KEY),
    });
    await send({ query: '{ instances(account: "prod", first: 0) { nodes { id } } }', headers: as(ALL_KEY) });
    await send({
      query: '{ instances(account: "prod", after: "garbage") { nodes { id } } }',
      headers: as(ALL_KEY),
    });
    // CSRF refusal.
    await send({
      method: 'GET',
      path: `/graphql?query=${encodeURIComponent('{ accounts { alias } }')}`,
      headers: as(ALL_KEY),
    });
    // Unknown, malformed and forbidden accounts.
    await send({ query: '{ account(account: "nope") { alias } }', headers: as(ALL_KEY) });
    await send({
      query: '{ account(account: "arn:aws:iam::111111111111:role/RolegraphReader") { alias } }',
      headers: as(ALL_KEY),
    });
    await send({ query: '{ buckets(account: "staging") { nodes { name } } }', headers: as(PROD_KEY) });
    // AssumeRole denied (audit) and STS down (staging), before either account has a session.
    sb.setFault({
      service: 'sts',
      operation: 'AssumeRole',
      account: '333333333333',
      error: { code: 'AccessDenied', status: 403, message: 'not allowed' },
    });
    await send({ query: '{ instances(account: "audit") { nodes { id } } }', headers: as(ALL_KEY) });
    sb.clearFaults();
    sb.setServiceEnabled('sts', false);
    await send({ query: '{ instances(account: "staging") { nodes { id } } }', headers: as(ALL_KEY) });
    sb.setServiceEnabled('sts', true);
    // Everything, working: every account gets a session (the secrets to look for).
    await new Promise((r) => setTimeout(r, 20));
    await send({ query: everything, headers: as(ALL_KEY) });
    // EC2 throttled, S3 errors, GetCallerIdentity failing.
    sb.setFault({ service: 'ec2', error: 'throttle' });
    await send({ query: everything, headers: as(ALL_KEY) });
    sb.clearFaults();
    sb.setFault({ service: 's3', operation: 'ListBuckets', error: { code: 'AccessDenied', status: 403 } });
    sb.setFault({ service: 's3', operation: 'GetBucketTagging', error: 'internal' });
    sb.setFault({ service: 's3', operation: 'GetBucketEncryption', error: 'unavailable' });
    await send({ query: everything, headers: as(ALL_KEY) });
    sb.clearFaults();
    sb.setFault({ service: 's3', error: 'internal' });
    await send({ query: '{ bucket(account: "prod", name: "x") { name } }', headers: as(ALL_KEY) });
    sb.clearFaults();
    sb.setFault({ service: 'sts', operation: 'GetCallerIdentity', error: 'internal' });
    await send({
      query: '{ account(account: "prod") { status { callerIdentity { arn } } } }',
      headers: as(ALL_KEY),
    });
    sb.clearFaults();
    // An AWS code no table knows, with a status that names no kind: AWS_ERROR.
    sb.setFault({
      service: 'sts',
      operation: 'GetCallerIdentity',
      error: { code: 'SomethingOdd', status: 409 },
    });
    await send({
      query: '{ account(account: "prod") { status { callerIdentity { arn } } } }',
      headers: as(ALL_KEY),
    });
    sb.clearFaults();
    // Expired credentials: only Date moves (the gateway, the SDK signer and the sandbox share it).
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    try {
      vi.setSystemTime(Date.now() + 61 * 60_000);
      sb.setServiceEnabled('sts', false);
      await send({ query: everything, headers: as(ALL_KEY) });
      sb.setServiceEnabled('sts', true);
      await new Promise((r) => setTimeout(r, 20));
      await send({ query: everything, headers: as(ALL_KEY) });
    } finally {
      vi.useRealTimers();
    }
    // Operational endpoints.
    await send({ method: 'GET', path: '/metrics' });
    await send({ method: 'GET', path: '/health' });
    await send({
      method: 'GET',
      path: '/graphql?query=%7B__typename%7D',
      headers: { ...as(ALL_KEY), ...CSRF },
    });

    // The scenarios really ran: each of these codes was answered at least once.
    expect([...codes].sort()).toEqual(
      expect.arrayContaining([
        'ACCOUNT_NOT_FOUND',
        'AWS_ACCESS_DENIED',
        'AWS_ERROR',
        'AWS_THROTTLED',
        'AWS_UNAVAILABLE',
        'BAD_USER_INPUT',
        'CREDENTIALS_UNAVAILABLE',
        'FORBIDDEN',
        'GRAPHQL_PARSE_FAILED',
        'GRAPHQL_VALIDATION_FAILED',
        'UNAUTHENTICATED',
      ]),
    );
    expect(codes.has('INTERNAL_SERVER_ERROR')).toBe(false);

    const issued = h.sandbox.admin.issuedCredentials();
    const sessions = issued.filter((c) => c.kind === 'session');
    // A session per account, and fresh ones after the clock jump.
    expect(sessions.length).toBeGreaterThanOrEqual(4);
    const secrets = issued.flatMap((c) => [
      c.accessKeyId,
      c.secretAccessKey,
      ...(c.sessionToken ? [c.sessionToken] : []),
    ]);
    expect(secrets.length).toBeGreaterThanOrEqual(3 * sessions.length);
    // pino-pretty writes through a stream: let its last lines land.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const logLines = [...entries.map((entry) => JSON.stringify(entry)), ...written];
    expect(entries.length).toBeGreaterThan(20);
    expect(written.length).toBeGreaterThanOrEqual(2 * entries.filter((e) => e.level !== 'debug').length);
    expect(written.some((line) => line.includes('"msg":"request"') && line.includes('"caller":"ops"'))).toBe(
      true,
    );
    expect(captured.length).toBeGreaterThan(100);
    const haystack = [...captured, ...logLines];
    for (const text of haystack) {
      for (const secret of secrets) {
        if (text.includes(secret)) throw new Error(`a sandbox credential leaked in: ${text.slice(0, 300)}`);
      }
      expect(text).not.toMatch(KEY_SHAPED);
    }
  });
});
