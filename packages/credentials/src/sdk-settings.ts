import { NODE_APP_ID_CONFIG_OPTIONS } from '@aws-sdk/core/client';
import { NODE_AUTH_SCHEME_PREFERENCE_OPTIONS } from '@aws-sdk/core/httpAuthSchemes';
import { loadConfigsForDefaultMode } from '@smithy/core/client';
import {
  loadConfig,
  NODE_USE_DUALSTACK_ENDPOINT_CONFIG_OPTIONS,
  NODE_USE_FIPS_ENDPOINT_CONFIG_OPTIONS,
  resolveDefaultsModeConfig,
} from '@smithy/core/config';
import { DEFAULT_RETRY_MODE, NODE_RETRY_MODE_CONFIG_OPTIONS } from '@smithy/core/retry';
import type { Logger } from '@smithy/types';

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
 * The settings that also depend on the client's region, shared by the clients of one region:
 * `defaultsMode` (`AWS_DEFAULTS_MODE` / `defaults_mode`; in `auto` mode the SDK compares the
 * client's region with the one it runs in) and `retryMode` (`AWS_RETRY_MODE` / `retry_mode`,
 * defaulting from the defaults mode). A client that chooses no `retryStrategy` of its own (one
 * given `maxAttempts` only, as the demo's) reads both at its first request.
 */
export interface RegionalSdkSettings {
  defaultsMode: () => Promise<string | undefined>;
  retryMode: () => Promise<string>;
}

const byRegion = new Map<string, RegionalSdkSettings>();

function regionalSdkSettings(region: string): RegionalSdkSettings {
  let settings = byRegion.get(region);
  if (!settings) {
    // The SDK's own resolution, as a client of this region builds it (memoized by the SDK).
    const defaultsMode = resolveDefaultsModeConfig({ region });
    settings = {
      defaultsMode,
      retryMode: loadConfig({
        ...NODE_RETRY_MODE_CONFIG_OPTIONS,
        default: async () =>
          loadConfigsForDefaultMode((await defaultsMode()) as never).retryMode || DEFAULT_RETRY_MODE,
      }),
    };
    byRegion.set(region, settings);
  }
  return settings;
}

/**
 * The shared settings a client built from `config` can use: all of them unless `config` names a
 * `profile` (then none: the SDK reads them from that profile); the regional ones only for a
 * `region` given as a string, and not when `config` chooses a `defaultsMode` (the retry mode
 * defaults from it). Keys `config` sets itself win anyway, since `config` is spread over these.
 */
export function sharedSdkSettingsFor(
  config: Record<string, unknown>,
): Partial<SharedSdkSettings & RegionalSdkSettings> {
  if (config.profile !== undefined) return {};
  const { region } = config;
  if (typeof region !== 'string' || config.defaultsMode !== undefined) return sharedSdkSettings();
  return { ...sharedSdkSettings(), ...regionalSdkSettings(region) };
}

/**
 * The logger session clients get unless their configuration names one: it drops everything,
 * like the SDK's default `NoOpLogger`, but has no `info`. The SDK's logger middleware builds
 * its per-call info entry (`logger?.info?.({ input: filter(input), output: filter(output) })`)
 * only when the logger has `info`: with the default logger every call walks its whole output
 * through the schema's sensitive-data filter for an entry nobody reads (1.8% of the gateway's
 * CPU in a warm org-wide query, in `schemaLogFilter` alone). Give clients a logger of your own
 * (`clientDefaults.logger`) to see the SDK's entries.
 */
export const SDK_LOGGER_WITHOUT_INFO: Logger = Object.freeze({
  trace() {},
  debug() {},
  warn() {},
  error() {},
  // Typed as the SDK's Logger, whose `info` the SDK only ever calls as `logger?.info?.(...)`.
}) as unknown as Logger;
