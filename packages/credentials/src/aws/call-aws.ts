import type { Session } from '../session.js';
import { isReadOperation, type RequestAnswerCache } from './answer-cache/answer-cache.js';
import { AwsCallError, type AwsCallErrorOptions } from './aws-call-error.js';
import type { AwsCallBudget } from './call-budget.js';
import {
  AdapterErrorCode,
  awsErrorCode,
  awsRequestId,
  classifyAwsError,
  isCredentialsError,
  PAGINATION_TOKEN_CODES,
} from './error-table.js';
import { followSignal } from './follow-signal.js';
import { meterCall } from './rate-limits/meter-attempts.js';
import type { AwsRateLimiter } from './rate-limits/rate-limiter.js';

/** Builds an adapter's own subclass of `AwsCallError` (`Ec2Error`, `S3Error`). */
export type AwsCallErrorFactory = (message: string, options: AwsCallErrorOptions) => AwsCallError;

/**
 * One AWS request as the seam sees it: the operation and the input its command is built from.
 * The input is plain data (what the SDK command takes); it is what a cache keys on and what a
 * rate limit classifies the call by.
 */
export interface AwsRequest {
  /** The operation as AWS names it: `DescribeInstances`, `ListBuckets`, `AssumeRole`. */
  operation: string;
  input: object;
}

/** What every AWS call of one adapter's request shares. */
export interface AwsCallContext {
  /** Whose call it is. `roleArn` is required with `cache`: it is part of every answer's key. */
  session: Pick<Session, 'accountId'> & Partial<Pick<Session, 'roleArn'>>;
  /** The service as its SDK client names it, lower case: `ec2`, `s3`, `sts`. */
  service: string;
  region: string;
  /** The caller's signal: once it fired, no call is sent. */
  signal?: AbortSignal | undefined;
  /** Calls this unit of work may still send; once spent, no call is sent. */
  budget?: AwsCallBudget | undefined;
  /**
   * The request's view of the answer cache (`createAnswerCache().forRequest()`): read operations
   * are answered from it when they can be, and identical calls in flight share one send. A hit
   * or a shared call takes no budget unit (the budget counts calls sent). @default no cache
   */
  cache?: RequestAnswerCache | undefined;
  /**
   * The process-wide rate limiter: a call waits for a token of its bucket (bounded by `signal`)
   * instead of being sent to be throttled, and so does every retry of it.
   */
  limits?: AwsRateLimiter | undefined;
  /** Makes the adapter's error class. @default a plain `AwsCallError` */
  toError?: AwsCallErrorFactory | undefined;
  /** Named in the message after the operation, e.g. `for bucket logs`. */
  about?: string | undefined;
  /**
   * The caller's cursor went into this call: a pagination token AWS refuses (one of
   * `refusedCodes`, by default `InvalidNextToken`, `InvalidPaginationToken`, `InvalidToken`)
   * is the caller's bad argument (`argument: 'after'`), not a failure of ours.
   */
  cursor?: { argument: string; refusedCodes?: ReadonlySet<string> } | undefined;
}

const plainError: AwsCallErrorFactory = (message, options) => new AwsCallError(message, options);

const place = (context: AwsCallContext) => `account ${context.session.accountId}, region ${context.region}`;
const about = (context: AwsCallContext) => (context.about ? ` ${context.about}` : '');

/**
 * Anything an AWS call threw as the adapter's `AwsCallError` (one passes through unchanged).
 * A `CredentialsError` means nothing was sent: the message says the account's credentials
 * could not be obtained, and the error keeps its `retryable` and exposes its code.
 *
 * @example
 * throw toAwsCallError(error, { session, service: 'ec2', region, signal }, 'DescribeInstances');
 */
export function toAwsCallError(error: unknown, context: AwsCallContext, operation: string): AwsCallError {
  if (error instanceof AwsCallError) return error;
  const { code, retryable } = classifyAwsError(error, context.signal);
  const toError = context.toError ?? plainError;
  const site = {
    service: context.service,
    operation,
    accountId: context.session.accountId,
    region: context.region,
  };
  if (code === AdapterErrorCode.ABORTED) {
    return toError(`${operation} aborted in ${place(context)}`, {
      ...site,
      code,
      retryable,
      cause: context.signal?.aborted ? context.signal.reason : error,
    });
  }
  if (isCredentialsError(error)) {
    // Named by the account alone: the operation never went out, and the credentials error's own
    // message (role ARNs, the hub's principal) is for the log, not for callers.
    return toError(
      `The credentials of account ${context.session.accountId} could not be obtained (${error.code}); nothing was sent`,
      {
        ...site,
        code,
        retryable,
        awsCode: error.awsCode,
        requestId: error.requestId,
        credentialsCode: error.code,
        cause: error,
      },
    );
  }
  const awsCode = awsErrorCode(error);
  const refused = context.cursor?.refusedCodes ?? PAGINATION_TOKEN_CODES;
  const argument = awsCode !== undefined && refused.has(awsCode) ? context.cursor?.argument : undefined;
  return toError(`${operation}${about(context)} failed in ${place(context)}: ${awsCode ?? code}`, {
    ...site,
    code,
    retryable,
    awsCode,
    requestId: awsRequestId(error),
    argument,
    cause: error,
  });
}

/**
 * The one way the adapters call AWS: no call once the caller's signal fired or the budget is
 * spent; with `limits`, a wait for the call's bucket (the signal ends it: `ABORTED`); then
 * `send` with that signal, and whatever it throws as the adapter's `AwsCallError`.
 * `send` must send exactly `request.input` as `request.operation`. Expired credentials are
 * already renewed and retried by the session's clients; a cache, a rate limit, a budget or a
 * trace span for every AWS call goes here.
 *
 * With `context.cache`, a read operation is answered from the cache when it holds a fresh
 * enough answer, or waits for an identical call already in flight; only a call actually sent
 * takes a budget unit. What `send` returns is what is cached, so an answer `send` turns into a
 * value (S3's "no such configuration") is cached too; an error never is.
 *
 * @example
 * const input = { AllRegions: false };
 * const output = await callAws(ctx, { operation: 'DescribeRegions', input }, (signal) =>
 *   session.client(EC2Client, region).send(new DescribeRegionsCommand(input), { abortSignal: signal }),
 * );
 */
export async function callAws<T>(
  context: AwsCallContext,
  request: AwsRequest,
  send: (signal: AbortSignal | undefined) => Promise<T>,
): Promise<T> {
  const { operation } = request;
  const { signal, budget, cache } = context;
  const takeBudget = () => {
    if (budget && !signal?.aborted && !budget.take()) throw budgetSpent(context, operation, budget);
  };
  // Whatever goes out to AWS, metered and counted: a cache hit never gets here. The bucket's
  // token is waited for with the send's signal (a shared call's own, in the cache path).
  // The call listens on a signal of its own (one listener on the caller's for all its calls).
  const sendCounted = async (callerSignal: AbortSignal | undefined): Promise<T> => {
    const call = followSignal(callerSignal);
    const sendSignal = call.signal;
    try {
      const meter = await meterCall({ ...context, signal: sendSignal }, request);
      let failure: unknown;
      try {
        return await send(sendSignal);
      } catch (error) {
        failure = error;
        budget?.recordFailure();
        throw error;
      } finally {
        await meter?.end(failure);
      }
    } finally {
      call.release();
    }
  };
  if (cache && isReadOperation(operation)) {
    const roleArn = context.session.roleArn;
    if (typeof roleArn !== 'string') {
      throw new TypeError(`callAws: a context with a cache needs session.roleArn (${operation})`);
    }
    try {
      return await cache.answer(
        {
          roleArn,
          accountId: context.session.accountId,
          region: context.region,
          service: context.service,
          operation,
          input: request.input,
          signal,
        },
        { beforeSend: takeBudget, send: sendCounted },
      );
    } catch (error) {
      throw toAwsCallError(error, context, operation);
    }
  }
  takeBudget();
  if (signal?.aborted) throw toAwsCallError(signal.reason, context, operation);
  try {
    return await sendCounted(signal);
  } catch (error) {
    throw toAwsCallError(error, context, operation);
  }
}

function budgetSpent(context: AwsCallContext, operation: string, budget: AwsCallBudget): AwsCallError {
  const toError = context.toError ?? plainError;
  return toError(
    `${operation}${about(context)} not sent in ${place(context)}: the request's budget of ${budget.limit} AWS calls is spent`,
    {
      service: context.service,
      operation,
      accountId: context.session.accountId,
      region: context.region,
      code: AdapterErrorCode.AWS_CALL_BUDGET_EXCEEDED,
      retryable: false,
    },
  );
}

/**
 * The error for a caller's argument the adapter cannot use (a cursor it did not make):
 * `INVALID_ARGUMENT`, naming the argument, and nothing is sent.
 *
 * @example
 * throw invalidArgument(ctx, 'DescribeInstances', 'after', 'is not a cursor of this listing');
 */
export function invalidArgument(
  context: AwsCallContext,
  operation: string,
  argument: string,
  problem: string,
): AwsCallError {
  return (context.toError ?? plainError)(
    `${operation}${about(context)} not sent in ${place(context)}: ${argument} ${problem}`,
    {
      service: context.service,
      operation,
      accountId: context.session.accountId,
      region: context.region,
      code: AdapterErrorCode.INVALID_ARGUMENT,
      retryable: false,
      argument,
    },
  );
}
