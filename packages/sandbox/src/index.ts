export type { CallCounter, CallFilter } from './admin/call-counters.js';
export type { SandboxAdmin } from './admin/sandbox-admin.js';
export { type FixtureIssue, SandboxError, SandboxErrorCode } from './errors.js';
export { DEMO_ACCOUNTS, DEMO_EXTERNAL_ID, demoFixture } from './fixture/demo-fixture.js';
export type {
  FixtureAccount,
  FixtureBucket,
  FixtureInput,
  FixtureInstance,
  FixtureObject,
  FixtureRole,
  FixtureSecurityGroup,
  FixtureUser,
  FixtureVolume,
  FixtureVpc,
  SandboxFixture,
} from './fixture/fixture-schema.js';
export { type GenerateFixtureOptions, generateFixture, seededRandom } from './fixture/generate-fixture.js';
export { loadFixture } from './fixture/load-fixture.js';
export {
  DEFAULT_THROTTLING,
  type FaultKind,
  type FaultRule,
  type KnobsSnapshot,
  type LatencyKnob,
  type LatencyOptions,
  type ThrottlingOptions,
  type TokenBucketSpec,
} from './knobs/knobs.js';
export type { ServiceName } from './server/aws-error.js';
export type { IssuedCredential } from './server/identity-store.js';
export { type Sandbox, type SandboxCredentials, type SandboxOptions, startSandbox } from './start-sandbox.js';
