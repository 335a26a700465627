import type {
  FaultRule,
  Knobs,
  KnobsSnapshot,
  LatencyOptions,
  OrganizationsKnob,
  ThrottlingOptions,
} from '../knobs/knobs.js';
import type { ServiceName } from '../server/aws-error.js';
import type { IssuedCredential } from '../server/identity-store.js';
import type { AccountMutations } from './account-admin.js';
import type { CallCounter, CallCounters, CallFilter } from './call-counters.js';

/**
 * Run-time control of a running sandbox: call counters, knobs, the clock, and the accounts
 * (add, remove, state, OU) for tests of re-discovery.
 */
export interface SandboxAdmin extends AccountMutations {
  /**
   * Exact number of counted calls matching every field of the filter; with `outcome: 'throttled'`,
   * how many of them were answered with the service's throttling error.
   */
  calls(filter?: CallFilter): number;
  /** Every counter. */
  counters(): CallCounter[];
  /** Zeroes the counters (knobs and sessions are kept). */
  reset(): void;
  /** Replaces the latency of every service. */
  setLatency(latency: LatencyOptions): void;
  /** Replaces the throttling settings and refills every token bucket. */
  setThrottling(throttling: ThrottlingOptions): void;
  /** Changes the Organizations knobs given (`emptyPages`). */
  setOrganizations(knob: OrganizationsKnob): void;
  /** Adds a fault rule; rules are tried in order. */
  setFault(rule: FaultRule): void;
  /** Replaces every fault rule. */
  setFaults(rules: readonly FaultRule[]): void;
  clearFaults(): void;
  /** A disabled service answers 503 to every authenticated request. */
  setServiceEnabled(service: ServiceName, enabled: boolean): void;
  /** A disabled account's credentials stop working and its roles cannot be assumed. */
  setAccountEnabled(accountId: string, enabled: boolean): void;
  /** Moves the sandbox clock forward (or back, if negative) by `ms`. */
  advanceClock(ms: number): void;
  /** The sandbox clock, epoch ms. */
  now(): number;
  knobs(): KnobsSnapshot & { clockOffsetMs: number };
  /**
   * Test-only, read-only: every credential the sandbox issued (fixture users' keys and every
   * minted session not yet swept), with its secrets, so a test can prove none of them leaks.
   */
  issuedCredentials(): IssuedCredential[];
}

export function createSandboxAdmin(deps: {
  accounts: AccountMutations;
  counters: CallCounters;
  knobs: Knobs;
  now: () => number;
  clockOffset: { ms: number };
  issuedCredentials: () => IssuedCredential[];
}): SandboxAdmin {
  const { counters, knobs } = deps;
  return {
    calls: (filter) => counters.calls(filter),
    counters: () => counters.list(),
    reset: () => counters.reset(),
    setLatency: (latency) => knobs.setLatency(latency),
    setThrottling: (throttling) => knobs.setThrottling(throttling),
    setOrganizations: (knob) => knobs.setOrganizations(knob),
    addAccount: (account, options) => deps.accounts.addAccount(account, options),
    removeAccount: (accountId) => deps.accounts.removeAccount(accountId),
    setAccountState: (accountId, state) => deps.accounts.setAccountState(accountId, state),
    moveAccount: (accountId, parentId) => deps.accounts.moveAccount(accountId, parentId),
    setFault: (rule) => knobs.addFault(rule),
    setFaults: (rules) => knobs.setFaults(rules),
    clearFaults: () => knobs.setFaults([]),
    setServiceEnabled: (service, enabled) => {
      if (enabled) knobs.disabledServices.delete(service);
      else knobs.disabledServices.add(service);
    },
    setAccountEnabled: (accountId, enabled) => {
      if (enabled) knobs.disabledAccounts.delete(accountId);
      else knobs.disabledAccounts.add(accountId);
    },
    advanceClock: (ms) => {
      if (!Number.isFinite(ms))
        throw new TypeError(`advanceClock: ms must be a finite number, got ${String(ms)}`);
      deps.clockOffset.ms += ms;
    },
    now: () => deps.now(),
    knobs: () => ({ ...knobs.snapshot(), clockOffsetMs: deps.clockOffset.ms }),
    issuedCredentials: () => deps.issuedCredentials(),
  };
}
