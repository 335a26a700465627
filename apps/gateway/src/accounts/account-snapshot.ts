import type { AccountConfig } from '../config/config-schema.js';
import { type AllowList, scopeKeys } from './allow-list.js';

/**
 * The accounts of the gateway at one moment: static and profile accounts plus the ones the
 * last good discovery found. Immutable: a request keeps the snapshot it started with.
 */
export interface AccountSnapshot {
  /** Increases with every snapshot the registry publishes. */
  readonly version: number;
  readonly accounts: readonly AccountConfig[];
  /**
   * Whether every account source has answered: false while an organization is configured and
   * its first discovery has not succeeded.
   */
  readonly complete: boolean;
  /** By alias or 12-digit id. */
  find(name: string): AccountConfig | undefined;
  /** Whether the allow-list names the account, its id, or an OU above it. */
  allows(list: AllowList, account: AccountConfig): boolean;
  /** The accounts an allow-list reaches, in snapshot order (cached per allow-list). */
  allowed(list: AllowList): readonly AccountConfig[];
  /** The most regions any account has (at least 1): what `instances` without `region` fans out to. */
  readonly maxRegions: number;
}

/**
 * An immutable snapshot over these accounts (aliases and ids must already be unique).
 *
 * @example
 * const snapshot = createAccountSnapshot(config.accounts, { version: 1, complete: true });
 * snapshot.find('prod')?.accountId; // '111111111111'
 */
export function createAccountSnapshot(
  accounts: readonly AccountConfig[],
  options: { version: number; complete: boolean },
): AccountSnapshot {
  const byName = new Map<string, AccountConfig>();
  const keys = new Map<AccountConfig, readonly string[]>();
  let maxRegions = 1;
  for (const account of accounts) {
    byName.set(account.alias, account);
    byName.set(account.accountId, account);
    keys.set(account, scopeKeys(account));
    maxRegions = Math.max(maxRegions, account.regions.length);
  }
  const reached = new WeakMap<ReadonlySet<string>, readonly AccountConfig[]>();
  const allows = (list: AllowList, account: AccountConfig): boolean => {
    if (list === '*') return true;
    const ofAccount = keys.get(account) ?? scopeKeys(account);
    return ofAccount.some((key) => list.has(key));
  };
  const frozen = Object.freeze([...accounts]);
  return {
    version: options.version,
    accounts: frozen,
    complete: options.complete,
    find: (name) => byName.get(name),
    allows,
    allowed(list) {
      if (list === '*') return frozen;
      let found = reached.get(list);
      if (!found) {
        found = frozen.filter((a) => allows(list, a));
        reached.set(list, found);
      }
      return found;
    },
    maxRegions,
  };
}
