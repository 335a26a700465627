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
 * EC2's request-rate classes as AWS meters them ("Request throttling for the Amazon EC2 API"):
 * `nonMutating` for Describe* calls; `unfilteredUnpaginated` for DescribeInstances,
 * DescribeSecurityGroups and DescribeVolumes sent without a filter, ids, MaxResults or NextToken,
 * which draw from a smaller bucket of their own.
 */
export type Ec2ThrottlingClass = 'nonMutating' | 'unfilteredUnpaginated';
export const EC2_THROTTLING_CLASSES: readonly Ec2ThrottlingClass[] = ['nonMutating', 'unfilteredUnpaginated'];

/** EC2 buckets per class; a class left out keeps AWS's default, `false` leaves it unthrottled. */
export type Ec2ThrottlingOptions = Partial<Record<Ec2ThrottlingClass, TokenBucketSpec | false>>;

/**
 * Token buckets, `true` for AWS-like defaults ({@link DEFAULT_THROTTLING}). Per service: a bucket
 * spec, or `false` (or left out) for no throttling of that service. EC2 takes one spec for every
 * class or {@link Ec2ThrottlingOptions} per class. Buckets are kept per caller account and
 * region and operation (EC2 also per class; Organizations per caller account only, as AWS
 * documents its limits per account).
 */
export type ThrottlingOptions =
  | boolean
  | {
      sts?: TokenBucketSpec | false;
      s3?: TokenBucketSpec | false;
      organizations?: TokenBucketSpec | false;
      ec2?: TokenBucketSpec | Ec2ThrottlingOptions | false;
    };

/** The bucket of each service (EC2: of each class) in effect. */
export interface ThrottlingSettings {
  sts?: TokenBucketSpec;
  s3?: TokenBucketSpec;
  organizations?: TokenBucketSpec;
  ec2?: Partial<Record<Ec2ThrottlingClass, TokenBucketSpec>>;
}

/**
 * What `throttling: true` turns on. EC2: AWS's published request-token buckets (100 burst + 20/s
 * for non-mutating calls, 50 + 10/s for unfiltered and unpaginated ones). STS: 100 + 20/s, the
 * sandbox's pick. S3: 5,500 + 5,500/s (S3's GET rate per prefix). Organizations: 20 + 10/s per
 * caller account, the sandbox's conservative pick (AWS publishes no figure for these calls).
 */
export const DEFAULT_THROTTLING: {
  readonly sts: TokenBucketSpec;
  readonly s3: TokenBucketSpec;
  readonly organizations: TokenBucketSpec;
  readonly ec2: Readonly<Record<Ec2ThrottlingClass, TokenBucketSpec>>;
} = {
  ec2: {
    nonMutating: { burst: 100, refillPerSecond: 20 },
    unfilteredUnpaginated: { burst: 50, refillPerSecond: 10 },
  },
  sts: { burst: 100, refillPerSecond: 20 },
  s3: { burst: 5500, refillPerSecond: 5500 },
  organizations: { burst: 20, refillPerSecond: 10 },
};

/** Run-time knobs of the Organizations emulation. */
export interface OrganizationsKnob {
  /**
   * Every list operation first answers a page with no items and a NextToken, as the real API
   * may, then the real pages. @default false
   */
  emptyPages?: boolean;
}

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
  throttling: ThrottlingSettings;
  organizations: Required<OrganizationsKnob>;
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
  /** EC2 only: the request-rate class. @default 'nonMutating' */
  ec2Class?: Ec2ThrottlingClass | undefined;
}

function checkNonNegative(value: number | undefined, name: string): void {
  if (value !== undefined && (!Number.isFinite(value) || value < 0)) {
    throw new TypeError(`${name} must be a non-negative number, got ${String(value)}`);
  }
}

/** The realism knobs: latency, throttling, forced faults and switched-off services or accounts. */
export class Knobs {
  private latency: LatencyOptions = {};
  private throttling: ThrottlingSettings = {};
  private organizationsKnob: Required<OrganizationsKnob> = { emptyPages: false };
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
    const next = resolveThrottling(throttling);
    this.buckets.clear();
    this.throttling = next;
  }

  setOrganizations(knob: OrganizationsKnob): void {
    if (knob.emptyPages !== undefined && typeof knob.emptyPages !== 'boolean') {
      throw new TypeError(`organizations.emptyPages must be a boolean, got ${String(knob.emptyPages)}`);
    }
    this.organizationsKnob = { ...this.organizationsKnob, ...knob };
  }

  /** See {@link OrganizationsKnob.emptyPages}. */
  get organizationsEmptyPages(): boolean {
    return this.organizationsKnob.emptyPages;
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
    let spec: TokenBucketSpec | undefined;
    let key: string;
    if (sel.service === 'ec2') {
      const ec2Class = sel.ec2Class ?? 'nonMutating';
      spec = this.throttling.ec2?.[ec2Class];
      key = `ec2|${sel.account}|${sel.region}|${sel.operation}|${ec2Class}`;
    } else if (sel.service === 'organizations') {
      spec = this.throttling.organizations;
      key = `organizations|${sel.account}`;
    } else {
      spec = this.throttling[sel.service];
      key = `${sel.service}|${sel.account}|${sel.region}|${sel.operation}`;
    }
    if (!spec) return true;
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
      organizations: { ...this.organizationsKnob },
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

function checkSpec(spec: TokenBucketSpec, name: string): TokenBucketSpec {
  if (
    typeof spec !== 'object' ||
    spec === null ||
    !(spec.burst >= 1) ||
    !(spec.refillPerSecond >= 0) ||
    !Number.isFinite(spec.burst) ||
    !Number.isFinite(spec.refillPerSecond)
  ) {
    throw new TypeError(
      `${name} needs finite burst >= 1 and refillPerSecond >= 0, got ${JSON.stringify(spec)}`,
    );
  }
  return { burst: spec.burst, refillPerSecond: spec.refillPerSecond };
}

function isBucketSpec(value: object): value is TokenBucketSpec {
  return 'burst' in value || 'refillPerSecond' in value;
}

/** Turns the options into the bucket of each service and EC2 class; bad values are TypeErrors. */
export function resolveThrottling(throttling: ThrottlingOptions | undefined): ThrottlingSettings {
  if (throttling === undefined || throttling === false) return {};
  if (throttling === true) return structuredClone(DEFAULT_THROTTLING) as ThrottlingSettings;
  const next: ThrottlingSettings = {};
  for (const key of Object.keys(throttling)) {
    if (!['sts', 's3', 'organizations', 'ec2'].includes(key))
      throw new TypeError(`throttling.${key} is not a service the sandbox emulates`);
  }
  for (const service of ['sts', 's3', 'organizations'] as const) {
    const spec = throttling[service];
    if (spec !== undefined && spec !== false) next[service] = checkSpec(spec, `throttling.${service}`);
  }
  const ec2 = throttling.ec2;
  if (ec2 !== undefined && ec2 !== false) {
    if (typeof ec2 !== 'object' || ec2 === null)
      throw new TypeError(`throttling.ec2 must be a bucket spec or per-class specs, got ${String(ec2)}`);
    const classes: Partial<Record<Ec2ThrottlingClass, TokenBucketSpec>> = {};
    if (isBucketSpec(ec2)) {
      // One spec: every class gets a bucket of that size (each class still has its own bucket).
      const spec = checkSpec(ec2, 'throttling.ec2');
      for (const c of EC2_THROTTLING_CLASSES) classes[c] = { ...spec };
    } else {
      for (const key of Object.keys(ec2)) {
        if (!(EC2_THROTTLING_CLASSES as readonly string[]).includes(key))
          throw new TypeError(
            `throttling.ec2.${key} is not an EC2 class (${EC2_THROTTLING_CLASSES.join(', ')})`,
          );
      }
      for (const c of EC2_THROTTLING_CLASSES) {
        const spec = (ec2 as Ec2ThrottlingOptions)[c];
        if (spec === false) continue;
        classes[c] =
          spec === undefined ? { ...DEFAULT_THROTTLING.ec2[c] } : checkSpec(spec, `throttling.ec2.${c}`);
      }
    }
    next.ec2 = classes;
  }
  return next;
}
