import { existsSync, readFileSync } from 'node:fs';
import type { AwsCredentialIdentity } from '@smithy/types';
import { describe, expect, it } from 'vitest';
import { CredentialsError, createRefreshingCredentials } from '../src/index.js';
import {
  afterFailure,
  afterSuccess,
  decide,
  EMPTY_STATE,
  type RefreshState,
  type RefreshWindows,
} from '../src/refresh-rules.js';

type Response = 'freshCredentials' | 'staleCredentials' | 'error' | 'nonRecoverableError';
interface Step {
  type: 'getCredentials' | 'advanceTime' | 'invalidate';
  response?: Response;
  lifetimeSeconds?: number;
  seconds?: number;
  rejectedAccessKeyId?: string;
  expected?: {
    result: 'cachedCredentials' | 'newCredentials' | 'noCredentialsError' | 'nonRecoverableError';
    sourceContacted: boolean;
    rateLimited: boolean;
    advisoryWindowSeconds?: number;
  };
}
interface Scenario {
  documentation: string;
  given: {
    cachedCredentials: 'none' | 'valid' | 'advisory' | 'mandatory' | 'expired';
    accessKeyId?: string;
    refreshBackoffSeconds?: number;
    configuredAdvisoryWindowSeconds?: number;
  };
  steps: Step[];
}

const vendored = new URL('./conformance/credential-refresh-tests.json', import.meta.url);
const shared = new URL('../../../../shared/conformance/credential-refresh-tests.json', import.meta.url);
const scenarios = JSON.parse(readFileSync(vendored, 'utf8')) as Scenario[];

// Clock start per cached state (README of the vectors): issued at 0, expiring at 3600 s.
const START_SECONDS = { none: 0, valid: 1000, advisory: 3000, mandatory: 3550, expired: 3700 } as const;

async function runScenario(scenario: Scenario): Promise<void> {
  let clockMs = 0;
  let contacted = 0;
  let issued = 0;
  let response: Response | { seed: string } | undefined;
  let lifetimeSeconds = 3600;
  let lastFresh: AwsCredentialIdentity | undefined;
  let lastNonRecoverable: Error | undefined;
  let rateLimited = false;

  const source = async (): Promise<AwsCredentialIdentity> => {
    contacted++;
    const r = response;
    if (r === undefined) throw new Error('the source was contacted although the step named no response');
    if (typeof r === 'object') {
      return { accessKeyId: r.seed, secretAccessKey: 'seed-secret', expiration: new Date(3_600_000) };
    }
    switch (r) {
      case 'freshCredentials':
        issued++;
        return {
          accessKeyId: `AKID-new-${issued}`,
          secretAccessKey: 'secret',
          expiration: new Date(clockMs + lifetimeSeconds * 1000),
        };
      case 'staleCredentials':
        return { accessKeyId: 'AKID-stale', secretAccessKey: 'secret', expiration: new Date(clockMs) };
      case 'error':
        throw Object.assign(new Error('Rate exceeded'), {
          name: 'Throttling',
          $metadata: { httpStatusCode: 400 },
        });
      case 'nonRecoverableError':
        lastNonRecoverable = Object.assign(new Error('not authorized to perform sts:AssumeRole'), {
          name: 'AccessDenied',
          $metadata: { httpStatusCode: 403 },
        });
        throw lastNonRecoverable;
    }
  };

  const backoff = scenario.given.refreshBackoffSeconds;
  const advisory = scenario.given.configuredAdvisoryWindowSeconds;
  const provider = createRefreshingCredentials({
    source,
    now: () => clockMs,
    random: () => 0.5,
    proactiveRefresh: false,
    ...(backoff === undefined ? {} : { refreshBackoff: { minMs: backoff * 1000, maxMs: backoff * 1000 } }),
    ...(advisory === undefined ? {} : { advisoryWindowMs: advisory * 1000 }),
    onEvent: (event) => {
      if (event.type === 'served-stale' && event.cause === 'backoff') rateLimited = true;
    },
  });

  if (scenario.given.cachedCredentials !== 'none') {
    response = { seed: scenario.given.accessKeyId ?? 'AKID-seed' };
    lastFresh = await provider();
    expect(lastFresh.expiration?.getTime()).toBe(3_600_000);
    contacted = 0;
  }
  clockMs = START_SECONDS[scenario.given.cachedCredentials] * 1000;

  for (const [index, step] of scenario.steps.entries()) {
    const where = `step ${index} (${step.type})`;
    if (step.type === 'advanceTime') {
      clockMs += (step.seconds ?? Number.NaN) * 1000;
      continue;
    }
    if (step.type === 'invalidate') {
      provider.invalidate(step.rejectedAccessKeyId ?? '');
      continue;
    }
    expect(step.type, where).toBe('getCredentials');
    const expected = step.expected;
    if (!expected) throw new Error(`${where} has no expectation`);
    response = step.response;
    lifetimeSeconds = step.lifetimeSeconds ?? 3600;
    rateLimited = false;
    const before = contacted;
    const cachedBefore = lastFresh;
    const outcome = await provider().then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );

    switch (expected.result) {
      case 'cachedCredentials':
        expect('value' in outcome, `${where}: ${JSON.stringify(outcome)}`).toBe(true);
        if ('value' in outcome) expect(outcome.value.accessKeyId, where).toBe(cachedBefore?.accessKeyId);
        break;
      case 'newCredentials':
        expect('value' in outcome, `${where}: ${String('error' in outcome && outcome.error)}`).toBe(true);
        if ('value' in outcome) {
          expect(outcome.value.accessKeyId, where).toBe(`AKID-new-${issued}`);
          expect(outcome.value.accessKeyId, where).not.toBe(cachedBefore?.accessKeyId);
          lastFresh = outcome.value;
        }
        break;
      case 'noCredentialsError':
        expect('error' in outcome, where).toBe(true);
        if ('error' in outcome) {
          expect(outcome.error, where).toBeInstanceOf(CredentialsError);
          expect((outcome.error as CredentialsError).code, where).toBe('CREDENTIALS_UNAVAILABLE');
        }
        break;
      case 'nonRecoverableError':
        expect('error' in outcome, where).toBe(true);
        if ('error' in outcome) expect(outcome.error, where).toBe(lastNonRecoverable);
        break;
      default:
        throw new Error(`${where}: unknown expected result ${String(expected.result)}`);
    }
    expect(contacted > before, `${where}: sourceContacted`).toBe(expected.sourceContacted);
    expect(rateLimited, `${where}: rateLimited`).toBe(expected.rateLimited);
    if (expected.advisoryWindowSeconds !== undefined) {
      expect(provider.status().advisoryWindowMs, `${where}: advisory window`).toBe(
        expected.advisoryWindowSeconds * 1000,
      );
    }
  }
}

type Result = NonNullable<Step['expected']>['result'];

/** The same scenario straight through the pure rules, with no provider, promise or clock around them. */
function runScenarioOnRules(scenario: Scenario): void {
  const windows: RefreshWindows = {
    mandatoryWindowMs: 60_000,
    advisoryWindowMs:
      scenario.given.configuredAdvisoryWindowSeconds === undefined
        ? undefined
        : scenario.given.configuredAdvisoryWindowSeconds * 1000,
  };
  const backoffMs = (scenario.given.refreshBackoffSeconds ?? 450) * 1000;
  const half = () => 0.5;
  let state: RefreshState = { ...EMPTY_STATE };
  let key: string | undefined;
  let issued = 0;
  if (scenario.given.cachedCredentials !== 'none') {
    state = afterSuccess(state, 3_600_000, 0, windows, half);
    key = scenario.given.accessKeyId ?? 'AKID-seed';
  }
  let t = START_SECONDS[scenario.given.cachedCredentials] * 1000;

  for (const [index, step] of scenario.steps.entries()) {
    const where = `step ${index} (${step.type})`;
    if (step.type === 'advanceTime') {
      t += (step.seconds ?? Number.NaN) * 1000;
      continue;
    }
    if (step.type === 'invalidate') {
      if (state.cached && key === step.rejectedAccessKeyId) state = { ...state, invalidated: true };
      continue;
    }
    const expected = step.expected;
    if (!expected) throw new Error(`${where} has no expectation`);
    const decision = decide(state, t, windows, 'call');
    let result: Result;
    let contacted = false;
    let rateLimited = false;
    if (decision.do === 'serve') {
      result = 'cachedCredentials';
      rateLimited = decision.stale;
    } else if (decision.do === 'rethrow') {
      result = 'nonRecoverableError';
    } else if (decision.do === 'refresh') {
      contacted = true;
      if (step.response === 'freshCredentials') {
        state = afterSuccess(state, t + (step.lifetimeSeconds ?? 3600) * 1000, t, windows, half);
        key = `AKID-new-${++issued}`;
        result = 'newCredentials';
      } else {
        // 'staleCredentials' (already expired) and 'error' are recoverable; the rest is not.
        const recoverable = step.response !== 'nonRecoverableError';
        const next = afterFailure(state, { recoverable, t, backoffMs, errorTtlMs: 3_000 });
        state = next.state;
        result =
          next.outcome === 'throw'
            ? 'nonRecoverableError'
            : next.outcome === 'unavailable'
              ? 'noCredentialsError'
              : 'cachedCredentials';
      }
    } else {
      throw new Error(`${where}: a lone caller never joins or sleeps, got ${decision.do}`);
    }
    expect(result, where).toBe(expected.result);
    expect(contacted, `${where}: sourceContacted`).toBe(expected.sourceContacted);
    expect(rateLimited, `${where}: rateLimited`).toBe(expected.rateLimited);
    if (expected.advisoryWindowSeconds !== undefined) {
      expect(state.cached?.advisoryWindowMs, `${where}: advisory window`).toBe(
        expected.advisoryWindowSeconds * 1000,
      );
    }
  }
}

describe('AWS credential refresh conformance vectors, on the pure rules', () => {
  for (const [index, scenario] of scenarios.entries()) {
    it(`#${index + 1}: ${scenario.documentation}`, () => {
      runScenarioOnRules(scenario);
    });
  }
});

describe('AWS credential refresh conformance vectors', () => {
  it('has all 24 scenarios, each with only known step types', () => {
    expect(scenarios).toHaveLength(24);
    for (const scenario of scenarios) {
      expect(scenario.steps.length).toBeGreaterThan(0);
      for (const step of scenario.steps)
        expect(['getCredentials', 'advanceTime', 'invalidate']).toContain(step.type);
    }
  });

  it.runIf(existsSync(shared))('vendored copy matches the shared copy', () => {
    expect(readFileSync(vendored, 'utf8')).toBe(readFileSync(shared, 'utf8'));
  });

  for (const [index, scenario] of scenarios.entries()) {
    it(`#${index + 1}: ${scenario.documentation}`, async () => {
      await runScenario(scenario);
    });
  }
});
