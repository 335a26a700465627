import { callAws, type Page } from '@rolegraph/credentials/aws';
import type { Instance, InstanceFilter } from '@rolegraph/ec2';
import type { Bucket, S3Loaders, S3Object } from '@rolegraph/s3';
import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { GatewayError, GatewayErrorCode } from '../errors.js';
import { connectionFromPages, decodeCursor, pageSize } from './connection.js';
import type { AccountScope, GatewayContext } from './context.js';
import { enumValues } from './enum-values.js';
import type { BucketNode, InstanceNode } from './models.js';
import type {
  AccountBucketsArgs,
  AccountInstanceArgs,
  AccountInstancesArgs,
  InstanceFilter as InstanceFilterInput,
  Resolvers,
} from './resolver-types.generated.js';

export const DateTimeScalar = new GraphQLScalarType<Date | null, string>({
  name: 'DateTime',
  description: 'An ISO-8601 date-time in UTC.',
  serialize(value) {
    if (value instanceof Date) return value.toISOString();
    if (typeof value === 'string' || typeof value === 'number') return new Date(value).toISOString();
    throw new GraphQLError('DateTime cannot represent this value');
  },
  parseValue(value) {
    if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) {
      throw new GraphQLError('DateTime must be an ISO-8601 string');
    }
    return new Date(value);
  },
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING || Number.isNaN(Date.parse(ast.value))) {
      throw new GraphQLError('DateTime must be an ISO-8601 string');
    }
    return new Date(ast.value);
  },
});

function toFilter(input: InstanceFilterInput | null | undefined): InstanceFilter | undefined {
  if (!input) return undefined;
  const filter: InstanceFilter = {};
  if (input.ids) filter.ids = input.ids;
  if (input.states) filter.states = input.states;
  if (input.types) filter.types = input.types;
  if (input.vpcIds) filter.vpcIds = input.vpcIds;
  if (input.tags)
    filter.tags = input.tags.map((t) => (t.values ? { key: t.key, values: t.values } : { key: t.key }));
  return filter;
}

/** Instances over one region or every configured region, as one connection. */
async function listInstances(scope: AccountScope, args: AccountInstancesArgs, context: GatewayContext) {
  const first = pageSize(args.first, context.config.limits);
  const regions = args.region ? [scope.checkRegion(args.region)] : scope.config.regions;
  const start = decodeCursor(args.after);
  if (start.r >= regions.length) {
    throw new GatewayError('after belongs to another listing', { code: GatewayErrorCode.BAD_USER_INPUT });
  }
  const filter = toFilter(args.filter);
  const loaders = scope.ec2();
  // Region by region, and a later region only while the page is not full (or is exactly full,
  // to learn whether anything follows): a walk over many regions asks each region once per page
  // it shows, not on every page.
  const pages: Array<{ r: number; page: Page<Instance> }> = [];
  let items = 0;
  for (let r = start.r; r < regions.length; r++) {
    const region = regions[r] as string;
    const after = r === start.r ? start.c : null;
    const page = await scope.run(() =>
      loaders.listInstances({ region, ...(filter ? { filter } : {}), first, after }),
    );
    pages.push({ r, page });
    items += page.items.length;
    if (page.hasNextPage || items > first) break;
  }
  return connectionFromPages({
    pages,
    first,
    lastRegion: regions.length - 1,
    toNode: (instance: Instance): InstanceNode => ({ ...instance, scope }),
  });
}

/** The adapter cursor of a listing that is not per region (buckets, objects). */
function singleListingStart(after: string | null | undefined): string | null {
  const start = decodeCursor(after);
  if (start.r !== 0) {
    throw new GatewayError('after belongs to another listing', { code: GatewayErrorCode.BAD_USER_INPUT });
  }
  return start.c;
}

async function findInstance(scope: AccountScope, args: AccountInstanceArgs): Promise<InstanceNode | null> {
  const regions = args.region ? [scope.checkRegion(args.region)] : scope.config.regions;
  const loaders = scope.ec2();
  const results = await Promise.allSettled(
    regions.map((region) => scope.run(() => loaders.instance.load({ region, id: args.id }))),
  );
  for (const result of results) {
    if (result.status === 'fulfilled' && result.value) return { ...result.value, scope };
  }
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
  return null;
}

async function listBuckets(scope: AccountScope, args: AccountBucketsArgs, context: GatewayContext) {
  const first = pageSize(args.first, context.config.limits);
  const start = singleListingStart(args.after);
  const loaders = scope.s3();
  const page = await scope.run(() => loaders.listBuckets({ first, after: start }));
  return connectionFromPages({
    pages: [{ r: 0, page }],
    first,
    lastRegion: 0,
    toNode: (bucket: Bucket): BucketNode => ({ ...bucket, scope }),
  });
}

async function findBucket(scope: AccountScope, name: string): Promise<BucketNode | null> {
  const loaders = scope.s3();
  let after: string | null = null;
  for (;;) {
    const page = await scope.run(() => loaders.listBuckets({ prefix: name, first: 1000, after }));
    const bucket = page.items.find((b) => b.name === name);
    if (bucket) return { ...bucket, scope };
    if (!page.hasNextPage || page.endCursor === null) return null;
    after = page.endCursor;
  }
}

/** One per-bucket configuration, through the request's S3 loaders under the account's cap. */
function bucketConfig<T>(
  node: BucketNode,
  pick: (s3: S3Loaders) => { load(bucket: string): Promise<T> },
): Promise<T> {
  const loader = pick(node.scope.s3());
  return node.scope.run(() => loader.load(node.name));
}

/** Throws the first failure of a `loadMany`, else the found values (missing ones dropped). */
function settle<T>(values: Array<T | null | Error>): T[] {
  const failure = values.find((v): v is Error => v instanceof Error);
  if (failure) throw failure;
  return values.filter((v): v is T => v !== null && !(v instanceof Error));
}

/**
 * The resolvers. Root fields and `Account` fields take the same paths, so a query over one
 * account and over many costs the same AWS calls per account.
 */
export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  InstanceState: enumValues.InstanceState,
  CredentialState: enumValues.CredentialState,
  Query: {
    // graphql-js answers an Error in a list as null plus an error at that index; the
    // generated list type has no room for it.
    accounts: (_root, args, context) => context.accounts.list(args.aliases) as AccountScope[],
    account: (_root, args, context) => context.accounts.get(args.account),
    instances: (_root, args, context) => listInstances(context.accounts.get(args.account), args, context),
    instance: (_root, args, context) => findInstance(context.accounts.get(args.account), args),
    buckets: (_root, args, context) => listBuckets(context.accounts.get(args.account), args, context),
    bucket: (_root, args, context) => findBucket(context.accounts.get(args.account), args.name),
  },
  Account: {
    alias: (scope) => scope.config.alias,
    accountId: (scope) => scope.config.accountId,
    regions: (scope) => scope.config.regions,
    name: (scope) => scope.config.organization?.name ?? null,
    state: (scope) => scope.config.organization?.state ?? null,
    organizationalUnit: (scope) => scope.config.organization ?? null,
    status: (scope) => scope,
    instances: (scope, args, context) => listInstances(scope, args, context),
    instance: (scope, args) => findInstance(scope, args),
    buckets: (scope, args, context) => listBuckets(scope, args, context),
    bucket: (scope, args) => findBucket(scope, args.name),
  },
  OrganizationalUnit: {
    id: (placement) => placement.parentId,
    path: (placement) => [...placement.ouPath],
    ancestorIds: (placement) => [...placement.ancestorIds],
  },
  AccountStatus: {
    callerIdentity: (scope, _args, context) => {
      const region = context.config.aws.stsRegion;
      const session = scope.session();
      return scope.run(() =>
        callAws(
          {
            session,
            service: 'sts',
            region,
            signal: context.signal,
            budget: context.budget,
            limits: context.limits,
            cache: context.cache,
          },
          { operation: 'GetCallerIdentity', input: {} },
          (abortSignal) => session.callerIdentity({ region, ...(abortSignal ? { abortSignal } : {}) }),
        ),
      );
    },
    credentialState: async (scope) => {
      await scope.credentialsSettled();
      return scope.session().status().credentials.state;
    },
    credentialExpiry: async (scope) => {
      await scope.credentialsSettled();
      return scope.session().status().credentials.expiration ?? null;
    },
    lastRefresh: async (scope) => {
      await scope.credentialsSettled();
      return scope.session().status().credentials.lastRefreshAt ?? null;
    },
    lastError: async (scope) => {
      await scope.credentialsSettled();
      const error = scope.session().status().credentials.lastError;
      // STS's own message names the source principal and role ARNs (the hub, the management
      // account): it goes to the log only. Callers get the code and the account they asked for.
      return error
        ? {
            code: error.code,
            message: `Refreshing the credentials of account ${scope.config.alias} failed (${error.code})${error.recoverable ? '; it is tried again later' : ''}`,
            at: error.at,
            recoverable: error.recoverable,
          }
        : null;
    },
  },
  Instance: {
    account: (node) => node.scope.config.alias,
    securityGroups: async (node) => {
      const { region, securityGroupIds } = node;
      const loaders = node.scope.ec2();
      return settle(
        await node.scope.run(() =>
          loaders.securityGroup.loadMany(securityGroupIds.map((id) => ({ region, id }))),
        ),
      );
    },
    volumes: async (node) => {
      const { region, volumeIds } = node;
      const loaders = node.scope.ec2();
      return settle(
        await node.scope.run(() => loaders.volume.loadMany(volumeIds.map((id) => ({ region, id })))),
      );
    },
  },
  Bucket: {
    account: (node) => node.scope.config.alias,
    region: (node) => {
      if (node.region) return node.region;
      const loaders = node.scope.s3();
      return node.scope.run(() => loaders.region.load(node.name));
    },
    tags: (node) => bucketConfig(node, (s3) => s3.tags),
    encryption: (node) => bucketConfig(node, (s3) => s3.encryption),
    publicAccessBlock: (node) => bucketConfig(node, (s3) => s3.publicAccessBlock),
    policyStatus: (node) => bucketConfig(node, (s3) => s3.policyStatus),
    objects: async (node, args, context) => {
      const first = pageSize(args.first, context.config.limits);
      const start = singleListingStart(args.after);
      const loaders = node.scope.s3();
      const page = await node.scope.run(() =>
        loaders.listObjects({
          bucket: node.name,
          ...(args.prefix ? { prefix: args.prefix } : {}),
          ...(args.delimiter ? { delimiter: args.delimiter } : {}),
          first,
          after: start,
        }),
      );
      const connection = connectionFromPages({
        pages: [{ r: 0, page }],
        first,
        lastRegion: 0,
        toNode: (object: S3Object) => object,
      });
      return { ...connection, commonPrefixes: page.commonPrefixes };
    },
  },
};
