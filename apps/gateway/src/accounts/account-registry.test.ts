import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { awsError, createFakeSession } from '@rolegraph/credentials/testing';
import { describe, expect, it } from 'vitest';
import { type AccountConfig, organizationSchema } from '../config/config-schema.js';
import type { LogEntry } from '../observability/log.js';
import { createMetrics } from '../observability/metrics.js';
import { createAccountRegistry, type OrganizationSource, type Timers } from './account-registry.js';
import { discoverOrganization, type OrganizationsSender } from './discover-organization.js';
import type { SessionBook } from './session-book.js';
import { FAKE_TREE, type FakeUnit, fakeOrganization } from './testing/fake-organization.js';

/** A book that records what the registry prepares and forgets (no sessions behind it). */
function recordingBook() {
  const prepared = new Set<string>();
  const forgotten: string[] = [];
  const fits: number[] = [];
  const book: SessionBook = {
    fitTo: (accounts) => {
      fits.push(accounts);
    },
    roleKeyOf: (a) => a.roleArn,
    prepare: (a) => {
      prepared.add(a.roleArn);
    },
    sessionFor: () => {
      throw new Error('not used');
    },
    prepared: () => prepared.keys(),
    forget: (key) => {
      prepared.delete(key);
      forgotten.push(key);
    },
  };
  return { book, forgotten, fits };
}

/** Timers run by hand: `fire()` runs what is due in order. */
function manualTimers() {
  const pending: Array<{ at: number; run: () => void; id: number }> = [];
  let id = 0;
  const timers: Timers = {
    setTimeout: (run, ms) => {
      pending.push({ at: ms, run, id: ++id });
      return id;
    },
    clearTimeout: (handle) => {
      const i = pending.findIndex((p) => p.id === handle);
      if (i >= 0) pending.splice(i, 1);
    },
  };
  return {
    timers,
    delays: () => pending.map((p) => p.at),
    fire: () => {
      const next = pending.shift();
      next?.run();
      return next?.at;
    },
  };
}

const clone = (unit: FakeUnit): FakeUnit => structuredClone(unit);

function organization(
  tree: { current: FakeUnit; fail?: string | undefined },
  overrides: Record<string, unknown> = {},
  enabledRegions?: OrganizationSource['enabledRegions'],
): OrganizationSource {
  const config = organizationSchema.parse({
    memberRoleArn: 'arn:aws:iam::{accountId}:role/RolegraphReader',
    regions: ['us-east-1'],
    rediscoverSeconds: 60,
    ...overrides,
  });
  return {
    config,
    listOrganization(signal) {
      const { session } = createFakeSession(
        fakeOrganization(tree.current, {
          before: () => {
            if (tree.fail) throw awsError(tree.fail, 400);
          },
        }),
        { accountId: '000000000000' },
      );
      const client = session.client(OrganizationsClient, 'us-east-1') as unknown as OrganizationsSender;
      return discoverOrganization({ client, accountId: '000000000000', signal });
    },
    ...(enabledRegions ? { enabledRegions } : {}),
  };
}

const staticProd: AccountConfig = {
  alias: 'prod',
  accountId: '222222222222',
  roleArn: 'arn:aws:iam::222222222222:role/Custom',
  regions: ['eu-west-1', 'us-east-1'],
};

describe('createAccountRegistry', () => {
  it('without an organization: one complete snapshot of the static accounts', async () => {
    const { book } = recordingBook();
    const registry = createAccountRegistry({ staticAccounts: [staticProd], book, log: () => {} });
    expect(registry.status().state).toBe('static');
    expect(registry.current()).toMatchObject({ complete: true, version: 1 });
    expect(registry.current().find('prod')).toBe(staticProd);
    expect((await registry.rediscover()).ok).toBe(true);
    expect(registry.current().version).toBe(1);
  });

  it('is not complete until the first discovery succeeds; then static entries win over discovered ones', async () => {
    const tree = { current: clone(FAKE_TREE), fail: 'AccessDeniedException' as string | undefined };
    const { book } = recordingBook();
    const logs: LogEntry[] = [];
    const metrics = createMetrics({ defaultMetrics: false });
    const registry = createAccountRegistry({
      staticAccounts: [staticProd],
      organization: organization(tree),
      book,
      log: (e) => logs.push(e),
      metrics,
      timers: manualTimers().timers,
    });
    expect(registry.status().state).toBe('discovering');
    expect(registry.current().complete).toBe(false);
    const failed = await registry.rediscover();
    expect(failed).toMatchObject({ ok: false, code: 'AWS_ACCESS_DENIED' });
    expect(registry.status()).toMatchObject({
      state: 'discovering',
      failures: 1,
      lastErrorCode: 'AWS_ACCESS_DENIED',
    });
    expect(logs.find((l) => l.code === 'ORGANIZATION_DISCOVERY_FAILED')).toMatchObject({
      level: 'warn',
      cause: 'AWS_ACCESS_DENIED',
      awsCode: 'AccessDeniedException',
    });

    tree.fail = undefined;
    const ok = await registry.rediscover();
    expect(ok).toMatchObject({ ok: true, accounts: 6 });
    const snapshot = registry.current();
    expect(snapshot.complete).toBe(true);
    expect(registry.status()).toMatchObject({ state: 'ready', failures: 0 });
    // 222222222222 is static: its role and alias, with its place in the organization.
    expect(snapshot.find('222222222222')).toMatchObject({
      alias: 'prod',
      roleArn: staticProd.roleArn,
      organization: { ouPath: ['Workloads', 'Prod'], name: 'Payments Prod' },
    });
    expect(snapshot.find('payments-eu')?.accountId).toBe('666666666666');
    expect(snapshot.find('333333333333')).toBeUndefined(); // SUSPENDED
    expect(snapshot.maxRegions).toBe(2);
    const counted = await metrics.accountDiscoveries.get();
    expect(Object.fromEntries(counted.values.map((v) => [v.labels.outcome, v.value]))).toEqual({
      error: 1,
      ok: 1,
    });
    const gauge = await metrics.accounts.get();
    expect(Object.fromEntries(gauge.values.map((v) => [v.labels.source, v.value]))).toEqual({
      static: 1,
      organization: 5,
    });
  });

  it('a re-discovery adds and removes accounts; a removed session is forgotten once no request holds it', async () => {
    const tree = { current: clone(FAKE_TREE) };
    const { book, forgotten, fits } = recordingBook();
    const registry = createAccountRegistry({
      staticAccounts: [],
      organization: organization(tree),
      book,
      log: () => {},
      timers: manualTimers().timers,
    });
    await registry.rediscover();
    // Every published snapshot asks the book for room for its accounts.
    expect(fits.at(-1)).toBe(registry.current().accounts.length);
    const lease = registry.acquire();
    expect(lease.snapshot.find('sandbox-1')?.accountId).toBe('444444444444');

    // 444444444444 leaves, 777777777777 joins.
    const workloads = tree.current.units?.[0];
    if (!workloads?.units?.[1]) throw new Error('fixture shape');
    workloads.units[1].accounts = [];
    tree.current.accounts?.push({ id: '777777777777', name: 'New Team' });
    const outcome = await registry.rediscover();
    expect(outcome).toMatchObject({ ok: true, added: ['777777777777'], removed: ['444444444444'] });
    expect(registry.current().find('new-team')?.accountId).toBe('777777777777');
    expect(registry.current().find('444444444444')).toBeUndefined();
    // The request that started before still sees its account, and its session stays open.
    expect(lease.snapshot.find('444444444444')).toBeDefined();
    expect(forgotten).toEqual([]);
    expect(registry.aliasOf('444444444444')).toBe('sandbox-1');
    lease.release();
    expect(forgotten).toEqual(['arn:aws:iam::444444444444:role/RolegraphReader']);
    lease.release(); // twice is harmless
    expect(forgotten).toHaveLength(1);
  });

  it('a failed re-discovery keeps the last good accounts', async () => {
    const tree = { current: clone(FAKE_TREE), fail: undefined as string | undefined };
    const { book, forgotten } = recordingBook();
    const logs: LogEntry[] = [];
    const registry = createAccountRegistry({
      staticAccounts: [],
      organization: organization(tree),
      book,
      log: (e) => logs.push(e),
      timers: manualTimers().timers,
    });
    await registry.rediscover();
    const before = registry.current();
    tree.fail = 'ServiceUnavailableException';
    const outcome = await registry.rediscover();
    expect(outcome).toMatchObject({ ok: false, code: 'AWS_UNAVAILABLE' });
    expect(registry.current()).toBe(before);
    expect(registry.status()).toMatchObject({
      state: 'ready',
      failures: 1,
      lastErrorCode: 'AWS_UNAVAILABLE',
    });
    expect(forgotten).toEqual([]);
    expect(logs.at(-1)).toMatchObject({
      level: 'warn',
      code: 'ORGANIZATION_DISCOVERY_FAILED',
      msg: expect.stringMatching(/last discovered accounts are kept/),
      accounts: 6,
    });
  });

  it('schedules: retryMs until the first success, then every rediscoverSeconds; 0 discovers once', async () => {
    const tree = { current: clone(FAKE_TREE), fail: 'ServiceUnavailableException' as string | undefined };
    const clock = manualTimers();
    const registry = createAccountRegistry({
      staticAccounts: [],
      organization: organization(tree),
      book: recordingBook().book,
      log: () => {},
      timers: clock.timers,
      retryMs: 5_000,
    });
    registry.start();
    registry.start();
    await registry.rediscover(); // joins after the one start() began
    expect(clock.delays()).toEqual([5_000]);
    tree.fail = undefined;
    clock.fire();
    await registry.rediscover();
    expect(registry.status().state).toBe('ready');
    expect(clock.delays()).toEqual([60_000]);
    registry.stop();
    expect(clock.delays()).toEqual([]);

    const once = manualTimers();
    const onceRegistry = createAccountRegistry({
      staticAccounts: [],
      organization: organization({ current: clone(FAKE_TREE) }, { rediscoverSeconds: 0 }),
      book: recordingBook().book,
      log: () => {},
      timers: once.timers,
    });
    await onceRegistry.rediscover();
    expect(onceRegistry.status().state).toBe('ready');
    expect(once.delays()).toEqual([]);
  });

  it('tries a failed first discovery again after 30 s by default', async () => {
    const clock = manualTimers();
    const registry = createAccountRegistry({
      staticAccounts: [],
      organization: organization({ current: clone(FAKE_TREE), fail: 'AccessDeniedException' }),
      book: recordingBook().book,
      log: () => {},
      timers: clock.timers,
    });
    await registry.rediscover();
    expect(clock.delays()).toEqual([30_000]);
  });

  it('regions: enabled reads each account’s regions; a failure keeps known ones and leaves new ones out', async () => {
    const tree = { current: clone(FAKE_TREE) };
    let failFor = new Set<string>();
    const logs: LogEntry[] = [];
    const registry = createAccountRegistry({
      staticAccounts: [],
      organization: organization(tree, { regions: 'enabled' }, async (account) => {
        if (failFor.has(account.accountId)) throw awsError('UnauthorizedOperation', 403);
        return account.accountId === '111111111111' ? ['eu-west-1', 'us-east-1', 'us-west-2'] : ['us-east-1'];
      }),
      book: recordingBook().book,
      log: (e) => logs.push(e),
      timers: manualTimers().timers,
    });
    failFor = new Set(['555555555555']);
    await registry.rediscover();
    expect(registry.current().find('111111111111')?.regions).toEqual(['eu-west-1', 'us-east-1', 'us-west-2']);
    expect(registry.current().find('555555555555')).toBeUndefined();
    expect(registry.current().maxRegions).toBe(3);
    expect(logs.find((l) => l.code === 'ACCOUNT_REGIONS_UNAVAILABLE')).toMatchObject({
      accountId: '555555555555',
    });

    failFor = new Set(['111111111111']);
    await registry.rediscover();
    expect(registry.current().find('111111111111')?.regions).toEqual(['eu-west-1', 'us-east-1', 'us-west-2']);
    expect(registry.current().find('555555555555')?.regions).toEqual(['us-east-1']);
  });

  it('warns once about include entries and allow-list entries that match nothing', async () => {
    const logs: LogEntry[] = [];
    const registry = createAccountRegistry({
      staticAccounts: [],
      organization: organization({ current: clone(FAKE_TREE) }, { include: ['Workloads', 'Workloads/Nope'] }),
      book: recordingBook().book,
      log: (e) => logs.push(e),
      allowListEntries: ['*', 'ou:Workloads/Prod', 'ou:Nowhere', 'payments-eu', 'ghost'],
      timers: manualTimers().timers,
    });
    await registry.rediscover();
    await registry.rediscover();
    const units = logs.filter((l) => l.code === 'ORGANIZATION_UNIT_NOT_FOUND');
    const allow = logs.filter((l) => l.code === 'ALLOW_LIST_ENTRY_UNMATCHED');
    expect(units).toHaveLength(1);
    expect(units[0]?.entries).toEqual(['Workloads/Nope']);
    expect(allow).toHaveLength(1);
    expect(allow[0]?.entries).toEqual(['ou:Nowhere', 'ghost']);
  });
});
