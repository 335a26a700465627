import { SandboxError, SandboxErrorCode } from '../errors.js';
import type {
  AccountState,
  FixtureAccount,
  FixtureOrganization,
  FixtureOrganizationalUnit,
  SandboxFixture,
} from '../fixture/fixture-schema.js';
import { accountArn, ROOT_NAME } from '../fixture/organization.js';
import { AMZ_JSON_1_1, AwsError } from '../server/aws-error.js';
import type { ServiceRequest, ServiceResponse } from '../server/service-types.js';

/** `X-Amz-Target` is this prefix followed by the operation name. */
export const ORGANIZATIONS_TARGET_PREFIX = 'AWSOrganizationsV20161128.';
export const ORGANIZATIONS_OPERATIONS = [
  'DescribeOrganization',
  'ListRoots',
  'ListOrganizationalUnitsForParent',
  'ListAccountsForParent',
  'ListAccounts',
] as const;
/** AWS's range for MaxResults of these list operations is 1..20; a call without it gets 20. */
export const ORGANIZATIONS_MAX_RESULTS = 20;

type Operation = (typeof ORGANIZATIONS_OPERATIONS)[number];

/** Organizations' legacy `Status` knows three values; the two newer states map onto them. */
const legacyStatus: Record<AccountState, 'ACTIVE' | 'SUSPENDED' | 'PENDING_CLOSURE'> = {
  PENDING_ACTIVATION: 'ACTIVE',
  ACTIVE: 'ACTIVE',
  SUSPENDED: 'SUSPENDED',
  PENDING_CLOSURE: 'PENDING_CLOSURE',
  CLOSED: 'SUSPENDED',
};

const PARENT_ID_PATTERN = /^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$/;

function invalidInput(reason: string, message: string): AwsError {
  return new AwsError(400, 'InvalidInputException', message, { Reason: reason });
}

const badToken = () =>
  invalidInput(
    'INVALID_PAGINATION_TOKEN',
    'You specified an invalid value for nextToken. You must get the value from the response to a previous call to the API.',
  );

/** Index of the first element of a sorted array greater than `after` ('' = from the start). */
function firstAfter<T>(sorted: readonly T[], key: (item: T) => string, after: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (key(sorted[mid] as T) <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function insertSorted(sorted: string[], id: string): void {
  sorted.splice(
    firstAfter(sorted, (x) => x, id),
    0,
    id,
  );
}

function removeFrom(list: string[], id: string): void {
  const at = list.indexOf(id);
  if (at >= 0) list.splice(at, 1);
}

interface Cursor {
  /** The operation and parent a token was minted for: a token only continues its own listing. */
  readonly op: string;
  readonly parent: string;
  /** Items with keys after this one come next ('' = from the start). */
  readonly after: string;
}

function encodeToken(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.op, cursor.parent, cursor.after]), 'utf8').toString('base64url');
}

function decodeToken(token: string, op: string, parent: string): Cursor {
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw badToken();
  }
  if (
    !Array.isArray(parts) ||
    parts.length !== 3 ||
    parts[0] !== op ||
    parts[1] !== parent ||
    typeof parts[2] !== 'string'
  ) {
    throw badToken();
  }
  return { op, parent, after: parts[2] };
}

export interface OrganizationsServiceOptions {
  /** The live fixture: its accounts and organization follow the admin mutations made here. */
  fixture: SandboxFixture;
  /** Knob: answer every listing's first call with an empty page and a NextToken. */
  emptyPages: () => boolean;
  /** Epoch ms of the fixture accounts' `JoinedTimestamp`. */
  joinedAt?: number;
}

/** AWS Organizations over JSON 1.1, for the fixture's organization, with admin mutations. */
export function createOrganizationsService(options: OrganizationsServiceOptions) {
  const { fixture } = options;
  const org: FixtureOrganization | undefined = fixture.organization;
  const fixtureJoinedAt = options.joinedAt ?? Date.parse('2024-01-02T03:04:05.000Z');
  const members = new Map<string, FixtureAccount>();
  const joinedAt = new Map<string, number>();
  const parentOf = new Map<string, string>();
  /** Parent id -> ids of the accounts directly in it, sorted. */
  const accountsIn = new Map<string, string[]>();
  const units = new Map<string, FixtureOrganizationalUnit>();
  /** Parent id -> its child OUs, sorted by id. */
  const unitsIn = new Map<string, FixtureOrganizationalUnit[]>();
  const allIds: string[] = [];

  if (org) {
    accountsIn.set(org.rootId, []);
    const index = (list: readonly FixtureOrganizationalUnit[], parentId: string) => {
      unitsIn.set(
        parentId,
        [...list].sort((a, b) => (a.id < b.id ? -1 : 1)),
      );
      for (const unit of list) {
        units.set(unit.id, unit);
        accountsIn.set(unit.id, []);
        for (const id of unit.accounts) parentOf.set(id, unit.id);
        index(unit.units, unit.id);
      }
    };
    index(org.units, org.rootId);
    for (const account of fixture.accounts) {
      members.set(account.id, account);
      joinedAt.set(account.id, fixtureJoinedAt);
      const parent = parentOf.get(account.id) ?? org.rootId;
      parentOf.set(account.id, parent);
      accountsIn.get(parent)?.push(account.id);
      allIds.push(account.id);
    }
    for (const list of accountsIn.values()) list.sort();
    allIds.sort();
  }

  const isParent = (id: string) => org !== undefined && (id === org.rootId || units.has(id));

  function json(value: unknown): ServiceResponse {
    return { headers: { 'content-type': AMZ_JSON_1_1 }, body: JSON.stringify(value) };
  }

  function accountJson(id: string) {
    const account = members.get(id) as FixtureAccount;
    return {
      Id: id,
      Arn: accountArn(org as FixtureOrganization, id),
      Email: account.email,
      Name: account.name,
      Status: legacyStatus[account.state],
      State: account.state,
      JoinedMethod: 'CREATED',
      JoinedTimestamp: (joinedAt.get(id) ?? fixtureJoinedAt) / 1000,
    };
  }

  function maxResultsOf(body: Record<string, unknown>): number {
    const max = body.MaxResults;
    if (max === undefined || max === null) return ORGANIZATIONS_MAX_RESULTS;
    if (typeof max !== 'number' || !Number.isInteger(max)) {
      throw new AwsError(400, 'SerializationException', 'MaxResults must be an integer');
    }
    if (max < 1) throw invalidInput('MIN_VALUE_EXCEEDED', 'MaxResults must be at least 1.');
    if (max > ORGANIZATIONS_MAX_RESULTS) {
      throw invalidInput('MAX_VALUE_EXCEEDED', `MaxResults must be at most ${ORGANIZATIONS_MAX_RESULTS}.`);
    }
    return max;
  }

  /** One page of `sorted` after the request's token, with the empty-first-page knob applied. */
  function page<T>(
    op: Operation,
    parent: string,
    body: Record<string, unknown>,
    sorted: readonly T[],
    key: (item: T) => string,
  ): { items: T[]; nextToken?: string } {
    const max = maxResultsOf(body);
    const token = body.NextToken;
    if (token !== undefined && token !== null && typeof token !== 'string') throw badToken();
    if (token === undefined || token === null || token === '') {
      if (options.emptyPages()) return { items: [], nextToken: encodeToken({ op, parent, after: '' }) };
      return slice(op, parent, sorted, key, '', max);
    }
    return slice(op, parent, sorted, key, decodeToken(token, op, parent).after, max);
  }

  function slice<T>(
    op: Operation,
    parent: string,
    sorted: readonly T[],
    key: (item: T) => string,
    after: string,
    max: number,
  ): { items: T[]; nextToken?: string } {
    const start = after === '' ? 0 : firstAfter(sorted, key, after);
    const items = sorted.slice(start, start + max);
    const last = items[items.length - 1];
    if (start + max < sorted.length && last !== undefined) {
      return { items, nextToken: encodeToken({ op, parent, after: key(last) }) };
    }
    return { items };
  }

  function parentIdOf(body: Record<string, unknown>): string {
    const parentId = body.ParentId;
    if (parentId === undefined || parentId === null || parentId === '') {
      throw invalidInput('INPUT_REQUIRED', 'You must specify a value for ParentId.');
    }
    if (typeof parentId !== 'string' || !PARENT_ID_PATTERN.test(parentId)) {
      throw invalidInput('INVALID_PATTERN', 'You specified a ParentId that is not valid.');
    }
    if (!isParent(parentId)) {
      throw new AwsError(
        400,
        'ParentNotFoundException',
        "We can't find a root or OU with the ParentId that you specified.",
      );
    }
    return parentId;
  }

  function withNextToken<T extends object>(value: T, nextToken: string | undefined): T {
    return nextToken === undefined ? value : { ...value, NextToken: nextToken };
  }

  const handlers: Record<Operation, (body: Record<string, unknown>) => ServiceResponse> = {
    DescribeOrganization: () => {
      const o = org as FixtureOrganization;
      return json({
        Organization: {
          Id: o.id,
          Arn: o.arn,
          FeatureSet: 'ALL',
          MasterAccountArn: accountArn(o, o.managementAccountId),
          MasterAccountId: o.managementAccountId,
          MasterAccountEmail: members.get(o.managementAccountId)?.email,
          AvailablePolicyTypes: [],
        },
      });
    },
    ListRoots: (body) => {
      const o = org as FixtureOrganization;
      const root = { Id: o.rootId, Arn: o.rootArn, Name: ROOT_NAME, PolicyTypes: [] };
      const p = page('ListRoots', '', body, [root], (r) => r.Id);
      return json(withNextToken({ Roots: p.items }, p.nextToken));
    },
    ListOrganizationalUnitsForParent: (body) => {
      const parentId = parentIdOf(body);
      const p = page(
        'ListOrganizationalUnitsForParent',
        parentId,
        body,
        unitsIn.get(parentId) ?? [],
        (u) => u.id,
      );
      return json(
        withNextToken(
          { OrganizationalUnits: p.items.map((u) => ({ Id: u.id, Arn: u.arn, Name: u.name })) },
          p.nextToken,
        ),
      );
    },
    ListAccountsForParent: (body) => {
      const parentId = parentIdOf(body);
      const p = page('ListAccountsForParent', parentId, body, accountsIn.get(parentId) ?? [], (id) => id);
      return json(withNextToken({ Accounts: p.items.map(accountJson) }, p.nextToken));
    },
    ListAccounts: (body) => {
      const p = page('ListAccounts', '', body, allIds, (id) => id);
      return json(withNextToken({ Accounts: p.items.map(accountJson) }, p.nextToken));
    },
  };

  function checkCaller(op: Operation, accountId: string): void {
    if (!org || !members.has(accountId)) {
      throw new AwsError(
        400,
        'AWSOrganizationsNotInUseException',
        'Your account is not a member of an organization.',
      );
    }
    if (op === 'DescribeOrganization') return;
    if (accountId !== org.managementAccountId && !org.delegatedAdministrators.includes(accountId)) {
      throw new AwsError(400, 'AccessDeniedException', "You don't have permissions to access this resource.");
    }
  }

  function requireOrganization(what: string): FixtureOrganization {
    if (!org) {
      throw new SandboxError(SandboxErrorCode.NoOrganization, `${what}: the fixture has no organization`);
    }
    return org;
  }

  function requireParent(parentId: string): void {
    if (!isParent(parentId)) {
      throw new SandboxError(SandboxErrorCode.UnknownParent, `no root or OU with id ${parentId}`);
    }
  }

  function place(id: string, parentId: string): void {
    parentOf.set(id, parentId);
    insertSorted(accountsIn.get(parentId) as string[], id);
    units.get(parentId)?.accounts.push(id);
  }

  function unplace(id: string): void {
    const parent = parentOf.get(id);
    if (parent === undefined) return;
    removeFrom(accountsIn.get(parent) ?? [], id);
    const unit = units.get(parent);
    if (unit) removeFrom(unit.accounts, id);
    parentOf.delete(id);
  }

  return {
    handles: (operation: string): boolean =>
      (ORGANIZATIONS_OPERATIONS as readonly string[]).includes(operation),
    handle(operation: string, body: Record<string, unknown>, req: ServiceRequest): ServiceResponse {
      if (!(ORGANIZATIONS_OPERATIONS as readonly string[]).includes(operation)) {
        throw unknownOrganizationsOperation(operation);
      }
      const op = operation as Operation;
      checkCaller(op, req.principal.accountId);
      return handlers[op](body);
    },
    /** Checks what `join` needs before any other part of the sandbox learns of the account. */
    checkJoin(parentId: string | undefined): void {
      if (parentId === undefined) return;
      requireOrganization('addAccount with a parentId');
      requireParent(parentId);
    },
    /** A new account joins the organization (if there is one), under `parentId` or the root. */
    join(account: FixtureAccount, parentId: string | undefined, now: number): void {
      if (!org) return;
      const parent = parentId ?? org.rootId;
      requireParent(parent);
      members.set(account.id, account);
      joinedAt.set(account.id, now);
      insertSorted(allIds, account.id);
      place(account.id, parent);
    },
    /** The account leaves the organization. */
    leave(accountId: string): void {
      if (!org || !members.has(accountId)) return;
      unplace(accountId);
      members.delete(accountId);
      joinedAt.delete(accountId);
      removeFrom(allIds, accountId);
    },
    /** Moves a member account to another root or OU. */
    move(accountId: string, parentId: string): void {
      requireOrganization('moveAccount');
      if (!members.has(accountId)) {
        throw new SandboxError(SandboxErrorCode.UnknownAccount, `no member account ${accountId}`);
      }
      requireParent(parentId);
      unplace(accountId);
      place(accountId, parentId);
    },
    /** The root or OU an account sits in (undefined without an organization). */
    parentOf: (accountId: string): string | undefined => parentOf.get(accountId),
  };
}

export function unknownOrganizationsOperation(operation: string): AwsError {
  return new AwsError(
    400,
    'UnknownOperationException',
    `The sandbox does not emulate the Organizations operation ${operation}`,
  );
}

export type OrganizationsService = ReturnType<typeof createOrganizationsService>;
