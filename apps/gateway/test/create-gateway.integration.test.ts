import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../src/auth/authenticate.js';
import { parseConfig } from '../src/config/load-config.js';
import { createGateway } from '../src/create-gateway.js';
import { CSRF, gql, type Harness, startHarness } from './helpers.js';

// In-process tests: gateway.fetch() with the demo fixture of a real sandbox behind it.

interface Node {
  id: string;
  region: string;
}
interface Connection<T> {
  nodes: T[];
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: { endCursor: string | null; hasNextPage: boolean };
}

describe('createGateway (in-process)', () => {
  let h: Harness;
  const fixtureInstances = (accountId: string) =>
    h.sandbox.fixture.accounts.find((a) => a.id === accountId)?.instances ?? [];

  beforeAll(async () => {
    h = await startHarness({ config: { limits: { maxAliases: 3, maxDepth: 6, maxCost: 20_000 } } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('rejects a config that is not parsed with a TypeError', () => {
    expect(() => createGateway({ config: {} as never })).toThrow(TypeError);
  });

  it('lists every configured account with alias, id and regions', async () => {
    const r = await gql<{ accounts: Array<{ alias: string; accountId: string; regions: string[] }> }>(
      h.gateway,
      '{ accounts { alias accountId regions } }',
    );
    expect(r.status).toBe(200);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data?.accounts).toEqual([
      { alias: 'prod', accountId: '111111111111', regions: ['us-east-1', 'eu-west-1'] },
      { alias: 'staging', accountId: '222222222222', regions: ['us-east-1', 'eu-west-1'] },
      { alias: 'audit', accountId: '333333333333', regions: ['us-east-1', 'eu-west-1'] },
    ]);
  });

  it('accounts(aliases) takes aliases and ids in order; an unknown one is null with ACCOUNT_NOT_FOUND', async () => {
    const r = await gql<{ accounts: Array<{ alias: string } | null> }>(
      h.gateway,
      '{ accounts(aliases: ["222222222222", "nope", "prod"]) { alias } }',
    );
    expect(r.body.data?.accounts).toEqual([{ alias: 'staging' }, null, { alias: 'prod' }]);
    expect(r.body.errors).toHaveLength(1);
    expect(r.body.errors?.[0]?.path).toEqual(['accounts', 1]);
    expect(r.body.errors?.[0]?.extensions).toMatchObject({ code: 'ACCOUNT_NOT_FOUND', account: 'nope' });
  });

  it('account(account) by alias or id', async () => {
    const r = await gql<{ a: { accountId: string }; b: { alias: string } }>(
      h.gateway,
      '{ a: account(account: "audit") { accountId } b: account(account: "111111111111") { alias } }',
    );
    expect(r.body.data).toEqual({ a: { accountId: '333333333333' }, b: { alias: 'prod' } });
  });

  it('instances over every configured region, with every field', async () => {
    const r = await gql<{ instances: Connection<Record<string, unknown>> }>(
      h.gateway,
      `{ instances(account: "prod") {
          nodes { id region accountId account type state launchTime name tags { key value } privateIp publicIp
                  vpcId subnetId imageId availabilityZone securityGroupIds volumeIds
                  securityGroups { id region accountId name description vpcId tags { key } inboundRuleCount outboundRuleCount }
                  volumes { id region accountId sizeGiB type state encrypted availabilityZone iops attachedInstanceIds tags { key } } }
          pageInfo { hasNextPage } } }`,
    );
    expect(r.body.errors).toBeUndefined();
    const nodes = r.body.data?.instances.nodes ?? [];
    const expected = fixtureInstances('111111111111');
    expect(nodes.map((n) => n.id).sort()).toEqual(expected.map((i) => i.id).sort());
    expect(new Set(nodes.map((n) => n.region))).toEqual(new Set(['us-east-1', 'eu-west-1']));
    const first = nodes[0] as Record<string, unknown> & {
      securityGroups: Array<{ id: string }>;
      securityGroupIds: string[];
    };
    expect(first.account).toBe('prod');
    expect(first.accountId).toBe('111111111111');
    expect(first.state).toMatch(/^(PENDING|RUNNING|SHUTTING_DOWN|TERMINATED|STOPPING|STOPPED)$/);
    expect(typeof first.launchTime).toBe('string');
    expect(first.securityGroups.map((g) => g.id)).toEqual(first.securityGroupIds);
    expect(r.body.data?.instances.pageInfo.hasNextPage).toBe(false);
  });

  it('instances(region) stays in the region; an unconfigured region is REGION_NOT_CONFIGURED', async () => {
    const r = await gql<{ instances: Connection<Node> }>(
      h.gateway,
      '{ instances(account: "prod", region: "eu-west-1") { nodes { id region } } }',
    );
    const expected = fixtureInstances('111111111111').filter((i) => i.region === 'eu-west-1');
    expect(r.body.data?.instances.nodes.map((n) => n.id).sort()).toEqual(expected.map((i) => i.id).sort());
    const bad = await gql(h.gateway, '{ instances(account: "prod", region: "ap-south-1") { nodes { id } } }');
    expect(bad.body.data).toEqual({ instances: null });
    expect(bad.body.errors?.[0]?.extensions).toMatchObject({
      code: 'REGION_NOT_CONFIGURED',
      account: 'prod',
      region: 'ap-south-1',
    });
  });

  it('instances(filter) by state, id and tag', async () => {
    const all = fixtureInstances('222222222222');
    const running = all.filter((i) => i.state === 'running');
    const r = await gql<{ instances: Connection<Node> }>(
      h.gateway,
      '{ instances(account: "staging", filter: { states: [RUNNING] }) { nodes { id } } }',
    );
    expect(r.body.data?.instances.nodes.map((n) => n.id).sort()).toEqual(running.map((i) => i.id).sort());
    const target = all[0];
    const byId = await gql<{ instances: Connection<Node> }>(
      h.gateway,
      'query ($ids: [String!]) { instances(account: "staging", filter: { ids: $ids }) { nodes { id } } }',
      { ids: [target?.id] },
    );
    expect(byId.body.data?.instances.nodes.map((n) => n.id)).toEqual([target?.id]);
    const tagKey = Object.keys(target?.tags ?? {})[0] ?? 'Name';
    const tagValue = target?.tags[tagKey] ?? '';
    const withTag = all.filter((i) => i.tags[tagKey] === tagValue);
    const byTag = await gql<{ instances: Connection<Node> }>(
      h.gateway,
      'query ($k: String!, $v: String!) { instances(account: "staging", filter: { tags: [{ key: $k, values: [$v] }] }) { nodes { id } } }',
      { k: tagKey, v: tagValue },
    );
    expect(byTag.body.data?.instances.nodes.map((n) => n.id).sort()).toEqual(withTag.map((i) => i.id).sort());
  });

  it('pages through instances of both regions with first/after, by endCursor and by edge cursor', async () => {
    const expected = fixtureInstances('333333333333')
      .map((i) => i.id)
      .sort();
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 20; page++) {
      const r: Awaited<ReturnType<typeof gql<{ instances: Connection<Node> }>>> = await gql(
        h.gateway,
        'query ($after: String) { instances(account: "audit", first: 3, after: $after) { edges { cursor node { id } } pageInfo { endCursor hasNextPage } } }',
        { after },
      );
      expect(r.body.errors).toBeUndefined();
      const connection = r.body.data?.instances;
      expect(connection?.edges.length).toBeLessThanOrEqual(3);
      seen.push(...(connection?.edges.map((e) => e.node.id) ?? []));
      if (!connection?.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    expect([...seen].sort()).toEqual(expected);
    expect(new Set(seen).size).toBe(seen.length);

    const firstTwo = await gql<{ instances: Connection<Node> }>(
      h.gateway,
      '{ instances(account: "audit", first: 2) { edges { cursor node { id } } } }',
    );
    const cursor = firstTwo.body.data?.instances.edges[0]?.cursor;
    const fromEdge = await gql<{ instances: Connection<Node> }>(
      h.gateway,
      'query ($c: String) { instances(account: "audit", first: 1, after: $c) { nodes { id } } }',
      { c: cursor },
    );
    expect(fromEdge.body.data?.instances.nodes[0]?.id).toBe(firstTwo.body.data?.instances.edges[1]?.node.id);
  });

  it('bad paging arguments are BAD_USER_INPUT', async () => {
    const r = await gql(
      h.gateway,
      '{ a: instances(account: "prod", first: 0) { nodes { id } } b: buckets(account: "prod", after: "garbage") { nodes { name } } }',
    );
    expect(r.body.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT', 'BAD_USER_INPUT']);
  });

  it('instance(account, region, id), instance without region, and a missing instance', async () => {
    const target = fixtureInstances('111111111111').find((i) => i.region === 'eu-west-1');
    const r = await gql<{ a: Node; b: Node; c: null }>(
      h.gateway,
      `query ($id: String!) {
        a: instance(account: "prod", region: "eu-west-1", id: $id) { id region }
        b: instance(account: "prod", id: $id) { id region }
        c: instance(account: "prod", region: "us-east-1", id: "i-0000000000000dead") { id } }`,
      { id: target?.id },
    );
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data).toEqual({
      a: { id: target?.id, region: 'eu-west-1' },
      b: { id: target?.id, region: 'eu-west-1' },
      c: null,
    });
  });

  it('buckets with every field, bucket(name), and a missing bucket', async () => {
    const fixture = h.sandbox.fixture.accounts.find((a) => a.id === '111111111111');
    const expected = fixture?.buckets ?? [];
    const r = await gql<{ buckets: Connection<Record<string, unknown>> }>(
      h.gateway,
      `{ buckets(account: "prod") { nodes { name accountId account creationDate region tags { key value }
          encryption { algorithm kmsKeyId bucketKeyEnabled }
          publicAccessBlock { blockPublicAcls ignorePublicAcls blockPublicPolicy restrictPublicBuckets }
          policyStatus { isPublic } } } }`,
    );
    expect(r.body.errors).toBeUndefined();
    const nodes = r.body.data?.buckets.nodes ?? [];
    expect(nodes.map((b) => b.name).sort()).toEqual(expected.map((b) => b.name).sort());
    for (const bucket of expected) {
      const node = nodes.find((n) => n.name === bucket.name);
      expect(node?.region).toBe(bucket.region);
      expect(node?.account).toBe('prod');
      expect(node?.encryption === null).toBe(bucket.encryption === undefined);
      expect(node?.publicAccessBlock === null).toBe(bucket.publicAccessBlock === undefined);
      expect(node?.policyStatus).toEqual(bucket.policy ? { isPublic: bucket.policy.isPublic } : null);
      expect(node?.tags).toEqual(
        Object.entries(bucket.tags ?? {})
          .map(([key, value]) => ({ key, value }))
          .sort((x, y) => x.key.localeCompare(y.key)),
      );
    }
    const name = expected[0]?.name ?? '';
    const one = await gql<{ bucket: { name: string; region: string }; missing: null }>(
      h.gateway,
      'query ($n: String!) { bucket(account: "prod", name: $n) { name region } missing: bucket(account: "prod", name: "no-such-bucket-here") { name } }',
      { n: name },
    );
    expect(one.body.data).toEqual({ bucket: { name, region: expected[0]?.region }, missing: null });
  });

  it('buckets pages with first/after', async () => {
    const names: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 10; i++) {
      const r: Awaited<ReturnType<typeof gql<{ buckets: Connection<{ name: string }> }>>> = await gql(
        h.gateway,
        'query ($a: String) { buckets(account: "staging", first: 2, after: $a) { nodes { name } pageInfo { endCursor hasNextPage } } }',
        { a: after },
      );
      names.push(...(r.body.data?.buckets.nodes.map((n) => n.name) ?? []));
      if (!r.body.data?.buckets.pageInfo.hasNextPage) break;
      after = r.body.data.buckets.pageInfo.endCursor;
    }
    const expected =
      h.sandbox.fixture.accounts.find((a) => a.id === '222222222222')?.buckets.map((b) => b.name) ?? [];
    expect(names.sort()).toEqual([...expected].sort());
  });

  it('bucket.objects with prefix, delimiter, first and after', async () => {
    const bucket = h.sandbox.fixture.accounts.find((a) => a.id === '111111111111')?.buckets[0];
    const keys = (bucket?.objects ?? []).map((o) => o.key).sort();
    const q = `query ($n: String!, $p: String, $d: String, $f: Int, $a: String) {
      bucket(account: "prod", name: $n) { objects(prefix: $p, delimiter: $d, first: $f, after: $a) {
        nodes { key size lastModified storageClass etag } edges { cursor } commonPrefixes pageInfo { endCursor hasNextPage } } } }`;
    type R = { bucket: { objects: Connection<{ key: string }> & { commonPrefixes: string[] } } };
    const seen: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 20; i++) {
      const r: Awaited<ReturnType<typeof gql<R>>> = await gql(h.gateway, q, {
        n: bucket?.name,
        f: 3,
        a: after,
      });
      expect(r.body.errors).toBeUndefined();
      seen.push(...(r.body.data?.bucket.objects.nodes.map((o) => o.key) ?? []));
      if (!r.body.data?.bucket.objects.pageInfo.hasNextPage) break;
      after = r.body.data.bucket.objects.pageInfo.endCursor;
    }
    expect(seen).toEqual(keys);
    const top = keys[0]?.split('/')[0] ?? '';
    const rolled = await gql<R>(h.gateway, q, { n: bucket?.name, p: `${top}/`, d: '/' });
    const expectedPrefixes = [
      ...new Set(
        keys
          .filter((k) => k.startsWith(`${top}/`) && k.slice(top.length + 1).includes('/'))
          .map((k) => `${top}/${k.slice(top.length + 1).split('/')[0]}/`),
      ),
    ].sort();
    expect(rolled.body.data?.bucket.objects.commonPrefixes).toEqual(expectedPrefixes);
  });

  it('account.status: caller identity, credential state, expiry, last refresh, no error', async () => {
    const r = await gql<{
      account: { status: Record<string, unknown> & { callerIdentity: { arn: string; account: string } } };
    }>(
      h.gateway,
      '{ account(account: "staging") { status { callerIdentity { account arn userId } credentialState credentialExpiry lastRefresh lastError { code } } } }',
    );
    expect(r.body.errors).toBeUndefined();
    const status = r.body.data?.account.status;
    expect(status?.callerIdentity.account).toBe('222222222222');
    expect(status?.callerIdentity.arn).toMatch(/^arn:aws:sts::222222222222:assumed-role\/RolegraphReader\//);
    expect(status?.credentialState).toBe('FRESH');
    expect(Date.parse(String(status?.credentialExpiry))).toBeGreaterThan(Date.now());
    expect(typeof status?.lastRefresh).toBe('string');
    expect(status?.lastError).toBeNull();
  });

  it('account.instances / buckets / instance / bucket nested under accounts', async () => {
    const r = await gql<{
      accounts: Array<{ alias: string; instances: Connection<Node>; buckets: Connection<{ name: string }> }>;
    }>(
      h.gateway,
      '{ accounts { alias instances(region: "us-east-1", first: 2) { nodes { id region } } buckets(first: 1) { nodes { name } } instance(id: "i-0000000000000dead") { id } bucket(name: "nope-nope") { name } } }',
    );
    expect(r.body.errors).toBeUndefined();
    for (const account of r.body.data?.accounts ?? []) {
      expect(account.instances.nodes).toHaveLength(2);
      expect(account.instances.nodes.every((n) => n.region === 'us-east-1')).toBe(true);
      expect(account.buckets.nodes).toHaveLength(1);
    }
  });

  it('unknown account on a root field is ACCOUNT_NOT_FOUND and null', async () => {
    const r = await gql(h.gateway, '{ buckets(account: "999999999999") { nodes { name } } }');
    expect(r.body.data).toEqual({ buckets: null });
    expect(r.body.errors?.[0]?.extensions).toMatchObject({
      code: 'ACCOUNT_NOT_FOUND',
      account: '999999999999',
    });
  });

  it('a throttled account is an AWS_THROTTLED error naming account, region, awsCode, requestId; siblings answer', async () => {
    h.sandbox.admin.setFault({
      service: 'ec2',
      operation: 'DescribeInstances',
      account: '222222222222',
      region: 'eu-west-1',
      error: 'throttle',
    });
    try {
      const r = await gql<{ accounts: Array<{ alias: string; instances: Connection<Node> | null }> }>(
        h.gateway,
        '{ accounts { alias instances { nodes { id } } } }',
      );
      const byAlias = Object.fromEntries((r.body.data?.accounts ?? []).map((a) => [a.alias, a.instances]));
      expect(byAlias.staging).toBeNull();
      expect(byAlias.prod?.nodes.length).toBe(fixtureInstances('111111111111').length);
      expect(byAlias.audit?.nodes.length).toBe(fixtureInstances('333333333333').length);
      expect(r.body.errors).toHaveLength(1);
      const error = r.body.errors?.[0];
      expect(error?.path).toEqual(['accounts', 1, 'instances']);
      expect(error?.extensions).toMatchObject({
        code: 'AWS_THROTTLED',
        account: 'staging',
        accountId: '222222222222',
        region: 'eu-west-1',
        retryable: true,
      });
      expect(typeof error?.extensions?.awsCode).toBe('string');
      expect(error?.extensions).toHaveProperty('requestId');
      expect(JSON.stringify(error)).not.toMatch(/stack|at .*\.js/);
    } finally {
      h.sandbox.admin.clearFaults();
    }
  });

  it('never shows a secret: no access key id, secret key or session token in any response', async () => {
    const r = await h.gateway.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query:
          '{ accounts { status { callerIdentity { arn userId } credentialExpiry lastError { message } } instances { nodes { id } } } }',
      }),
    });
    const text = await r.text();
    expect(text).not.toMatch(/(AKIA|ASIA)[A-Z0-9]{12,}/);
    expect(text).not.toContain(h.sandbox.credentials.secretAccessKey);
    expect(JSON.stringify(h.logs)).not.toMatch(/(AKIA|ASIA)[A-Z0-9]{12,}/);
    expect(JSON.stringify(h.logs)).not.toContain(h.sandbox.credentials.secretAccessKey);
  });

  it('depth, alias and cost limits refuse an operation before any AWS call', async () => {
    h.sandbox.admin.reset();
    const deep = await gql(
      h.gateway,
      '{ accounts { instances { edges { node { securityGroups { tags { key } } volumes { tags { key } } } } } } }',
    );
    expect(deep.body.errors?.[0]?.message).toMatch(/depth/i);
    const aliases = await gql(
      h.gateway,
      '{ a: accounts { alias } b: accounts { alias } c: accounts { alias } d: accounts { alias } }',
    );
    expect(aliases.body.errors?.[0]?.message).toMatch(/alias/i);
    const costly = await gql(
      h.gateway,
      '{ accounts { instances(first: 1000) { nodes { id securityGroups { id name } volumes { id } } } } }',
    );
    expect(costly.body.errors?.[0]?.extensions).toMatchObject({ code: 'COST_LIMIT_EXCEEDED' });
    expect(h.sandbox.admin.calls()).toBe(0);
  });

  it('CSRF: a GET without the required header is refused, with it answered', async () => {
    const url = `http://localhost/graphql?query=${encodeURIComponent('{ accounts { alias } }')}`;
    const bare = await h.gateway.fetch(url, { headers: { accept: 'application/json' } });
    expect(bare.status).toBe(403);
    const ok = await h.gateway.fetch(url, { headers: { accept: 'application/json', ...CSRF } });
    expect(ok.status).toBe(200);
  });

  it('/health, /ready, /metrics and x-request-id', async () => {
    const health = await h.gateway.fetch('http://localhost/health');
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect((await h.gateway.fetch('http://localhost/ready')).status).toBe(200);
    const r = await gql(h.gateway, '{ accounts { alias } }', undefined, { 'x-request-id': 'req-123' });
    expect(r.headers.get('x-request-id')).toBe('req-123');
    expect(h.logs.some((l) => l.msg === 'request' && l.requestId === 'req-123')).toBe(true);
    const metrics = await (await h.gateway.fetch('http://localhost/metrics')).text();
    for (const name of [
      'rolegraph_gateway_http_requests_total',
      'rolegraph_gateway_graphql_operations_total',
      'rolegraph_gateway_graphql_errors_total',
      'rolegraph_gateway_aws_calls_total{service="ec2",operation="DescribeInstances",outcome="ok"}',
      'rolegraph_gateway_sts_calls_total{operation="AssumeRole",outcome="ok"} 3',
      'rolegraph_gateway_credential_refreshes_total{reason="initial",outcome="ok"} 3',
      'rolegraph_gateway_dataloader_batch_size_bucket',
    ]) {
      expect(metrics).toContain(name);
    }
  });

  it('GraphiQL is off unless configured', async () => {
    const page = await h.gateway.fetch('http://localhost/graphql', { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toContain('<html');
  });
});

describe('createGateway: failures and masking', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('an account whose role cannot be assumed fails alone, with a typed code and retryable', async () => {
    h.sandbox.admin.setAccountEnabled('333333333333', false);
    const r = await gql<{
      accounts: Array<{
        alias: string;
        buckets: { nodes: unknown[] } | null;
        status: { lastError: { code: string } | null };
      }>;
    }>(
      h.gateway,
      '{ accounts { alias buckets { nodes { name } } status { credentialState lastError { code recoverable } } } }',
    );
    const audit = r.body.data?.accounts.find((a) => a.alias === 'audit');
    expect(audit?.buckets).toBeNull();
    expect(audit?.status.lastError?.code).toBeTruthy();
    expect(r.body.data?.accounts.filter((a) => a.buckets !== null).map((a) => a.alias)).toEqual([
      'prod',
      'staging',
    ]);
    expect(r.body.errors).toHaveLength(1);
    expect(r.body.errors?.[0]?.extensions).toMatchObject({
      code: 'CREDENTIALS_UNAVAILABLE',
      account: 'audit',
      accountId: '333333333333',
    });
    expect(typeof r.body.errors?.[0]?.extensions?.retryable).toBe('boolean');
    // Nothing was sent: the error says why the credentials are missing, not that a call failed.
    expect(r.body.errors?.[0]?.extensions?.credentialsCode).toMatch(/^[A-Z_]+$/);
    expect(r.body.errors?.[0]?.message).toMatch(
      /credentials of account \d{12} could not be obtained .*nothing was sent/,
    );
  });

  it('an unexpected error is INTERNAL_SERVER_ERROR with no message detail and no stack', async () => {
    const config = await parseConfig({
      accounts: [
        { alias: 'prod', roleArn: 'arn:aws:iam::111111111111:role/RolegraphReader', regions: ['us-east-1'] },
      ],
    });
    const broken = createGateway({
      config,
      log: () => {},
      sessions: {
        get: () => {
          throw new Error('boom with AKIAABCDEFGHIJKLMNOP inside');
        },
        prepare: () => () => {
          throw new Error('boom with AKIAABCDEFGHIJKLMNOP inside');
        },
        sourceIdentity: () => Promise.reject(new Error('not asked')),
        peek: () => undefined,
        delete: () => false,
        sessions: () => [],
        size: 0,
        maxSessions: 1000,
        resize: () => {},
        on: () => () => {},
        close: () => {},
      },
    });
    const r = await gql(broken, '{ instances(account: "prod") { nodes { id } } }');
    expect(r.body.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    expect(r.body.errors?.[0]?.message).toBe('Unexpected error.');
    expect(JSON.stringify(r.body)).not.toMatch(/AKIA|boom|stack/);
    await broken.close();
  });
});

describe('createGateway: authentication and allow-lists', () => {
  let h: Harness;
  const secret = 'a-test-secret-that-is-long-enough-0123456789';
  const jwt = (claims: Record<string, unknown>, options: { audience?: string; expiresIn?: string } = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('https://issuer.test')
      .setAudience(options.audience ?? 'rolegraph')
      .setSubject('alice')
      .setIssuedAt()
      .setExpirationTime(options.expiresIn ?? '5m')
      .sign(new TextEncoder().encode(secret));

  beforeAll(async () => {
    h = await startHarness({
      config: {
        auth: {
          apiKeys: [
            { name: 'ci', sha256: hashApiKey('prod-only-key'), accounts: ['prod'] },
            { name: 'ops', sha256: hashApiKey('all-key'), accounts: ['*'] },
          ],
          jwt: { issuer: 'https://issuer.test', audience: 'rolegraph', secret },
        },
      },
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('no credentials, a wrong key or a bad token is 401 UNAUTHENTICATED', async () => {
    const attempts: Array<Record<string, string>> = [
      {},
      { 'x-api-key': 'wrong' },
      { authorization: 'Bearer not.a.jwt' },
    ];
    for (const headers of attempts) {
      const r = await gql(h.gateway, '{ accounts { alias } }', undefined, headers);
      expect(r.status).toBe(401);
      expect(r.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
    const expired = await jwt({ accounts: ['prod'] }, { expiresIn: '-10m' });
    const wrongAudience = await jwt({ accounts: ['prod'] }, { audience: 'other' });
    for (const token of [expired, wrongAudience]) {
      const r = await gql(h.gateway, '{ accounts { alias } }', undefined, {
        authorization: `Bearer ${token}`,
      });
      expect(r.status).toBe(401);
    }
  });

  it('an API key sees only its accounts; denied and unknown accounts are the same FORBIDDEN', async () => {
    const key = { 'x-api-key': 'prod-only-key' };
    const list = await gql<{ accounts: Array<{ alias: string }> }>(
      h.gateway,
      '{ accounts { alias } }',
      undefined,
      key,
    );
    expect(list.body.data?.accounts).toEqual([{ alias: 'prod' }]);
    const denied = await gql(h.gateway, '{ buckets(account: "staging") { nodes { name } } }', undefined, key);
    const unknown = await gql(h.gateway, '{ buckets(account: "nosuch") { nodes { name } } }', undefined, key);
    expect(denied.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(unknown.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const shape = (e: unknown) => JSON.stringify(e).replace(/staging|nosuch/g, 'X');
    expect(shape(denied.body.errors)).toBe(shape(unknown.body.errors));
    expect(JSON.stringify(denied.body)).not.toMatch(/222222222222|audit/);
    const byId = await gql(
      h.gateway,
      '{ accounts(aliases: ["111111111111", "222222222222"]) { alias } }',
      undefined,
      key,
    );
    expect(byId.body.data).toEqual({ accounts: [{ alias: 'prod' }, null] });
    expect(byId.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('an all-accounts key sees every account', async () => {
    const r = await gql<{ accounts: unknown[] }>(h.gateway, '{ accounts { alias } }', undefined, {
      'x-api-key': 'all-key',
    });
    expect(r.body.data?.accounts).toHaveLength(3);
  });

  it('a JWT carries its allow-list in the accounts claim', async () => {
    const token = await jwt({ accounts: ['staging', '333333333333'] });
    const r = await gql<{ accounts: Array<{ alias: string }> }>(
      h.gateway,
      '{ accounts { alias } }',
      undefined,
      {
        authorization: `Bearer ${token}`,
      },
    );
    expect(r.body.data?.accounts.map((a) => a.alias)).toEqual(['staging', 'audit']);
    const none = await jwt({});
    const denied = await gql(h.gateway, '{ account(account: "prod") { alias } }', undefined, {
      authorization: `Bearer ${none}`,
    });
    expect(denied.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('drain() turns /ready to 503', async () => {
    h.gateway.drain();
    expect((await h.gateway.fetch('http://localhost/ready')).status).toBe(503);
  });
});

describe('createGateway: GraphiQL and CORS', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      config: { server: { graphiql: true, cors: { origins: ['https://app.example'] } } },
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('serves GraphiQL with the preloaded example queries, bundled (no CDN)', async () => {
    const page = await (
      await h.gateway.fetch('http://localhost/graphql', { headers: { accept: 'text/html' } })
    ).text();
    expect(page).toContain('query OneAccount');
    expect(page).toContain('query AllAccounts');
    expect(page).toContain('query AccountHealth');
    expect(page).not.toMatch(/unpkg\.com|cdn\.jsdelivr/);
  });

  it('answers CORS for configured origins only', async () => {
    const allowed = await h.gateway.fetch('http://localhost/graphql', {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const other = await h.gateway.fetch('http://localhost/graphql', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(other.headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
  });
});
