import { describe, expect, it } from 'vitest';
import { followSignal } from './follow-signal.js';

describe('followSignal', () => {
  it('followers abort with the parent reason, behind one listener on the parent', () => {
    const parent = new AbortController();
    let added = 0;
    const add = parent.signal.addEventListener.bind(parent.signal);
    parent.signal.addEventListener = ((...args: Parameters<typeof add>) => {
      added++;
      add(...args);
    }) as typeof add;
    const calls = Array.from({ length: 1000 }, () => followSignal(parent.signal));
    expect(added).toBe(1);
    const released = calls[0];
    released?.release();
    const reason = new Error('query timeout');
    parent.abort(reason);
    expect(released?.signal?.aborted).toBe(false);
    for (const call of calls.slice(1)) {
      expect(call.signal?.aborted).toBe(true);
      expect(call.signal?.reason).toBe(reason);
    }
  });

  it('no parent: no signal; an aborted parent is given back as is', () => {
    expect(followSignal(undefined).signal).toBeUndefined();
    const parent = new AbortController();
    parent.abort(new Error('gone'));
    expect(followSignal(parent.signal).signal).toBe(parent.signal);
  });

  it('released followers are dropped: 20,000 released, none aborted with the parent', () => {
    const parent = new AbortController();
    const calls = Array.from({ length: 20_000 }, () => followSignal(parent.signal));
    for (const call of calls) call.release();
    parent.abort();
    expect(calls.every((c) => c.signal?.aborted === false)).toBe(true);
  });
});
