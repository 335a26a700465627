import type {
  AwsCredentialIdentityProvider,
  DeserializeMiddleware,
  InitializeMiddleware,
} from '@smithy/types';
import type { AssumedRoleProvider } from './assume-role.js';
import { isExpiredCredentialsError } from './aws-error-codes.js';
import type { CredentialStatus } from './refreshing-credentials.js';

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
  /** A service rejected `accessKeyId`: see `RefreshingCredentialProvider.invalidate`. */
  invalidate(accessKeyId: string): void;
  status(): SessionStatus;
  /** Stop refreshing and destroy the clients. */
  close(): void;
}

export interface CreateSessionOptions {
  key: string;
  credentials: AssumedRoleProvider;
  /** Merged into every client's configuration (endpoint, forcePathStyle, maxAttempts, ...). */
  clientDefaults?: Record<string, unknown> | undefined;
  /**
   * Send a request rejected as expired once more after invalidating its key.
   * @default true
   */
  retryExpired?: boolean | undefined;
}

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
      if (existing) return existing as C;
      const client = new ClientClass({ ...options.clientDefaults, region, credentials });
      const stack = (client as ClientWithStack).middlewareStack;
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
      byRegion.set(region, client);
      return client;
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
      };
    },
    close() {
      if (closed) return;
      closed = true;
      credentials.close();
      for (const byRegion of clients.values()) {
        for (const client of byRegion.values()) (client as ClientWithStack).destroy?.();
      }
      clients.clear();
    },
  };
  return session;
}
