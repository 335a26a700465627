import { CredentialsError } from '@rolegraph/credentials';
import { toAwsCallError } from '@rolegraph/credentials/aws';
import { describe, expect, it } from 'vitest';
import { callContext } from './context.js';
import { AdapterErrorCode, Ec2Error } from './errors.js';

const session = { accountId: '123456789012' } as Parameters<typeof callContext>[0]['session'];
const toEc2Error = (error: unknown, where: { region: string; operation: string }) =>
  toAwsCallError(error, callContext({ session }, where.region), where.operation);

describe('an EC2 call failing for want of credentials', () => {
  it('wraps a CredentialsError keeping its retryable, AWS code and request id', () => {
    const cause = new CredentialsError('no creds', {
      code: 'ASSUME_ROLE_FAILED',
      retryable: true,
      awsCode: 'Throttling',
      requestId: 'sts-1',
      roleArn: 'arn:aws:iam::123456789012:role/Reader',
    });
    const error = toEc2Error(cause, { region: 'us-east-1', operation: 'DescribeInstances' });
    expect(error).toBeInstanceOf(Ec2Error);
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
