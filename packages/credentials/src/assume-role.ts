import {
  AssumeRoleCommand,
  type AssumeRoleCommandOutput,
  STSClient,
  type STSClientConfig,
} from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { meterStsCall, meterStsClient } from './aws/rate-limits/meter-attempts.js';
import type { AwsRateLimiter } from './aws/rate-limits/rate-limiter.js';
import { awsErrorCode, awsRequestId, isRecoverableError } from './aws-error-codes.js';
import { accountIdOf, CredentialsError, CredentialsErrorCode } from './errors.js';
import {
  type CredentialSource,
  createRefreshingCredentials,
  type RefreshingCredentialProvider,
  type RefreshingCredentialsOptions,
} from './refreshing-credentials.js';
import { ROLE_ARN_PATTERN, ROLE_DURATION_SECONDS } from './role-names.js';
import { SDK_LOGGER_WITHOUT_INFO } from './sdk-settings.js';

/** A session tag passed to AssumeRole. */
export interface SessionTag {
  key: string;
  value: string;
}

/** MFA for roles that demand it: a fresh token code is asked for on every AssumeRole. */
export interface MfaOptions {
  serialNumber: string;
  tokenCode: () => Promise<string>;
}

/** What to assume: the parameters of one STS AssumeRole call. */
export interface AssumeRoleParams {
  /** `arn:aws:iam::123456789012:role/Reader` */
  roleArn: string;
  /**
   * 2 to 64 characters of `[\w+=,.@-]`.
   * @default `rolegraph-<unix seconds when the provider was made>`, stable for the provider's life
   */
  roleSessionName?: string;
  externalId?: string;
  /**
   * 900 to 43200. A chained hop (the source is itself an assumed role) is capped at 3600,
   * the most STS allows for role chaining.
   * @default 3600
   */
  durationSeconds?: number;
  /** An inline session policy (JSON). */
  policy?: string;
  policyArns?: string[];
  tags?: SessionTag[];
  transitiveTagKeys?: string[];
  sourceIdentity?: string;
  mfa?: MfaOptions;
}

/** Where and how STS is reached. */
export interface StsOptions {
  /**
   * The region whose regional STS endpoint is called.
   * @default process.env.AWS_REGION, else 'us-east-1'
   */
  stsRegion?: string;
  /** A custom STS endpoint, e.g. a VPC endpoint or the rolegraph sandbox. */
  stsEndpoint?: string;
  /**
   * The credentials that call AssumeRole: any SDK provider, or another assumed role for
   * role chaining (hub, then spoke).
   * @default the SDK's Node default chain (`defaultProvider` of `@aws-sdk/credential-provider-node`)
   */
  sourceCredentials?: AwsCredentialIdentityProvider;
  /** Extra STS client configuration (retry strategy, request handler, ...). */
  stsClientConfig?: Omit<STSClientConfig, 'region' | 'endpoint' | 'credentials'>;
  /**
   * Test-only: accept `durationSeconds` down to 1 instead of STS's 900, for a rolegraph sandbox
   * started with `allowShortSessions` (real STS refuses them).
   * @default false
   */
  allowShortSessions?: boolean;
  /**
   * Every AssumeRole attempt (the STS client's retries included) waits for a token of the STS
   * bucket of the source principal in `stsRegion`, bounded by the source timeout, and a
   * throttled one empties it. A session cache passes its own (`createSessionCache({ limits })`).
   * @default none: AssumeRole is not rate limited
   */
  stsRateLimiter?: AwsRateLimiter;
  /**
   * Who calls AssumeRole, naming its STS bucket (e.g. the hub role ARN of chained roles).
   * @default the access key id that signs the request, hashed
   */
  stsPrincipal?: string;
  /**
   * Share one STS client between every role given the same `clients` map and `key` (a session
   * cache keys it by source principal and STS region): the roles of one source then share its
   * client, retry quota and sockets, and memory does not grow by an SDK client per role.
   * @default a client of this role's own
   */
  stsClientPool?: { clients: Map<string, unknown>; key: string };
}

export type AssumeRoleOptions = AssumeRoleParams &
  StsOptions &
  Omit<RefreshingCredentialsOptions, 'source' | 'roleArn' | 'isRecoverable'>;

/** A refreshing provider for an assumed role; it knows what it assumes. */
export interface AssumedRoleProvider extends RefreshingCredentialProvider {
  readonly roleArn: string;
  readonly accountId: string;
  readonly roleSessionName: string;
}

const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;
const SOURCE_IDENTITY = /^[\w+=,.@-]{2,64}$/;
const POLICY_ARN = /^arn:aws(?:-cn|-us-gov|-iso|-iso-b)?:iam::(?:\d{12}|aws):policy\/.+$/;
const MAX_CHAINED_SECONDS = 3600;

/** Marks providers made here, so a chained hop can tell its source is an assumed role. */
const ASSUMED_ROLE = Symbol.for('rolegraph.assumedRole');

function fail(name: string, expectation: string, value: unknown): never {
  throw new TypeError(`${name} must be ${expectation}, got ${JSON.stringify(value)}`);
}

/** Check AssumeRole parameters the way STS would, before any call is made. */
export function validateAssumeRoleParams(
  params: AssumeRoleParams,
  sts: Pick<StsOptions, 'allowShortSessions'> = {},
): void {
  if (typeof params !== 'object' || params === null) fail('options', 'an object', params);
  if (typeof params.roleArn !== 'string' || !ROLE_ARN_PATTERN.test(params.roleArn)) {
    fail('roleArn', 'an IAM role ARN like arn:aws:iam::123456789012:role/Name', params.roleArn);
  }
  const {
    roleSessionName,
    externalId,
    durationSeconds,
    sourceIdentity,
    policyArns,
    tags,
    transitiveTagKeys,
  } = params;
  if (
    roleSessionName !== undefined &&
    (typeof roleSessionName !== 'string' || !SESSION_NAME.test(roleSessionName))
  ) {
    fail('roleSessionName', '2 to 64 characters of [\\w+=,.@-]', roleSessionName);
  }
  if (externalId !== undefined && (typeof externalId !== 'string' || !EXTERNAL_ID.test(externalId))) {
    fail('externalId', '2 to 1224 characters of [\\w+=,.@:/-]', externalId);
  }
  const minSeconds = sts.allowShortSessions === true ? 1 : ROLE_DURATION_SECONDS.min;
  const { max } = ROLE_DURATION_SECONDS;
  if (
    durationSeconds !== undefined &&
    (!Number.isInteger(durationSeconds) || durationSeconds < minSeconds || durationSeconds > max)
  ) {
    fail('durationSeconds', `an integer from ${minSeconds} to ${max}`, durationSeconds);
  }
  if (
    sourceIdentity !== undefined &&
    (typeof sourceIdentity !== 'string' || !SOURCE_IDENTITY.test(sourceIdentity))
  ) {
    fail('sourceIdentity', '2 to 64 characters of [\\w+=,.@-]', sourceIdentity);
  }
  if (params.policy !== undefined && (typeof params.policy !== 'string' || params.policy.length === 0)) {
    fail('policy', 'a non-empty JSON policy document', params.policy);
  }
  if (policyArns !== undefined) {
    if (!Array.isArray(policyArns) || policyArns.length > 10)
      fail('policyArns', 'an array of at most 10 ARNs', policyArns);
    for (const arn of policyArns) {
      if (typeof arn !== 'string' || !POLICY_ARN.test(arn)) fail('policyArns[]', 'an IAM policy ARN', arn);
    }
  }
  if (tags !== undefined) {
    if (!Array.isArray(tags) || tags.length > 50) fail('tags', 'an array of at most 50 { key, value }', tags);
    for (const tag of tags) {
      if (typeof tag?.key !== 'string' || tag.key.length === 0 || tag.key.length > 128)
        fail('tags[].key', '1 to 128 characters', tag?.key);
      if (typeof tag.value !== 'string' || tag.value.length > 256)
        fail('tags[].value', 'at most 256 characters', tag.value);
    }
  }
  if (
    transitiveTagKeys !== undefined &&
    (!Array.isArray(transitiveTagKeys) || transitiveTagKeys.some((k) => typeof k !== 'string'))
  ) {
    fail('transitiveTagKeys', 'an array of tag keys', transitiveTagKeys);
  }
  if (params.mfa !== undefined) {
    if (typeof params.mfa.serialNumber !== 'string' || params.mfa.serialNumber.length < 9) {
      fail('mfa.serialNumber', 'an MFA device serial number or ARN', params.mfa.serialNumber);
    }
    if (typeof params.mfa.tokenCode !== 'function')
      fail('mfa.tokenCode', 'a function returning the current code', typeof params.mfa.tokenCode);
  }
}

/** Whether a provider is an assumed role made by this package (so a hop on it is chained). */
export function isAssumedRoleProvider(provider: unknown): provider is AssumedRoleProvider {
  return (
    typeof provider === 'function' && (provider as unknown as Record<symbol, unknown>)[ASSUMED_ROLE] === true
  );
}

let defaultChain: AwsCredentialIdentityProvider | undefined;
/** The SDK's Node default chain, made once per process and only when first needed. */
export async function defaultSourceCredentials(): Promise<AwsCredentialIdentityProvider> {
  if (!defaultChain) {
    const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
    defaultChain = defaultProvider();
  }
  return defaultChain;
}

/**
 * A credential source that calls STS AssumeRole with one reused STS client. It does not
 * cache: wrap it with `createRefreshingCredentials`, or use `fromAssumeRole`, which does.
 * Failures become `CredentialsError`s classified recoverable or not by AWS error code.
 */
export function createAssumeRoleSource(
  options: AssumeRoleParams & StsOptions & { roleSessionName: string },
): CredentialSource {
  validateAssumeRoleParams(options, options);
  const { roleArn } = options;
  const chained = isAssumedRoleProvider(options.sourceCredentials);
  const durationSeconds = chained
    ? Math.min(options.durationSeconds ?? MAX_CHAINED_SECONDS, MAX_CHAINED_SECONDS)
    : options.durationSeconds;
  let client: STSClient | undefined;

  const pool = options.stsClientPool;
  const region = options.stsRegion ?? process.env.AWS_REGION ?? 'us-east-1';
  const stsClient = async (): Promise<STSClient> => {
    if (!client && pool) client = pool.clients.get(pool.key) as STSClient | undefined;
    if (!client) {
      const credentials = options.sourceCredentials ?? (await defaultSourceCredentials());
      client = new STSClient({
        logger: SDK_LOGGER_WITHOUT_INFO,
        ...options.stsClientConfig,
        region,
        credentials,
        ...(options.stsEndpoint ? { endpoint: options.stsEndpoint } : {}),
      });
      if (options.stsRateLimiter) {
        meterStsClient(client, options.stsRateLimiter, { region, principal: options.stsPrincipal });
      }
      // Another role of the pool may have made one meanwhile (the source credentials are async).
      const pooled = pool?.clients.get(pool.key) as STSClient | undefined;
      if (pooled) {
        client.destroy();
        client = pooled;
      } else {
        pool?.clients.set(pool.key, client);
      }
    }
    return client;
  };

  return async ({ signal }): Promise<AwsCredentialIdentity> => {
    const sts = await stsClient();
    let output: AssumeRoleCommandOutput;
    try {
      const command = new AssumeRoleCommand({
        RoleArn: roleArn,
        RoleSessionName: options.roleSessionName,
        ExternalId: options.externalId,
        DurationSeconds: durationSeconds,
        Policy: options.policy,
        PolicyArns: options.policyArns?.map((arn) => ({ arn })),
        Tags: options.tags?.map((tag) => ({ Key: tag.key, Value: tag.value })),
        TransitiveTagKeys: options.transitiveTagKeys,
        SourceIdentity: options.sourceIdentity,
        SerialNumber: options.mfa?.serialNumber,
        TokenCode: options.mfa ? await options.mfa.tokenCode() : undefined,
      });
      // The first attempt's token, before the SDK pipeline (the client's meter takes the rest).
      if (options.stsRateLimiter) {
        const meter = { region, principal: options.stsPrincipal };
        await meterStsCall(sts, options.stsRateLimiter, meter, 'AssumeRole', command.input, signal);
      }
      output = await sts.send(command, { abortSignal: signal });
    } catch (error) {
      throw toCredentialsError(error, roleArn, options.sourceCredentials === undefined);
    }
    const c = output.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !(c.Expiration instanceof Date)) {
      throw new CredentialsError(`STS AssumeRole for ${roleArn} answered without complete credentials`, {
        code: CredentialsErrorCode.INVALID_CREDENTIALS,
        retryable: true,
        roleArn,
        requestId: output.$metadata.requestId,
      });
    }
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration,
      accountId: accountIdOf(roleArn),
    };
  };
}

/** The SDK's own names for "this credential provider found nothing". */
const PROVIDER_ERRORS = new Set(['CredentialsProviderError', 'TokenProviderError', 'ProviderError']);
const DEFAULT_CHAIN =
  "the AWS SDK's default chain (environment variables; SSO, credentials and config files for AWS_PROFILE; a web identity token; container and instance metadata)";

/**
 * When the source credentials themselves cannot be loaded, the `SOURCE_CREDENTIALS_UNAVAILABLE`
 * error that says so; otherwise `undefined`. No AWS call was made, so none is named.
 */
export function sourceCredentialsError(
  error: unknown,
  options: { roleArn?: string | undefined; defaultChain: boolean },
): CredentialsError | undefined {
  if (!(error instanceof Error) || !PROVIDER_ERRORS.has(error.name)) return undefined;
  const tried = options.defaultChain ? DEFAULT_CHAIN : 'the configured source credentials provider';
  const target = options.roleArn ? `assume ${options.roleArn}` : 'call STS';
  return new CredentialsError(
    `No source credentials to ${target}: ${tried} found none (${error.message}). Provide credentials (e.g. AWS_PROFILE, or aws sso login) and retry.`,
    {
      code: CredentialsErrorCode.SOURCE_CREDENTIALS_UNAVAILABLE,
      retryable: false,
      roleArn: options.roleArn,
      awsCode: error.name,
      cause: error,
    },
  );
}

function toCredentialsError(error: unknown, roleArn: string, defaultChain: boolean): CredentialsError {
  if (error instanceof CredentialsError) return error;
  const missing = sourceCredentialsError(error, { roleArn, defaultChain });
  if (missing) return missing;
  const retryable = isRecoverableError(error);
  const awsCode = awsErrorCode(error);
  const account = accountIdOf(roleArn);
  const message =
    error instanceof Error && error.name === 'AbortError'
      ? 'the call was aborted'
      : `${awsCode ?? 'error'}${error instanceof Error && error.message ? `: ${error.message}` : ''}`;
  return new CredentialsError(`AssumeRole ${roleArn} (account ${account}) failed: ${message}`, {
    code: retryable ? CredentialsErrorCode.ASSUME_ROLE_FAILED : CredentialsErrorCode.ASSUME_ROLE_REJECTED,
    retryable,
    roleArn,
    awsCode,
    requestId: awsRequestId(error),
    cause: error,
  });
}

/**
 * Assumed-role credentials that assume on first use and refresh themselves, following AWS's
 * consistent credential refresh rules. The TypeScript counterpart of botocore's
 * `AssumeRoleCredentialFetcher` + `DeferredRefreshableCredentials`.
 *
 * @example
 * const credentials = fromAssumeRole({ roleArn: 'arn:aws:iam::123456789012:role/Reader' });
 * const ec2 = new EC2Client({ region: 'eu-west-1', credentials });
 *
 * @example Role chaining: each hop is cached and refreshed on its own.
 * const hub = fromAssumeRole({ roleArn: 'arn:aws:iam::111111111111:role/Hub' });
 * const spoke = fromAssumeRole({ roleArn: 'arn:aws:iam::222222222222:role/Reader', sourceCredentials: hub });
 */
export function fromAssumeRole(options: AssumeRoleOptions): AssumedRoleProvider {
  validateAssumeRoleParams(options, options);
  const now = options.now ?? Date.now;
  const roleSessionName = options.roleSessionName ?? `rolegraph-${Math.floor(now() / 1000)}`;
  const source = createAssumeRoleSource({ ...options, roleSessionName });
  const provider = createRefreshingCredentials({
    ...options,
    source,
    roleArn: options.roleArn,
    isRecoverable: (error) =>
      error instanceof CredentialsError ? error.retryable : isRecoverableError(error),
  });
  const accountId = accountIdOf(options.roleArn) ?? '';
  return Object.assign(provider, {
    roleArn: options.roleArn,
    accountId,
    roleSessionName,
    [ASSUMED_ROLE]: true,
  });
}
