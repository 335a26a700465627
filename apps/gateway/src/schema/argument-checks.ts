import type { GraphQLResolveInfo } from 'graphql';
import type { LimitsConfig } from '../config/config-schema.js';
import { GatewayError, GatewayErrorCode, typedError } from '../errors.js';
import type { AccountScope, GatewayContext } from './context.js';
import type { Resolvers } from './resolver-types.generated.js';

/** A resolver as these wrappers see it (the generated types are narrower per field). */
type Resolver<P, A, R = unknown> = (
  parent: P,
  args: A,
  context: GatewayContext,
  info: GraphQLResolveInfo,
) => R;
type AccountsResolver = Resolver<unknown, { aliases?: string[] | null }, unknown>;

/** At most this many unknown or denied names of `accounts(aliases:)` are named in its errors. */
export const NAMED_IN_ERRORS = 10;

interface FilterArgs {
  filter?: {
    ids?: readonly unknown[] | null;
    states?: readonly unknown[] | null;
    types?: readonly unknown[] | null;
    vpcIds?: readonly unknown[] | null;
    tags?: ReadonlyArray<{ values?: readonly unknown[] | null } | null> | null;
  } | null;
}

function tooMany(argument: string, count: number, max: number, key: string, account?: string): GatewayError {
  return new GatewayError(`${argument} has ${count} values; at most ${max} are accepted (limits.${key})`, {
    code: GatewayErrorCode.BAD_USER_INPUT,
    account,
  });
}

function checkFilter(args: FilterArgs, limits: LimitsConfig, account: string): void {
  const filter = args.filter;
  if (!filter) return;
  const ids = filter.ids?.length ?? 0;
  if (ids > limits.maxIds) throw tooMany('filter.ids', ids, limits.maxIds, 'maxIds', account);
  for (const key of ['states', 'types', 'vpcIds', 'tags'] as const) {
    const n = filter[key]?.length ?? 0;
    if (n > limits.maxFilterValues)
      throw tooMany(`filter.${key}`, n, limits.maxFilterValues, 'maxFilterValues', account);
  }
  for (const tag of filter.tags ?? []) {
    const n = tag?.values?.length ?? 0;
    if (n > limits.maxFilterValues)
      throw tooMany('filter.tags.values', n, limits.maxFilterValues, 'maxFilterValues', account);
  }
}

/** A `BAD_USER_INPUT` the resolver threw without naming the account gets the account it is about. */
function withAccount(error: unknown, account: string): unknown {
  const typed = typedError(error);
  if (!typed || typed.code !== GatewayErrorCode.BAD_USER_INPUT || typed.account !== undefined) return error;
  return new GatewayError(typed.message, { code: GatewayErrorCode.BAD_USER_INPUT, account, cause: error });
}

/**
 * Wraps a resolver of a field that names an account (by argument or through its parent):
 * list arguments are checked against their caps before anything runs, and a bad argument
 * (`first`, `after`, a list over its cap) is `BAD_USER_INPUT` on this field only, with the
 * account in `extensions.account`, so the field's siblings still answer.
 */
function guarded<P, A>(
  resolve: Resolver<P, A>,
  accountOf: (parent: P, args: A) => string,
  limits: LimitsConfig,
): Resolver<P, A, Promise<unknown>> {
  return async (parent, args, context, info) => {
    const account = accountOf(parent, args);
    try {
      checkFilter(args as FilterArgs, limits, account);
      return await resolve(parent, args, context, info);
    } catch (error) {
      throw withAccount(error, account);
    }
  };
}

/**
 * `accounts(aliases:)`: at most `limits.maxAccountNames` names, repeats answered once (an account
 * named by alias and by id too: one entry, at its first name), and the
 * names that cannot be used reported as one error per code naming the first ten (the rest are
 * `null` without an error of their own), so 20,000 unknown names are not 20,000 errors and log lines.
 */
function guardedAccounts(resolve: AccountsResolver, limits: LimitsConfig): AccountsResolver {
  return async (root, args, context, info) => {
    const names = args.aliases;
    if (!names) return resolve(root, args, context, info);
    if (names.length > limits.maxAccountNames) {
      throw tooMany('aliases', names.length, limits.maxAccountNames, 'maxAccountNames');
    }
    const distinct = [...new Set(names)];
    const results = (await resolve(root, { aliases: distinct }, context, info)) as unknown[];
    const firstOfCode = new Map<string, { index: number; names: string[] }>();
    results.forEach((result, index) => {
      const code = typedError(result)?.code;
      if (!code) return;
      const group = firstOfCode.get(code) ?? { index, names: [] };
      group.names.push(distinct[index] ?? '');
      firstOfCode.set(code, group);
    });
    // One entry per account, whatever names the query used for it (alias and id): at its first name.
    const seen = new Set<unknown>();
    return results.flatMap((result, index) => {
      const code = typedError(result)?.code;
      if (!code) {
        if (seen.has(result)) return [];
        seen.add(result);
        return [result];
      }
      const group = firstOfCode.get(code);
      if (!group || group.index !== index) return [null];
      if (group.names.length === 1) return [result];
      const named = group.names.slice(0, NAMED_IN_ERRORS).map((n) => JSON.stringify(n.slice(0, 64)));
      const more = group.names.length - named.length;
      const reason =
        code === GatewayErrorCode.FORBIDDEN
          ? 'are not available to this caller'
          : 'are not configured accounts';
      return [
        new GatewayError(
          `${group.names.length} names in aliases ${reason}: ${named.join(', ')}${more > 0 ? ` and ${more} more` : ''}`,
          { code: code as GatewayErrorCode },
        ),
      ];
    });
  };
}

/**
 * The resolvers with argument checks in front of every field that names an account.
 *
 * @example
 * createSchema({ typeDefs, resolvers: withArgumentChecks(resolvers, config.limits) });
 */
export function withArgumentChecks(resolvers: Resolvers, limits: LimitsConfig): Resolvers {
  const { Query, Account, Bucket } = resolvers;
  const byArg = (_: unknown, args: { account: string }) => args.account;
  const byScope = (scope: AccountScope) => scope.config.alias;
  // The generated resolver types differ per field; the wrappers keep each field's signature.
  const wrap = <P, A>(resolve: unknown, accountOf: (parent: P, args: A) => string) =>
    guarded(resolve as Resolver<P, A>, accountOf, limits) as never;
  return {
    ...resolvers,
    Query: {
      ...Query,
      accounts: guardedAccounts(Query?.accounts as AccountsResolver, limits) as never,
      instances: wrap(Query?.instances, byArg),
      instance: wrap(Query?.instance, byArg),
      buckets: wrap(Query?.buckets, byArg),
      bucket: wrap(Query?.bucket, byArg),
    },
    Account: {
      ...Account,
      instances: wrap(Account?.instances, byScope),
      instance: wrap(Account?.instance, byScope),
      buckets: wrap(Account?.buckets, byScope),
      bucket: wrap(Account?.bucket, byScope),
    },
    Bucket: {
      ...Bucket,
      objects: wrap(Bucket?.objects, (node: { scope: AccountScope }) => node.scope.config.alias),
    },
  };
}
