import { describe, expect, it } from 'vitest';
import { demoFixture } from '../fixture/demo-fixture.js';
import { loadFixture } from '../fixture/load-fixture.js';
import { IdentityStore } from './identity-store.js';

describe('IdentityStore.issued', () => {
  const fixture = loadFixture(demoFixture());

  it('lists every fixture user key and every minted session, with their secrets', () => {
    const store = new IdentityStore(fixture);
    const users = fixture.accounts.flatMap((a) => a.users);
    expect(store.issued().map((c) => c.accessKeyId)).toEqual(users.map((u) => u.accessKeyId));
    const role = fixture.accounts.flatMap((a) => a.roles)[0];
    if (!role) throw new Error('the demo fixture has roles');
    const minted = store.mint(role, 'test', 2_000_000, 1_000_000);
    const issued = store.issued();
    expect(issued).toHaveLength(users.length + 1);
    expect(issued.at(-1)).toEqual({
      kind: 'session',
      accessKeyId: minted.accessKeyId,
      secretAccessKey: minted.secretAccessKey,
      sessionToken: minted.sessionToken,
      principalArn: minted.principal.arn,
    });
    const user = issued.find((c) => c.kind === 'user');
    expect(user?.sessionToken).toBeUndefined();
    expect(user?.secretAccessKey).toBe(users[0]?.secretAccessKey);
  });

  it('is a copy: changing it changes nothing in the store', () => {
    const store = new IdentityStore(fixture);
    store.issued().pop();
    expect(store.issued()).toHaveLength(fixture.accounts.flatMap((a) => a.users).length);
  });
});
