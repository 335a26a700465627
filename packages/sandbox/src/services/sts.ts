import type { FixtureAccount, FixtureRole, SandboxFixture } from '../fixture/fixture-schema.js';
import { AwsError } from '../server/aws-error.js';
import type { IdentityStore, Principal } from '../server/identity-store.js';
import type { QueryParams, ServiceRequest, ServiceResponse } from '../server/service-types.js';
import { el, isoSeconds, XML_DECLARATION } from '../server/xml.js';

const NS = 'https://sts.amazonaws.com/doc/2011-06-15/';
export const STS_OPERATIONS = ['AssumeRole', 'GetCallerIdentity'] as const;

export interface StsServiceOptions {
  fixture: SandboxFixture;
  identities: IdentityStore;
  /** Test-only: DurationSeconds may go down to 1. */
  allowShortSessions: boolean;
  /** Test-only: every minted session lasts at most this long, whatever DurationSeconds asked. */
  maxSessionSeconds?: number | undefined;
  isAccountEnabled: (accountId: string) => boolean;
}

// Printable characters as STS allows in an ARN (tab, CR and LF included), built without control-character literals.
const roleArnChars = new RegExp(
  `^[${String.fromCharCode(9, 10, 13)}\\u0020-\\u007E\\u0085\\u00A0-\\uD7FF\\uE000-\\uFFFD]*$`,
  'u',
);
const sessionNamePattern = /^[\w+=,.@-]*$/;
const externalIdPattern = /^[\w+=,.@:/-]*$/;
const roleArnPattern = /^arn:aws:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]+)$/;

function validationError(messages: string[]): AwsError {
  const n = messages.length;
  return new AwsError(
    400,
    'ValidationError',
    `${n} validation error${n === 1 ? '' : 's'} detected: ${messages.join('; ')}`,
  );
}

function lengthChecks(
  field: string,
  value: string | undefined,
  min: number,
  max: number,
  pattern: RegExp,
  patternText: string,
  out: string[],
): void {
  if (value === undefined) return;
  if (value.length < min)
    out.push(
      `Value '${value}' at '${field}' failed to satisfy constraint: Member must have length greater than or equal to ${min}`,
    );
  if (value.length > max)
    out.push(
      `Value '${value}' at '${field}' failed to satisfy constraint: Member must have length less than or equal to ${max}`,
    );
  if (!pattern.test(value))
    out.push(
      `Value '${value}' at '${field}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${patternText}`,
    );
}

function response(action: string, result: string, requestId: string): ServiceResponse {
  return {
    body:
      `${XML_DECLARATION}<${action}Response xmlns="${NS}"><${action}Result>${result}</${action}Result>` +
      `<ResponseMetadata>${el('RequestId', requestId)}</ResponseMetadata></${action}Response>`,
  };
}

export function createStsService(options: StsServiceOptions) {
  const roles = new Map<string, FixtureRole>();
  for (const account of options.fixture.accounts) for (const role of account.roles) roles.set(role.arn, role);

  function trusts(role: FixtureRole, caller: Principal, externalId: string | undefined): boolean {
    return role.trust.some((statement) => {
      const p = statement.principal;
      const matches =
        p === '*' ||
        p === caller.arn ||
        (caller.roleArn !== undefined && p === caller.roleArn) ||
        p === caller.accountId ||
        p === `arn:aws:iam::${caller.accountId}:root`;
      return matches && (statement.externalId === undefined || statement.externalId === externalId);
    });
  }

  function assumeRole(params: QueryParams, req: ServiceRequest): ServiceResponse {
    const roleArn = params.get('RoleArn');
    const sessionName = params.get('RoleSessionName');
    const externalId = params.get('ExternalId');
    const durationText = params.get('DurationSeconds');
    const minDuration = options.allowShortSessions ? 1 : 900;
    const problems: string[] = [];
    if (roleArn === undefined)
      problems.push(`Value null at 'roleArn' failed to satisfy constraint: Member must not be null`);
    else
      lengthChecks(
        'roleArn',
        roleArn,
        20,
        2048,
        roleArnChars,
        '[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u0085\\u00A0-\\uD7FF\\uE000-\\uFFFD\\u10000-\\u10FFFF]+',
        problems,
      );
    if (sessionName === undefined)
      problems.push(`Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null`);
    else lengthChecks('roleSessionName', sessionName, 2, 64, sessionNamePattern, '[\\w+=,.@-]*', problems);
    lengthChecks('externalId', externalId, 2, 1224, externalIdPattern, '[\\w+=,.@:\\/-]*', problems);
    let duration = 3600;
    if (durationText !== undefined) {
      duration = Number(durationText);
      if (!/^-?\d+$/.test(durationText)) {
        problems.push(
          `Value '${durationText}' at 'durationSeconds' failed to satisfy constraint: Member must be an integer`,
        );
      } else if (duration < minDuration) {
        problems.push(
          `Value '${durationText}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to ${minDuration}`,
        );
      } else if (duration > 43200) {
        problems.push(
          `Value '${durationText}' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200`,
        );
      }
    }
    if (problems.length > 0) throw validationError(problems);
    const arn = roleArn as string;
    if (!roleArnPattern.test(arn)) throw new AwsError(400, 'ValidationError', `${arn} is invalid`);
    const caller = req.principal;
    const role = roles.get(arn);
    if (
      role === undefined ||
      !options.isAccountEnabled(role.accountId) ||
      !trusts(role, caller, externalId)
    ) {
      throw new AwsError(
        403,
        'AccessDenied',
        `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${arn}`,
      );
    }
    if (caller.roleArn !== undefined && duration > 3600) {
      throw new AwsError(
        400,
        'ValidationError',
        'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
      );
    }
    if (duration > role.maxSessionDuration) {
      throw new AwsError(
        400,
        'ValidationError',
        'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
      );
    }
    // Expirations are whole seconds on the wire, so the session ends exactly at the advertised instant.
    const lifetime = Math.min(
      duration,
      options.maxSessionSeconds ?? duration,
      role.sessionLifetimeSeconds ?? duration,
    );
    const expiresAt = Math.floor(req.now / 1000) * 1000 + lifetime * 1000;
    const session = options.identities.mint(role, sessionName as string, expiresAt, req.now);
    return response(
      'AssumeRole',
      `<Credentials>${el('AccessKeyId', session.accessKeyId)}${el('SecretAccessKey', session.secretAccessKey)}` +
        `${el('SessionToken', session.sessionToken)}${el('Expiration', isoSeconds(expiresAt))}</Credentials>` +
        `<AssumedRoleUser>${el('AssumedRoleId', session.principal.userId)}${el('Arn', session.principal.arn)}</AssumedRoleUser>`,
      req.requestId,
    );
  }

  function getCallerIdentity(_params: QueryParams, req: ServiceRequest): ServiceResponse {
    const p = req.principal;
    return response(
      'GetCallerIdentity',
      `${el('Arn', p.arn)}${el('UserId', p.userId)}${el('Account', p.accountId)}`,
      req.requestId,
    );
  }

  const handlers: Record<string, (params: QueryParams, req: ServiceRequest) => ServiceResponse> = {
    AssumeRole: assumeRole,
    GetCallerIdentity: getCallerIdentity,
  };

  return {
    /** The target role of an AssumeRole call, counted per role. */
    roleArnOf: (action: string, params: QueryParams): string | undefined =>
      action === 'AssumeRole' ? params.get('RoleArn') : undefined,
    handles: (action: string): boolean => Object.hasOwn(handlers, action),
    handle(action: string, params: QueryParams, req: ServiceRequest): ServiceResponse {
      const handler = handlers[action];
      if (!handler) throw invalidStsAction(action);
      return handler(params, req);
    },
    /** A new account's roles can be assumed. */
    addAccount(account: FixtureAccount): void {
      for (const role of account.roles) roles.set(role.arn, role);
    },
    /** A removed account's roles are unknown from now on (AccessDenied). */
    removeAccount(account: FixtureAccount): void {
      for (const role of account.roles) roles.delete(role.arn);
    },
  };
}

export function invalidStsAction(action: string): AwsError {
  return new AwsError(400, 'InvalidAction', `Could not find operation ${action} for version 2011-06-15`);
}

export type StsService = ReturnType<typeof createStsService>;
