import { createSessionCache, type Session, type SessionCache } from '@rolegraph/credentials';
import { type Sandbox, type SandboxFixture, type SandboxOptions, startSandbox } from '@rolegraph/sandbox';

export interface SandboxSession {
  sb: Sandbox;
  sessions: SessionCache;
  /** The RolegraphReader session of the fixture's first member account. */
  session: Session;
  accountId: string;
  /** A fresh cache whose clients make a single attempt (no SDK retries), for fault tests. */
  singleAttempt(): Session;
  close(): Promise<void>;
}

/** Start the sandbox and assume the first member account's reader role through it. */
export async function startSandboxSession(
  fixture: SandboxFixture,
  options: Omit<SandboxOptions, 'fixture'> = {},
): Promise<SandboxSession> {
  const sb = await startSandbox({ fixture, port: 0, host: '127.0.0.1', ...options });
  const member = sb.fixture.accounts.find((a) => a.roles.some((r) => r.name === 'RolegraphReader'));
  const role = member?.roles.find((r) => r.name === 'RolegraphReader');
  if (!member || !role) throw new Error('fixture has no RolegraphReader role');
  const base = { accessKeyId: sb.credentials.accessKeyId, secretAccessKey: sb.credentials.secretAccessKey };
  const cacheFor = (clientDefaults: Record<string, unknown>) =>
    createSessionCache({
      sourceCredentials: async () => base,
      stsEndpoint: sb.endpoint,
      clientDefaults: { endpoint: sb.endpoint, forcePathStyle: true, ...clientDefaults },
    });
  const sessions = cacheFor({});
  const extra: SessionCache[] = [];
  return {
    sb,
    sessions,
    session: sessions.get({ roleArn: role.arn }),
    accountId: member.id,
    singleAttempt() {
      const cache = cacheFor({ maxAttempts: 1 });
      extra.push(cache);
      return cache.get({ roleArn: role.arn });
    },
    async close() {
      sessions.close();
      for (const cache of extra) cache.close();
      await sb.close();
    },
  };
}
