import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type {
  AwsCredentialIdentityProvider,
  DeserializeMiddleware,
  InitializeMiddleware,
} from '@smithy/types';
import type { AssumedRoleProvider } from './assume-role.js';
import { addAttemptMeter } from './aws/rate-limits/meter-attempts.js';
import { isExpiredCredentialsError } from './aws-error-codes.js';
import type { CredentialStatus } from './refreshing-credentials.js';
import { SDK_LOGGER_WITHOUT_INFO, sharedSdkSettingsFor } from './sdk-settings.js';

/** The configuration every SDK client of a session starts from. */
export interface SessionClientConfig {
  region: string;
  credentials: AwsCredentialIdentityProvider;
}

/** Any AWS SDK v3 client class, e.g. `EC2Client` or `S3Client`. */
export type ClientConstructor<C> = new (config: SessionClientConfig) => C;

/** What a session's status shows: who it is and how its credentials are doing. Never a secret. */
export interface SessionStatus {
  key: string;
  roleArn: string;
  accountId: string;
  roleSessionName: string;
  credentials: CredentialStatus;
  /** How many SDK clients the session holds. */
  clients: number;
  /** Requests sent through the session's clients that have not answered yet. */
  inFlight: number;
  /** No longer shared by its cache (idle or evicted): still usable, refreshed on demand only. */
  retired: boolean;
}

/** Who a session's credentials are, as STS GetCallerIdentity answers. */
export interface CallerIdentity {
  account: string;
  arn: string;
  userId: string;
}

/** What `onClient` is told about a client a session just made. */
export interface ClientInfo {
  session: Session;
  ClientClass: ClientConstructor<object>;
  region: string;
}

/**
 * One assumed role: its refreshing credentials and the SDK clients built on them, cached
 * per (client class, region) so connections are reused.
 */
export interface Session {
  /** The canonical cache key of the role configuration. */
  readonly key: string;
  readonly roleArn: string;
  readonly accountId: string;
  /** The refreshing provider; pass it as `credentials` to clients you build yourself. */
  readonly credentials: AssumedRoleProvider;
  /**
   * The session's client of this class in this region, made on first use. Its requests
   * are signed with the session's credentials; a request rejected as expired
   * (`ExpiredToken`, `RequestExpired`) invalidates the key it used and is sent once more.
   *
   * @example
   * const reservations = await session.client(EC2Client, 'us-east-1').send(new DescribeInstancesCommand({}));
   */
  client<C extends object>(ClientClass: ClientConstructor<C>, region: string): C;
  /**
   * STS GetCallerIdentity with the session's credentials, through the session's own STS client
   * (so `onClient` hooks see it). SDK errors and `CredentialsError`s are thrown as they are.
   *
   * @example
   * const { arn } = await session.callerIdentity();
   */
  callerIdentity(options?: { region?: string; abortSignal?: AbortSignal }): Promise<CallerIdentity>;
  /** A service rejected `accessKeyId`: see `RefreshingCredentialProvider.invalidate`. */
  invalidate(accessKeyId: string): void;
  status(): SessionStatus;
  /**
   * Stop sharing: the proactive refresh timer stops for good, but the session keeps working for
   * whoever holds it (its credentials refresh on demand). Its cache calls this when it drops
   * the session; nothing a holder does fails because of it.
   */
  retire(): void;
  /** Stop refreshing and destroy the clients; every later call fails with `SESSION_CLOSED`. */
  close(): void;
}

/**
 * A bound on SDK clients shared by many sessions (a session cache keeps one): a session tells
 * it of every client it makes or hands out, and it calls `evict` on the least recently used
 * one past its bound. An evicted client is dropped by its session and made again on next use.
 */
export interface ClientPool {
  /** `client` was made (with the `evict` that drops it from its session) or handed out again. */
  touch(client: object, evict?: () => void): void;
  /** The session closed `client`: no eviction for it any more. */
  forget(client: object): void;
}

export interface CreateSessionOptions {
  key: string;
  /**
   * Bounds the session's clients together with other sessions' (see `ClientPool`). Only with a
   * shared `requestHandler`: an evicted client is destroyed, and that must not close sockets
   * a request still in flight through it uses.
   * @default no bound: a client per class and region for the session's life
   */
  clientPool?: ClientPool | undefined;
  credentials: AssumedRoleProvider;
  /** Merged into every client's configuration (endpoint, forcePathStyle, maxAttempts, ...). */
  clientDefaults?: Record<string, unknown> | undefined;
  /**
   * The HTTP handler every client of the session sends through, unless `clientDefaults` or
   * `clientConfig` name one: a session cache shares one (see `createSharedRequestHandler`), so
   * sockets and per-client handler memory do not multiply with accounts and regions.
   * @default each client makes its own, as the SDK does
   */
  requestHandler?: object | undefined;
  /**
   * Send a request rejected as expired once more after invalidating its key.
   * @default true
   */
  retryExpired?: boolean | undefined;
  /** Extra configuration per client, spread over `clientDefaults` (called once per client made). */
  clientConfig?: ((ClientClass: ClientConstructor<object>, region: string) => ClientOverrides) | undefined;
  /** Called once with each client right after it is made: add middleware here. */
  onClient?: ((client: object, info: ClientInfo) => void) | undefined;
  /** Called when a request through one of the session's clients starts and when it ends. */
  onUse?: (() => void) | undefined;
  /** The region of the STS client `callerIdentity` uses. @default AWS_REGION, else us-east-1 */
  stsRegion?: string | undefined;
  /** The endpoint of that STS client (a VPC endpoint, the sandbox). @default clientDefaults' endpoint */
  stsEndpoint?: string | undefined;
}

/** Client configuration a hook adds; `undefined` adds nothing. */
export type ClientOverrides = Record<string, unknown> | undefined;

const USED_KEY = Symbol('rolegraph.accessKeyIdUsed');
const CREDENTIAL_IN_AUTH = /Credential=([^/,\s]+)\//;

interface ClientWithStack {
  middlewareStack?: {
    add(
      middleware: unknown,
      options: { step: string; name: string; priority?: string; override?: boolean },
    ): void;
  };
  destroy?: () => void;
}

/** Build a session around an assumed-role provider. Sessions usually come from a `SessionCache`. */
export function createSession(options: CreateSessionOptions): Session {
  const { credentials } = options;
  const retryExpired = options.retryExpired ?? true;
  const clients = new Map<ClientConstructor<unknown>, Map<string, object>>();
  let closed = false;
  let retired = false;
  let inFlight = 0;
  const onUse = options.onUse;
  const pool = options.clientPool;

  // Outermost: a request counts as use of the session from its start to its answer.
  const trackUse: InitializeMiddleware<object, object> = (next) => async (args) => {
    inFlight++;
    onUse?.();
    try {
      return await next(args);
    } finally {
      inFlight--;
      onUse?.();
    }
  };

  // Records which key signed the request, so a rejection invalidates exactly that key.
  const recordKey: DeserializeMiddleware<object, object> = (next, context) => async (args) => {
    const request = args.request as { headers?: Record<string, string> } | undefined;
    const used = CREDENTIAL_IN_AUTH.exec(request?.headers?.authorization ?? '')?.[1];
    if (used) (context as Record<symbol, unknown>)[USED_KEY] = used;
    return next(args);
  };
  const invalidateOnExpiry: InitializeMiddleware<object, object> = (next, context) => async (args) => {
    try {
      return await next(args);
    } catch (error) {
      const used = (context as Record<symbol, unknown>)[USED_KEY];
      if (!isExpiredCredentialsError(error) || typeof used !== 'string') throw error;
      credentials.invalidate(used);
      if (!retryExpired) throw error;
      return next(args);
    }
  };

  function makeClient<C extends object>(
    ClientClass: ClientConstructor<C>,
    region: string,
    byRegion: Map<string, object>,
    extra: ClientOverrides,
  ): C {
    const config: Record<string, unknown> = {
      // No SDK info log entry built per call for nobody, unless a logger is given.
      logger: SDK_LOGGER_WITHOUT_INFO,
      ...(options.requestHandler ? { requestHandler: options.requestHandler } : {}),
      ...options.clientDefaults,
      ...options.clientConfig?.(ClientClass, region),
      ...extra,
      region,
      credentials,
    };
    // The environment and profile settings every client reads, read once per process.
    const client = new ClientClass({ ...sharedSdkSettingsFor(config), ...config } as SessionClientConfig);
    const stack = (client as ClientWithStack).middlewareStack;
    stack?.add(trackUse, { step: 'initialize', name: 'rolegraphTrackUse', priority: 'high', override: true });
    stack?.add(invalidateOnExpiry, {
      step: 'initialize',
      name: 'rolegraphInvalidateOnExpiry',
      override: true,
    });
    stack?.add(recordKey, {
      step: 'deserialize',
      name: 'rolegraphRecordAccessKey',
      priority: 'low',
      override: true,
    });
    // Every attempt of a call `callAws` rate limits takes a token: SDK retries, the re-send above.
    addAttemptMeter(client);
    byRegion.set(region, client);
    pool?.touch(client, () => {
      if (byRegion.get(region) !== client) return;
      byRegion.delete(region);
      // The shared handler outlives it: destroy frees this client only.
      (client as ClientWithStack).destroy?.();
    });
    options.onClient?.(client, { session, ClientClass, region });
    return client;
  }

  const session: Session = {
    key: options.key,
    roleArn: credentials.roleArn,
    accountId: credentials.accountId,
    credentials,
    client<C extends object>(ClientClass: ClientConstructor<C>, region: string): C {
      if (closed) throw new TypeError(`session for ${credentials.roleArn} is closed`);
      if (typeof region !== 'string' || region.length === 0) {
        throw new TypeError(`region must be a non-empty string, got ${JSON.stringify(region)}`);
      }
      let byRegion = clients.get(ClientClass);
      if (!byRegion) {
        byRegion = new Map();
        clients.set(ClientClass, byRegion);
      }
      const existing = byRegion.get(region);
      if (existing) {
        pool?.touch(existing);
        return existing as C;
      }
      return makeClient(ClientClass, region, byRegion, undefined);
    },
    async callerIdentity(callOptions = {}) {
      const region = callOptions.region ?? options.stsRegion ?? process.env.AWS_REGION ?? 'us-east-1';
      let byRegion = clients.get(STSClient);
      if (!byRegion) {
        byRegion = new Map();
        clients.set(STSClient, byRegion);
      }
      const sts =
        (byRegion.get(region) as STSClient | undefined) ??
        makeClient(
          STSClient,
          region,
          byRegion,
          options.stsEndpoint ? { endpoint: options.stsEndpoint } : undefined,
        );
      const out = await sts.send(
        new GetCallerIdentityCommand({}),
        callOptions.abortSignal ? { abortSignal: callOptions.abortSignal } : {},
      );
      return { account: out.Account ?? '', arn: out.Arn ?? '', userId: out.UserId ?? '' };
    },
    invalidate(accessKeyId: string) {
      credentials.invalidate(accessKeyId);
    },
    status(): SessionStatus {
      let count = 0;
      for (const byRegion of clients.values()) count += byRegion.size;
      return {
        key: options.key,
        roleArn: credentials.roleArn,
        accountId: credentials.accountId,
        roleSessionName: credentials.roleSessionName,
        credentials: credentials.status(),
        clients: count,
        inFlight,
        retired,
      };
    },
    retire() {
      if (retired || closed) return;
      retired = true;
      credentials.retire();
    },
    close() {
      if (closed) return;
      closed = true;
      credentials.close();
      for (const byRegion of clients.values()) {
        for (const client of byRegion.values()) {
          pool?.forget(client);
          (client as ClientWithStack).destroy?.();
        }
      }
      clients.clear();
    },
  };
  return session;
}
