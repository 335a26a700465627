import { createSessionCache } from '@rolegraph/credentials';
import { afterEach, describe, expect, it } from 'vitest';
import type { AccountConfig } from '../config/config-schema.js';
import { createSessionBook, sessionCacheSize } from './session-book.js';

const account = (id: string, extra: Partial<AccountConfig> = {}): AccountConfig => ({
  alias: `a${id.slice(-4)}`,
  accountId: id,
  roleArn: `arn:aws:iam::${id}:role/RolegraphReader`,
  regions: ['us-east-1'],
  ...extra,
});

const caches: Array<{ close(): void }> = [];
afterEach(() => {
  for (const c of caches.splice(0)) c.close();
});

describe('createSessionBook', () => {
  it('hands out one session per role, only for prepared accounts', () => {
    const sessions = createSessionCache({
      sourceCredentials: async () => ({ accessKeyId: 'x', secretAccessKey: 'y' }),
    });
    caches.push(sessions);
    const book = createSessionBook(sessions);
    const prod = account('111111111111');
    expect(() => book.sessionFor(prod)).toThrow(/not configured/);
    book.prepare(prod);
    book.prepare({ ...prod }); // same role: prepared once
    expect([...book.prepared()]).toHaveLength(1);
    const session = book.sessionFor(prod);
    expect(book.sessionFor({ ...prod, alias: 'renamed' })).toBe(session);
    // Another external id is another role, so another session.
    book.prepare({ ...prod, externalId: 'ext-1' });
    expect(book.sessionFor({ ...prod, externalId: 'ext-1' })).not.toBe(session);
  });

  it('forget closes the session and deletes it from the cache', async () => {
    const sessions = createSessionCache({
      sourceCredentials: async () => ({ accessKeyId: 'x', secretAccessKey: 'y' }),
    });
    caches.push(sessions);
    const book = createSessionBook(sessions);
    const gone = account('222222222222');
    book.prepare(gone);
    const session = book.sessionFor(gone);
    expect(sessions.size).toBe(1);
    book.forget(book.roleKeyOf(gone));
    expect(sessions.size).toBe(0);
    await expect(session.credentials()).rejects.toMatchObject({ code: 'SESSION_CLOSED' });
    expect(() => book.sessionFor(gone)).toThrow(/not configured/);
  });
});

describe('fitTo', () => {
  it('grows the session cache to 2 x accounts when they outgrow it, never shrinks it', () => {
    const sessions = createSessionCache({
      sourceCredentials: async () => ({ accessKeyId: 'x', secretAccessKey: 'y' }),
      maxSessions: 1000,
    });
    caches.push(sessions);
    const book = createSessionBook(sessions);
    book.fitTo(300);
    expect(sessions.maxSessions).toBe(1000);
    book.fitTo(12_000);
    expect(sessions.maxSessions).toBe(24_000);
    book.fitTo(10);
    expect(sessions.maxSessions).toBe(24_000);
  });
});

describe('sessionCacheSize', () => {
  it('is max(1000, 2 x accounts), with room for 10,000 discovered accounts when an organization is configured', () => {
    expect(sessionCacheSize({ accounts: 3, organization: false })).toBe(1000);
    expect(sessionCacheSize({ accounts: 1050, organization: false })).toBe(2100);
    expect(sessionCacheSize({ accounts: 0, organization: true })).toBe(20_000);
    expect(sessionCacheSize({ accounts: 5, organization: true })).toBe(20_010);
  });
});
