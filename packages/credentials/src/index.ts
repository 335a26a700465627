export type {
  AssumedRoleProvider,
  AssumeRoleOptions,
  AssumeRoleParams,
  MfaOptions,
  SessionTag,
  StsOptions,
} from './assume-role.js';
export { fromAssumeRole } from './assume-role.js';
export { AdapterErrorCode } from './aws/error-table.js';
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
export { createRefreshingCredentials } from './refreshing-credentials.js';
export {
  isRoleDurationSeconds,
  REGION_PATTERN,
  ROLE_ARN_PATTERN,
  ROLE_DURATION_SECONDS,
} from './role-names.js';
export type { SharedSdkSettings } from './sdk-settings.js';
export { SDK_LOGGER_WITHOUT_INFO, sharedSdkSettings } from './sdk-settings.js';
export type {
  CallerIdentity,
  ClientConstructor,
  ClientOverrides,
  CreateSessionOptions,
  Session,
  SessionClientConfig,
  SessionStatus,
} from './session.js';
export type {
  RefreshDefaults,
  RoleConfig,
  SessionCache,
  SessionCacheOptions,
  SessionEvent,
} from './session-cache.js';
export { createSessionCache } from './session-cache.js';
export type { ClientInfo } from './session-clients.js';
export { sessionOfCall } from './session-clients.js';
export type { SharedRequestHandler, SharedRequestHandlerOptions } from './shared-request-handler.js';
export { createSharedRequestHandler } from './shared-request-handler.js';
