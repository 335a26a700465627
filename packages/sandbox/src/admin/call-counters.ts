import type { ServiceName } from '../server/aws-error.js';

/** One counter: calls to one operation by one account in one region (and, for AssumeRole, one role). */
export interface CallCounter {
  readonly service: ServiceName;
  readonly operation: string;
  readonly account: string;
  readonly region: string;
  /** AssumeRole: the target role. Other operations: the caller's role when it signs with a role session. */
  readonly roleArn?: string;
  /** Calls answered, whatever the outcome. */
  count: number;
  /** Of those, calls answered with the service's throttling error (token bucket or a `throttle` fault). */
  throttled: number;
}

export interface CallFilter {
  service?: ServiceName;
  operation?: string;
  account?: string;
  region?: string;
  roleArn?: string;
  /** `'throttled'`: count only the calls answered with the service's throttling error. */
  outcome?: 'throttled';
}

export class CallCounters {
  private readonly counters = new Map<string, CallCounter>();

  /** Counts one call; the caller marks it `throttled` on the returned counter when it is. */
  record(
    service: ServiceName,
    operation: string,
    account: string,
    region: string,
    roleArn?: string,
  ): CallCounter {
    const key = `${service}\u0000${operation}\u0000${account}\u0000${region}\u0000${roleArn ?? ''}`;
    const existing = this.counters.get(key);
    if (existing) {
      existing.count++;
      return existing;
    }
    const counter: CallCounter = {
      service,
      operation,
      account,
      region,
      ...(roleArn === undefined ? {} : { roleArn }),
      count: 1,
      throttled: 0,
    };
    this.counters.set(key, counter);
    return counter;
  }

  calls(filter: CallFilter = {}): number {
    let total = 0;
    for (const c of this.counters.values()) {
      if (filter.service !== undefined && c.service !== filter.service) continue;
      if (filter.operation !== undefined && c.operation !== filter.operation) continue;
      if (filter.account !== undefined && c.account !== filter.account) continue;
      if (filter.region !== undefined && c.region !== filter.region) continue;
      if (filter.roleArn !== undefined && c.roleArn !== filter.roleArn) continue;
      total += filter.outcome === 'throttled' ? c.throttled : c.count;
    }
    return total;
  }

  list(): CallCounter[] {
    return [...this.counters.values()].map((c) => ({ ...c }));
  }

  reset(): void {
    this.counters.clear();
  }
}
