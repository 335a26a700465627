import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { LRUCache } from 'lru-cache';
import {
  type AssumeRoleParams,
  fromAssumeRole,
  type StsOptions,
  validateAssumeRoleParams,
} from './assume-role.js';
import type { CredentialEvent, RefreshingCredentialsOptions } from './refreshing-credentials.js';
import { createSession, type Session } from './session.js';

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

export interface SessionCacheOptions extends StsOptions {
  /**
   * Most sessions kept; the least recently used is closed first.
   * @default 1000
   */
  maxSessions?: number;
  /**
   * A session unused this long is closed (its refresh timer stops).
   * @default 1_800_000 (30 minutes)
   */
  idleTtlMs?: number;
  /** Merged into every SDK client a session makes (endpoint, forcePathStyle, maxAttempts, ...). */
  clientDefaults?: Record<string, unknown>;
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
  /** The session for this configuration if one is cached; does not refresh its idle time. */
  peek(role: RoleConfig): Session | undefined;
  /** Close and forget the session of this configuration. */
  delete(role: RoleConfig): boolean;
  /** Every cached session, most recently used first. */
  sessions(): Session[];
  readonly size: number;
  /** Subscribe to every session's credential events; returns the unsubscribe function. */
  on(listener: (event: SessionEvent) => void): () => void;
  /** Close every session. */
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
    role.tags
      ? [...role.tags]
          .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
          .map((t) => [t.key, t.value])
      : null,
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

/**
 * A bounded cache of assumed-role sessions (LRU plus idle eviction); the process-wide home
 * of every role's credentials and clients.
 *
 * @example
 * const sessions = createSessionCache();
 * const s = sessions.get({ roleArn: 'arn:aws:iam::123456789012:role/Reader' });
 * const { Reservations } = await s.client(EC2Client, 'us-east-1').send(new DescribeInstancesCommand({}));
 */
export function createSessionCache(options: SessionCacheOptions = {}): SessionCache {
  const maxSessions = positive('maxSessions', options.maxSessions, 1000);
  const idleTtlMs = positive('idleTtlMs', options.idleTtlMs, 30 * 60_000);
  const now = options.refresh?.now ?? Date.now;
  const listeners = new Set<(event: SessionEvent) => void>();
  if (options.onEvent) listeners.add(options.onEvent);

  const cache = new LRUCache<string, Session>({
    max: maxSessions,
    ttl: idleTtlMs,
    updateAgeOnGet: true,
    perf: { now },
    ttlResolution: 0,
    dispose: (session) => session.close(),
  });
  // Idle sessions must stop refreshing even if nobody asks for them again.
  const purge = setInterval(() => cache.purgeStale(), Math.min(idleTtlMs, 60_000));
  purge.unref();

  const make = (role: RoleConfig, key: string): Session => {
    const sourceCredentials = role.sourceRole
      ? getSession(role.sourceRole).credentials
      : (role.sourceCredentials ?? options.sourceCredentials);
    const credentials = fromAssumeRole({
      ...options.refresh,
      ...role,
      stsRegion: role.stsRegion ?? options.stsRegion,
      stsEndpoint: options.stsEndpoint,
      stsClientConfig: options.stsClientConfig,
      sourceCredentials,
      onEvent: (event) => {
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
    return createSession({ key, credentials, clientDefaults: options.clientDefaults });
  };

  function getSession(role: RoleConfig): Session {
    validateAssumeRoleParams(role);
    const key = roleKey(role, options);
    const existing = cache.get(key);
    if (existing) return existing;
    const session = make(role, key);
    cache.set(key, session);
    return session;
  }

  return {
    get: getSession,
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
    on(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    close() {
      clearInterval(purge);
      cache.clear();
      listeners.clear();
    },
  };
}
