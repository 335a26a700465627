import {
  ListAccountsForParentCommand,
  type ListAccountsForParentCommandOutput,
  ListOrganizationalUnitsForParentCommand,
  type ListOrganizationalUnitsForParentCommandOutput,
  ListRootsCommand,
  type ListRootsCommandOutput,
} from '@aws-sdk/client-organizations';
import { AdapterErrorCode, AwsCallError, type AwsRateLimiter, callAws } from '@rolegraph/credentials/aws';
import { GatewayError, GatewayErrorCode } from '../errors.js';

/** Organizations is a global service: its API lives in us-east-1. */
export const ORGANIZATIONS_REGION = 'us-east-1';

/** An organizational unit (or the root), with its place from the root down. */
export interface OrganizationUnit {
  id: string;
  name: string;
  /** Undefined for the root. */
  parentId: string | undefined;
  /** OU names from the root down to this unit, this one included; empty for the root. */
  path: readonly string[];
  /** Ids from the root down to this unit, this one included. */
  ancestorIds: readonly string[];
}

/** A member account as Organizations lists it under its parent. */
export interface OrganizationAccount {
  id: string;
  name: string;
  email: string | undefined;
  /** `State` (ACTIVE, SUSPENDED, ...), or the legacy `Status` when `State` is missing. */
  state: string;
  parentId: string;
  joinedAt: Date | undefined;
}

/** Everything one discovery saw: every OU and every account, wherever they sit. */
export interface OrganizationTree {
  rootIds: readonly string[];
  /** Every unit by id, the roots included. */
  units: ReadonlyMap<string, OrganizationUnit>;
  accounts: readonly OrganizationAccount[];
  /** Calls sent, pages with no items but a NextToken, and retries after throttling. */
  stats: { calls: number; emptyPages: number; throttled: number };
}

/** The part of an `OrganizationsClient` discovery uses; a session's client or a plain one. */
export interface OrganizationsSender {
  send(command: object, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

export interface DiscoverOrganizationOptions {
  client: OrganizationsSender;
  /** The account that lists the organization, as named in errors. */
  accountId: string;
  /** Aborts the walk: no call is sent after it fires. */
  signal?: AbortSignal | undefined;
  /** The process-wide AWS rate limiter: each call waits for the lister's Organizations bucket. */
  limits?: AwsRateLimiter | undefined;
  /** Parents listed at once. @default 4 */
  concurrency?: number;
  /**
   * How often one throttled call is tried again (after the SDK's own retries gave up), with
   * exponential backoff and jitter between `backoff.baseMs` and `backoff.maxMs`. @default 8
   */
  throttleRetries?: number;
  /** @default { baseMs: 500, maxMs: 20_000 } */
  backoff?: { baseMs: number; maxMs: number };
  /** @default a timer (cancelled by `signal`) */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** @default Math.random */
  random?: () => number;
}

/** A guard against a NextToken that never ends (the same token twice, or this many pages of one parent). */
const MAX_PAGES_PER_PARENT = 100_000;

function sleepFor(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function positiveInteger(name: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min)
    throw new TypeError(`discoverOrganization: ${name} must be an integer >= ${min}, got ${String(value)}`);
  return value;
}

/**
 * Walks the organization from its root: ListRoots, then for every parent
 * ListOrganizationalUnitsForParent and ListAccountsForParent, every page of each (a page with
 * no items and a NextToken is not the end), so each account's OU path is known. Every call
 * goes through `callAws` (service `organizations`); a throttled call (`TooManyRequestsException`
 * and the rest of `AWS_THROTTLED`) is tried again with backoff, any other failure ends the walk
 * with its `AwsCallError`.
 *
 * @example
 * const tree = await discoverOrganization({
 *   client: session.client(OrganizationsClient, 'us-east-1'),
 *   accountId: '000000000000',
 * });
 * tree.accounts.filter((a) => a.state === 'ACTIVE').length;
 */
export async function discoverOrganization(options: DiscoverOrganizationOptions): Promise<OrganizationTree> {
  const concurrency = positiveInteger('concurrency', options.concurrency, 4);
  const retries = positiveInteger('throttleRetries', options.throttleRetries, 8, 0);
  const backoff = options.backoff ?? { baseMs: 500, maxMs: 20_000 };
  if (!(backoff.baseMs > 0 && backoff.maxMs >= backoff.baseMs)) {
    throw new TypeError(
      `discoverOrganization: backoff must be { baseMs, maxMs } with 0 < baseMs <= maxMs, got ${JSON.stringify(backoff)}`,
    );
  }
  const sleep = options.sleep ?? sleepFor;
  const random = options.random ?? Math.random;
  const { client } = options;
  // One failed listing stops the others: the walk fails as a whole.
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const context = {
    session: { accountId: options.accountId },
    service: 'organizations',
    region: ORGANIZATIONS_REGION,
    signal,
    limits: options.limits,
  };
  const stats = { calls: 0, emptyPages: 0, throttled: 0 };

  /** One Organizations call, tried again while it is throttled. */
  const call = async <T>(operation: string, command: { input: object }): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      try {
        stats.calls++;
        return (await callAws(context, { operation, input: command.input }, (abortSignal) =>
          client.send(command, abortSignal ? { abortSignal } : {}),
        )) as T;
      } catch (error) {
        const throttled = error instanceof AwsCallError && error.code === AdapterErrorCode.AWS_THROTTLED;
        if (!throttled || attempt >= retries) throw error;
        stats.throttled++;
        const ceiling = Math.min(backoff.maxMs, backoff.baseMs * 2 ** attempt);
        // Equal jitter: at least half the ceiling, so retries of many parents spread out.
        await sleep(ceiling / 2 + (random() * ceiling) / 2, signal);
      }
    }
  };

  /** Every page of one listing, following NextToken through empty pages. */
  const allPages = async <T>(
    operation: string,
    page: (token: string | undefined) => { input: object },
    items: (output: T) => readonly unknown[] | undefined,
    next: (output: T) => string | undefined,
    about: string,
  ): Promise<T[]> => {
    const outputs: T[] = [];
    let token: string | undefined;
    for (let n = 0; ; n++) {
      const output = await call<T>(operation, page(token));
      outputs.push(output);
      const following = next(output) || undefined;
      if (following === undefined) return outputs;
      if ((items(output)?.length ?? 0) === 0) stats.emptyPages++;
      if (following === token || n >= MAX_PAGES_PER_PARENT) {
        throw new GatewayError(`${operation} for ${about} returned the same NextToken again`, {
          code: GatewayErrorCode.ORGANIZATION_DISCOVERY_FAILED,
          accountId: options.accountId,
          region: ORGANIZATIONS_REGION,
        });
      }
      token = following;
    }
  };

  const roots = await allPages<ListRootsCommandOutput>(
    'ListRoots',
    (NextToken) => new ListRootsCommand({ NextToken }),
    (o) => o.Roots,
    (o) => o.NextToken,
    'the organization',
  );
  const units = new Map<string, OrganizationUnit>();
  const rootIds: string[] = [];
  for (const root of roots.flatMap((o) => o.Roots ?? [])) {
    if (!root.Id) continue;
    rootIds.push(root.Id);
    units.set(root.Id, {
      id: root.Id,
      name: root.Name ?? 'Root',
      parentId: undefined,
      path: [],
      ancestorIds: [root.Id],
    });
  }
  const accounts: OrganizationAccount[] = [];

  const visit = async (parent: OrganizationUnit): Promise<OrganizationUnit[]> => {
    const [unitPages, accountPages] = await Promise.all([
      allPages<ListOrganizationalUnitsForParentCommandOutput>(
        'ListOrganizationalUnitsForParent',
        (NextToken) => new ListOrganizationalUnitsForParentCommand({ ParentId: parent.id, NextToken }),
        (o) => o.OrganizationalUnits,
        (o) => o.NextToken,
        parent.id,
      ),
      allPages<ListAccountsForParentCommandOutput>(
        'ListAccountsForParent',
        (NextToken) => new ListAccountsForParentCommand({ ParentId: parent.id, NextToken }),
        (o) => o.Accounts,
        (o) => o.NextToken,
        parent.id,
      ),
    ]);
    for (const account of accountPages.flatMap((o) => o.Accounts ?? [])) {
      if (!account.Id) continue;
      accounts.push({
        id: account.Id,
        name: account.Name ?? account.Id,
        email: account.Email,
        state: account.State ?? account.Status ?? 'ACTIVE',
        parentId: parent.id,
        joinedAt: account.JoinedTimestamp,
      });
    }
    const children: OrganizationUnit[] = [];
    for (const unit of unitPages.flatMap((o) => o.OrganizationalUnits ?? [])) {
      if (!unit.Id || units.has(unit.Id)) continue;
      const child: OrganizationUnit = {
        id: unit.Id,
        name: unit.Name ?? unit.Id,
        parentId: parent.id,
        path: [...parent.path, unit.Name ?? unit.Id],
        ancestorIds: [...parent.ancestorIds, unit.Id],
      };
      units.set(child.id, child);
      children.push(child);
    }
    return children;
  };

  // A pool of `concurrency` workers over the parents still to list, breadth first.
  const queue: OrganizationUnit[] = rootIds.map((id) => units.get(id) as OrganizationUnit);
  let failure: { error: unknown } | undefined;
  let active = 0;
  await new Promise<void>((resolve) => {
    const pump = () => {
      if (failure || (queue.length === 0 && active === 0)) {
        if (active === 0) resolve();
        return;
      }
      while (!failure && active < concurrency && queue.length > 0) {
        const parent = queue.shift() as OrganizationUnit;
        active++;
        visit(parent).then(
          (children) => {
            active--;
            queue.push(...children);
            pump();
          },
          (error: unknown) => {
            active--;
            if (!failure) {
              failure = { error };
              stop.abort(error);
            }
            pump();
          },
        );
      }
    };
    pump();
  });
  if (failure) throw failure.error;
  return { rootIds, units, accounts, stats };
}
