import { type AccountConfig, OU_ID_PATTERN, ROOT_ID_PATTERN } from '../config/config-schema.js';

/** A caller's allow-list: `'*'`, or aliases, account ids, OU ids (`ou-…`, `r-…`) and `ou:<name path>` entries. */
export type AllowList = '*' | ReadonlySet<string>;

/** The prefix of an allow-list entry naming an OU by its path, e.g. `ou:Workloads/Prod`. */
export const OU_PATH_PREFIX = 'ou:';

/**
 * Whether an allow-list entry names an organizational unit (an OU id, the root id, or
 * `ou:<name path>`) rather than an account.
 *
 * @example
 * isUnitEntry('ou-ab12-cdef3456'); // true
 * isUnitEntry('ou:Workloads/Prod'); // true
 * isUnitEntry('prod');              // false
 */
export function isUnitEntry(entry: string): boolean {
  if (OU_ID_PATTERN.test(entry) || ROOT_ID_PATTERN.test(entry)) return true;
  if (!entry.startsWith(OU_PATH_PREFIX)) return false;
  const path = entry.slice(OU_PATH_PREFIX.length);
  return path.length > 0 && path.split('/').every((part) => part.trim() !== '');
}

/**
 * Every allow-list entry that allows this account: its alias and id, and, for an account of
 * the organization, the root and every OU above it by id and by `ou:` name path (so an OU
 * entry allows the accounts of every OU below it too).
 *
 * @example
 * scopeKeys(account); // ['prod', '111111111111', 'r-ab12', 'ou-ab12-11111111', 'ou:Workloads', ...]
 */
export function scopeKeys(account: AccountConfig): string[] {
  const keys = [account.alias, account.accountId];
  const placement = account.organization;
  if (placement) {
    keys.push(...placement.ancestorIds);
    for (let i = 1; i <= placement.ouPath.length; i++) {
      keys.push(`${OU_PATH_PREFIX}${placement.ouPath.slice(0, i).join('/')}`);
    }
  }
  return keys;
}
