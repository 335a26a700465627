import { NODE_APP_ID_CONFIG_OPTIONS } from '@aws-sdk/core/client';
import { NODE_AUTH_SCHEME_PREFERENCE_OPTIONS } from '@aws-sdk/core/httpAuthSchemes';
import {
  loadConfig,
  NODE_USE_DUALSTACK_ENDPOINT_CONFIG_OPTIONS,
  NODE_USE_FIPS_ENDPOINT_CONFIG_OPTIONS,
} from '@smithy/core/config';

/**
 * The settings every SDK v3 client reads from the environment and the shared config files
 * (`AWS_USE_FIPS_ENDPOINT` / `use_fips_endpoint`, `AWS_USE_DUALSTACK_ENDPOINT`, `AWS_SDK_UA_APP_ID`,
 * `AWS_AUTH_SCHEME_PREFERENCE`), as providers made once per process with the SDK's own loaders.
 *
 * A client left to itself builds a fresh provider chain for each of them and runs it at its first
 * request: the environment, then the profile files, then the default, each miss an Error with a
 * stack. A session cache makes one client per account, service and region, so an organization
 * pays that thousands of times; these providers run the chain once and every client shares the
 * answer (the same values the SDK would read, for the default profile).
 */
export interface SharedSdkSettings {
  useFipsEndpoint: () => Promise<boolean>;
  useDualstackEndpoint: () => Promise<boolean>;
  userAgentAppId: () => Promise<string | undefined>;
  authSchemePreference: () => Promise<string[]>;
}

let shared: SharedSdkSettings | undefined;

/**
 * The process's shared settings providers, made on first use. Not for clients given a `profile`
 * of their own: the SDK reads these settings from that profile (see `sharedSdkSettingsFor`).
 *
 * @example
 * new EC2Client({ region, credentials, ...sharedSdkSettings() });
 */
export function sharedSdkSettings(): SharedSdkSettings {
  shared ??= {
    useFipsEndpoint: loadConfig(NODE_USE_FIPS_ENDPOINT_CONFIG_OPTIONS),
    useDualstackEndpoint: loadConfig(NODE_USE_DUALSTACK_ENDPOINT_CONFIG_OPTIONS),
    userAgentAppId: loadConfig(NODE_APP_ID_CONFIG_OPTIONS),
    authSchemePreference: loadConfig(NODE_AUTH_SCHEME_PREFERENCE_OPTIONS),
  };
  return shared;
}

/**
 * The shared settings a client built from `config` can use: all of them unless `config` names a
 * `profile` (then none: the SDK reads them from that profile). Keys `config` sets itself win
 * anyway, since `config` is spread over these.
 */
export function sharedSdkSettingsFor(config: Record<string, unknown>): Partial<SharedSdkSettings> {
  return config.profile === undefined ? sharedSdkSettings() : {};
}
