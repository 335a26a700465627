import { CredentialsError } from '@rolegraph/credentials';
import { describe, expect, it } from 'vitest';
import { AdapterErrorCode, toEc2Error } from './errors.js';

describe('toEc2Error', () => {
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
