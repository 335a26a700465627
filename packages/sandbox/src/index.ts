export type { AccountMutations } from './admin/account-admin.js';
export type { CallCounter, CallFilter } from './admin/call-counters.js';
export type { SandboxAdmin } from './admin/sandbox-admin.js';
export { type FixtureIssue, SandboxError, SandboxErrorCode } from './errors.js';
export { DEMO_ACCOUNTS, DEMO_EXTERNAL_ID, demoFixture } from './fixture/demo-fixture.js';
export type {
  AccountState,
  FixtureAccount,
  FixtureAccountInput,
  FixtureBucket,
  FixtureInput,
  FixtureInstance,
  FixtureObject,
  FixtureOrganization,
  FixtureOrganizationalUnit,
  FixtureOrganizationInput,
  FixtureRole,
  FixtureSecurityGroup,
  FixtureUser,
  FixtureVolume,
  FixtureVpc,
  SandboxFixture,
} from './fixture/fixture-schema.js';
export {
  type GenerateFixtureOptions,
  type GenerateOrganizationOptions,
  generateFixture,
  MANAGEMENT_ACCOUNT_ID,
  ORG_READER_ROLE_NAME,
  READER_ROLE_NAME,
  seededRandom,
} from './fixture/generate-fixture.js';
export { loadFixture } from './fixture/load-fixture.js';
export { DEFAULT_ORGANIZATION_ID } from './fixture/organization.js';
export {
  DEFAULT_THROTTLING,
  EC2_THROTTLING_CLASSES,
  type Ec2ThrottlingClass,
  type Ec2ThrottlingOptions,
  type FaultKind,
  type FaultRule,
  type KnobsSnapshot,
  type LatencyKnob,
  type LatencyOptions,
  type OrganizationsKnob,
  type ThrottlingOptions,
  type ThrottlingSettings,
  type TokenBucketSpec,
} from './knobs/knobs.js';
export type { ServiceName } from './server/aws-error.js';
export type { IssuedCredential } from './server/identity-store.js';
export { ORGANIZATIONS_MAX_RESULTS } from './services/organizations.js';
export { type Sandbox, type SandboxCredentials, type SandboxOptions, startSandbox } from './start-sandbox.js';
