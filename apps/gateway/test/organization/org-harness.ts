import type { SandboxOptions } from '@rolegraph/sandbox';
import type { Gateway, GatewayDeps } from '../../src/create-gateway.js';
import { type Harness, startHarness } from '../helpers.js';
import { MEMBER_EXTERNAL_ID, nestedOrganization, ORG_READER_ROLE, REGIONS } from './org-fixture.js';

/** What every organization test configures unless it says otherwise. */
export const ORGANIZATION = {
  roleArn: ORG_READER_ROLE,
  memberRoleArn: 'arn:aws:iam::{accountId}:role/RolegraphReader',
  memberExternalId: MEMBER_EXTERNAL_ID,
  regions: REGIONS,
  // Tests call gateway.accounts.rediscover() themselves unless they test the interval.
  rediscoverSeconds: 0,
};

/** Polls `condition` every 20 ms until it holds; fails after `timeoutMs` (generous: the machine is loaded). */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Waits for the first discovery to have run (succeeded or failed). */
export function discovered(gateway: Gateway): Promise<void> {
  return waitFor(
    () => gateway.accounts.status().state === 'ready' || gateway.accounts.status().failures > 0,
    'the first discovery',
  );
}

/**
 * A sandbox with an organization (the nested one by default) and a gateway that discovers it:
 * no static accounts unless `config.accounts` says so; the organization walk backs off in
 * milliseconds instead of seconds.
 */
export async function startOrgHarness(
  options: {
    fixture?: SandboxOptions['fixture'];
    organization?: Record<string, unknown>;
    config?: Record<string, unknown>;
    sandbox?: SandboxOptions;
    deps?: Partial<GatewayDeps>;
    /** Wait for the first discovery before returning. @default true */
    wait?: boolean;
  } = {},
): Promise<Harness> {
  const harness = await startHarness({
    sandbox: { fixture: options.fixture ?? nestedOrganization(), ...options.sandbox },
    // The answer cache off unless a test turns it on: these tests follow sessions and calls, and
    // an in-process query loop answered from memory never lets the re-discovery timers run.
    config: {
      accounts: [],
      cache: { enabled: false },
      ...options.config,
      organization: { ...ORGANIZATION, ...options.organization },
    },
    deps: { discovery: { backoff: { baseMs: 20, maxMs: 200 } }, ...options.deps },
  });
  if (options.wait ?? true) await discovered(harness.gateway);
  return harness;
}
