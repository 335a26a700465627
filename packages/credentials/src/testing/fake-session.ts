import type { Session } from '../session.js';

/** One `send` a fake session's client received. */
export interface RecordedCall {
  region: string;
  /** The command class name without `Command`, e.g. `DescribeInstances`. */
  operation: string;
  input: Record<string, unknown>;
  signal: AbortSignal | undefined;
}

/** Answers a recorded call: return the command's output, or throw (e.g. `awsError(...)`). */
export type FakeSendHandler = (call: RecordedCall) => unknown;

/**
 * An SDK-shaped service error, as `client.send` rejects with it: `name` is the AWS code,
 * with `$fault` and `$metadata` (status and request id).
 *
 * @example
 * createFakeSession(() => { throw awsError('RequestLimitExceeded', 503); });
 */
export function awsError(code: string, status = 400, requestId = 'req-fake-1'): Error {
  return Object.assign(new Error(`${code} (fake)`), {
    name: code,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status, requestId },
  });
}

/**
 * A `Session` for unit tests of code built on sessions (such as the rolegraph adapters):
 * every client it hands out records each command and answers through `handler`. No
 * credentials are fetched and nothing leaves the process.
 *
 * @example
 * const { session, calls } = createFakeSession((call) => ({ Reservations: [] }));
 * await createEc2Loaders({ session }).listInstances({ region: 'us-east-1' });
 * expect(calls.map((c) => c.operation)).toEqual(['DescribeInstances']);
 */
export function createFakeSession(
  handler: FakeSendHandler,
  options: { accountId?: string } = {},
): { session: Session; calls: RecordedCall[] } {
  const accountId = options.accountId ?? '123456789012';
  const roleArn = `arn:aws:iam::${accountId}:role/Reader`;
  const calls: RecordedCall[] = [];
  const fake = {
    key: 'fake',
    roleArn,
    accountId,
    client(_ClientClass: unknown, region: string) {
      return {
        async send(command: { input: Record<string, unknown> }, sendOptions?: { abortSignal?: AbortSignal }) {
          const call: RecordedCall = {
            region,
            operation: command.constructor.name.replace(/Command$/, ''),
            input: command.input,
            signal: sendOptions?.abortSignal,
          };
          calls.push(call);
          return handler(call);
        },
      };
    },
    invalidate() {},
    status() {
      throw new TypeError('a fake session has no credential status');
    },
    close() {},
  };
  // Only the members code under test uses are implemented; `credentials` is absent on purpose.
  return { session: fake as unknown as Session, calls };
}
