import { generateFixture, ORG_READER_ROLE_NAME, ORGANIZATIONS_MAX_RESULTS } from '@rolegraph/sandbox';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../src/auth/authenticate.js';
import { CSRF, gql, type Harness } from '../helpers.js';
import { MEMBER_EXTERNAL_ID } from './org-fixture.js';
import { discovered, startOrgHarness } from './org-harness.js';

// Discovery against the sandbox's Organizations: nested OUs, include/exclude, states, paging,
// throttling, aliases, static entries, OU allow-lists, readiness, what the gateway serves.

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

interface AccountRow {
  alias: string;
  accountId: string;
  name: string | null;
  state: string | null;
  organizationalUnit: { id: string; path: string[]; ancestorIds: string[] } | null;
}

const ACCOUNTS = '{ accounts { alias accountId name state organizationalUnit { id path ancestorIds } } }';

async function accountsOf(h: Harness, headers: Record<string, string> = {}): Promise<AccountRow[]> {
  const res = await gql<{ accounts: AccountRow[] }>(h.gateway, ACCOUNTS, undefined, { ...CSRF, ...headers });
  expect(res.body.errors).toBeUndefined();
  return res.body.data?.accounts ?? [];
}

const idsOf = (rows: ReadonlyArray<{ accountId: string }>) => rows.map((r) => r.accountId).sort();

/** The sandbox's id of the OU at this name path. */
function unitId(h: Harness, path: string[]): string {
  let units = h.sandbox.fixture.organization?.units ?? [];
  let id = '';
  for (const name of path) {
    const unit = units.find((u) => u.name === name);
    if (!unit) throw new Error(`no OU ${path.join('/')} in the fixture`);
    id = unit.id;
    units = unit.units;
  }
  return id;
}

const ORGANIZATIONS_OPERATIONS = ['ListRoots', 'ListOrganizationalUnitsForParent', 'ListAccountsForParent'];

describe('discovery from AWS Organizations (sandbox)', () => {
  it('walks nested OUs: every ACTIVE account with its name, state and OU path; suspended and closing left out', async () => {
    harness = await startOrgHarness();
    const h = harness;
    const rows = await accountsOf(h);
    expect(idsOf(rows)).toEqual([
      '000000000000',
      '111111111111',
      '222222222222',
      '444444444444',
      '555555555555',
      '565656565656',
      '666666666666',
    ]);
    const eu = rows.find((r) => r.accountId === '444444444444');
    expect(eu).toEqual({
      alias: 'payments-eu',
      accountId: '444444444444',
      name: 'Payments EU',
      state: 'ACTIVE',
      organizationalUnit: {
        id: unitId(h, ['Workloads', 'Prod', 'EU']),
        path: ['Workloads', 'Prod', 'EU'],
        ancestorIds: [
          h.sandbox.fixture.organization?.rootId,
          unitId(h, ['Workloads']),
          unitId(h, ['Workloads', 'Prod']),
          unitId(h, ['Workloads', 'Prod', 'EU']),
        ],
      },
    });
    const management = rows.find((r) => r.accountId === '000000000000');
    expect(management?.organizationalUnit).toMatchObject({
      id: h.sandbox.fixture.organization?.rootId,
      path: [],
    });
    // Names that slug alike: the lower id keeps the plain alias (same join time), the other a suffix.
    expect(rows.find((r) => r.accountId === '555555555555')?.alias).toBe('sandbox-one');
    expect(rows.find((r) => r.accountId === '565656565656')?.alias).toBe('sandbox-one-5656');

    // Only the three listing operations, one page each: ListRoots + 2 per parent (root + 5 OUs).
    const counters = h.sandbox.admin.counters().filter((c) => c.service === 'organizations');
    expect(new Set(counters.map((c) => c.operation))).toEqual(new Set(ORGANIZATIONS_OPERATIONS));
    expect(h.sandbox.admin.calls({ service: 'organizations' })).toBe(13);
    expect(h.logs.find((l) => l.msg === 'organization discovered')).toMatchObject({
      discovered: 7,
      awsCalls: 13,
      throttled: 0,
      emptyPages: 0,
    });
    // Discovery assumes the listing role only; member roles wait for a query.
    expect(h.sandbox.admin.calls({ service: 'sts', operation: 'AssumeRole' })).toBe(1);
    const ready = await h.gateway.fetch('http://localhost/ready');
    expect(ready.status).toBe(200);
  });

  it('reads every discovered account through its member role (with the ExternalId)', async () => {
    harness = await startOrgHarness({ organization: { include: ['Workloads'] } });
    const h = harness;
    const res = await gql<{
      accounts: Array<{ accountId: string; instances: { nodes: Array<{ id: string }> } }>;
    }>(h.gateway, '{ accounts { accountId instances { nodes { id region } } } }', undefined, CSRF);
    expect(res.body.errors).toBeUndefined();
    const accounts = res.body.data?.accounts ?? [];
    expect(idsOf(accounts)).toEqual([
      '111111111111',
      '222222222222',
      '444444444444',
      '555555555555',
      '565656565656',
    ]);
    for (const account of accounts) expect(account.instances.nodes).toHaveLength(2);
    for (const id of idsOf(accounts)) {
      expect(
        h.sandbox.admin.calls({
          service: 'sts',
          operation: 'AssumeRole',
          roleArn: `arn:aws:iam::${id}:role/RolegraphReader`,
        }),
      ).toBe(1);
    }
  });

  it('include and exclude are recursive, by name path or by id; exclude wins', async () => {
    harness = await startOrgHarness({
      organization: { include: ['Workloads'], exclude: ['Workloads/Sandbox'] },
    });
    expect(idsOf(await accountsOf(harness))).toEqual(['111111111111', '222222222222', '444444444444']);
    const prod = unitId(harness, ['Workloads', 'Prod']);
    const security = unitId(harness, ['Security']);
    const eu = unitId(harness, ['Workloads', 'Prod', 'EU']);
    await harness.close();
    harness = await startOrgHarness({ organization: { include: [prod, security], exclude: [eu] } });
    expect(idsOf(await accountsOf(harness))).toEqual(['222222222222', '666666666666']);
  });

  it('states and skipAccounts choose what is kept', async () => {
    harness = await startOrgHarness({
      organization: {
        include: ['Workloads/Prod'],
        states: ['ACTIVE', 'SUSPENDED', 'PENDING_CLOSURE'],
        skipAccounts: ['444444444444'],
      },
    });
    const rows = await accountsOf(harness);
    expect(rows.map((r) => [r.accountId, r.state]).sort()).toEqual([
      ['222222222222', 'ACTIVE'],
      ['333333333333', 'SUSPENDED'],
      ['777777777777', 'PENDING_CLOSURE'],
    ]);
  });

  it('follows NextToken through the empty pages Organizations may answer', async () => {
    harness = await startOrgHarness({ sandbox: { organizations: { emptyPages: true } } });
    const h = harness;
    expect(idsOf(await accountsOf(h))).toHaveLength(7);
    const line = h.logs.find((l) => l.msg === 'organization discovered');
    // Every listing first answers an empty page with a NextToken: twice the calls.
    expect(line).toMatchObject({ discovered: 7, emptyPages: 13, awsCalls: 26 });
    expect(h.sandbox.admin.calls({ service: 'organizations' })).toBe(26);
  });

  it('a throttled ListAccountsForParent (TooManyRequestsException) is retried and still discovers everything', async () => {
    harness = await startOrgHarness({
      wait: false,
      sandbox: {
        faults: [
          { service: 'organizations', operation: 'ListAccountsForParent', error: 'throttle', times: 4 },
        ],
      },
    });
    const h = harness;
    await discovered(h.gateway);
    expect(h.gateway.accounts.status().state).toBe('ready');
    expect(idsOf(await accountsOf(h))).toHaveLength(7);
    const line = h.logs.find((l) => l.msg === 'organization discovered');
    expect(line).toMatchObject({ discovered: 7, throttled: 4, awsCalls: 17 });
    expect(h.sandbox.admin.calls({ service: 'organizations', operation: 'ListAccountsForParent' })).toBe(10);
  });

  it('with the sandbox throttling Organizations per account, discovery still completes', async () => {
    harness = await startOrgHarness({
      wait: false,
      sandbox: { throttling: { organizations: { burst: 3, refillPerSecond: 10 } } },
      // The walk's own backoff: its 8 retries must outlast a bucket this small.
      deps: { discovery: {} },
    });
    const h = harness;
    await discovered(h.gateway);
    expect(h.gateway.accounts.status().state).toBe('ready');
    expect(idsOf(await accountsOf(h))).toHaveLength(7);
    const line = h.logs.find((l) => l.msg === 'organization discovered') as unknown as { throttled: number };
    expect(line.throttled).toBeGreaterThan(0);
    expect(h.sandbox.admin.calls({ service: 'organizations', outcome: 'throttled' })).toBe(line.throttled);
  });

  it('300 generated accounts in nested OUs with the sandbox’s default throttling: every ACTIVE one, the minimum calls', async () => {
    harness = await startOrgHarness({
      wait: false,
      fixture: generateFixture({
        accounts: 300,
        regions: ['us-east-1'],
        instancesPerRegion: 1,
        bucketsPerAccount: 0,
        organization: { depth: 2, unitsPerLevel: 3 },
      }),
      // Generated members trust the central user without an ExternalId.
      organization: {
        memberExternalId: undefined,
        roleArn: `arn:aws:iam::000000000000:role/${ORG_READER_ROLE_NAME}`,
      },
      sandbox: { throttling: true },
      // The walk's own backoff (0.5 s doubling to 20 s), not the tests' shortened one.
      deps: { discovery: {} },
    });
    const h = harness;
    await discovered(h.gateway);
    expect(h.gateway.accounts.status().state, JSON.stringify(h.logs.filter((l) => l.level === 'warn'))).toBe(
      'ready',
    );
    const fixture = h.sandbox.fixture;
    const active = fixture.accounts.filter((a) => a.state === 'ACTIVE').map((a) => a.id);
    expect(active.length).toBeLessThan(fixture.accounts.length); // some are SUSPENDED
    expect(idsOf(h.gateway.accounts.current().accounts)).toEqual([...active].sort());
    // The minimum: ListRoots, and per parent the pages of its OUs and of its accounts (20 a page).
    const pages = (n: number) => Math.max(1, Math.ceil(n / ORGANIZATIONS_MAX_RESULTS));
    const placed = new Set<string>();
    let minimum = 1;
    const walk = (units: NonNullable<typeof fixture.organization>['units']) => {
      for (const unit of units) {
        for (const id of unit.accounts) placed.add(id);
        minimum += pages(unit.units.length) + pages(unit.accounts.length);
        walk(unit.units);
      }
    };
    walk(fixture.organization?.units ?? []);
    const underRoot = fixture.accounts.filter((a) => !placed.has(a.id)).length;
    minimum += pages(fixture.organization?.units.length ?? 0) + pages(underRoot);
    const throttled = h.sandbox.admin.calls({ service: 'organizations', outcome: 'throttled' });
    expect(h.sandbox.admin.calls({ service: 'organizations' })).toBe(minimum + throttled);
    expect(h.logs.find((l) => l.msg === 'organization discovered')).toMatchObject({
      discovered: active.length,
      awsCalls: minimum + throttled,
      throttled,
    });
  }, 120_000);

  it('lists with the source credentials themselves when no roleArn is given', async () => {
    harness = await startOrgHarness({ organization: { roleArn: undefined } });
    expect(idsOf(await accountsOf(harness))).toHaveLength(7);
    expect(harness.sandbox.admin.calls({ service: 'sts', operation: 'AssumeRole' })).toBe(0);
    // Its calls are counted once each in the AWS call metrics, discovery after discovery.
    expect((await harness.gateway.accounts.rediscover()).ok).toBe(true);
    const metrics = await (await harness.gateway.fetch('http://localhost/metrics')).text();
    expect(metrics).toContain(
      'rolegraph_gateway_aws_calls_total{service="organizations",operation="ListRoots",outcome="ok"} 2',
    );
    expect(metrics).toContain(
      'rolegraph_gateway_aws_calls_total{service="organizations",operation="ListAccountsForParent",outcome="ok"} 12',
    );
  });

  it('static entries win over discovered ones and show their place; aliases: overrides', async () => {
    harness = await startOrgHarness({
      organization: { aliases: { '111111111111': 'shared' } },
      config: {
        accounts: [
          {
            alias: 'audit',
            roleArn: 'arn:aws:iam::666666666666:role/RolegraphReader',
            externalId: MEMBER_EXTERNAL_ID,
            regions: ['us-east-1'],
          },
          {
            // Not in the organization: shown without a place.
            alias: 'outside',
            roleArn: 'arn:aws:iam::888888888888:role/RolegraphReader',
            regions: ['us-east-1'],
          },
        ],
      },
    });
    const rows = await accountsOf(harness);
    expect(rows.find((r) => r.accountId === '666666666666')).toMatchObject({
      alias: 'audit',
      name: 'Audit',
      organizationalUnit: { path: ['Security'] },
    });
    expect(rows.filter((r) => r.accountId === '666666666666')).toHaveLength(1);
    expect(rows.find((r) => r.accountId === '888888888888')).toMatchObject({
      alias: 'outside',
      name: null,
      state: null,
      organizationalUnit: null,
    });
    expect(rows.find((r) => r.accountId === '111111111111')?.alias).toBe('shared');
    // The static account's regions, not the organization's.
    const regions = await gql<{ account: { regions: string[] } }>(
      harness.gateway,
      '{ account(account: "audit") { regions } }',
      undefined,
      CSRF,
    );
    expect(regions.body.data?.account.regions).toEqual(['us-east-1']);
  });

  it('regions: enabled reads each account’s regions once (DescribeRegions, cached across discoveries)', async () => {
    harness = await startOrgHarness({ organization: { regions: 'enabled', include: ['Workloads/Prod'] } });
    const h = harness;
    const res = await gql<{ accounts: Array<{ accountId: string; regions: string[] }> }>(
      h.gateway,
      '{ accounts { accountId regions } }',
      undefined,
      CSRF,
    );
    expect(res.body.data?.accounts).toEqual([
      { accountId: '222222222222', regions: ['eu-west-1', 'us-east-1'] },
      { accountId: '444444444444', regions: ['eu-west-1', 'us-east-1'] },
    ]);
    expect(h.sandbox.admin.calls({ service: 'ec2', operation: 'DescribeRegions' })).toBe(2);
    expect((await h.gateway.accounts.rediscover()).ok).toBe(true);
    expect(h.sandbox.admin.calls({ service: 'ec2', operation: 'DescribeRegions' })).toBe(2);
  });

  it('until the first discovery succeeds: /ready 503 discovering, ACCOUNTS_NOT_DISCOVERED, static accounts answer', async () => {
    harness = await startOrgHarness({
      wait: false,
      sandbox: { faults: [{ service: 'organizations', operation: 'ListRoots', error: 'unavailable' }] },
      config: {
        accounts: [
          {
            alias: 'outside',
            roleArn: 'arn:aws:iam::666666666666:role/RolegraphReader',
            externalId: MEMBER_EXTERNAL_ID,
            regions: ['us-east-1'],
          },
        ],
      },
    });
    const h = harness;
    await discovered(h.gateway);
    expect(h.gateway.accounts.status()).toMatchObject({
      state: 'discovering',
      lastErrorCode: 'AWS_UNAVAILABLE',
    });
    const ready = await h.gateway.fetch('http://localhost/ready');
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'discovering' });
    expect(h.logs.find((l) => l.code === 'ORGANIZATION_DISCOVERY_FAILED')).toMatchObject({ level: 'warn' });

    const all = await gql(h.gateway, '{ accounts { alias } }', undefined, CSRF);
    expect(all.body.data).toBeNull();
    expect(all.body.errors?.[0]?.extensions).toMatchObject({
      code: 'ACCOUNTS_NOT_DISCOVERED',
      retryable: true,
    });
    const unknown = await gql(h.gateway, '{ account(account: "payments-eu") { alias } }', undefined, CSRF);
    expect(unknown.body.errors?.[0]?.extensions).toMatchObject({
      code: 'ACCOUNTS_NOT_DISCOVERED',
      account: 'payments-eu',
    });
    const known = await gql<{ account: { accountId: string } }>(
      h.gateway,
      '{ account(account: "outside") { accountId } }',
      undefined,
      CSRF,
    );
    expect(known.body.data?.account.accountId).toBe('666666666666');

    h.sandbox.admin.clearFaults();
    expect((await h.gateway.accounts.rediscover()).ok).toBe(true);
    expect((await h.gateway.fetch('http://localhost/ready')).status).toBe(200);
    const after = await gql<{ account: { alias: string } }>(
      h.gateway,
      '{ account(account: "payments-eu") { alias } }',
      undefined,
      CSRF,
    );
    expect(after.body.data?.account.alias).toBe('payments-eu');
  });

  it('API keys and JWTs may allow OUs: by id or ou:<path>, recursively, in the snapshot a request reads', async () => {
    const prodKey = 'prod-team-key';
    const secKey = 'security-key';
    const secret = 'a-jwt-secret-of-at-least-32-characters!';
    // The OU id is known from the fixture's derived ids: start once to read it.
    const probe = await startOrgHarness({ wait: false });
    const security = unitId(probe, ['Security']);
    await probe.close();
    harness = await startOrgHarness({
      config: {
        auth: {
          apiKeys: [
            { name: 'prod-team', sha256: hashApiKey(prodKey), accounts: ['ou:Workloads/Prod'] },
            { name: 'security', sha256: hashApiKey(secKey), accounts: [security, 'shared-services'] },
          ],
          jwt: { issuer: 'https://id.example.com/', audience: 'rolegraph', secret },
        },
      },
    });
    const h = harness;
    expect(idsOf(await accountsOf(h, { 'x-api-key': prodKey }))).toEqual(['222222222222', '444444444444']);
    expect(idsOf(await accountsOf(h, { 'x-api-key': secKey }))).toEqual(['111111111111', '666666666666']);
    const denied = await gql(h.gateway, '{ account(account: "audit") { alias } }', undefined, {
      ...CSRF,
      'x-api-key': prodKey,
    });
    expect(denied.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });

    const token = await new SignJWT({ accounts: ['ou:Workloads'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('https://id.example.com/')
      .setAudience('rolegraph')
      .setSubject('someone')
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(secret));
    expect(idsOf(await accountsOf(h, { authorization: `Bearer ${token}` }))).toEqual([
      '111111111111',
      '222222222222',
      '444444444444',
      '555555555555',
      '565656565656',
    ]);
    // The status page follows the same allow-list over the current snapshot.
    const page = await h.gateway.fetch('http://localhost/status', { headers: { 'x-api-key': prodKey } });
    const html = await page.text();
    expect(html).toContain('data-account="payments-prod"');
    expect(html).toContain('data-account="payments-eu"');
    expect(html).not.toContain('data-account="audit"');
  });

  it('the cost estimate counts the discovered accounts and their regions', async () => {
    // 7 accounts x 2 regions: 14 DescribeInstances estimated, over a budget of 10.
    harness = await startOrgHarness({ config: { limits: { maxAwsCalls: 10 } } });
    const query = '{ accounts { instances { nodes { id } } } }';
    const refused = await gql(harness.gateway, query, undefined, CSRF);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'AWS_CALL_BUDGET_EXCEEDED' });
    expect(harness.sandbox.admin.calls({ service: 'ec2' })).toBe(0);
    await harness.close();
    // 2 accounts x 2 regions: 4, within it.
    harness = await startOrgHarness({
      config: { limits: { maxAwsCalls: 10 } },
      organization: { include: ['Workloads/Prod'] },
    });
    const answered = await gql(harness.gateway, query, undefined, CSRF);
    expect(answered.body.errors).toBeUndefined();
    expect(harness.sandbox.admin.calls({ service: 'ec2', operation: 'DescribeInstances' })).toBe(4);
  });

  it('GraphiQL’s example queries name a discovered account', async () => {
    harness = await startOrgHarness({ config: { server: { graphiql: true } } });
    const page = await harness.gateway.fetch('http://localhost/graphql', {
      headers: { accept: 'text/html' },
    });
    expect(page.status).toBe(200);
    const html = await page.text();
    // The first account of the snapshot (the management account, under the root) as the example's.
    expect(html).toContain('instances(account: \\"management\\", first: 10)');
  });
});
