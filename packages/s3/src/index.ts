export { normalizeLocation } from './bucket-region.js';
export type { S3ErrorOptions } from './errors.js';
export { AdapterErrorCode, S3Error } from './errors.js';
export type { ListBucketsArgs } from './list-buckets.js';
export type { ListObjectsArgs } from './list-objects.js';
export type { S3Loaders, S3LoadersOptions } from './s3-loaders.js';
export { createS3Loaders, DEFAULT_CONCURRENCY } from './s3-loaders.js';
export type {
  Bucket,
  BucketEncryption,
  BucketPolicyStatus,
  ObjectPage,
  Page,
  PublicAccessBlock,
  S3Object,
  Tag,
} from './types.js';
