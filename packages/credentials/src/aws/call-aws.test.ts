import { describe, expect, it } from 'vitest';
import { CredentialsError } from '../errors.js';
import { AwsCallError } from './aws-call-error.js';
import { callAws, invalidArgument } from './call-aws.js';
import { createAwsCallBudget } from './call-budget.js';
import {
  AdapterErrorCode,
  awsErrorCode,
  isExpiredCredentialsError,
  isRecoverableError,
} from './error-table.js';

class FakeServiceError extends AwsCallError {
  override readonly name = 'FakeServiceError';
}

const context = {
  session: { accountId: '123456789012' },
  service: 'ec2',
  region: 'eu-west-1',
  toError: (message: string, options: ConstructorParameters<typeof AwsCallError>[1]) =>
    new FakeServiceError(message, options),
};

function sdkError(name: string, status: number, requestId = 'req-1'): Error {
  return Object.assign(new Error(`${name} (sdk)`), {
    name,
    $metadata: { httpStatusCode: status, requestId },
  });
}

describe('callAws', () => {
  it('calls under one signal each get a signal of their own, behind one listener on the caller signal', async () => {
    const request = new AbortController();
    let added = 0;
    const add = request.signal.addEventListener.bind(request.signal);
    request.signal.addEventListener = ((...args: Parameters<typeof add>) => {
      added++;
      add(...args);
    }) as typeof add;
    const seen: Array<AbortSignal | undefined> = [];
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const calls = Array.from({ length: 200 }, () =>
      callAws(
        { ...context, signal: request.signal },
        { operation: 'DescribeVolumes', input: {} },
        async (signal) => {
          seen.push(signal);
          // What the SDK does with the signal it is given.
          signal?.addEventListener('abort', () => {});
          await held;
          return signal?.aborted;
        },
      ),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toHaveLength(200);
    expect(new Set(seen).size).toBe(200);
    expect(added).toBe(1);
    request.abort(new Error('query timeout'));
    expect(seen.every((s) => s?.aborted && (s.reason as Error).message === 'query timeout')).toBe(true);
    release();
    expect(await Promise.all(calls)).toEqual(Array(200).fill(true));
  });

  it('a spent budget: the call is not sent and fails with AWS_CALL_BUDGET_EXCEEDED', async () => {
    const budget = createAwsCallBudget(2);
    let sent = 0;
    const send = async () => ++sent;
    await callAws({ ...context, budget }, { operation: 'DescribeVolumes', input: {} }, send);
    await callAws({ ...context, budget }, { operation: 'DescribeVolumes', input: {} }, send);
    const failure = await callAws(
      { ...context, budget },
      { operation: 'DescribeVolumes', input: {} },
      send,
    ).catch((e: unknown) => e);
    expect(sent).toBe(2);
    expect(budget.used).toBe(2);
    expect(budget.failed).toBe(0);
    const counted = createAwsCallBudget(5);
    await callAws({ ...context, budget: counted }, { operation: 'DescribeVolumes', input: {} }, () =>
      Promise.reject(sdkError('InternalError', 500)),
    ).catch(() => undefined);
    expect([counted.used, counted.failed]).toEqual([1, 1]);
    expect(failure).toBeInstanceOf(FakeServiceError);
    expect(failure).toMatchObject({
      code: AdapterErrorCode.AWS_CALL_BUDGET_EXCEEDED,
      retryable: false,
      operation: 'DescribeVolumes',
      accountId: '123456789012',
    });
    expect((failure as Error).message).toMatch(/not sent .* budget of 2 AWS calls is spent/);
    expect(() => createAwsCallBudget(-1)).toThrow(TypeError);
  });

  it('sends with a signal that follows the caller signal, and returns the answer', async () => {
    const caller = new AbortController();
    const signal = caller.signal;
    let seen: AbortSignal | undefined;
    const out = await callAws(
      { ...context, signal },
      { operation: 'DescribeRegions', input: {} },
      async (s) => {
        seen = s;
        return 42;
      },
    );
    expect(out).toBe(42);
    // Its own signal (see the test above), released once the call is over.
    expect(seen).not.toBe(signal);
    caller.abort();
    expect(seen?.aborted).toBe(false);
  });

  it('sends nothing once the signal fired', async () => {
    const controller = new AbortController();
    controller.abort(new Error('caller left'));
    let sent = 0;
    const failure = await callAws(
      { ...context, signal: controller.signal },
      { operation: 'DescribeRegions', input: {} },
      async () => {
        sent++;
      },
    ).catch((e: unknown) => e);
    expect(sent).toBe(0);
    expect(failure).toBeInstanceOf(FakeServiceError);
    expect(failure).toMatchObject({
      code: AdapterErrorCode.ABORTED,
      retryable: false,
      service: 'ec2',
      operation: 'DescribeRegions',
      accountId: '123456789012',
      region: 'eu-west-1',
      message: 'DescribeRegions aborted in account 123456789012, region eu-west-1',
    });
  });

  it('wraps an SDK error with where it happened, the AWS code and the request id', async () => {
    const cause = sdkError('RequestLimitExceeded', 503, 'req-9');
    const failure = await callAws(
      { ...context, about: 'for bucket logs' },
      { operation: 'GetBucketTagging', input: {} },
      () => Promise.reject(cause),
    ).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AwsCallError);
    expect(failure).toMatchObject({
      name: 'FakeServiceError',
      code: AdapterErrorCode.AWS_THROTTLED,
      retryable: true,
      awsCode: 'RequestLimitExceeded',
      requestId: 'req-9',
      cause,
      message:
        'GetBucketTagging for bucket logs failed in account 123456789012, region eu-west-1: RequestLimitExceeded',
    });
    // The error's own code is ours; the AWS code is still found, and decides retrying.
    expect(awsErrorCode(failure)).toBe('RequestLimitExceeded');
    expect(isRecoverableError(failure)).toBe(true);
  });

  it('a CredentialsError was never sent: says so, keeps its retryable and exposes its code', async () => {
    const cause = new CredentialsError('no source credentials', {
      code: 'ASSUME_ROLE_REJECTED',
      retryable: false,
      awsCode: 'AccessDenied',
      roleArn: 'arn:aws:iam::123456789012:role/Reader',
    });
    const failure = await callAws(context, { operation: 'DescribeInstances', input: {} }, () =>
      Promise.reject(cause),
    ).catch((e: unknown) => e);
    expect(failure).toMatchObject({
      code: AdapterErrorCode.CREDENTIALS_UNAVAILABLE,
      retryable: false,
      credentialsCode: 'ASSUME_ROLE_REJECTED',
      awsCode: 'AccessDenied',
      cause,
    });
    expect((failure as Error).message).toBe(
      'The credentials of account 123456789012 could not be obtained (ASSUME_ROLE_REJECTED); nothing was sent',
    );
    expect((failure as Error).message).not.toMatch(/failed|DescribeInstances|role\//);
  });

  it('source credentials that cannot be loaded: their own code, not retryable', async () => {
    const cause = new CredentialsError('No source credentials to assume ...', {
      code: 'SOURCE_CREDENTIALS_UNAVAILABLE',
      retryable: false,
      awsCode: 'CredentialsProviderError',
    });
    const failure = await callAws(context, { operation: 'DescribeInstances', input: {} }, () =>
      Promise.reject(cause),
    ).catch((e: unknown) => e);
    expect(failure).toMatchObject({
      code: AdapterErrorCode.SOURCE_CREDENTIALS_UNAVAILABLE,
      retryable: false,
      credentialsCode: 'SOURCE_CREDENTIALS_UNAVAILABLE',
    });
  });

  it('passes an AwsCallError through unchanged', async () => {
    const inner = invalidArgument(context, 'DescribeInstances', 'after', 'is not a cursor of this listing');
    await expect(
      callAws(context, { operation: 'Other', input: {} }, () => Promise.reject(inner)),
    ).rejects.toBe(inner);
    expect(inner).toMatchObject({
      code: AdapterErrorCode.INVALID_ARGUMENT,
      argument: 'after',
      retryable: false,
    });
  });

  it('blames the cursor argument only for a refused pagination token of a call that carried it', async () => {
    const refused = sdkError('InvalidPaginationToken', 400);
    const withCursor = await callAws(
      { ...context, cursor: { argument: 'after' } },
      { operation: 'DescribeInstances', input: {} },
      () => Promise.reject(refused),
    ).catch((e: AwsCallError) => e);
    expect(withCursor).toMatchObject({ code: AdapterErrorCode.AWS_INVALID_REQUEST, argument: 'after' });
    const other = await callAws(
      { ...context, cursor: { argument: 'after' } },
      { operation: 'DescribeInstances', input: {} },
      () => Promise.reject(sdkError('InvalidParameterValue', 400)),
    ).catch((e: AwsCallError) => e);
    expect(other.argument).toBeUndefined();
  });
});

describe('the AWS error table', () => {
  it('knows expired credentials by code, whatever wraps them', () => {
    expect(isExpiredCredentialsError(sdkError('ExpiredToken', 400))).toBe(true);
    expect(isExpiredCredentialsError(sdkError('RequestExpired', 400))).toBe(true);
    expect(isExpiredCredentialsError(sdkError('AccessDenied', 403))).toBe(false);
  });
});
