import { afterEach, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../src/auth/authenticate.js';
import { CSRF, gql, type Harness } from '../helpers.js';
import { member } from './org-fixture.js';
import { startOrgHarness, waitFor } from './org-harness.js';

// Re-discovery while queries run: accounts that join appear, accounts that leave go (their
// sessions closed once no request holds them), a failed re-discovery keeps the last list.

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const ALL = '{ accounts { accountId instances { nodes { id } } } }';

type AllAnswer = { accounts: Array<{ accountId: string; instances: { nodes: Array<{ id: string }> } }> };

function unitId(h: Harness, path: string[]): string {
  let units = h.sandbox.fixture.organization?.units ?? [];
  let id = '';
  for (const name of path) {
    const unit = units.find((u) => u.name === name);
    if (!unit) throw new Error(`no OU ${path.join('/')}`);
    id = unit.id;
    units = unit.units;
  }
  return id;
}

/** Runs `ALL` in `lanes` loops until stopped; every answer is kept. */
function queryLoop(h: Harness, lanes: number) {
  const answers: Array<{ errors: unknown[] | undefined; ids: string[] }> = [];
  let stop = false;
  const loops = Array.from({ length: lanes }, async () => {
    while (!stop) {
      const res = await gql<AllAnswer>(h.gateway, ALL, undefined, CSRF);
      answers.push({
        errors: res.body.errors,
        ids: (res.body.data?.accounts ?? []).map((a) => a.accountId).sort(),
      });
    }
  });
  return {
    answers,
    async stop() {
      stop = true;
      await Promise.all(loops);
    },
  };
}

const sessionAccounts = (h: Harness) => new Set(h.gateway.sessions.sessions().map((s) => s.accountId));

describe('re-discovery (sandbox)', () => {
  it('adds and removes accounts while queries run: none fails, the removed account is then ACCOUNT_NOT_FOUND', async () => {
    harness = await startOrgHarness({ organization: { exclude: ['Workloads/Sandbox'] } });
    const h = harness;
    const before = (await gql<AllAnswer>(h.gateway, ALL, undefined, CSRF)).body.data?.accounts ?? [];
    expect(before.map((a) => a.accountId)).toContain('111111111111');
    expect(sessionAccounts(h).has('111111111111')).toBe(true);

    const loop = queryLoop(h, 3);
    await waitFor(() => loop.answers.length >= 3, 'queries before the change');
    // A new account joins Prod; Shared Services moves into the excluded Sandbox OU (its roles keep
    // working, so every query in flight on the old snapshot can still read it).
    h.sandbox.admin.addAccount(member({ id: '999999999999', name: 'New Team' }), {
      parentId: unitId(h, ['Workloads', 'Prod']),
    });
    h.sandbox.admin.moveAccount('111111111111', unitId(h, ['Workloads', 'Sandbox']));
    const outcome = await h.gateway.accounts.rediscover();
    expect(outcome).toMatchObject({ ok: true, added: ['999999999999'], removed: ['111111111111'] });
    const seen = loop.answers.length;
    await waitFor(() => loop.answers.length >= seen + 6, 'queries after the change');
    await loop.stop();

    expect(loop.answers.filter((a) => a.errors !== undefined)).toEqual([]);
    const last = loop.answers.at(-1)?.ids ?? [];
    expect(last).toContain('999999999999');
    expect(last).not.toContain('111111111111');
    const gone = await gql(h.gateway, '{ account(account: "111111111111") { alias } }', undefined, CSRF);
    expect(gone.body.errors?.[0]?.extensions).toMatchObject({ code: 'ACCOUNT_NOT_FOUND' });
    const byAlias = await gql(
      h.gateway,
      '{ account(account: "shared-services") { alias } }',
      undefined,
      CSRF,
    );
    expect(byAlias.body.errors?.[0]?.extensions).toMatchObject({ code: 'ACCOUNT_NOT_FOUND' });
    // No request holds the old snapshot any more: the removed account's session is deleted.
    expect(sessionAccounts(h).has('111111111111')).toBe(false);
    expect(sessionAccounts(h).has('999999999999')).toBe(true);
    const added = await gql<{ account: { instances: { nodes: unknown[] } } }>(
      h.gateway,
      '{ account(account: "new-team") { instances { nodes { id } } } }',
      undefined,
      CSRF,
    );
    expect(added.body.data?.account.instances.nodes).toHaveLength(2);
  });

  it('a request keeps the snapshot it started with: a slow query over a removed account completes', async () => {
    harness = await startOrgHarness({ organization: { include: ['Workloads/Prod'] } });
    const h = harness;
    await gql(h.gateway, ALL, undefined, CSRF); // sessions warm
    h.sandbox.admin.setLatency({ ec2: { fixedMs: 1500 } });
    const slow = gql<AllAnswer>(h.gateway, ALL, undefined, CSRF);
    await new Promise((resolve) => setTimeout(resolve, 300));
    h.sandbox.admin.moveAccount('444444444444', unitId(h, ['Security']));
    const outcome = await h.gateway.accounts.rediscover();
    expect(outcome).toMatchObject({ ok: true, removed: ['444444444444'] });
    // Still held by the slow request: not closed under it.
    expect(sessionAccounts(h).has('444444444444')).toBe(true);
    const answer = await slow;
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data?.accounts.map((a) => a.accountId)).toEqual(['222222222222', '444444444444']);
    expect(answer.body.data?.accounts.every((a) => a.instances.nodes.length === 2)).toBe(true);
    expect(sessionAccounts(h).has('444444444444')).toBe(false);
    h.sandbox.admin.setLatency({});
  });

  it('accounts that leave the organization or are suspended answer ACCOUNT_NOT_FOUND (FORBIDDEN for a restricted caller)', async () => {
    const key = 'eu-team-key';
    harness = await startOrgHarness({
      config: {
        auth: {
          apiKeys: [
            { name: 'eu', sha256: hashApiKey(key), accounts: ['ou:Workloads/Prod/EU'] },
            { name: 'ops', sha256: hashApiKey('ops-key'), accounts: ['*'] },
          ],
        },
      },
    });
    const h = harness;
    const query = '{ account(account: "payments-eu") { accountId } }';
    const before = await gql<{ account: { accountId: string } }>(h.gateway, query, undefined, {
      ...CSRF,
      'x-api-key': key,
    });
    expect(before.body.data?.account.accountId).toBe('444444444444');
    h.sandbox.admin.removeAccount('444444444444');
    h.sandbox.admin.setAccountState('222222222222', 'SUSPENDED');
    expect(await h.gateway.accounts.rediscover()).toMatchObject({
      ok: true,
      removed: ['222222222222', '444444444444'],
    });
    const suspended = await gql(h.gateway, '{ account(account: "payments-prod") { alias } }', undefined, {
      ...CSRF,
      'x-api-key': 'ops-key',
    });
    expect(suspended.body.errors?.[0]?.extensions).toMatchObject({ code: 'ACCOUNT_NOT_FOUND' });
    const restricted = await gql(h.gateway, query, undefined, { ...CSRF, 'x-api-key': key });
    expect(restricted.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    const ids = await gql(h.gateway, '{ accounts { accountId } }', undefined, { ...CSRF, 'x-api-key': key });
    expect(ids.body.data).toEqual({ accounts: [] });
  });

  it('a failed re-discovery keeps the last list, warns with a code and counts a metric', async () => {
    harness = await startOrgHarness();
    const h = harness;
    const before = h.gateway.accounts.current();
    h.sandbox.admin.setFault({
      service: 'organizations',
      operation: 'ListAccountsForParent',
      error: 'unavailable',
    });
    h.sandbox.admin.addAccount(member({ id: '999999999999', name: 'New Team' }));
    const outcome = await h.gateway.accounts.rediscover();
    expect(outcome).toMatchObject({ ok: false, code: 'AWS_UNAVAILABLE' });
    expect(h.gateway.accounts.current()).toBe(before);
    const res = await gql<AllAnswer>(h.gateway, ALL, undefined, CSRF);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.accounts).toHaveLength(7);
    expect((await h.gateway.fetch('http://localhost/ready')).status).toBe(200);
    expect(h.logs.find((l) => l.code === 'ORGANIZATION_DISCOVERY_FAILED')).toMatchObject({
      level: 'warn',
      cause: 'AWS_UNAVAILABLE',
      accounts: 7,
    });
    const metrics = await (await h.gateway.fetch('http://localhost/metrics')).text();
    expect(metrics).toMatch(/rolegraph_gateway_account_discoveries_total\{outcome="error"\} 1/);
    expect(metrics).toMatch(/rolegraph_gateway_account_discoveries_total\{outcome="ok"\} 1/);
    expect(metrics).toMatch(/rolegraph_gateway_accounts\{source="organization"\} 7/);

    h.sandbox.admin.clearFaults();
    expect(await h.gateway.accounts.rediscover()).toMatchObject({ ok: true, added: ['999999999999'] });
  });

  it('re-discovers on the interval without a restart (rediscoverSeconds)', async () => {
    harness = await startOrgHarness({ organization: { rediscoverSeconds: 1 } });
    const h = harness;
    expect(h.gateway.accounts.current().find('999999999999')).toBeUndefined();
    h.sandbox.admin.addAccount(member({ id: '999999999999', name: 'New Team' }));
    await waitFor(
      () => h.gateway.accounts.current().find('new-team') !== undefined,
      'the interval discovery',
    );
    const res = await gql<{ account: { accountId: string } }>(
      h.gateway,
      '{ account(account: "new-team") { accountId } }',
      undefined,
      CSRF,
    );
    expect(res.body.data?.account.accountId).toBe('999999999999');
  });
});
