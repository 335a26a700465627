import type { ServiceName } from '../server/aws-error.js';

export interface LatencyKnob {
  /** @default 0 */
  fixedMs?: number;
  /** Uniform extra delay in [0, jitterMs). @default 0 */
  jitterMs?: number;
}
/** Injected latency per service. */
export type LatencyOptions = Partial<Record<ServiceName, LatencyKnob>>;

export interface TokenBucketSpec {
  /** Bucket size: requests allowed in a burst. */
  burst: number;
  /** Tokens added per second. */
  refillPerSecond: number;
}

/**
 * Token buckets per account / region / service / operation. `true` turns on AWS-like defaults
 * ({@link DEFAULT_THROTTLING}); per-service `false` leaves that service unthrottled.
 */
export type ThrottlingOptions = boolean | Partial<Record<ServiceName, TokenBucketSpec | false>>;

export const DEFAULT_THROTTLING: Record<ServiceName, TokenBucketSpec> = {
  ec2: { burst: 100, refillPerSecond: 20 },
  sts: { burst: 100, refillPerSecond: 20 },
  s3: { burst: 5500, refillPerSecond: 5500 },
};

export type FaultKind =
  | 'throttle'
  | 'internal'
  | 'unavailable'
  | 'reset'
  | { readonly code: string; readonly status: number; readonly message?: string };

/** A forced failure for matching requests (all given selectors must match). */
export interface FaultRule {
  service?: ServiceName;
  operation?: string;
  account?: string;
  region?: string;
  /**
   * The role a request is about: the target of an STS AssumeRole call, otherwise the role whose
   * session signed the request. Fails one role of an account while its other roles answer.
   */
  roleArn?: string;
  /**
   * `throttle`: the service's throttling error; `internal`: 500; `unavailable`: 503; `reset`: the connection
   * is destroyed without an answer; or an explicit AWS error code and HTTP status.
   */
  error: FaultKind;
  /** Fail only this many matching requests. @default every matching request */
  times?: number;
  /** Chance in 0..1 that a matching request fails. @default 1 */
  probability?: number;
}

export interface KnobsSnapshot {
  latency: LatencyOptions;
  throttling: Partial<Record<ServiceName, TokenBucketSpec>>;
  faults: FaultRule[];
  disabledServices: ServiceName[];
  disabledAccounts: string[];
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export interface RequestSelector {
  service: ServiceName;
  operation: string;
  account: string;
  region: string;
  /** See `FaultRule.roleArn`; not part of a throttling bucket's key. */
  roleArn?: string | undefined;
}

function checkNonNegative(value: number | undefined, name: string): void {
  if (value !== undefined && (!Number.isFinite(value) || value < 0)) {
    throw new TypeError(`${name} must be a non-negative number, got ${String(value)}`);
  }
}

/** The realism knobs: latency, throttling, forced faults and switched-off services or accounts. */
export class Knobs {
  private latency: LatencyOptions = {};
  private throttling: Partial<Record<ServiceName, TokenBucketSpec>> = {};
  private faults: (FaultRule & { remaining: number })[] = [];
  private readonly buckets = new Map<string, Bucket>();
  readonly disabledServices = new Set<ServiceName>();
  readonly disabledAccounts = new Set<string>();

  constructor(private readonly random: () => number) {}

  setLatency(latency: LatencyOptions): void {
    for (const [service, knob] of Object.entries(latency)) {
      checkNonNegative(knob?.fixedMs, `latency.${service}.fixedMs`);
      checkNonNegative(knob?.jitterMs, `latency.${service}.jitterMs`);
    }
    this.latency = { ...latency };
  }

  setThrottling(throttling: ThrottlingOptions | undefined): void {
    this.buckets.clear();
    if (throttling === undefined || throttling === false) {
      this.throttling = {};
      return;
    }
    if (throttling === true) {
      this.throttling = { ...DEFAULT_THROTTLING };
      return;
    }
    const next: Partial<Record<ServiceName, TokenBucketSpec>> = {};
    for (const [service, spec] of Object.entries(throttling) as [ServiceName, TokenBucketSpec | false][]) {
      if (spec === false) continue;
      if (!(spec.burst >= 1) || !(spec.refillPerSecond >= 0)) {
        throw new TypeError(
          `throttling.${service} needs burst >= 1 and refillPerSecond >= 0, got ${JSON.stringify(spec)}`,
        );
      }
      next[service] = { ...spec };
    }
    this.throttling = next;
  }

  addFault(rule: FaultRule): void {
    if (rule.probability !== undefined && !(rule.probability >= 0 && rule.probability <= 1)) {
      throw new TypeError(`fault probability must be in 0..1, got ${String(rule.probability)}`);
    }
    this.faults.push({ ...rule, remaining: rule.times ?? Number.POSITIVE_INFINITY });
  }

  setFaults(rules: readonly FaultRule[]): void {
    this.faults = [];
    for (const rule of rules) this.addFault(rule);
  }

  /** Milliseconds to wait before answering. */
  delayFor(service: ServiceName): number {
    const knob = this.latency[service];
    if (!knob) return 0;
    return (knob.fixedMs ?? 0) + (knob.jitterMs ? this.random() * knob.jitterMs : 0);
  }

  /** Takes a token; false when the request must be throttled. */
  take(sel: RequestSelector, now: number): boolean {
    const spec = this.throttling[sel.service];
    if (!spec) return true;
    const key = `${sel.service}|${sel.account}|${sel.region}|${sel.operation}`;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { tokens: spec.burst, updatedAt: now };
      this.buckets.set(key, bucket);
    }
    const elapsed = Math.max(0, now - bucket.updatedAt) / 1000;
    bucket.tokens = Math.min(spec.burst, bucket.tokens + elapsed * spec.refillPerSecond);
    bucket.updatedAt = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** The fault to inject for this request, if a rule fires. */
  fault(sel: RequestSelector): FaultKind | undefined {
    for (const rule of this.faults) {
      if (rule.remaining <= 0) continue;
      if (rule.service !== undefined && rule.service !== sel.service) continue;
      if (rule.operation !== undefined && rule.operation !== sel.operation) continue;
      if (rule.account !== undefined && rule.account !== sel.account) continue;
      if (rule.region !== undefined && rule.region !== sel.region) continue;
      if (rule.roleArn !== undefined && rule.roleArn !== sel.roleArn) continue;
      if (rule.probability !== undefined && this.random() >= rule.probability) continue;
      rule.remaining--;
      return rule.error;
    }
    return undefined;
  }

  snapshot(): KnobsSnapshot {
    return {
      latency: structuredClone(this.latency),
      throttling: structuredClone(this.throttling),
      faults: this.faults
        .filter((f) => f.remaining > 0)
        .map(({ remaining, ...rule }) => ({
          ...rule,
          ...(Number.isFinite(remaining) ? { times: remaining } : {}),
        })),
      disabledServices: [...this.disabledServices],
      disabledAccounts: [...this.disabledAccounts],
    };
  }
}
