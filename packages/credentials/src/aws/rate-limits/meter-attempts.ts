import { createHash } from 'node:crypto';
import { type FinalizeRequestMiddleware, SMITHY_CONTEXT_KEY } from '@smithy/types';
import { waitOutsideDeadline } from '../../refreshing-credentials.js';
import { isThrottlingError } from '../error-table.js';
import type { RateLimitBucket } from './aws-rate-limits.js';
import type { AwsRateLimiter } from './rate-limiter.js';

/**
 * One call's metering, shared by the seam (which takes the token of the first attempt before
 * anything is sent) and the middleware of the client that sends it (which takes one for every
 * further attempt: SDK retries, the re-send after expired credentials).
 */
interface CallMeter {
  limiter: AwsRateLimiter;
  bucket: RateLimitBucket;
  signal: AbortSignal | undefined;
  /** Attempts the client's middleware saw. */
  attempts: number;
  /** Tokens taken for this call. */
  tokens: number;
}

// Keyed by the input object the command is built from: `callAws` requires `send` to send
// exactly `request.input`, and a command keeps the very object it was given.
const meters = new WeakMap<object, CallMeter>();

/** The part of a middleware context this module reads (the smithy context of the command). */
interface CommandContext {
  [SMITHY_CONTEXT_KEY]?: {
    commandInstance?: { input?: unknown };
    abortSignal?: AbortSignal;
    /** Chosen before this step (serialize): the identity that will sign the request. */
    selectedHttpAuthScheme?: { identity?: { accessKeyId?: unknown } };
  };
}

const commandInput = (context: unknown): object | undefined => {
  const input = (context as CommandContext)[SMITHY_CONTEXT_KEY]?.commandInstance?.input;
  return typeof input === 'object' && input !== null ? input : undefined;
};

/** A metered call in flight: `end` it with its failure, if any. */
export interface MeteredCall {
  end(failure?: unknown): Promise<void>;
}

/** What `meterCall` needs of a `callAws` context. */
interface MeterContext {
  limits?: AwsRateLimiter | undefined;
  service: string;
  session: { accountId: string };
  region: string;
  signal?: AbortSignal | undefined;
}

/**
 * Without `limits`, or for a class that is not metered: `undefined` at once. Otherwise waits
 * for a token of the call's bucket (rejecting with the signal's reason once it fires), then
 * registers the call so the client's middleware meters every further attempt. A client
 * without that middleware (a fake session, a client built by hand) never reports an attempt:
 * then a throttling failure drains the bucket when the call ends.
 */
export async function meterCall(
  context: MeterContext,
  request: { operation: string; input: object },
): Promise<MeteredCall | undefined> {
  const { limits, signal } = context;
  const bucket = limits?.bucketOf({
    service: context.service,
    accountId: context.session.accountId,
    region: context.region,
    operation: request.operation,
    input: request.input,
  });
  if (!limits || !bucket) return undefined;
  await limits.acquire(bucket, signal);
  const { input } = request;
  const meter: CallMeter = { limiter: limits, bucket, signal, attempts: 0, tokens: 1 };
  meters.set(input, meter);
  return {
    async end(failure) {
      if (meters.get(input) === meter) meters.delete(input);
      if (failure !== undefined && meter.attempts === 0 && isThrottlingError(failure)) {
        await limits.throttled(bucket);
      }
    },
  };
}

/**
 * One more attempt of a registered call: it takes a token unless its first one was taken before
 * the send. `acquire` waits for that token (the STS meter's wait runs outside a refresh deadline).
 */
async function nextAttempt(meter: CallMeter, acquire: () => Promise<void>): Promise<void> {
  meter.attempts++;
  if (meter.attempts > meter.tokens) {
    await acquire();
    meter.tokens++;
  }
}

/**
 * Where the meters sit in a client's stack: inside the SDK's retry loop (so once per attempt)
 * and just before signing. An attempt that waits for its token waits unsigned, so a long queue
 * never sends a stale signature, and the requests queued behind a bucket do no signing while
 * those let through are on their way: what lies between a token and its request reaching AWS
 * is one signature, not the signing of every queued call.
 */
const BEFORE_SIGNING = {
  relation: 'before',
  toMiddleware: 'httpSigningMiddleware',
  override: true,
} as const;

/**
 * SDK middleware (finalizeRequest, inside the retry loop, before signing: see
 * `BEFORE_SIGNING`) that makes every attempt of a metered call take a token, and drains the
 * bucket when an attempt is throttled (the error it sees is AWS's, parsed). Calls `callAws` did
 * not register pass through untouched. Session clients carry it; add it to clients you build
 * yourself with {@link addAttemptMeter}.
 */
export const meterAttempts: FinalizeRequestMiddleware<object, object> = (next, context) => async (args) => {
  const input = commandInput(context);
  const meter = input ? meters.get(input) : undefined;
  if (!meter) return next(args);
  await nextAttempt(meter, () => meter.limiter.acquire(meter.bucket, meter.signal));
  try {
    return await next(args);
  } catch (error) {
    if (isThrottlingError(error)) await meter.limiter.throttled(meter.bucket);
    throw error;
  }
};

interface ClientWithStack {
  middlewareStack?: {
    addRelativeTo(
      middleware: unknown,
      options: { relation: 'before' | 'after'; toMiddleware: string; name: string; override?: boolean },
    ): void;
  };
}

/**
 * Adds {@link meterAttempts} to an SDK client, so calls made through `callAws` with `limits`
 * take a token for every attempt, retries included.
 *
 * @example
 * const ec2 = addAttemptMeter(new EC2Client({ region }));
 */
export function addAttemptMeter<C extends object>(client: C): C {
  (client as ClientWithStack).middlewareStack?.addRelativeTo(meterAttempts, {
    ...BEFORE_SIGNING,
    name: 'rolegraphMeterAttempts',
  });
  return client;
}

/** A stable, non-secret name for an access key id. */
const hashedKey = (accessKeyId: string) =>
  `key-${createHash('sha256').update(accessKeyId).digest('hex').slice(0, 16)}`;

/** The name of the access key id that will sign the request. */
function signerOf(context: unknown): string | undefined {
  const accessKeyId = (context as CommandContext)[SMITHY_CONTEXT_KEY]?.selectedHttpAuthScheme?.identity
    ?.accessKeyId;
  return typeof accessKeyId === 'string' && accessKeyId !== '' ? hashedKey(accessKeyId) : undefined;
}

interface StsMeterOptions {
  region: string;
  principal?: string | undefined;
}

const stsBucketOf = (
  limiter: AwsRateLimiter,
  principal: string,
  region: string,
  operation: string,
  input: object,
) => limiter.bucketOf({ service: 'sts', accountId: principal, principal, region, operation, input });

/**
 * Takes the token of an STS call's first attempt before the call enters the SDK (the STS
 * client's middleware from {@link meterStsClient} then takes one for every further attempt
 * only). A cold start over thousands of roles queues here, before any of them is serialized or
 * signed, so the first tokens are taken and sent without waiting for the whole queue to go
 * through the SDK's pipeline first (5,000 roles at once: the first token 0.96 s after the
 * start instead of 3.5 s, in one measurement). The token is taken `sendsLater`: the burst's
 * first request reaches STS only once it has been through the pipeline (186-306 ms later in a
 * storm of 5,000, longer behind a cold source role), and until then the limiter lets no
 * refilled token through (see `AcquireOptions`). The wait runs outside the refresh's
 * deadline (`waitOutsideDeadline`). Without a `principal`, the STS client's own credentials
 * name it, as they would sign the call.
 *
 * @example
 * const command = new AssumeRoleCommand(input);
 * await meterStsCall(sts, limiter, { region }, 'AssumeRole', command.input, signal);
 * await sts.send(command, { abortSignal: signal });
 */
export async function meterStsCall(
  client: { config: { credentials: () => Promise<{ accessKeyId: string }> } },
  limiter: AwsRateLimiter,
  options: StsMeterOptions,
  operation: string,
  input: object,
  signal: AbortSignal | undefined,
): Promise<void> {
  const principal = options.principal ?? hashedKey((await client.config.credentials()).accessKeyId);
  const bucket = stsBucketOf(limiter, principal, options.region, operation, input);
  if (!bucket) return;
  // Sent later (after the pipeline): the client's meter reports when it leaves.
  await waitOutsideDeadline(signal, (s) => limiter.acquire(bucket, s, { sendsLater: true }));
  meters.set(input, { limiter, bucket, signal, attempts: 0, tokens: 1 });
}

/**
 * Makes every attempt of every call of an STS client (the one that calls AssumeRole for a
 * source principal) take a token of the STS bucket of `principal` in `region`, waiting for it
 * (bounded by the call's abort signal), and drain it when STS throttles. Without a `principal`,
 * the principal is the access key that signs the request, hashed (never the key itself). A call
 * whose first token {@link meterStsCall} took takes one here for its further attempts only.
 *
 * @example
 * meterStsClient(sts, limiter, { region: 'us-east-1', principal: hubRoleArn });
 */
export function meterStsClient(client: object, limiter: AwsRateLimiter, options: StsMeterOptions): void {
  const middleware: FinalizeRequestMiddleware<object, object> = (next, context) => async (args) => {
    const abortSignal = (context as CommandContext)[SMITHY_CONTEXT_KEY]?.abortSignal;
    const input = commandInput(context) ?? {};
    const meter = meters.get(input);
    const commandName = (context as { commandName?: string }).commandName ?? 'Unknown';
    const bucket =
      meter?.bucket ??
      stsBucketOf(
        limiter,
        options.principal ?? signerOf(context) ?? 'unsigned',
        options.region,
        commandName.replace(/Command$/, ''),
        input,
      );
    if (!bucket) return next(args);
    // Inside a refresh, the wait for a token does not count against its source timeout: a cold
    // start over thousands of roles queues for minutes behind one principal's bucket.
    const acquire = () => waitOutsideDeadline(abortSignal, (signal) => limiter.acquire(bucket, signal));
    if (meter) await nextAttempt(meter, acquire);
    else await acquire();
    // Leaving now (it is signed next): a burst held since its first token is released.
    limiter.sent(bucket);
    try {
      return await next(args);
    } catch (error) {
      if (isThrottlingError(error)) await limiter.throttled(bucket);
      throw error;
    }
  };
  (client as ClientWithStack).middlewareStack?.addRelativeTo(middleware, {
    ...BEFORE_SIGNING,
    name: 'rolegraphMeterSts',
  });
}
