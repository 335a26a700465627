import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { AssumedRoleProvider } from './assume-role.js';
import type { CredentialStatus } from './refreshing-credentials.js';
import {
  bindClient,
  createSessionClients,
  type SessionBinding,
  type SessionClients,
  type SessionClientsOptions,
} from './session-clients.js';

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
  /** How many SDK clients the session has used (its views of the clients it shares). */
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

/**
 * One assumed role: its refreshing credentials and the SDK clients it sends through. From a
 * session cache, the clients are shared: one per (client class, region) for every session,
 * each call signed with the credentials of the session that sent it.
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
   * It is the session's view of an SDK client that every session of its cache shares (one per
   * class and region): the configuration and middleware stack are that client's, so middleware
   * added here applies to every session (use `sessionOfCall(context)` in it to tell them
   * apart), and `destroy()` does nothing. Its `config.credentials` are not the session's: build
   * a presigner (or anything that reads credentials from a client) with `session.credentials`.
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
 * What a session is built from. `clientDefaults`, `requestHandler`, `clientConfig` and
 * `onClient` make the session's own clients when no `clients` are given.
 */
export interface CreateSessionOptions extends SessionClientsOptions {
  key: string;
  credentials: AssumedRoleProvider;
  /**
   * The SDK clients the session sends through, shared with other sessions (a session cache
   * passes its own set); closing the session leaves them open.
   * @default a set of the session's own, made from `clientDefaults`, `requestHandler`,
   * `clientConfig` and `onClient`, destroyed by `close()`
   */
  clients?: SessionClients | undefined;
  /**
   * Send a request rejected as expired once more after invalidating its key.
   * @default true
   */
  retryExpired?: boolean | undefined;
  /** Called when a request through one of the session's clients starts and when it ends. */
  onUse?: (() => void) | undefined;
  /** The region of the STS client `callerIdentity` uses. @default AWS_REGION, else us-east-1 */
  stsRegion?: string | undefined;
  /** The endpoint of that STS client (a VPC endpoint, the sandbox). @default clientDefaults' endpoint */
  stsEndpoint?: string | undefined;
}

/** Client configuration a hook adds; `undefined` adds nothing. */
export type ClientOverrides = Record<string, unknown> | undefined;

/** Build a session around an assumed-role provider. Sessions usually come from a `SessionCache`. */
export function createSession(options: CreateSessionOptions): Session {
  const { credentials } = options;
  const owned = options.clients === undefined;
  const sdkClients = options.clients ?? createSessionClients(options);
  // The session's view of each client it used: one small object over the shared client.
  const views = new Map<ClientConstructor<unknown>, Map<string, object>>();
  let closed = false;
  let retired = false;
  let inFlight = 0;
  const onUse = options.onUse;

  const viewOf = <C extends object>(
    ClientClass: ClientConstructor<C>,
    region: string,
    extra?: ClientOverrides,
  ): C => {
    let byRegion = views.get(ClientClass);
    if (!byRegion) {
      byRegion = new Map();
      views.set(ClientClass, byRegion);
    }
    let view = byRegion.get(region);
    if (!view) {
      view = bindClient(sdkClients.client(ClientClass, region, extra), binding);
      byRegion.set(region, view);
    }
    return view as C;
  };

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
      return viewOf(ClientClass, region);
    },
    async callerIdentity(callOptions = {}) {
      const region = callOptions.region ?? options.stsRegion ?? process.env.AWS_REGION ?? 'us-east-1';
      const sts = viewOf(
        STSClient,
        region,
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
      let clients = 0;
      for (const byRegion of views.values()) clients += byRegion.size;
      return {
        key: options.key,
        roleArn: credentials.roleArn,
        accountId: credentials.accountId,
        roleSessionName: credentials.roleSessionName,
        credentials: credentials.status(),
        clients,
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
      views.clear();
      if (owned) sdkClients.destroy();
    },
  };
  const binding: SessionBinding = {
    session,
    retryExpired: options.retryExpired ?? true,
    begin() {
      inFlight++;
      onUse?.();
    },
    end() {
      inFlight--;
      onUse?.();
    },
  };
  return session;
}
