import {
  GetBucketEncryptionCommand,
  GetBucketPolicyStatusCommand,
  GetBucketTaggingCommand,
  GetPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { awsErrorCode, byKey, callAws } from '@rolegraph/credentials/aws';
import DataLoader from 'dataloader';
import { callContext, type LoaderContext } from './context.js';
import type { BucketEncryption, BucketPolicyStatus, PublicAccessBlock, Tag } from './types.js';

/** How one per-bucket configuration is read. */
interface BucketConfig<T> {
  operation: string;
  /** The code S3 answers when the bucket simply has no such configuration. */
  notConfiguredCode: string;
  whenNotConfigured: T;
  read(client: S3Client, bucket: string, signal: AbortSignal | undefined): Promise<T>;
}

/**
 * A per-request loader of one bucket configuration: each bucket costs one call, sent to the
 * bucket's own region, at most `concurrency` in flight; "not configured" is a value, not an error.
 */
function createBucketConfigLoader<T>(
  ctx: LoaderContext,
  regionLoader: DataLoader<string, string, string>,
  config: BucketConfig<T>,
): DataLoader<string, T, string> {
  const loadOne = async (bucket: string): Promise<T> => {
    // Resolve the region outside the limiter: the region loader takes a slot of its own.
    const region = await regionLoader.load(bucket);
    return ctx.limit(() =>
      callAws(
        callContext(ctx, region, bucket),
        { operation: config.operation, input: { Bucket: bucket } },
        async (signal) => {
          try {
            return await config.read(ctx.session.client(S3Client, region), bucket, signal);
          } catch (error) {
            if (awsErrorCode(error) === config.notConfiguredCode && !signal?.aborted) {
              return config.whenNotConfigured;
            }
            throw error;
          }
        },
      ),
    );
  };
  return new DataLoader<string, T, string>((buckets) =>
    Promise.all(buckets.map((bucket) => loadOne(bucket).catch((error: unknown) => error as Error))),
  );
}

const tagsConfig: BucketConfig<Tag[]> = {
  operation: 'GetBucketTagging',
  notConfiguredCode: 'NoSuchTagSet',
  whenNotConfigured: [],
  read: (client, Bucket, abortSignal) =>
    client.send(new GetBucketTaggingCommand({ Bucket }), { abortSignal }).then((out) => {
      return (out.TagSet ?? [])
        .flatMap((t) => (t.Key === undefined ? [] : [{ key: t.Key, value: t.Value ?? '' }]))
        .sort(byKey);
    }),
};

const encryptionConfig: BucketConfig<BucketEncryption | null> = {
  operation: 'GetBucketEncryption',
  notConfiguredCode: 'ServerSideEncryptionConfigurationNotFoundError',
  whenNotConfigured: null,
  read: (client, Bucket, abortSignal) =>
    client.send(new GetBucketEncryptionCommand({ Bucket }), { abortSignal }).then((out) => {
      const rule = out.ServerSideEncryptionConfiguration?.Rules?.[0];
      const byDefault = rule?.ApplyServerSideEncryptionByDefault;
      if (!rule || !byDefault?.SSEAlgorithm) return null;
      return {
        algorithm: byDefault.SSEAlgorithm,
        kmsKeyId: byDefault.KMSMasterKeyID ?? null,
        bucketKeyEnabled: rule.BucketKeyEnabled ?? false,
      };
    }),
};

const publicAccessBlockConfig: BucketConfig<PublicAccessBlock | null> = {
  operation: 'GetPublicAccessBlock',
  notConfiguredCode: 'NoSuchPublicAccessBlockConfiguration',
  whenNotConfigured: null,
  read: (client, Bucket, abortSignal) =>
    client.send(new GetPublicAccessBlockCommand({ Bucket }), { abortSignal }).then((out) => {
      const c = out.PublicAccessBlockConfiguration;
      if (!c) return null;
      return {
        blockPublicAcls: c.BlockPublicAcls ?? false,
        ignorePublicAcls: c.IgnorePublicAcls ?? false,
        blockPublicPolicy: c.BlockPublicPolicy ?? false,
        restrictPublicBuckets: c.RestrictPublicBuckets ?? false,
      };
    }),
};

const policyStatusConfig: BucketConfig<BucketPolicyStatus | null> = {
  operation: 'GetBucketPolicyStatus',
  notConfiguredCode: 'NoSuchBucketPolicy',
  whenNotConfigured: null,
  read: (client, Bucket, abortSignal) =>
    client.send(new GetBucketPolicyStatusCommand({ Bucket }), { abortSignal }).then((out) => {
      return out.PolicyStatus ? { isPublic: out.PolicyStatus.IsPublic ?? false } : null;
    }),
};

/** The per-bucket configuration loaders of one request. */
export interface BucketLoaders {
  /** `[]` when the bucket has no tag set. */
  tags: DataLoader<string, Tag[], string>;
  /** `null` when the bucket has no default encryption configuration. */
  encryption: DataLoader<string, BucketEncryption | null, string>;
  /** `null` when the bucket has no public access block. */
  publicAccessBlock: DataLoader<string, PublicAccessBlock | null, string>;
  /** `null` when the bucket has no policy. */
  policyStatus: DataLoader<string, BucketPolicyStatus | null, string>;
}

/**
 * Tags, encryption, public access block and policy status by bucket name: one call per bucket
 * and configuration, only when asked for, in the bucket's region, capped by `ctx.limit`.
 *
 * @example
 * const { tags } = createBucketLoaders(ctx, regionLoader);
 * await tags.load('my-bucket'); // [] when the bucket has no tag set
 */
export function createBucketLoaders(
  ctx: LoaderContext,
  regionLoader: DataLoader<string, string, string>,
): BucketLoaders {
  return {
    tags: createBucketConfigLoader(ctx, regionLoader, tagsConfig),
    encryption: createBucketConfigLoader(ctx, regionLoader, encryptionConfig),
    publicAccessBlock: createBucketConfigLoader(ctx, regionLoader, publicAccessBlockConfig),
    policyStatus: createBucketConfigLoader(ctx, regionLoader, policyStatusConfig),
  };
}
