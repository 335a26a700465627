import { callAws } from '@rolegraph/credentials/aws';
import type { Instance, InstanceFilter, InstanceState, SecurityGroup, Tag, Volume } from '@rolegraph/ec2';
import type {
  Bucket,
  BucketEncryption,
  BucketPolicyStatus,
  PublicAccessBlock,
  S3Object,
} from '@rolegraph/s3';
import { GraphQLError, type GraphQLResolveInfo, GraphQLScalarType, Kind } from 'graphql';
import { GatewayError, GatewayErrorCode } from '../errors.js';
import { type Connection, connectionFromPages, decodeCursor, pageSize } from './connection.js';
import type { AccountScope, GatewayContext } from './context.js';

/** A resolver with typed parent, arguments and result. */
export type Resolver<Parent, Args, Result> = (
  parent: Parent,
  args: Args,
  context: GatewayContext,
  info: GraphQLResolveInfo,
) => Result | Promise<Result>;

/** An instance and the account it was read with, so nested fields use the same loaders. */
export type InstanceNode = Instance & { scope: AccountScope };
export type BucketNode = Bucket & { scope: AccountScope };
export interface CallerIdentity {
  account: string;
  arn: string;
  userId: string;
}
interface CredentialErrorView {
  code: string;
  message: string;
  at: Date;
  recoverable: boolean;
}

type Empty = Record<string, never>;
interface PageArgs {
  first?: number | null;
  after?: string | null;
}
interface InstancesArgs extends PageArgs {
  region?: string | null;
  filter?: InstanceFilterInput | null;
}
interface InstanceFilterInput {
  ids?: string[] | null;
  states?: InstanceState[] | null;
  types?: string[] | null;
  vpcIds?: string[] | null;
  tags?: Array<{ key: string; values?: string[] | null }> | null;
}
interface InstanceArgs {
  region?: string | null;
  id: string;
}
interface ObjectsArgs extends PageArgs {
  prefix?: string | null;
  delimiter?: string | null;
}
type WithAccount<A> = A & { account: string };

/** Every resolver of the schema, typed by hand against the SDL in `type-defs.ts`. */
export type GatewayResolvers = {
  DateTime: GraphQLScalarType;
  InstanceState: Record<string, InstanceState>;
  CredentialState: Record<string, string>;
  Query: {
    accounts: Resolver<unknown, { aliases?: string[] | null }, Array<AccountScope | Error>>;
    account: Resolver<unknown, { account: string }, AccountScope>;
    instances: Resolver<unknown, WithAccount<InstancesArgs>, Connection<InstanceNode>>;
    instance: Resolver<unknown, WithAccount<InstanceArgs>, InstanceNode | null>;
    buckets: Resolver<unknown, WithAccount<PageArgs>, Connection<BucketNode>>;
    bucket: Resolver<unknown, { account: string; name: string }, BucketNode | null>;
  };
  Account: {
    alias: Resolver<AccountScope, Empty, string>;
    accountId: Resolver<AccountScope, Empty, string>;
    regions: Resolver<AccountScope, Empty, string[]>;
    status: Resolver<AccountScope, Empty, AccountScope>;
    instances: Resolver<AccountScope, InstancesArgs, Connection<InstanceNode>>;
    instance: Resolver<AccountScope, InstanceArgs, InstanceNode | null>;
    buckets: Resolver<AccountScope, PageArgs, Connection<BucketNode>>;
    bucket: Resolver<AccountScope, { name: string }, BucketNode | null>;
  };
  AccountStatus: {
    callerIdentity: Resolver<AccountScope, Empty, CallerIdentity>;
    credentialState: Resolver<AccountScope, Empty, string>;
    credentialExpiry: Resolver<AccountScope, Empty, Date | null>;
    lastRefresh: Resolver<AccountScope, Empty, Date | null>;
    lastError: Resolver<AccountScope, Empty, CredentialErrorView | null>;
  };
  Instance: {
    account: Resolver<InstanceNode, Empty, string>;
    securityGroups: Resolver<InstanceNode, Empty, SecurityGroup[]>;
    volumes: Resolver<InstanceNode, Empty, Volume[]>;
  };
  Bucket: {
    account: Resolver<BucketNode, Empty, string>;
    region: Resolver<BucketNode, Empty, string>;
    tags: Resolver<BucketNode, Empty, Tag[]>;
    encryption: Resolver<BucketNode, Empty, BucketEncryption | null>;
    publicAccessBlock: Resolver<BucketNode, Empty, PublicAccessBlock | null>;
    policyStatus: Resolver<BucketNode, Empty, BucketPolicyStatus | null>;
    objects: Resolver<BucketNode, ObjectsArgs, Connection<S3Object> & { commonPrefixes: string[] }>;
  };
};

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
async function listInstances(scope: AccountScope, args: InstancesArgs, context: GatewayContext) {
  const first = pageSize(args.first, context.config.limits);
  const regions = args.region ? [scope.checkRegion(args.region)] : scope.config.regions;
  const start = decodeCursor(args.after);
  if (start.r >= regions.length) {
    throw new GatewayError('after belongs to another listing', { code: GatewayErrorCode.BAD_USER_INPUT });
  }
  const filter = toFilter(args.filter);
  const loaders = scope.ec2();
  const pages = await Promise.all(
    regions.slice(start.r).map(async (region, i) => {
      const after = i === 0 ? start.c : null;
      const page = await scope.run(() =>
        loaders.listInstances({ region, ...(filter ? { filter } : {}), first, after }),
      );
      return { r: start.r + i, page };
    }),
  );
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

async function findInstance(scope: AccountScope, args: InstanceArgs): Promise<InstanceNode | null> {
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

async function listBuckets(scope: AccountScope, args: PageArgs, context: GatewayContext) {
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
export const resolvers: GatewayResolvers = {
  DateTime: DateTimeScalar,
  InstanceState: {
    PENDING: 'pending',
    RUNNING: 'running',
    SHUTTING_DOWN: 'shutting-down',
    TERMINATED: 'terminated',
    STOPPING: 'stopping',
    STOPPED: 'stopped',
  },
  CredentialState: {
    EMPTY: 'empty',
    FRESH: 'fresh',
    ADVISORY: 'advisory',
    MANDATORY: 'mandatory',
    EXPIRED: 'expired',
  },
  Query: {
    accounts: (_root, args, context) => context.accounts.list(args.aliases),
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
    status: (scope) => scope,
    instances: (scope, args, context) => listInstances(scope, args, context),
    instance: (scope, args) => findInstance(scope, args),
    buckets: (scope, args, context) => listBuckets(scope, args, context),
    bucket: (scope, args) => findBucket(scope, args.name),
  },
  AccountStatus: {
    callerIdentity: (scope, _args, context) => {
      const region = context.config.aws.stsRegion;
      const session = scope.session();
      return scope.run(() =>
        callAws(
          { session, service: 'sts', region, signal: context.signal },
          'GetCallerIdentity',
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
      return error
        ? { code: error.code, message: error.message, at: error.at, recoverable: error.recoverable }
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
    tags: (node) => {
      const loaders = node.scope.s3();
      return node.scope.run(() => loaders.tags.load(node.name));
    },
    encryption: (node) => {
      const loaders = node.scope.s3();
      return node.scope.run(() => loaders.encryption.load(node.name));
    },
    publicAccessBlock: (node) => {
      const loaders = node.scope.s3();
      return node.scope.run(() => loaders.publicAccessBlock.load(node.name));
    },
    policyStatus: (node) => {
      const loaders = node.scope.s3();
      return node.scope.run(() => loaders.policyStatus.load(node.name));
    },
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
