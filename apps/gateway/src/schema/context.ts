import type { Session } from '@rolegraph/credentials';
import {
  type AwsCallBudget,
  type AwsRateLimiter,
  followSignal,
  type RequestAnswerCache,
  toAwsCallError,
} from '@rolegraph/credentials/aws';
import { createEc2Loaders, type Ec2Loaders } from '@rolegraph/ec2';
import { createS3Loaders, type S3Loaders } from '@rolegraph/s3';
import type { AccountSnapshot } from '../accounts/account-snapshot.js';
import type { AllowList } from '../accounts/allow-list.js';
import type { AccountConfig, GatewayConfig } from '../config/config-schema.js';
import { GatewayError, GatewayErrorCode } from '../errors.js';
import type { AccountGate } from '../limits/account-gate.js';

/**
 * Who is asking, and which accounts they may use (`'*'`: every account; else aliases, ids,
 * OU ids and `ou:` OU paths).
 */
export interface Caller {
  name: string;
  kind: 'anonymous' | 'api-key' | 'jwt';
  accounts: AllowList;
}

/** One account as a request sees it: its session and this request's loaders, made on first use. */
export interface AccountScope {
  readonly config: AccountConfig;
  session(): Session;
  ec2(): Ec2Loaders;
  s3(): S3Loaders;
  /**
   * Run AWS work for this account: once its credentials are there (fetched first, holding no
   * slot), under the request's cap on accounts in flight.
   */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** The region if the account is configured for it; otherwise a `REGION_NOT_CONFIGURED` error. */
  checkRegion(region: string): string;
  /** Resolves once this request has tried to get credentials (never rejects). */
  credentialsSettled(): Promise<void>;
}

/** The accounts of one request, with the caller's allow-list applied. */
export interface RequestAccounts {
  /** By alias or 12-digit id; `ACCOUNT_NOT_FOUND` or `FORBIDDEN` otherwise. */
  get(name: string): AccountScope;
  /** The named accounts (errors in place of the ones that cannot be used), or every allowed one. */
  list(names?: readonly string[] | null): Array<AccountScope | GatewayError>;
  /** Aliases of the accounts whose session this request used, for its log line. */
  used(): string[];
}

/** What the resolvers get as `context`. */
export type GatewayContext = {
  requestId: string;
  caller: Caller;
  accounts: RequestAccounts;
  config: GatewayConfig;
  /** The accounts as they were when the request started; the request keeps them to its end. */
  snapshot: AccountSnapshot;
  signal: AbortSignal;
  /** The AWS calls this request may still send (`limits.maxAwsCalls`), shared by every account. */
  budget: AwsCallBudget;
  /** The process-wide AWS rate limiter (`limits.aws`). */
  limits: AwsRateLimiter;
  /** This request's view of the AWS-answer cache (absent with `cache.enabled: false`). */
  cache?: RequestAnswerCache | undefined;
};

export interface RequestAccountsOptions {
  /** The accounts the request reads (the registry's snapshot when it started). */
  snapshot: AccountSnapshot;
  caller: Caller;
  gate: AccountGate;
  signal: AbortSignal;
  budget: AwsCallBudget;
  /** The process-wide AWS rate limiter every AWS call waits on. */
  limits?: AwsRateLimiter | undefined;
  /** The STS region, named by a credentials failure found before any call. */
  stsRegion?: string | undefined;
  /** This request's view of the process-wide AWS-answer cache, read only through scopes it authorized. */
  cache?: RequestAnswerCache | undefined;
  /** The process-wide session of an account (instrumented for metrics). */
  sessionFor: (account: AccountConfig) => Session;
}

/** `promise`'s value, or `undefined` as soon as `signal` fires (the work then ends `ABORTED`). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  // One listener on the request's signal for all its accounts (see followSignal).
  const follow = followSignal(signal);
  return new Promise((resolve) => {
    follow.signal?.addEventListener('abort', () => resolve(undefined), { once: true });
    void promise.then((value) => {
      follow.release();
      resolve(value);
    });
  });
}

/** Builds the per-request account view: nothing is created until a resolver asks. */
export function createRequestAccounts(options: RequestAccountsOptions): RequestAccounts {
  const { snapshot, caller, gate, signal, budget, limits, cache } = options;
  const allows = (c: Caller, account: AccountConfig) => snapshot.allows(c.accounts, account);
  const notDiscovered = (name: string) =>
    new GatewayError(
      `The organization's accounts are not discovered yet${name ? `, so ${JSON.stringify(name)} is unknown` : ''}; try again shortly`,
      { code: GatewayErrorCode.ACCOUNTS_NOT_DISCOVERED, account: name || undefined, retryable: true },
    );
  const scopes = new Map<string, AccountScope>();
  const used = new Set<string>();

  const scopeOf = (account: AccountConfig): AccountScope => {
    const existing = scopes.get(account.accountId);
    if (existing) return existing;
    let session: Session | undefined;
    let ec2: Ec2Loaders | undefined;
    let s3: S3Loaders | undefined;
    // The account's credentials, fetched once per request before its AWS work and outside the
    // gate: a cold account costs one STS round trip more than a warm one, not a slot.
    let settled: Promise<unknown> | undefined;
    const credentialsFailure = () => {
      settled ??= getSession()
        .credentials()
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      return settled;
    };
    const getSession = () => {
      if (!session) {
        session = options.sessionFor(account);
        used.add(account.alias);
      }
      return session;
    };
    const scope: AccountScope = {
      config: account,
      session: getSession,
      ec2() {
        ec2 ??= createEc2Loaders({ session: getSession(), signal, budget, limits, cache });
        return ec2;
      },
      s3() {
        s3 ??= createS3Loaders({
          session: getSession(),
          signal,
          budget,
          limits,
          cache,
          defaultRegion: account.regions[0] ?? 'us-east-1',
        });
        return s3;
      },
      async run(work) {
        const failure = await untilAborted(credentialsFailure(), signal);
        // Without credentials no call could go out: the error callAws would give, sent nothing.
        if (failure !== undefined) {
          const context = {
            session: getSession(),
            service: 'sts',
            region: options.stsRegion ?? 'us-east-1',
            signal,
          };
          throw toAwsCallError(failure, context, 'AssumeRole');
        }
        return gate.run(account.accountId, work);
      },
      checkRegion(region) {
        if (account.regions.includes(region)) return region;
        throw new GatewayError(`Region ${region} is not configured for account ${account.alias}`, {
          code: GatewayErrorCode.REGION_NOT_CONFIGURED,
          account: account.alias,
          accountId: account.accountId,
          region,
        });
      },
      async credentialsSettled() {
        // A failure is what `lastError` shows.
        await credentialsFailure();
      },
    };
    scopes.set(account.accountId, scope);
    return scope;
  };

  const resolve = (name: string): AccountScope | GatewayError => {
    const account = snapshot.find(name);
    if (!account && !snapshot.complete) return notDiscovered(name);
    if (caller.accounts !== '*' && (!account || !allows(caller, account))) {
      // Same answer for unknown and denied accounts: a restricted caller learns nothing.
      return new GatewayError(`Account ${JSON.stringify(name)} is not available to this caller`, {
        code: GatewayErrorCode.FORBIDDEN,
        account: name,
      });
    }
    if (!account) {
      return new GatewayError(`No configured account is named ${JSON.stringify(name)}`, {
        code: GatewayErrorCode.ACCOUNT_NOT_FOUND,
        account: name,
      });
    }
    return scopeOf(account);
  };

  return {
    get(name) {
      const scope = resolve(name);
      if (scope instanceof GatewayError) throw scope;
      return scope;
    },
    list(names) {
      if (names) return names.map(resolve);
      if (!snapshot.complete) throw notDiscovered('');
      return snapshot.allowed(caller.accounts).map(scopeOf);
    },
    used: () => [...used],
  };
}
