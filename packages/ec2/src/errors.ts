import { AdapterErrorCode, AwsCallError, type AwsCallErrorOptions } from '@rolegraph/credentials/aws';

/** The codes live in `@rolegraph/credentials/aws`, shared by every adapter; re-exported here for importers. */
export { AdapterErrorCode };

export type Ec2ErrorOptions = AwsCallErrorOptions;

/**
 * The one runtime error class of `@rolegraph/ec2`: every failed EC2 call is turned into one,
 * carrying where it happened and whether trying again may help. It is an `AwsCallError`, the
 * base every adapter's error shares.
 *
 * @example
 * try { await loaders.instance.load({ region: 'us-east-1', id }); } catch (e) {
 *   if (e instanceof Ec2Error && e.retryable) scheduleRetry(e.accountId, e.region);
 * }
 */
export class Ec2Error extends AwsCallError {
  override readonly name = 'Ec2Error';
}

/** How `callAws` makes this package's errors. */
export const toEc2Error = (message: string, options: Ec2ErrorOptions): Ec2Error =>
  new Ec2Error(message, options);
