import { describe, expect, it } from 'vitest';
import { toAwsCallError } from './call-aws.js';
import { AdapterErrorCode, classifyAwsError } from './error-table.js';

const context = { session: { accountId: '123456789012' }, service: 'ec2', region: 'us-east-1' };
const describeAwsFailure = (error: unknown, signal?: AbortSignal) => {
  const e = toAwsCallError(error, { ...context, signal }, 'DescribeInstances');
  // The message ends in the detail the old describeAwsFailure returned.
  const detail = e.code === 'ABORTED' ? 'aborted' : e.message.slice(e.message.lastIndexOf(': ') + 2);
  return { code: e.code, retryable: e.retryable, awsCode: e.awsCode, requestId: e.requestId, detail };
};

function awsError(name: string, status = 400): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
}

describe('classifyAwsError', () => {
  it.each([
    ['RequestLimitExceeded', 503, AdapterErrorCode.AWS_THROTTLED, true],
    ['Throttling', 400, AdapterErrorCode.AWS_THROTTLED, true],
    ['ServiceUnavailable', 503, AdapterErrorCode.AWS_UNAVAILABLE, true],
    ['SomethingNew', 502, AdapterErrorCode.AWS_UNAVAILABLE, true],
    ['UnauthorizedOperation', 403, AdapterErrorCode.AWS_ACCESS_DENIED, false],
    ['AccessDenied', 403, AdapterErrorCode.AWS_ACCESS_DENIED, false],
    ['ExpiredToken', 400, AdapterErrorCode.AWS_CREDENTIALS_EXPIRED, true],
    ['InvalidVpcID.NotFound', 400, AdapterErrorCode.AWS_NOT_FOUND, false],
    ['NoSuchBucket', 404, AdapterErrorCode.AWS_NOT_FOUND, false],
    ['InvalidParameterValue', 400, AdapterErrorCode.AWS_INVALID_REQUEST, false],
    ['InvalidInstanceID.Malformed', 400, AdapterErrorCode.AWS_INVALID_REQUEST, false],
    ['SomethingOdd', 409, AdapterErrorCode.AWS_ERROR, false],
  ] as const)('%s (%i) is %s', (code, status, expected, retryable) => {
    expect(classifyAwsError(awsError(code, status))).toEqual({ code: expected, retryable });
  });

  it('treats network failures as unavailable and aborts as ABORTED', () => {
    expect(classifyAwsError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toEqual({
      code: AdapterErrorCode.AWS_UNAVAILABLE,
      retryable: true,
    });
    const aborted = new AbortController();
    aborted.abort();
    expect(classifyAwsError(awsError('Throttling'), aborted.signal).code).toBe(AdapterErrorCode.ABORTED);
  });
});

describe('toAwsCallError', () => {
  it('picks the AWS code and request id of an SDK error', () => {
    const error = Object.assign(awsError('RequestLimitExceeded', 503), {
      $metadata: { httpStatusCode: 503, requestId: 'req-42' },
    });
    expect(describeAwsFailure(error)).toEqual({
      code: AdapterErrorCode.AWS_THROTTLED,
      retryable: true,
      awsCode: 'RequestLimitExceeded',
      requestId: 'req-42',
      detail: 'RequestLimitExceeded',
    });
  });

  it('an abort carries no AWS code', () => {
    const controller = new AbortController();
    controller.abort();
    expect(describeAwsFailure(awsError('Throttling'), controller.signal)).toEqual({
      code: AdapterErrorCode.ABORTED,
      retryable: false,
      awsCode: undefined,
      requestId: undefined,
      detail: 'aborted',
    });
  });

  it('a failure without an AWS code is described by its adapter code', () => {
    const failure = describeAwsFailure(
      Object.assign(new Error('boom'), { $metadata: { httpStatusCode: 502 } }),
    );
    expect(failure).toMatchObject({
      code: AdapterErrorCode.AWS_UNAVAILABLE,
      awsCode: undefined,
      detail: 'AWS_UNAVAILABLE',
    });
  });
});
