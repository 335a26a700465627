import { CredentialsError, CredentialsErrorCode } from '@rolegraph/credentials';
import { describe, expect, it } from 'vitest';
import type { LogEntry } from '../observability/log.js';
import { createSourceCheck } from './source-check.js';

const missing = () =>
  new CredentialsError('No source credentials to call STS: the default chain found none', {
    code: CredentialsErrorCode.SOURCE_CREDENTIALS_UNAVAILABLE,
    retryable: false,
  });
const central = { account: '000000000000', arn: 'arn:aws:iam::000000000000:user/central', userId: 'AIDA' };

describe('createSourceCheck', () => {
  it('logs who the source identity is', async () => {
    const logs: LogEntry[] = [];
    const check = createSourceCheck({
      sessions: { sourceIdentity: async () => central },
      log: (e) => logs.push(e),
    });
    expect(check.status().state).toBe('unchecked');
    await expect(check.check()).resolves.toEqual({ state: 'ok', arn: central.arn });
    expect(logs).toEqual([
      expect.objectContaining({ level: 'info', msg: 'source identity', arn: central.arn }),
    ]);
  });

  it('no source credentials: a clear warning, state missing, retried until they appear', async () => {
    const logs: LogEntry[] = [];
    let calls = 0;
    const check = createSourceCheck({
      sessions: {
        sourceIdentity: async () => {
          calls++;
          if (calls < 3) throw missing();
          return central;
        },
      },
      log: (e) => logs.push(e),
      retryMs: 20,
    });
    await expect(check.check()).resolves.toEqual({
      state: 'missing',
      code: 'SOURCE_CREDENTIALS_UNAVAILABLE',
    });
    expect(logs[0]).toMatchObject({ level: 'warn', code: 'SOURCE_CREDENTIALS_UNAVAILABLE', retryInMs: 20 });
    expect(logs[0]?.msg).toMatch(/no source credentials found/);
    const deadline = Date.now() + 2_000;
    while (check.status().state !== 'ok' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    expect(check.status()).toEqual({ state: 'ok', arn: central.arn });
    expect(calls).toBe(3);
    check.stop();
  });

  it('STS failing is told apart from missing credentials, and stop() ends the retries', async () => {
    let calls = 0;
    const check = createSourceCheck({
      sessions: {
        sourceIdentity: async () => {
          calls++;
          throw Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable' });
        },
      },
      log: () => {},
      retryMs: 10,
    });
    await expect(check.check()).resolves.toEqual({ state: 'failed', code: 'ServiceUnavailable' });
    check.stop();
    const after = calls;
    await new Promise((r) => setTimeout(r, 60));
    expect(calls).toBe(after);
  });
});
