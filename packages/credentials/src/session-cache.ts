import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { LRUCache } from 'lru-cache';
import type { AssumedRoleProvider } from './assume-role.js';
import {
  type AssumeRoleParams,
  defaultSourceCredentials,
  fromAssumeRole,
  type StsOptions,
  sourceCredentialsError,
  validateAssumeRoleParams,
} from './assume-role.js';
import { byKey } from './aws/page.js';
import { meterStsClient } from './aws/rate-limits/meter-attempts.js';
import { type AwsRateLimiter, createAwsRateLimiter } from './aws/rate-limits/rate-limiter.js';
import type {
  CredentialEvent,
  JitterRange,
  RefreshingCredentialsOptions,
  Timers,
} from './refreshing-credentials.js';
import {
  type CallerIdentity,
  type ClientConstructor,
  type ClientOverrides,
  createSession,
  type Session,
} from './session.js';
import { type ClientInfo, createSessionClients } from './session-clients.js';
import { createSharedRequestHandler } from './shared-request-handler.js';

/** A role to reach: AssumeRole parameters, optionally through a hub role (role chaining). */
export interface RoleConfig extends AssumeRoleParams {
  /** Assume this role first and use its credentials to assume `roleArn`. */
  sourceRole?: RoleConfig;
  /** Overrides the cache's `sourceCredentials` for this role. */
  sourceCredentials?: AwsCredentialIdentityProvider;
  /** Overrides the cache's `stsRegion` for this role. */
  stsRegion?: string;
}

/** A credential event of one session, for loggers and metrics. */
export interface SessionEvent {
  roleArn: string;
  accountId: string;
  sessionKey: string;
  event: CredentialEvent;
}

export type RefreshDefaults = Omit<
  RefreshingCredentialsOptions,
  'source' | 'roleArn' | 'isRecoverable' | 'onEvent'
>;

export interface SessionCacheOptions
  extends Omit<StsOptions, 'stsRateLimiter' | 'stsPrincipal' | 'stsClientPool'> {
  /**
   * Most sessions shared; past it the least recently used one is retired (see `idleTtlMs`).
   * Size it above the number of roles you use in a cycle, or every cycle assumes them all again.
   * @default 1000
   */
  maxSessions?: number;
  /**
   * A session with no `get` and no request through its clients for this long is retired: the
   * cache stops sharing it and its refresh timer stops. Whoever still holds it can go on using
   * it (its credentials refresh on demand); only `close()` makes a session fail.
   * @default 1_800_000 (30 minutes)
   */
  idleTtlMs?: number;
  /**
   * While a session holds *expired* credentials and backs off after a failed refresh, one probe
   * per source principal tries STS again after a delay drawn from this range; when a refresh of
   * that source succeeds, every session of the source holding expired credentials ends its
   * backoff and refreshes on next use. `false`: AWS's backoff only.
   * @default { minMs: 20_000, maxMs: 40_000 }
   */
  recoveryProbe?: JitterRange | false;
  /** Merged into every SDK client a session makes (endpoint, forcePathStyle, maxAttempts, ...). */
  clientDefaults?: Record<string, unknown>;
  /**
   * The HTTP handler every client of every session sends through (one keep-alive pool), unless
   * `clientDefaults` or `clientConfig` name one; the cache closes it in `close()`. `false`: each
   * client makes its own, as the SDK does (one handler and socket pool per account and region).
   * @default createSharedRequestHandler() (512 sockets per host)
   */
  sharedRequestHandler?: boolean;
  /**
   * One SDK client per client class and region for every session of the cache, each call
   * signed with the credentials of the session that sent it: memory and client set-up follow
   * the regions and services in use, not accounts x regions (an organization of 5,000 accounts x
   * 17 regions needs 17 EC2 clients, not 85,000). `false`: each session makes clients of its
   * own, as the SDK would (a retry quota per account and region, and about 11 KB per client).
   * @default true
   */
  shareClients?: boolean;
  /**
   * Extra configuration per SDK client, spread over `clientDefaults`; called once per client
   * made, e.g. for a retry strategy of its own. With `shareClients` (the default) a client and its
   * retry quota serve every session in its region.
   */
  clientConfig?: (ClientClass: ClientConstructor<object>, region: string) => ClientOverrides;
  /**
   * Called once with each SDK client right after it is made: add middleware here. With
   * `shareClients` a client serves many sessions: `sessionOfCall(context)` in a middleware names
   * the session (and account) of the call.
   */
  onClient?: (client: object, info: ClientInfo) => void;
  /**
   * The rate limiter of STS: every AssumeRole attempt of one source principal (the default
   * source credentials, a `sourceCredentials` provider, or the hub role of chained roles) waits
   * for a token of that principal's bucket in its STS region, inside the refresh (single
   * flight; the wait is bounded by `refresh.queueTimeoutMs`, 15 min, and does not count against
   * `refresh.sourceTimeoutMs`, which bounds the call itself), so a cold start over many roles is paced
   * instead of throttled. Pass the process-wide limiter your `callAws` calls use; `false`: no
   * limit. @default a limiter with AWS's STS quota (600 burst, 600 per second per principal)
   */
  limits?: AwsRateLimiter | false;
  /** Refresh settings for every session (windows, backoff, proactive refresh, clock). */
  refresh?: RefreshDefaults;
  /** Called with every credential event of every session. */
  onEvent?: (event: SessionEvent) => void;
}

/** Get-or-create one refreshing session per role configuration. */
export interface SessionCache {
  /**
   * The session for this role configuration, made on first use. Nothing is fetched until
   * the session's credentials are first needed, and concurrent first requests share it.
   *
   * @example
   * const s = sessions.get({ roleArn: 'arn:aws:iam::123456789012:role/Reader' });
   * await s.client(EC2Client, 'us-east-1').send(new DescribeInstancesCommand({}));
   */
  get(role: RoleConfig): Session;
  /**
   * Validate a role configuration and build its key once; the returned function hands out the
   * role's session as `get` would, at the cost of a map lookup. For callers whose roles are
   * fixed at start, such as a gateway. Throws a `TypeError` for a bad configuration.
   *
   * @example
   * const prod = sessions.prepare({ roleArn: 'arn:aws:iam::111111111111:role/Reader' });
   * await prod().client(EC2Client, 'us-east-1').send(new DescribeInstancesCommand({}));
   */
  prepare(role: RoleConfig): () => Session;
  /** The session for this configuration if one is cached; does not refresh its idle time. */
  peek(role: RoleConfig): Session | undefined;
  /** Close and forget the session of this configuration (it fails for its holders from then on). */
  delete(role: RoleConfig): boolean;
  /**
   * Who the cache's source credentials are (STS GetCallerIdentity with them): the identity that
   * assumes every role without a `sourceRole` or `sourceCredentials` of its own. When they
   * cannot be loaded at all, a `CredentialsError` `SOURCE_CREDENTIALS_UNAVAILABLE`; STS's own
   * failures are thrown as the SDK raised them.
   *
   * @example
   * const { arn } = await sessions.sourceIdentity(); // arn:aws:iam::000000000000:user/central
   */
  sourceIdentity(options?: { abortSignal?: AbortSignal }): Promise<CallerIdentity>;
  /** Every cached session, most recently used first. */
  sessions(): Session[];
  readonly size: number;
  /** The most sessions shared now (`maxSessions`, or the last `resize`). */
  readonly maxSessions: number;
  /**
   * Changes `maxSessions`, e.g. when an organization grows past the room it was given. Every
   * session stays cached with its idle time, unless the new bound is smaller: then the least
   * recently used ones past it are retired, as any eviction does (their holders keep working).
   *
   * @example
   * if (accounts * 2 > sessions.maxSessions) sessions.resize(accounts * 2);
   */
  resize(maxSessions: number): void;
  /** Subscribe to every session's credential events; returns the unsubscribe function. */
  on(listener: (event: SessionEvent) => void): () => void;
  /** Close every session the cache shares. */
  close(): void;
}

const sourceIds = new WeakMap<object, number>();
let nextSourceId = 1;
function sourceKey(provider: AwsCredentialIdentityProvider | undefined): string {
  if (!provider) return 'default';
  let id = sourceIds.get(provider);
  if (id === undefined) {
    id = nextSourceId++;
    sourceIds.set(provider, id);
  }
  return `provider#${id}`;
}

const sorted = (values: readonly string[] | undefined) => (values ? [...values].sort() : undefined);

/**
 * The canonical key of a role configuration: the same role reached the same way always
 * gives the same key, whatever the order of its fields, tags or policy ARNs.
 */
export function roleKey(
  role: RoleConfig,
  defaults: Pick<SessionCacheOptions, 'stsRegion' | 'sourceCredentials'> = {},
): string {
  const source = role.sourceRole
    ? `role:${roleKey(role.sourceRole, defaults)}`
    : sourceKey(role.sourceCredentials ?? defaults.sourceCredentials);
  return JSON.stringify([
    role.roleArn,
    role.externalId ?? null,
    role.roleSessionName ?? null,
    role.durationSeconds ?? null,
    role.policy ?? null,
    sorted(role.policyArns) ?? null,
    role.tags ? [...role.tags].sort(byKey).map((t) => [t.key, t.value]) : null,
    sorted(role.transitiveTagKeys) ?? null,
    role.sourceIdentity ?? null,
    role.mfa?.serialNumber ?? null,
    role.stsRegion ?? defaults.stsRegion ?? null,
    source,
  ]);
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0)
    throw new TypeError(`${name} must be a positive integer, got ${String(value)}`);
  return value;
}

function checkProbe(range: JitterRange | false | undefined): JitterRange | false {
  if (range === undefined) return { minMs: 20_000, maxMs: 40_000 };
  if (range === false) return false;
  const ok =
    typeof range === 'object' &&
    Number.isFinite(range.minMs) &&
    Number.isFinite(range.maxMs) &&
    range.minMs > 0 &&
    range.maxMs >= range.minMs;
  if (!ok) {
    throw new TypeError(
      `recoveryProbe must be false or { minMs, maxMs } with 0 < minMs <= maxMs, got ${JSON.stringify(range)}`,
    );
  }
  return range;
}

/** The sessions of one source principal that hold expired credentials and back off. */
interface RecoveryGroup {
  waiting: Set<AssumedRoleProvider>;
  timer: unknown;
}

/**
 * A bounded cache of assumed-role sessions (LRU plus idle retirement); the process-wide home
 * of every role's credentials and clients. A session is never broken under its holder: the
 * cache only stops sharing sessions (idle, or past `maxSessions`), and `close`/`delete` alone
 * make one fail.
 *
 * @example
 * const sessions = createSessionCache();
 * const s = sessions.get({ roleArn: 'arn:aws:iam::123456789012:role/Reader' });
 * const { Reservations } = await s.client(EC2Client, 'us-east-1').send(new DescribeInstancesCommand({}));
 */
export function createSessionCache(options: SessionCacheOptions = {}): SessionCache {
  const maxSessions = positive('maxSessions', options.maxSessions, 1000);
  const idleTtlMs = positive('idleTtlMs', options.idleTtlMs, 30 * 60_000);
  const probeRange = checkProbe(options.recoveryProbe);
  const shared = options.sharedRequestHandler === false ? undefined : createSharedRequestHandler();
  const clientSettings = {
    clientDefaults: options.clientDefaults,
    requestHandler: shared?.handler,
    clientConfig: options.clientConfig,
    onClient: options.onClient,
  };
  const sharedClients = options.shareClients === false ? undefined : createSessionClients(clientSettings);
  // One AssumeRole client per source principal and STS region, shared by all its roles.
  const stsClients = new Map<string, unknown>();
  const limiter =
    options.limits === false
      ? undefined
      : (options.limits ?? createAwsRateLimiter({ now: options.refresh?.now }));
  const now = options.refresh?.now ?? Date.now;
  const random = options.refresh?.random ?? Math.random;
  const timers: Timers = options.refresh?.timers ?? {
    setTimeout: (callback, ms) => setTimeout(callback, ms),
    clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  };
  const listeners = new Set<(event: SessionEvent) => void>();
  if (options.onEvent) listeners.add(options.onEvent);

  const newLru = (max: number) =>
    new LRUCache<string, Session>({
      max,
      ttl: idleTtlMs,
      updateAgeOnGet: true,
      perf: { now },
      ttlResolution: 0,
      // Dropped for idleness or room: retired, so a holder never breaks. Deleted or cleared: closed.
      dispose: (session, _key, reason) => {
        if (reason === 'delete') session.close();
        else session.retire();
      },
    });
  let cache = newLru(maxSessions);
  /** Moves every session into a cache of `max`, least recently used first, idle time kept. */
  const resize = (max: number) => {
    const next = newLru(positive('maxSessions', max, maxSessions));
    // Sessions idle past their time are retired first, as the purge would have.
    cache.purgeStale();
    for (const key of cache.rkeys()) {
      const session = cache.peek(key);
      if (session) next.set(key, session, { ttl: Math.max(1, cache.getRemainingTTL(key)) });
    }
    // The old cache is dropped, not cleared: clearing would close the sessions just moved.
    cache = next;
  };
  // Idle sessions must stop refreshing even if nobody asks for them again.
  const purge = setInterval(() => cache.purgeStale(), Math.min(idleTtlMs, 60_000));
  purge.unref();

  const groups = new Map<string, RecoveryGroup>();
  // Expired by the clock, whatever else its state says (an invalidated key reads as mandatory).
  const expired = (p: AssumedRoleProvider) => {
    const { expiration, backoffUntil } = p.status();
    return expiration !== undefined && expiration.getTime() <= now() && backoffUntil !== undefined;
  };
  const armProbe = (sourceId: string, group: RecoveryGroup) => {
    if (probeRange === false || group.timer !== undefined) return;
    const delay = probeRange.minMs + random() * (probeRange.maxMs - probeRange.minMs);
    group.timer = timers.setTimeout(() => {
      group.timer = undefined;
      for (const p of group.waiting) if (p.status().backoffUntil === undefined) group.waiting.delete(p);
      if (group.waiting.size === 0) {
        groups.delete(sourceId);
        return;
      }
      // Only a cache holding expired credentials may probe: unexpired ones keep AWS's rules.
      const candidate = [...group.waiting].find(expired);
      if (candidate) {
        // Rotate, so a role that keeps failing for its own reasons does not starve the others.
        group.waiting.delete(candidate);
        group.waiting.add(candidate);
        candidate.probe().catch(() => undefined);
      }
      armProbe(sourceId, group);
    }, delay);
    (group.timer as { unref?: () => void } | undefined)?.unref?.();
  };
  const onBackoff = (sourceId: string, provider: AssumedRoleProvider) => {
    let group = groups.get(sourceId);
    if (!group) {
      group = { waiting: new Set(), timer: undefined };
      groups.set(sourceId, group);
    }
    group.waiting.add(provider);
    armProbe(sourceId, group);
  };
  // A refresh through this source worked, so STS and the source are back: let the others go.
  const onRecovered = (sourceId: string, provider: AssumedRoleProvider) => {
    const group = groups.get(sourceId);
    if (!group) return;
    group.waiting.delete(provider);
    for (const p of group.waiting) {
      if (expired(p)) {
        p.releaseBackoff();
        group.waiting.delete(p);
      }
    }
  };
  const releaseGroups = () => {
    for (const group of groups.values()) if (group.timer !== undefined) timers.clearTimeout(group.timer);
    groups.clear();
  };

  const make = (role: RoleConfig, key: string): Session => {
    const sourceSession = role.sourceRole ? getSession(role.sourceRole) : undefined;
    const sourceCredentials = sourceSession
      ? sourceSession.credentials
      : (role.sourceCredentials ?? options.sourceCredentials);
    const sourceId = sourceSession ? `role:${sourceSession.key}` : sourceKey(sourceCredentials);
    const credentials = fromAssumeRole({
      ...options.refresh,
      ...role,
      stsRegion: role.stsRegion ?? options.stsRegion,
      stsEndpoint: options.stsEndpoint,
      // One STS client per role: it shares the handler too, unless the caller chose one.
      stsClientConfig: shared
        ? { requestHandler: shared.handler, ...options.stsClientConfig }
        : options.stsClientConfig,
      allowShortSessions: options.allowShortSessions,
      sourceCredentials,
      ...(limiter ? { stsRateLimiter: limiter, stsPrincipal: sourceSession?.roleArn } : {}),
      stsClientPool: {
        clients: stsClients,
        key: JSON.stringify([sourceId, role.stsRegion ?? options.stsRegion ?? null]),
      },
      onEvent: (event) => {
        if (event.type === 'backoff') onBackoff(sourceId, credentials);
        if (event.type === 'refresh-succeeded') {
          onRecovered(sourceId, credentials);
          // Roles reached through this one were waiting on it too.
          onRecovered(`role:${key}`, credentials);
        }
        const sessionEvent = {
          roleArn: role.roleArn,
          accountId: credentials.accountId,
          sessionKey: key,
          event,
        };
        for (const listener of listeners) {
          try {
            listener(sessionEvent);
          } catch {
            // A faulty listener must not break credential resolution.
          }
        }
      },
    });
    const session: Session = createSession({
      key,
      credentials,
      ...clientSettings,
      clients: sharedClients,
      stsRegion: role.stsRegion ?? options.stsRegion,
      stsEndpoint: options.stsEndpoint,
      // A request through the session's clients is use, just like a `get`.
      onUse: () => {
        if (cache.peek(key) === session) cache.get(key);
      },
    });
    return session;
  };

  const lookup = (role: RoleConfig, key: string): Session => {
    const existing = cache.get(key);
    if (existing) return existing;
    const session = make(role, key);
    cache.set(key, session);
    return session;
  };

  function getSession(role: RoleConfig): Session {
    validateAssumeRoleParams(role, options);
    return lookup(role, roleKey(role, options));
  }

  let sourceSts: STSClient | undefined;
  const sourceIdentity = async (call: { abortSignal?: AbortSignal } = {}): Promise<CallerIdentity> => {
    const defaultChain = options.sourceCredentials === undefined;
    if (!sourceSts) {
      const region = options.stsRegion ?? process.env.AWS_REGION ?? 'us-east-1';
      sourceSts = new STSClient({
        ...(shared ? { requestHandler: shared.handler } : {}),
        ...options.stsClientConfig,
        region,
        credentials: options.sourceCredentials ?? (await defaultSourceCredentials()),
        ...(options.stsEndpoint ? { endpoint: options.stsEndpoint } : {}),
      });
      if (limiter) meterStsClient(sourceSts, limiter, { region });
    }
    try {
      const out = await sourceSts.send(
        new GetCallerIdentityCommand({}),
        call.abortSignal ? { abortSignal: call.abortSignal } : {},
      );
      return { account: out.Account ?? '', arn: out.Arn ?? '', userId: out.UserId ?? '' };
    } catch (error) {
      throw sourceCredentialsError(error, { defaultChain }) ?? error;
    }
  };

  return {
    get: getSession,
    sourceIdentity,
    prepare(role) {
      validateAssumeRoleParams(role, options);
      for (let hop = role.sourceRole; hop; hop = hop.sourceRole) validateAssumeRoleParams(hop, options);
      const key = roleKey(role, options);
      return () => lookup(role, key);
    },
    peek(role) {
      return cache.peek(roleKey(role, options));
    },
    delete(role) {
      return cache.delete(roleKey(role, options));
    },
    sessions() {
      return [...cache.values()];
    },
    get size() {
      return cache.size;
    },
    get maxSessions() {
      return cache.max;
    },
    resize,
    on(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    close() {
      clearInterval(purge);
      sourceSts?.destroy();
      for (const client of stsClients.values()) (client as STSClient).destroy();
      stsClients.clear();
      releaseGroups();
      cache.clear();
      sharedClients?.destroy();
      listeners.clear();
      shared?.destroy();
    },
  };
}
