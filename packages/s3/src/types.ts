/** A bucket tag (the same shape as `@rolegraph/ec2`'s `Tag`). */
export interface Tag {
  key: string;
  value: string;
}

/** One page of a cursor-paginated listing, as every adapter returns it. */
export type { Page } from '@rolegraph/credentials/aws';

import type { Page } from '@rolegraph/credentials/aws';

export interface Bucket {
  name: string;
  /** The account that listed it (the session's account). */
  accountId: string;
  creationDate: Date | null;
  /** From ListBuckets' `BucketRegion`; `null` if S3 did not say. */
  region: string | null;
}

/** The bucket's default encryption (its first rule). */
export interface BucketEncryption {
  /** `AES256`, `aws:kms` or `aws:kms:dsse`. */
  algorithm: string;
  kmsKeyId: string | null;
  bucketKeyEnabled: boolean;
}

export interface PublicAccessBlock {
  blockPublicAcls: boolean;
  ignorePublicAcls: boolean;
  blockPublicPolicy: boolean;
  restrictPublicBuckets: boolean;
}

export interface BucketPolicyStatus {
  isPublic: boolean;
}

export interface S3Object {
  key: string;
  size: number;
  lastModified: Date | null;
  storageClass: string | null;
  /** The ETag without its surrounding quotes. */
  etag: string | null;
}

/** A page of `listObjects`: objects plus, with a delimiter, the "folders" at this level. */
export interface ObjectPage extends Page<S3Object> {
  commonPrefixes: string[];
}
