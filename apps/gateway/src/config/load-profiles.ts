import { accountIdOf, isRoleDurationSeconds, REGION_PATTERN, ROLE_ARN_PATTERN } from '@rolegraph/credentials';
import { loadSharedConfigFiles } from '@smithy/shared-ini-file-loader';
import { ConfigError, type ConfigIssue } from './config-error.js';
import { type AccountConfig, type AccountSource, aliasSchema } from './config-schema.js';

/** A profile section as the shared-config loader returns it. */
export type ProfileSection = Record<string, string | undefined>;

export interface ProfileFiles {
  configFile: Record<string, ProfileSection>;
  credentialsFile: Record<string, ProfileSection>;
}

export interface LoadProfilesOptions {
  names: string[];
  configFile?: string | undefined;
  credentialsFile?: string | undefined;
  /** Where the profiles are read from; injectable for tests. @default loadSharedConfigFiles */
  loadFiles?: (init: { configFilepath?: string; filepath?: string }) => Promise<ProfileFiles>;
}

function sourceOf(
  name: string,
  files: ProfileFiles,
  issues: ConfigIssue[],
  seen: Set<string>,
): AccountSource | undefined {
  if (seen.has(name)) {
    issues.push({ path: `profiles.${name}.source_profile`, message: 'source_profile chain loops' });
    return undefined;
  }
  seen.add(name);
  const section = { ...files.credentialsFile[name], ...files.configFile[name] };
  if (Object.keys(section).length === 0) {
    issues.push({
      path: `profiles.${name}`,
      message: 'no such profile in the AWS config or credentials file',
    });
    return undefined;
  }
  if (section.role_arn) {
    const role = roleOf(name, section, files, issues, seen);
    return role ? { kind: 'role', profile: name, ...role } : undefined;
  }
  if (section.aws_access_key_id && section.aws_secret_access_key) {
    return {
      kind: 'static',
      profile: name,
      accessKeyId: section.aws_access_key_id,
      secretAccessKey: section.aws_secret_access_key,
      sessionToken: section.aws_session_token,
    };
  }
  issues.push({
    path: `profiles.${name}`,
    message:
      'a source profile must hold static keys or a role_arn (sso and credential_process are not supported)',
  });
  return undefined;
}

function roleOf(
  name: string,
  section: ProfileSection,
  files: ProfileFiles,
  issues: ConfigIssue[],
  seen: Set<string>,
):
  | {
      roleArn: string;
      externalId?: string;
      durationSeconds?: number;
      sessionName?: string;
      source?: AccountSource;
    }
  | undefined {
  const at = (field: string) => `profiles.${name}.${field}`;
  const roleArn = section.role_arn ?? '';
  if (!ROLE_ARN_PATTERN.test(roleArn)) {
    issues.push({ path: at('role_arn'), message: `must be an IAM role ARN, got ${JSON.stringify(roleArn)}` });
    return undefined;
  }
  if (section.mfa_serial) {
    // A server has nobody to type the token code; refusing beats hanging at the first request.
    issues.push({
      path: at('mfa_serial'),
      message: 'MFA profiles need an interactive token code and cannot be served',
    });
    return undefined;
  }
  let durationSeconds: number | undefined;
  if (section.duration_seconds !== undefined) {
    durationSeconds = Number(section.duration_seconds);
    if (!isRoleDurationSeconds(durationSeconds)) {
      issues.push({ path: at('duration_seconds'), message: 'must be an integer from 900 to 43200' });
      return undefined;
    }
  }
  let source: AccountSource | undefined;
  if (section.source_profile) {
    source = sourceOf(section.source_profile, files, issues, seen);
    if (!source) return undefined;
  } else if (section.credential_source) {
    // Environment / Ec2InstanceMetadata / EcsContainer: the default chain finds the same credentials.
    source = undefined;
  }
  return {
    roleArn,
    ...(section.external_id ? { externalId: section.external_id } : {}),
    ...(durationSeconds ? { durationSeconds } : {}),
    ...(section.role_session_name ? { sessionName: section.role_session_name } : {}),
    ...(source ? { source } : {}),
  };
}

/**
 * Accounts from AWS CLI profiles (`role_arn`, `source_profile`, `external_id`,
 * `duration_seconds`, `region`, `role_session_name`; `mfa_serial` is refused), read with the
 * SDK's shared-config loader. The alias is the profile name; `region` gives the one region.
 *
 * @example
 * const accounts = await loadProfileAccounts({ names: ['prod-reader', 'staging-reader'] });
 */
export async function loadProfileAccounts(options: LoadProfilesOptions): Promise<AccountConfig[]> {
  const load = options.loadFiles ?? ((init) => loadSharedConfigFiles(init) as Promise<ProfileFiles>);
  const files = await load({
    ...(options.configFile ? { configFilepath: options.configFile } : {}),
    ...(options.credentialsFile ? { filepath: options.credentialsFile } : {}),
  });
  const issues: ConfigIssue[] = [];
  const accounts: AccountConfig[] = [];
  for (const name of options.names) {
    // The profile name becomes the alias, so it follows the alias rules (and is never an account id).
    const alias = aliasSchema.safeParse(name);
    if (!alias.success) {
      issues.push({
        path: 'profiles.names',
        message: `profile ${JSON.stringify(name)} cannot be an alias: ${alias.error.issues[0]?.message ?? 'invalid'}`,
      });
      continue;
    }
    const section = { ...files.credentialsFile[name], ...files.configFile[name] };
    if (Object.keys(section).length === 0) {
      issues.push({
        path: `profiles.${name}`,
        message: 'no such profile in the AWS config or credentials file',
      });
      continue;
    }
    if (!section.role_arn) {
      issues.push({
        path: `profiles.${name}.role_arn`,
        message: 'is required: the gateway only serves assumed roles',
      });
      continue;
    }
    const region = section.region ?? 'us-east-1';
    if (!REGION_PATTERN.test(region)) {
      issues.push({
        path: `profiles.${name}.region`,
        message: `must be a region such as us-east-1, got ${region}`,
      });
      continue;
    }
    const role = roleOf(name, section, files, issues, new Set([name]));
    if (!role) continue;
    accounts.push({
      alias: name,
      accountId: accountIdOf(role.roleArn) ?? '',
      roleArn: role.roleArn,
      externalId: role.externalId,
      regions: [region],
      sessionName: role.sessionName,
      durationSeconds: role.durationSeconds,
      source: role.source,
    });
  }
  if (issues.length > 0) throw new ConfigError(options.configFile ?? '~/.aws/config', issues);
  return accounts;
}
