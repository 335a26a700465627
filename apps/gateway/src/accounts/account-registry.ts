import type { AccountConfig, AccountPlacement, OrganizationConfig } from '../config/config-schema.js';
import { GatewayErrorCode, redact, typedError } from '../errors.js';
import type { LogFn } from '../observability/log.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import { type AccountSnapshot, createAccountSnapshot } from './account-snapshot.js';
import { scopeKeys } from './allow-list.js';
import type { OrganizationTree } from './discover-organization.js';
import { selectAccounts } from './select-accounts.js';
import type { SessionBook } from './session-book.js';

/** A request's hold on the snapshot it started with; `release` once the request is done. */
export interface AccountLease {
  readonly snapshot: AccountSnapshot;
  release(): void;
}

/** How the last discovery went. */
export type DiscoveryOutcome =
  | {
      ok: true;
      /** Accounts in the published snapshot, every source included. */
      accounts: number;
      added: string[];
      removed: string[];
      durationMs: number;
    }
  | { ok: false; code: string; durationMs: number };

export interface RegistryStatus {
  /** `static`: no organization is configured, so the account list is fixed. */
  state: 'static' | 'discovering' | 'ready';
  lastSuccessAt?: Date;
  lastFailureAt?: Date;
  /** The code of the last failed discovery (the AWS call's code, e.g. `AWS_ACCESS_DENIED`). */
  lastErrorCode?: string;
  /** Failed discoveries since the last success. */
  failures: number;
}

/** The gateway's accounts over time: static ones plus, with an organization, the discovered ones. */
export interface AccountRegistry {
  /** The snapshot new requests get. */
  current(): AccountSnapshot;
  /** The current snapshot, held until `release`: removed accounts' sessions stay open meanwhile. */
  acquire(): AccountLease;
  /**
   * Discovers now (after the running discovery, if one is); resolves with how it went, never
   * rejects. A failure keeps the last good snapshot.
   */
  rediscover(): Promise<DiscoveryOutcome>;
  status(): RegistryStatus;
  /** The alias of an account id in the current or any held snapshot. */
  aliasOf(accountId: string): string | undefined;
  /** Runs the first discovery and schedules the next ones. Idempotent. */
  start(): void;
  /** Stops the schedule and aborts a running discovery. */
  stop(): void;
}

export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface OrganizationSource {
  config: OrganizationConfig;
  /** One walk of the organization (see `discoverOrganization`). */
  listOrganization(signal: AbortSignal): Promise<OrganizationTree>;
  /** With `regions: enabled`: the regions enabled in a discovered account (cached by the caller). */
  enabledRegions?(account: AccountConfig, signal: AbortSignal): Promise<string[]>;
}

export interface AccountRegistryOptions {
  /** `accounts` and `profiles`: always there, and they win over discovered accounts with the same id. */
  staticAccounts: readonly AccountConfig[];
  organization?: OrganizationSource | undefined;
  book: SessionBook;
  log: LogFn;
  metrics?: GatewayMetrics | undefined;
  /** Allow-list entries of the configuration (API keys): warned about when they match nothing. */
  allowListEntries?: readonly string[];
  now?: () => number;
  timers?: Timers;
  /** Wait before trying again while no discovery has succeeded yet. @default 30_000 */
  retryMs?: number;
  /** `DescribeRegions` calls at once with `regions: enabled`. @default 8 */
  regionConcurrency?: number;
}

const defaultTimers: Timers = {
  setTimeout: (callback, ms) => {
    const timer = setTimeout(callback, ms);
    timer.unref();
    return timer;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Runs `work` over `items` with at most `limit` at once. */
async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * The account registry: the snapshot requests read, re-built from a discovery of the
 * organization every `rediscoverSeconds`. New accounts appear in the next snapshot and removed
 * ones leave it; a removed account's session is closed once no request holds a snapshot with it.
 * A failed discovery keeps the last good snapshot, logs a warning
 * (`ORGANIZATION_DISCOVERY_FAILED`) and counts `rolegraph_gateway_account_discoveries_total{outcome="error"}`;
 * until one succeeds the snapshot is not `complete` (and `/ready` answers 503).
 *
 * @example
 * const registry = createAccountRegistry({ staticAccounts: config.accounts, organization, book, log });
 * registry.start();
 * const lease = registry.acquire(); // per request
 * try { lease.snapshot.find('prod'); } finally { lease.release(); }
 */
export function createAccountRegistry(options: AccountRegistryOptions): AccountRegistry {
  const { book, log, metrics, organization } = options;
  const now = options.now ?? Date.now;
  const timers = options.timers ?? defaultTimers;
  const retryMs = options.retryMs ?? 30_000;
  const regionConcurrency = options.regionConcurrency ?? 8;
  const staticAccounts = [...options.staticAccounts];
  for (const account of staticAccounts) book.prepare(account);

  let version = 1;
  let current = createAccountSnapshot(staticAccounts, { version, complete: organization === undefined });
  /** Snapshots other than `current` that requests still hold, with how many do. */
  const held = new Map<AccountSnapshot, number>();
  /** Accounts being looked at by the running discovery (their sessions may be in use). */
  let pending = new Set<string>();
  let status: RegistryStatus = organization
    ? { state: 'discovering', failures: 0 }
    : { state: 'static', failures: 0 };
  let timer: unknown;
  let started = false;
  let stopped = false;
  let running: Promise<DiscoveryOutcome> | undefined;
  let queued: Promise<DiscoveryOutcome> | undefined;
  let controller: AbortController | undefined;
  let lastUnmatched = '';
  let lastUnmatchedAllow = '';

  const staticIds = new Set(staticAccounts.map((a) => a.accountId));
  const setGauge = (snapshot: AccountSnapshot) => {
    const discovered = snapshot.accounts.filter((a) => !staticIds.has(a.accountId)).length;
    metrics?.accounts.set({ source: 'static' }, snapshot.accounts.length - discovered);
    metrics?.accounts.set({ source: 'organization' }, discovered);
  };
  setGauge(current);

  /** Closes the sessions of roles no live snapshot (current or held) has any more. */
  const sweep = () => {
    const live = new Set<string>();
    for (const snapshot of [current, ...held.keys()]) {
      for (const account of snapshot.accounts) live.add(book.roleKeyOf(account));
    }
    for (const key of pending) live.add(key);
    for (const key of [...book.prepared()]) if (!live.has(key)) book.forget(key);
  };

  const warnUnmatched = (unmatched: string[], snapshot: AccountSnapshot) => {
    const units = unmatched.join(',');
    if (units !== lastUnmatched && unmatched.length > 0) {
      log({
        level: 'warn',
        msg: 'organization.include / exclude entries match no organizational unit',
        code: 'ORGANIZATION_UNIT_NOT_FOUND',
        entries: unmatched,
      });
    }
    lastUnmatched = units;
    const entries = (options.allowListEntries ?? []).filter((e) => e !== '*');
    if (entries.length === 0) return;
    const known = new Set(snapshot.accounts.flatMap(scopeKeys));
    const nothing = [...new Set(entries.filter((e) => !known.has(e)))];
    const joined = nothing.join(',');
    if (joined !== lastUnmatchedAllow && nothing.length > 0) {
      log({
        level: 'warn',
        msg: 'allow-list entries match no account or organizational unit of the gateway',
        code: 'ALLOW_LIST_ENTRY_UNMATCHED',
        entries: nothing,
      });
    }
    lastUnmatchedAllow = joined;
  };

  const publish = (accounts: AccountConfig[]) => {
    const previous = current;
    version += 1;
    current = createAccountSnapshot(accounts, { version, complete: true });
    setGauge(current);
    // Room in the session cache for every account and its hub, however far discovery grows.
    book.fitTo(current.accounts.length);
    const before = new Set(previous.accounts.map((a) => a.accountId));
    const after = new Set(current.accounts.map((a) => a.accountId));
    return {
      added: [...after].filter((id) => !before.has(id)),
      removed: [...before].filter((id) => !after.has(id)),
    };
  };

  /** Keeps regions known from the last snapshot when DescribeRegions fails for an account. */
  const withRegions = async (
    source: OrganizationSource,
    accounts: AccountConfig[],
    signal: AbortSignal,
  ): Promise<AccountConfig[]> => {
    const enabledRegions = source.enabledRegions;
    if (source.config.regions !== 'enabled' || !enabledRegions) return accounts;
    const resolved = new Map<string, AccountConfig>();
    await eachLimited(accounts, regionConcurrency, async (account) => {
      try {
        const regions = await enabledRegions(account, signal);
        if (regions.length === 0) throw new Error('DescribeRegions answered no enabled region');
        resolved.set(account.accountId, { ...account, regions });
      } catch (error) {
        const known = current.find(account.accountId);
        if (known && known.regions.length > 0)
          resolved.set(account.accountId, { ...account, regions: [...known.regions] });
        log({
          level: 'warn',
          msg: known
            ? 'the enabled regions of an account could not be read: its last known regions are kept'
            : 'the enabled regions of a discovered account could not be read: it is left out until the next discovery',
          code: 'ACCOUNT_REGIONS_UNAVAILABLE',
          accountId: account.accountId,
          awsCode: typedError(error)?.code,
          error: error instanceof Error ? redact(error.message) : undefined,
        });
      }
    });
    return accounts.flatMap((a) => {
      const found = resolved.get(a.accountId);
      return found ? [found] : [];
    });
  };

  const discoverOnce = async (source: OrganizationSource): Promise<DiscoveryOutcome> => {
    const startedAt = now();
    controller = new AbortController();
    const { signal } = controller;
    try {
      const tree = await source.listOrganization(signal);
      const selection = selectAccounts(tree, source.config, { staticAccounts });
      for (const account of selection.accounts) book.prepare(account);
      pending = new Set(selection.accounts.map((a) => book.roleKeyOf(a)));
      const discovered = await withRegions(source, selection.accounts, signal);
      if (signal.aborted) throw signal.reason;
      // Static entries win; they show their place in the organization when it lists them.
      const placed = staticAccounts.map((account) => {
        const placement: AccountPlacement | undefined = selection.placements.get(account.accountId);
        return placement ? { ...account, organization: placement } : account;
      });
      for (const account of placed) book.prepare(account);
      const changes = publish([...placed, ...discovered]);
      pending = new Set();
      sweep();
      warnUnmatched(selection.unmatched, current);
      const durationMs = now() - startedAt;
      status = { state: 'ready', lastSuccessAt: new Date(now()), failures: 0 };
      metrics?.accountDiscoveries.inc({ outcome: 'ok' });
      log({
        level: 'info',
        msg: 'organization discovered',
        accounts: current.accounts.length,
        discovered: discovered.length,
        added: changes.added.length,
        removed: changes.removed.length,
        awsCalls: tree.stats.calls,
        throttled: tree.stats.throttled,
        emptyPages: tree.stats.emptyPages,
        durationMs,
      });
      return { ok: true, accounts: current.accounts.length, ...changes, durationMs };
    } catch (error) {
      pending = new Set();
      const code = typedError(error)?.code ?? (error instanceof Error ? error.name : 'Error');
      const durationMs = now() - startedAt;
      const first = status.state !== 'ready';
      status = {
        ...status,
        lastFailureAt: new Date(now()),
        lastErrorCode: code,
        failures: status.failures + 1,
      };
      metrics?.accountDiscoveries.inc({ outcome: 'error' });
      if (!stopped) {
        log({
          level: 'warn',
          msg: first
            ? 'the organization could not be listed: its accounts are not available until a discovery succeeds'
            : 'the organization could not be listed again: the last discovered accounts are kept',
          code: GatewayErrorCode.ORGANIZATION_DISCOVERY_FAILED,
          cause: code,
          awsCode: typedError(error)?.awsCode,
          error: error instanceof Error ? redact(error.message) : undefined,
          accounts: current.accounts.length,
          retryInMs: first ? retryMs : source.config.rediscoverSeconds * 1000,
        });
      }
      return { ok: false, code, durationMs };
    } finally {
      controller = undefined;
    }
  };

  const schedule = () => {
    if (stopped || !organization) return;
    if (timer !== undefined) timers.clearTimeout(timer);
    timer = undefined;
    const interval = organization.config.rediscoverSeconds * 1000;
    // Until one discovery succeeds it is retried, even with rediscoverSeconds: 0 (discover once).
    const delay = status.state === 'ready' ? interval : retryMs;
    if (delay === 0) return;
    timer = timers.setTimeout(() => {
      timer = undefined;
      void rediscover();
    }, delay);
  };

  const runOnce = (): Promise<DiscoveryOutcome> => {
    if (!organization)
      return Promise.resolve({
        ok: true,
        accounts: current.accounts.length,
        added: [],
        removed: [],
        durationMs: 0,
      });
    running = discoverOnce(organization).then((outcome) => {
      running = undefined;
      schedule();
      return outcome;
    });
    return running;
  };

  const rediscover = (): Promise<DiscoveryOutcome> => {
    if (stopped) return Promise.resolve({ ok: false, code: 'STOPPED', durationMs: 0 });
    if (!running) return runOnce();
    // One discovery at a time; callers during one share the next.
    queued ??= running.then(() => {
      queued = undefined;
      return runOnce();
    });
    return queued;
  };

  return {
    current: () => current,
    acquire() {
      const snapshot = current;
      held.set(snapshot, (held.get(snapshot) ?? 0) + 1);
      let released = false;
      return {
        snapshot,
        release() {
          if (released) return;
          released = true;
          const left = (held.get(snapshot) ?? 1) - 1;
          if (left > 0) {
            held.set(snapshot, left);
            return;
          }
          held.delete(snapshot);
          if (snapshot !== current) sweep();
        },
      };
    },
    rediscover,
    status: () => status,
    aliasOf(accountId) {
      const found = current.find(accountId);
      if (found) return found.alias;
      for (const snapshot of held.keys()) {
        const old = snapshot.find(accountId);
        if (old) return old.alias;
      }
      return undefined;
    },
    start() {
      if (started || stopped) return;
      started = true;
      if (organization) void rediscover();
    },
    stop() {
      stopped = true;
      if (timer !== undefined) timers.clearTimeout(timer);
      timer = undefined;
      controller?.abort(new Error('the gateway is closing'));
    },
  };
}
