import { awsError, type RecordedCall } from '@rolegraph/credentials/testing';

/** A unit of a fake organization, for unit tests of discovery (the integration tests use the sandbox). */
export interface FakeUnit {
  id: string;
  name: string;
  accounts?: Array<{ id: string; name: string; state?: string; joined?: string }>;
  units?: FakeUnit[];
}

export interface FakeOrganizationOptions {
  /** Items per page. @default 20 */
  pageSize?: number;
  /** Every listing first answers a page with no items and a NextToken, as AWS may. */
  emptyPages?: boolean;
  /** Called before each answer: throw (e.g. `awsError('TooManyRequestsException')`) to fail that call. */
  before?: (call: RecordedCall, n: number) => void;
}

/**
 * A handler for `createFakeSession` that answers ListRoots, ListOrganizationalUnitsForParent and
 * ListAccountsForParent over a tree, with paging.
 */
export function fakeOrganization(root: FakeUnit, options: FakeOrganizationOptions = {}) {
  const pageSize = options.pageSize ?? 20;
  const byId = new Map<string, FakeUnit>();
  const index = (unit: FakeUnit) => {
    byId.set(unit.id, unit);
    for (const child of unit.units ?? []) index(child);
  };
  index(root);
  let n = 0;
  const page = <T>(items: T[], token: unknown) => {
    if (options.emptyPages && token === undefined) return { items: [] as T[], next: 'empty:0' };
    const start = typeof token === 'string' ? Number(token.split(':')[1]) : 0;
    const slice = items.slice(start, start + pageSize);
    const next = start + pageSize < items.length ? `page:${start + pageSize}` : undefined;
    return { items: slice, next };
  };
  return (call: RecordedCall): unknown => {
    options.before?.(call, n++);
    const token = call.input.NextToken;
    if (call.operation === 'ListRoots') {
      const { items, next } = page([{ Id: root.id, Name: root.name, Arn: `arn:root/${root.id}` }], token);
      return { Roots: items, NextToken: next };
    }
    const parent = byId.get(String(call.input.ParentId));
    if (!parent) throw awsError('ParentNotFoundException', 400);
    if (call.operation === 'ListOrganizationalUnitsForParent') {
      const { items, next } = page(
        (parent.units ?? []).map((u) => ({ Id: u.id, Name: u.name })),
        token,
      );
      return { OrganizationalUnits: items, NextToken: next };
    }
    if (call.operation === 'ListAccountsForParent') {
      const { items, next } = page(
        (parent.accounts ?? []).map((a) => ({
          Id: a.id,
          Name: a.name,
          Email: `${a.id}@example.com`,
          State: a.state ?? 'ACTIVE',
          JoinedTimestamp: new Date(a.joined ?? '2020-01-01T00:00:00Z'),
        })),
        token,
      );
      return { Accounts: items, NextToken: next };
    }
    throw awsError('InvalidAction', 400);
  };
}

/** The tree the unit tests use: nested OUs, a suspended account, accounts under the root. */
export const FAKE_TREE: FakeUnit = {
  id: 'r-ab12',
  name: 'Root',
  accounts: [{ id: '000000000000', name: 'Management' }],
  units: [
    {
      id: 'ou-ab12-11111111',
      name: 'Workloads',
      accounts: [{ id: '111111111111', name: 'Shared Services' }],
      units: [
        {
          id: 'ou-ab12-22222222',
          name: 'Prod',
          accounts: [
            { id: '222222222222', name: 'Payments Prod' },
            { id: '333333333333', name: 'Old Prod', state: 'SUSPENDED' },
          ],
          units: [
            { id: 'ou-ab12-55555555', name: 'EU', accounts: [{ id: '666666666666', name: 'Payments EU' }] },
          ],
        },
        { id: 'ou-ab12-33333333', name: 'Sandbox', accounts: [{ id: '444444444444', name: 'Sandbox 1' }] },
      ],
    },
    { id: 'ou-ab12-44444444', name: 'Security', accounts: [{ id: '555555555555', name: 'Audit' }] },
  ],
};
