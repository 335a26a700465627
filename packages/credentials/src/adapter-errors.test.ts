import { describe, expect, it } from 'vitest';
import { AdapterErrorCode, classifyAwsError } from './adapter-errors.js';

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
