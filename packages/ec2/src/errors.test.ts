import { CredentialsError } from '@rolegraph/credentials';
import { describe, expect, it } from 'vitest';
import { awsError } from '../test/fake-session.js';
import { AdapterErrorCode, classifyAwsError, toEc2Error } from './errors.js';

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

  it('wraps a CredentialsError keeping its retryable, AWS code and request id', () => {
    const cause = new CredentialsError('no creds', {
      code: 'ASSUME_ROLE_FAILED',
      retryable: true,
      awsCode: 'Throttling',
      requestId: 'sts-1',
      roleArn: 'arn:aws:iam::123456789012:role/Reader',
    });
    const error = toEc2Error(cause, {
      accountId: '123456789012',
      region: 'us-east-1',
      operation: 'DescribeInstances',
    });
    expect(error).toMatchObject({
      code: AdapterErrorCode.CREDENTIALS_UNAVAILABLE,
      retryable: true,
      awsCode: 'Throttling',
      requestId: 'sts-1',
      cause,
    });
    expect(error.message).toContain('123456789012');
  });
});
