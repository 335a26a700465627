import { describe, expect, it } from 'vitest';
import { createAccountGate } from './account-gate.js';

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
};

describe('createAccountGate', () => {
  it('rejects a bad cap with a TypeError naming the option', () => {
    expect(() => createAccountGate(0)).toThrow(/maxConcurrentAccounts/);
  });

  it('holds a third account until one of two finishes, then releases all its calls together', async () => {
    const gate = createAccountGate(2);
    const a = deferred();
    const b = deferred();
    const started: string[] = [];
    const pa = gate.run('a', async () => {
      started.push('a');
      await a.promise;
    });
    const pb = gate.run('b', async () => {
      started.push('b');
      await b.promise;
    });
    const pc1 = gate.run('c', async () => void started.push('c1'));
    const pc2 = gate.run('c', async () => void started.push('c2'));
    const pa2 = gate.run('a', async () => void started.push('a2'));
    await Promise.resolve();
    expect(started).toEqual(['a', 'b', 'a2']);
    expect(gate.active).toBe(2);
    b.resolve();
    await pb;
    await Promise.all([pc1, pc2]);
    expect(started).toEqual(['a', 'b', 'a2', 'c1', 'c2']);
    a.resolve();
    await Promise.all([pa, pa2]);
    expect(gate.active).toBe(0);
  });

  it('releases the slot when the work throws', async () => {
    const gate = createAccountGate(1);
    await expect(
      gate.run('a', () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await expect(gate.run('b', async () => 'ok')).resolves.toBe('ok');
    expect(gate.active).toBe(0);
  });
});
