import { describe, expect, it } from 'vitest';
import { awsError, createFakeSession } from './index.js';

class DescribeThingsCommand {
  constructor(readonly input: Record<string, unknown>) {}
}
class FakeClient {}

describe('createFakeSession', () => {
  it('records each command and answers through the handler', async () => {
    const { session, calls } = createFakeSession((call) => ({ echoed: call.input.Id }), {
      accountId: '111122223333',
    });
    const client = session.client(FakeClient as never, 'eu-west-1') as unknown as {
      send(c: DescribeThingsCommand, o?: { abortSignal?: AbortSignal }): Promise<unknown>;
    };
    const signal = new AbortController().signal;
    await expect(client.send(new DescribeThingsCommand({ Id: 7 }), { abortSignal: signal })).resolves.toEqual(
      {
        echoed: 7,
      },
    );
    expect(calls).toEqual([{ region: 'eu-west-1', operation: 'DescribeThings', input: { Id: 7 }, signal }]);
    expect(session.accountId).toBe('111122223333');
    expect(session.roleArn).toBe('arn:aws:iam::111122223333:role/Reader');
  });

  it('awsError is shaped like an SDK service error', () => {
    expect(awsError('SlowDown', 503, 'r-1')).toMatchObject({
      name: 'SlowDown',
      $fault: 'server',
      $metadata: { httpStatusCode: 503, requestId: 'r-1' },
    });
  });
});
