import {
  ACCOUNT_ID_PLACEHOLDER,
  ACCOUNT_STATES,
  type AccountConfig,
  type AccountPlacement,
  type AccountState,
  type OrganizationConfig,
} from '../config/config-schema.js';
import { deriveAliases } from './derive-aliases.js';
import type { OrganizationTree } from './discover-organization.js';

/** What the configuration makes of one discovery. */
export interface AccountSelection {
  /**
   * The organization's accounts to use, as gateway accounts (static and profile accounts left
   * out: they win). With `regions: enabled` their `regions` are still empty here.
   */
  accounts: AccountConfig[];
  /** Where the organization places every account it lists, by id (static accounts too). */
  placements: ReadonlyMap<string, AccountPlacement>;
  /** `include` / `exclude` entries that name no unit of the organization. */
  unmatched: string[];
}

const KNOWN_STATES: ReadonlySet<string> = new Set(ACCOUNT_STATES);

/** The unit ids an `include`/`exclude` entry names: an id, or every unit with that name path. */
function unitsNamed(tree: OrganizationTree, entry: string): string[] {
  if (tree.units.has(entry)) return [entry];
  const path = entry
    .split('/')
    .map((p) => p.trim())
    .join('/');
  return [...tree.units.values()]
    .filter((u) => u.path.length > 0 && u.path.join('/') === path)
    .map((u) => u.id);
}

/**
 * The member role ARN of one account, from the `{accountId}` template.
 *
 * @example
 * memberRoleArn('arn:aws:iam::{accountId}:role/RolegraphReader', '123456789012');
 * // 'arn:aws:iam::123456789012:role/RolegraphReader'
 */
export function memberRoleArn(template: string, accountId: string): string {
  return template.replaceAll(ACCOUNT_ID_PLACEHOLDER, accountId);
}

/**
 * Applies `organization` to a discovered tree: the states kept (ACTIVE by default),
 * `skipAccounts`, `include` and `exclude` (recursive; `exclude` wins), the member role and
 * the aliases (derived from every listed account's name, so filters never rename an account;
 * static and profile aliases are never taken). Accounts also configured statically are left
 * to their static entry. A pure function of its arguments.
 *
 * @example
 * const { accounts } = selectAccounts(tree, config.organization, { staticAccounts: config.accounts });
 */
export function selectAccounts(
  tree: OrganizationTree,
  org: OrganizationConfig,
  options: { staticAccounts: readonly AccountConfig[] },
): AccountSelection {
  const staticIds = new Set(options.staticAccounts.map((a) => a.accountId));
  const unmatched: string[] = [];
  const resolve = (entries: readonly string[]) => {
    const ids = new Set<string>();
    for (const entry of entries) {
      const named = unitsNamed(tree, entry);
      if (named.length === 0) unmatched.push(entry);
      for (const id of named) ids.add(id);
    }
    return ids;
  };
  const include = resolve(org.include);
  const exclude = resolve(org.exclude);
  const states = new Set<string>(org.states);
  const skip = new Set(org.skipAccounts);

  const placements = new Map<string, AccountPlacement>();
  for (const account of tree.accounts) {
    const parent = tree.units.get(account.parentId);
    if (!parent || !KNOWN_STATES.has(account.state)) continue;
    placements.set(account.id, {
      name: account.name,
      state: account.state as AccountState,
      parentId: parent.id,
      ouPath: parent.path,
      ancestorIds: parent.ancestorIds,
    });
  }

  const aliases = deriveAliases(
    tree.accounts.filter((a) => !staticIds.has(a.id)),
    { overrides: org.aliases, reserved: new Set(options.staticAccounts.map((a) => a.alias)) },
  );
  const accounts: AccountConfig[] = [];
  const seen = new Set<string>();
  for (const account of tree.accounts) {
    const placement = placements.get(account.id);
    if (!placement || seen.has(account.id)) continue;
    seen.add(account.id);
    if (staticIds.has(account.id) || skip.has(account.id) || !states.has(placement.state)) continue;
    const above = placement.ancestorIds;
    // An include whose entries all name nothing includes nothing (not the whole organization).
    if (org.include.length > 0 && !above.some((id) => include.has(id))) continue;
    if (above.some((id) => exclude.has(id))) continue;
    accounts.push({
      alias: aliases.get(account.id) ?? `account-${account.id}`,
      accountId: account.id,
      roleArn: memberRoleArn(org.memberRoleArn, account.id),
      ...(org.memberExternalId ? { externalId: org.memberExternalId } : {}),
      ...(org.memberSessionName ? { sessionName: org.memberSessionName } : {}),
      ...(org.memberDurationSeconds ? { durationSeconds: org.memberDurationSeconds } : {}),
      regions: org.regions === 'enabled' ? [] : [...org.regions],
      organization: placement,
    });
  }
  return { accounts, placements, unmatched };
}
