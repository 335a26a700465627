/**
 * Lets at most `maxAccounts` accounts have AWS work in flight at once. Work for an account
 * that already holds a slot starts at once, and every waiting call of an account is released
 * in the same tick, so DataLoader still batches it.
 *
 * @example
 * const gate = createAccountGate(8);
 * await gate.run('111111111111', () => loaders.listInstances({ region }));
 */
export interface AccountGate {
  run<T>(account: string, work: () => Promise<T>): Promise<T>;
  /** Accounts holding a slot now (for tests). */
  readonly active: number;
}

export function createAccountGate(maxAccounts: number): AccountGate {
  if (!Number.isInteger(maxAccounts) || maxAccounts < 1) {
    throw new TypeError(`maxConcurrentAccounts must be a positive integer, got ${String(maxAccounts)}`);
  }
  const inFlight = new Map<string, number>();
  const waiting = new Map<string, Array<() => void>>();

  const release = (account: string) => {
    const left = (inFlight.get(account) ?? 1) - 1;
    if (left > 0) {
      inFlight.set(account, left);
      return;
    }
    inFlight.delete(account);
    const next = waiting.keys().next();
    if (next.done) return;
    const waiters = waiting.get(next.value) ?? [];
    waiting.delete(next.value);
    inFlight.set(next.value, waiters.length);
    for (const wake of waiters) wake();
  };

  const start = <T>(account: string, work: () => Promise<T>): Promise<T> => {
    let promise: Promise<T>;
    try {
      promise = work();
    } catch (error) {
      promise = Promise.reject(error);
    }
    return promise.finally(() => release(account));
  };

  return {
    run(account, work) {
      const held = inFlight.get(account);
      if (held !== undefined) {
        inFlight.set(account, held + 1);
        return start(account, work);
      }
      if (inFlight.size < maxAccounts) {
        inFlight.set(account, 1);
        return start(account, work);
      }
      return new Promise<void>((wake) => {
        const list = waiting.get(account);
        if (list) list.push(wake);
        else waiting.set(account, [wake]);
      }).then(() => start(account, work));
    },
    get active() {
      return inFlight.size;
    },
  };
}
