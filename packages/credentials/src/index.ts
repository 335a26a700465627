export type { AwsFailure, ClassifiedAwsError } from './adapter-errors.js';
export {
  AdapterErrorCode,
  classifyAwsError,
  describeAwsFailure,
  isCredentialsError,
} from './adapter-errors.js';
export type {
  AssumedRoleProvider,
  AssumeRoleOptions,
  AssumeRoleParams,
  MfaOptions,
  SessionTag,
  StsOptions,
} from './assume-role.js';
export {
  createAssumeRoleSource,
  fromAssumeRole,
  isAssumedRoleProvider,
  validateAssumeRoleParams,
} from './assume-role.js';
export {
  awsErrorCode,
  awsRequestId,
  isExpiredCredentialsError,
  isRecoverableError,
} from './aws-error-codes.js';
export type { CredentialsErrorOptions } from './errors.js';
export { accountIdOf, CredentialsError, CredentialsErrorCode } from './errors.js';
export type {
  CredentialEvent,
  CredentialEventListener,
  CredentialSource,
  CredentialSourceContext,
  CredentialStatus,
  JitterRange,
  RefreshingCredentialProvider,
  RefreshingCredentialsOptions,
  RefreshReason,
  Timers,
} from './refreshing-credentials.js';
export { advisoryWindowFor, createRefreshingCredentials } from './refreshing-credentials.js';
export type {
  CallerIdentity,
  ClientConstructor,
  ClientInfo,
  ClientOverrides,
  CreateSessionOptions,
  Session,
  SessionClientConfig,
  SessionStatus,
} from './session.js';
export { createSession } from './session.js';
export type {
  RefreshDefaults,
  RoleConfig,
  SessionCache,
  SessionCacheOptions,
  SessionEvent,
} from './session-cache.js';
export { createSessionCache, roleKey } from './session-cache.js';
