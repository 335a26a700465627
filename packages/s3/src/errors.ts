import { AdapterErrorCode, AwsCallError, type AwsCallErrorOptions } from '@rolegraph/credentials/aws';

/** The codes live in `@rolegraph/credentials/aws`, shared by every adapter; re-exported here for importers. */
export { AdapterErrorCode };

export interface S3ErrorOptions extends AwsCallErrorOptions {
  bucket?: string | undefined;
}

/**
 * The one runtime error class of `@rolegraph/s3`: every failed S3 call is turned into one,
 * carrying where it happened (and for which bucket) and whether trying again may help. It is
 * an `AwsCallError`, the base every adapter's error shares.
 *
 * @example
 * try { await loaders.tags.load('my-bucket'); } catch (e) {
 *   if (e instanceof S3Error && e.code === 'AWS_ACCESS_DENIED') report(e.accountId, e.bucket);
 * }
 */
export class S3Error extends AwsCallError {
  override readonly name = 'S3Error';
  /** The bucket the failed call was about, if it was about one. */
  readonly bucket: string | undefined;

  constructor(message: string, options: S3ErrorOptions) {
    super(message, options);
    this.bucket = options.bucket;
  }
}
