import { aliasSchema } from '../config/config-schema.js';

/** What an alias is derived from: an account of the organization. */
export interface AliasSource {
  id: string;
  name: string;
  /** When the account joined; the earliest of colliding names keeps the plain alias. */
  joinedAt?: Date | undefined;
}

export interface DeriveAliasesOptions {
  /** Aliases set by hand (`organization.aliases`), by account id: used as they are. */
  overrides?: Readonly<Record<string, string>>;
  /** Aliases taken elsewhere (static accounts, profiles): a derived alias never takes one. */
  reserved?: ReadonlySet<string>;
}

const MAX_ALIAS = 63;

/**
 * An account name as an alias (`[a-z0-9-]`, at most 63 characters, never 12 digits):
 * lower case, every run of other characters one dash. A name with nothing usable gives
 * `account-<id>`; one that would read as an account id gets the prefix `account-`.
 *
 * @example
 * slugAlias('Prod (EU) / Payments', '111111111111'); // 'prod-eu-payments'
 * slugAlias('123456789012', '222222222222');         // 'account-123456789012'
 */
export function slugAlias(name: string, accountId: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, MAX_ALIAS)
    .replace(/-+$/, '');
  if (slug === '') return `account-${accountId}`;
  if (/^\d{12}$/.test(slug)) return `account-${slug}`;
  return slug;
}

/** `base` with a suffix, shortened so the whole stays within the alias length. */
function withSuffix(base: string, suffix: string): string {
  return `${base.slice(0, MAX_ALIAS - suffix.length - 1).replace(/-+$/, '')}-${suffix}`;
}

const byJoinThenId = (a: AliasSource, b: AliasSource) => {
  const ta = a.joinedAt?.getTime() ?? Number.POSITIVE_INFINITY;
  const tb = b.joinedAt?.getTime() ?? Number.POSITIVE_INFINITY;
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
};

/**
 * One alias per account, unique among themselves and apart from `reserved`: the override if
 * there is one, else the slugged name. When names collide, the account that joined first
 * (then the lowest id) keeps the plain slug and the others get `-<last 4 digits of the id>`,
 * or `-<the whole id>` if that is taken too, so an alias does not change when another
 * account with the same name joins later. The result depends only on the accounts given.
 *
 * @example
 * deriveAliases([{ id: '111111111111', name: 'Prod' }, { id: '222222222222', name: 'prod' }]);
 * // Map { '111111111111' => 'prod', '222222222222' => 'prod-2222' }
 */
export function deriveAliases(
  accounts: readonly AliasSource[],
  options: DeriveAliasesOptions = {},
): Map<string, string> {
  const overrides = options.overrides ?? {};
  const taken = new Set(options.reserved ?? []);
  const result = new Map<string, string>();
  for (const account of accounts) {
    const alias = overrides[account.id];
    if (alias !== undefined) {
      result.set(account.id, alias);
      taken.add(alias);
    }
  }
  const pending = accounts.filter((a) => !result.has(a.id)).sort(byJoinThenId);
  // Plain slugs first, in join order: a later account never takes an earlier one's plain alias.
  const later: Array<{ account: AliasSource; slug: string }> = [];
  for (const account of pending) {
    const slug = slugAlias(account.name, account.id);
    if (taken.has(slug)) later.push({ account, slug });
    else {
      result.set(account.id, slug);
      taken.add(slug);
    }
  }
  for (const { account, slug } of later) {
    let alias = withSuffix(slug, account.id.slice(-4));
    if (taken.has(alias)) alias = withSuffix(slug, account.id);
    // The whole id is unique among accounts, so only a reserved or overriding alias can still clash.
    for (let n = 1; taken.has(alias); n++) alias = `account-${account.id}${n > 1 ? `-${n}` : ''}`;
    result.set(account.id, alias);
    taken.add(alias);
  }
  for (const alias of result.values()) {
    // A guard on the rules above: every derived alias is one the configuration would accept.
    if (!aliasSchema.safeParse(alias).success) throw new TypeError(`derived alias ${alias} is not valid`);
  }
  return result;
}
