import type { Session } from '@rolegraph/credentials';

/** One `send` a fake client received. */
export interface RecordedCall {
  region: string;
  operation: string;
  input: Record<string, unknown>;
  signal: AbortSignal | undefined;
}

export type Handler = (call: RecordedCall) => unknown;

/** An SDK-shaped service error: what `client.send` rejects with. */
export function awsError(code: string, status = 400, requestId = 'req-fake-1'): Error {
  return Object.assign(new Error(`${code} (fake)`), {
    name: code,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status, requestId },
  });
}

/**
 * A Session whose clients record every command and answer through `handler`; the
 * operation name is the command class name without `Command`.
 */
export function fakeSession(handler: Handler, accountId = '123456789012') {
  const calls: RecordedCall[] = [];
  const session = {
    key: 'fake',
    roleArn: `arn:aws:iam::${accountId}:role/Reader`,
    accountId,
    client(_ClientClass: unknown, region: string) {
      return {
        async send(command: { input: Record<string, unknown> }, options?: { abortSignal?: AbortSignal }) {
          const call: RecordedCall = {
            region,
            operation: command.constructor.name.replace(/Command$/, ''),
            input: command.input,
            signal: options?.abortSignal,
          };
          calls.push(call);
          return handler(call);
        },
      };
    },
    invalidate() {},
    status() {
      throw new Error('not faked');
    },
    close() {},
  } as unknown as Session;
  return { session, calls };
}
