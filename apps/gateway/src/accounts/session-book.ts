import type { RoleConfig, Session, SessionCache } from '@rolegraph/credentials';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { AccountConfig, AccountSource } from '../config/config-schema.js';

export const DEFAULT_SESSION_NAME = 'rolegraph-gateway';

/**
 * Room kept for an organization's accounts in the session cache the gateway makes at start
 * (a discovery that finds more grows it: `SessionBook.fitTo`).
 */
export const ORGANIZATION_SESSION_ROOM = 10_000;

/**
 * `maxSessions` of the gateway's own session cache: room for every account and its hub role,
 * so a query over all of them never finds a session retired by its own breadth, and repeating
 * it assumes no role again: `max(1000, 2 x (static accounts + 10,000 with an organization))`.
 *
 * @example
 * sessionCacheSize({ accounts: 1050, organization: false }); // 2100
 */
export function sessionCacheSize(options: { accounts: number; organization: boolean }): number {
  return Math.max(1000, 2 * (options.accounts + (options.organization ? ORGANIZATION_SESSION_ROOM : 0)));
}

/** The sessions of the gateway's accounts: only roles of accounts it was given are ever assumed. */
export interface SessionBook {
  /**
   * Validates the account's role and keys it once (`sessions.prepare`); a bad role is a
   * `TypeError`. Done for every account before a snapshot holding it is published.
   */
  prepare(account: AccountConfig): void;
  /** The account's process-wide session; a `TypeError` for an account never prepared. */
  sessionFor(account: AccountConfig): Session;
  /** Identifies the role an account is read with: same key, same session. */
  roleKeyOf(account: AccountConfig): string;
  /** Role keys of every prepared account. */
  prepared(): IterableIterator<string>;
  /**
   * Closes and forgets the session of that role (`sessions.delete`): only once no request can
   * still use it, since its holders get `SESSION_CLOSED` from then on.
   */
  forget(roleKey: string): void;
  /**
   * Grows the session cache when the accounts outgrow it (an organization past the room it was
   * given at start) to `sessionCacheSize({ accounts })`; never shrinks it. The registry calls it
   * with every snapshot it publishes.
   */
  fitTo(accounts: number): void;
}

function staticProvider(source: Extract<AccountSource, { kind: 'static' }>): AwsCredentialIdentityProvider {
  const identity = {
    accessKeyId: source.accessKeyId,
    secretAccessKey: source.secretAccessKey,
    ...(source.sessionToken ? { sessionToken: source.sessionToken } : {}),
  };
  return async () => identity;
}

/**
 * The book of every account's session over one session cache: each role is validated and keyed
 * once, so a request only looks its session up.
 *
 * @example
 * const book = createSessionBook(sessions);
 * book.prepare(account);
 * const ec2 = book.sessionFor(account).client(EC2Client, 'us-east-1');
 */
export function createSessionBook(sessions: SessionCache): SessionBook {
  const providers = new Map<string, AwsCredentialIdentityProvider>();
  const fromSource = (source: AccountSource | undefined): Partial<RoleConfig> => {
    if (!source) return {};
    if (source.kind === 'static') {
      let provider = providers.get(source.profile);
      if (!provider) {
        provider = staticProvider(source);
        providers.set(source.profile, provider);
      }
      return { sourceCredentials: provider };
    }
    return {
      sourceRole: {
        roleArn: source.roleArn,
        roleSessionName: source.sessionName ?? DEFAULT_SESSION_NAME,
        ...(source.externalId ? { externalId: source.externalId } : {}),
        ...(source.durationSeconds ? { durationSeconds: source.durationSeconds } : {}),
        ...fromSource(source.source),
      },
    };
  };
  const roleOf = (account: AccountConfig): RoleConfig => ({
    roleArn: account.roleArn,
    roleSessionName: account.sessionName ?? DEFAULT_SESSION_NAME,
    ...(account.externalId ? { externalId: account.externalId } : {}),
    ...(account.durationSeconds ? { durationSeconds: account.durationSeconds } : {}),
    ...fromSource(account.source),
  });
  const roleKeyOf = (account: AccountConfig): string =>
    JSON.stringify([
      account.roleArn,
      account.externalId ?? null,
      account.sessionName ?? null,
      account.durationSeconds ?? null,
      account.source?.profile ?? null,
    ]);
  const prepared = new Map<string, { role: RoleConfig; session: () => Session }>();
  return {
    roleKeyOf,
    prepare(account) {
      const key = roleKeyOf(account);
      if (prepared.has(key)) return;
      const role = roleOf(account);
      prepared.set(key, { role, session: sessions.prepare(role) });
    },
    sessionFor(account) {
      const entry = prepared.get(roleKeyOf(account));
      // Only prepared roles are ever assumed: an unknown account never reaches STS.
      if (!entry) throw new TypeError(`account ${account.accountId} is not configured`);
      return entry.session();
    },
    prepared: () => prepared.keys(),
    fitTo(accounts) {
      const room = sessionCacheSize({ accounts, organization: false });
      if (room > sessions.maxSessions) sessions.resize(room);
    },
    forget(key) {
      const entry = prepared.get(key);
      if (!entry) return;
      prepared.delete(key);
      sessions.delete(entry.role);
    },
  };
}
