import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../src/auth/authenticate.js';
import type { CacheReport } from '../src/cache/use-answer-cache.js';
import { gql, type Harness, startHarness } from './helpers.js';

// The AWS-answer cache through the gateway, against the sandbox's call counters: what a
// repeated query costs, how a caller asks for fresh data, what the response says about age,
// and that a shared cache never serves an account to a caller who may not use it.

const QUERY = `{
  accounts {
    alias
    instances(first: 100) { nodes { id region securityGroups { id name } volumes { id sizeGiB } } }
    buckets(first: 100) { nodes { name region tags { key value } } }
  }
}`;
/** QUERY's AWS calls on the demo fixture, AssumeRole aside (see call-counts.integration.test.ts). */
const SERVICE_CALLS = 36;

const ALL = { 'x-api-key': 'all-accounts-key' };
const PROD_ONLY = { 'x-api-key': 'prod-only-key' };

function fakeClock() {
  let t = Date.UTC(2030, 0, 1);
  return {
    now: () => t,
    advance(seconds: number) {
      t += seconds * 1000;
    },
  };
}

const serviceCalls = (h: Harness) =>
  h.sandbox.admin.calls({ service: 'ec2' }) + h.sandbox.admin.calls({ service: 's3' });

function reportOf(body: { extensions?: Record<string, unknown> }): CacheReport {
  const report = body.extensions?.cache as CacheReport | undefined;
  if (!report) throw new Error(`no extensions.cache in ${JSON.stringify(body).slice(0, 200)}`);
  return report;
}

describe('a repeated query, and the freshness a caller asks for', () => {
  let h: Harness;
  const clock = fakeClock();
  const t0 = new Date(clock.now()).toISOString();
  beforeAll(async () => {
    h = await startHarness({ deps: { now: clock.now } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('the first run sends every call and says so: misses, age 0', async () => {
    h.sandbox.admin.reset();
    const r = await gql(h.gateway, QUERY);
    expect(r.body.errors).toBeUndefined();
    expect(serviceCalls(h)).toBe(SERVICE_CALLS);
    const report = reportOf(r.body);
    expect(report).toMatchObject({
      hits: 0,
      shared: 0,
      misses: SERVICE_CALLS,
      oldestAgeSeconds: 0,
      fetchedAt: t0,
    });
    expect(Object.keys(report.accounts).sort()).toEqual(['audit', 'prod', 'staging']);
    expect(report.accounts.prod).toMatchObject({ hits: 0, misses: 12, oldestAgeSeconds: 0 });
  });

  it('within the TTL the same query costs 0 AWS calls, answers the same, and says how old it is', async () => {
    const first = await gql(h.gateway, QUERY);
    h.sandbox.admin.reset();
    clock.advance(20);
    const r = await gql(h.gateway, QUERY);
    expect(r.body.errors).toBeUndefined();
    expect(h.sandbox.admin.calls()).toBe(0);
    expect(r.body.data).toEqual(first.body.data);
    expect(reportOf(r.body)).toMatchObject({
      hits: SERVICE_CALLS,
      misses: 0,
      oldestAgeSeconds: 20,
      fetchedAt: t0,
      accounts: { prod: { hits: 12, misses: 0, oldestAgeSeconds: 20, fetchedAt: t0 } },
    });
  });

  it('Cache-Control: no-cache fetches everything fresh and refreshes the cache for later requests', async () => {
    h.sandbox.admin.reset();
    const r = await gql(h.gateway, QUERY, undefined, { 'cache-control': 'no-cache' });
    expect(r.body.errors).toBeUndefined();
    expect(serviceCalls(h)).toBe(SERVICE_CALLS);
    expect(reportOf(r.body)).toMatchObject({ hits: 0, misses: SERVICE_CALLS, oldestAgeSeconds: 0 });
    const refreshedAt = new Date(clock.now()).toISOString();
    clock.advance(5);
    h.sandbox.admin.reset();
    const next = await gql(h.gateway, QUERY);
    expect(h.sandbox.admin.calls()).toBe(0);
    // 5 s old: the refreshed answers, not the ones from 25 s ago.
    expect(reportOf(next.body)).toMatchObject({
      hits: SERVICE_CALLS,
      oldestAgeSeconds: 5,
      fetchedAt: refreshedAt,
    });
  });

  it('Cache-Control: max-age=N accepts answers at most N s old; older ones are fetched anew', async () => {
    clock.advance(25); // the answers are 30 s old now
    h.sandbox.admin.reset();
    const young = await gql(h.gateway, QUERY, undefined, { 'cache-control': 'max-age=60' });
    expect(h.sandbox.admin.calls()).toBe(0);
    expect(reportOf(young.body)).toMatchObject({ hits: SERVICE_CALLS, oldestAgeSeconds: 30 });
    const strict = await gql(h.gateway, QUERY, undefined, { 'cache-control': 'max-age=10' });
    expect(strict.body.errors).toBeUndefined();
    expect(serviceCalls(h)).toBe(SERVICE_CALLS);
    expect(reportOf(strict.body)).toMatchObject({ hits: 0, misses: SERVICE_CALLS, oldestAgeSeconds: 0 });
    // max-age=0 is no-cache.
    h.sandbox.admin.reset();
    await gql(h.gateway, QUERY, undefined, { 'cache-control': 'max-age=0' });
    expect(serviceCalls(h)).toBe(SERVICE_CALLS);
  });

  it('past the TTL (60 s by default) the query is fetched again', async () => {
    clock.advance(61);
    h.sandbox.admin.reset();
    const r = await gql(h.gateway, QUERY, undefined, { 'cache-control': 'max-age=3600' });
    expect(serviceCalls(h)).toBe(SERVICE_CALLS);
    expect(reportOf(r.body)).toMatchObject({ hits: 0, misses: SERVICE_CALLS });
  });

  it('a max-age that is not a number of seconds is BAD_USER_INPUT, and nothing is sent', async () => {
    h.sandbox.admin.reset();
    for (const header of ['max-age=soon', 'max-age=-1', 'max-age', 'no-cache, max-age=1.5']) {
      const r = await gql(h.gateway, QUERY, undefined, { 'cache-control': header });
      expect(r.status, header).toBe(400);
      expect(
        r.body.errors?.map((e) => e.extensions?.code),
        header,
      ).toEqual(['BAD_USER_INPUT']);
      expect(r.body.errors?.[0]?.message).toMatch(/max-age must be a whole number of seconds/);
    }
    // Directives HTTP defines for other purposes are ignored, as HTTP says.
    const r = await gql(h.gateway, QUERY, undefined, { 'cache-control': 'no-transform, stale-if-error=5' });
    expect(r.body.errors).toBeUndefined();
    expect(h.sandbox.admin.calls()).toBe(0);
  });

  it('the metrics count answers by source', async () => {
    const text = await h.gateway.metrics.registry.metrics();
    expect(text).toMatch(/rolegraph_gateway_aws_answers_total\{source="cache"\} [1-9]/);
    expect(text).toMatch(/rolegraph_gateway_aws_answers_total\{source="aws"\} [1-9]/);
  });
});

describe('cache.enabled: false', () => {
  it('every run sends every call and the response carries no cache report', async () => {
    const h = await startHarness({ config: { cache: { enabled: false } } });
    try {
      expect(h.gateway.answerCache).toBeUndefined();
      for (let i = 0; i < 2; i++) {
        h.sandbox.admin.reset();
        const r = await gql(h.gateway, QUERY);
        expect(r.body.errors).toBeUndefined();
        expect(serviceCalls(h)).toBe(SERVICE_CALLS);
        expect(r.body.extensions).toBeUndefined();
      }
    } finally {
      await h.close();
    }
  });

  it('a bad cache config is refused at start, naming the field', async () => {
    await expect(startHarness({ config: { cache: { ttlSeconds: { 'EC2 Describe': 5 } } } })).rejects.toThrow(
      /cache\.ttlSeconds/,
    );
    await expect(startHarness({ config: { cache: { ttlSeconds: { default: -1 } } } })).rejects.toThrow(
      /cache\.ttlSeconds\.default/,
    );
  });
});

describe('two callers sharing one cache: authorization comes before the cache', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      config: {
        auth: {
          apiKeys: [
            { name: 'ops', sha256: hashApiKey('all-accounts-key'), accounts: ['*'] },
            { name: 'ci', sha256: hashApiKey('prod-only-key'), accounts: ['prod'] },
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  const STAGING =
    '{ account(account: "staging") { alias instances(first: 100) { nodes { id } } buckets { nodes { name } } } }';
  const BY_ID = '{ instances(account: "222222222222", first: 100) { nodes { id } } }';

  it('answers cached for one caller are FORBIDDEN, with no data, to a caller who may not use the account', async () => {
    const ops = await gql<{ account: { instances: { nodes: unknown[] } } }>(
      h.gateway,
      STAGING,
      undefined,
      ALL,
    );
    expect(ops.body.errors).toBeUndefined();
    expect(ops.body.data?.account.instances.nodes).toHaveLength(10);
    await gql(h.gateway, BY_ID, undefined, ALL);
    h.sandbox.admin.reset();
    for (const query of [STAGING, BY_ID]) {
      const ci = await gql(h.gateway, query, undefined, PROD_ONLY);
      expect(ci.body.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
      expect(Object.values(ci.body.data ?? {})).toEqual([null]);
      // Not a hit, not a call: the restricted caller never reached the cache.
      expect(reportOf(ci.body)).toMatchObject({ hits: 0, shared: 0, misses: 0, accounts: {} });
      expect(JSON.stringify(ci.body)).not.toMatch(/i-[0-9a-f]{17}/);
    }
    const all = await gql<{ accounts: Array<{ alias: string }> }>(
      h.gateway,
      '{ accounts { alias instances(first: 100) { nodes { id } } } }',
      undefined,
      PROD_ONLY,
    );
    expect(all.body.data?.accounts.map((a) => a.alias)).toEqual(['prod']);
    expect(Object.keys(reportOf(all.body).accounts)).toEqual(['prod']);
    expect(h.sandbox.admin.calls({ account: '222222222222' })).toBe(0);
  });

  it('an account both may use is shared: the second caller gets it from the cache', async () => {
    const PROD = '{ account(account: "prod") { instances(first: 100) { nodes { id } } } }';
    await gql(h.gateway, PROD, undefined, ALL);
    h.sandbox.admin.reset();
    const ci = await gql(h.gateway, PROD, undefined, PROD_ONLY);
    expect(ci.body.errors).toBeUndefined();
    expect(h.sandbox.admin.calls()).toBe(0);
    expect(reportOf(ci.body)).toMatchObject({ hits: 2, misses: 0 });
  });
});

describe('concurrent identical queries from different requests share their AWS calls', () => {
  // Every EC2 and S3 call takes 1.5 s, so requests fired together overlap in flight.
  const slow = { latency: { ec2: { fixedMs: 1500 }, s3: { fixedMs: 1500 } } };
  const INSTANCES = '{ accounts { alias instances(first: 100) { nodes { id } } } }';
  const ACCOUNTS = 3;
  const INSTANCE_CALLS = 6; // 3 accounts x 2 regions

  async function warmCredentials(h: Harness) {
    // Roles assumed first, so the requests below reach their AWS calls at the same time.
    const r = await gql(h.gateway, '{ accounts { status { credentialState } } }');
    expect(r.body.errors).toBeUndefined();
    h.sandbox.admin.reset();
  }

  for (const ttl of [60, 0]) {
    it(`4 requests at once cost the calls of one (TTL ${ttl} s)`, async () => {
      const h = await startHarness({ sandbox: slow, config: { cache: { ttlSeconds: { default: ttl } } } });
      try {
        await warmCredentials(h);
        const results = await Promise.all([1, 2, 3, 4].map(() => gql(h.gateway, INSTANCES)));
        for (const r of results) expect(r.body.errors).toBeUndefined();
        expect(h.sandbox.admin.calls({ operation: 'DescribeInstances' })).toBe(INSTANCE_CALLS);
        expect(results.map((r) => r.body.data)).toEqual(results.map(() => results[0]?.body.data));
        const reports = results.map((r) => reportOf(r.body));
        expect(reports.reduce((n, r) => n + r.misses, 0)).toBe(INSTANCE_CALLS);
        expect(reports.reduce((n, r) => n + r.shared, 0)).toBe(3 * INSTANCE_CALLS);
        expect(h.gateway.answerCache?.inFlight).toBe(0);
        // Distinct requests at once: each distinct call once.
        h.sandbox.admin.reset();
        const distinct = await Promise.all(
          ['us-east-1', 'eu-west-1', 'us-east-1', 'eu-west-1'].map((region) =>
            gql(
              h.gateway,
              `{ accounts { instances(region: "${region}", first: 100) { nodes { id } } } }`,
              undefined,
              {
                'cache-control': 'no-cache',
              },
            ),
          ),
        );
        for (const r of distinct) expect(r.body.errors).toBeUndefined();
        expect(h.sandbox.admin.calls({ operation: 'DescribeInstances' })).toBe(INSTANCE_CALLS);
      } finally {
        await h.close();
      }
    });
  }

  it('a caller that goes away mid-call leaves the shared calls it started to the others', async () => {
    const h = await startHarness({ sandbox: slow });
    try {
      await warmCredentials(h);
      const leaving = new AbortController();
      const gone = Promise.resolve(
        h.gateway.fetch('http://localhost/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify({ query: INSTANCES }),
          signal: leaving.signal,
        }),
      ).then(
        (res: Response) => res.json(),
        (error: unknown) => error,
      );
      // The leaving request starts the first region's call of each account (regions are walked
      // in order); the staying one joins those in flight, and sends the second regions itself.
      const inFlight = () => h.gateway.answerCache?.inFlight ?? 0;
      for (const deadline = Date.now() + 10_000; inFlight() < ACCOUNTS && Date.now() < deadline; ) {
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(inFlight()).toBe(ACCOUNTS);
      const staying = gql<{ accounts: Array<{ instances: { nodes: unknown[] } }> }>(h.gateway, INSTANCES);
      await new Promise((r) => setTimeout(r, 100));
      leaving.abort(new Error('the browser tab closed'));
      await gone;
      const r = await staying;
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data?.accounts.map((a) => a.instances.nodes.length)).toEqual([10, 10, 10]);
      expect(reportOf(r.body)).toMatchObject({ shared: ACCOUNTS, misses: INSTANCE_CALLS - ACCOUNTS });
      expect(h.sandbox.admin.calls({ operation: 'DescribeInstances' })).toBe(INSTANCE_CALLS);
    } finally {
      await h.close();
    }
  });
});
