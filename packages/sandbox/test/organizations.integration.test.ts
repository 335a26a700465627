import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  type Account,
  CreateAccountCommand,
  DescribeOrganizationCommand,
  ListAccountsCommand,
  type ListAccountsCommandOutput,
  ListAccountsForParentCommand,
  type ListAccountsForParentCommandOutput,
  ListOrganizationalUnitsForParentCommand,
  type ListOrganizationalUnitsForParentCommandOutput,
  ListRootsCommand,
  type ListRootsCommandOutput,
  type OrganizationalUnit,
  OrganizationsClient,
  paginateListAccounts,
  type Root,
} from '@aws-sdk/client-organizations';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type FixtureAccountInput,
  type FixtureInput,
  generateFixture,
  ORG_READER_ROLE_NAME,
  type Sandbox,
  SandboxError,
  startSandbox,
} from '../src/index.js';
import { assume, type SessionCredentials } from './helpers.js';

const CENTRAL = 'arn:aws:iam::000000000000:user/central';
const central = {
  name: 'central',
  accessKeyId: 'AKIAORGTESTCENTRAL01',
  secretAccessKey: 'org-test-central-secret',
};

function member(id: string, alias: string, extra: Partial<FixtureAccountInput> = {}): FixtureAccountInput {
  return {
    id,
    alias,
    regions: ['us-east-1'],
    roles: [{ name: 'RolegraphReader', trust: [{ principal: CENTRAL }] }],
    ...extra,
  };
}

/** Workloads > {Prod: prod, prod-eu; Staging: staging}, Security: audit (delegated admin), Parked: parked. */
const fixture: FixtureInput = {
  centralPrincipal: 'central',
  accounts: [
    {
      id: '000000000000',
      alias: 'management',
      regions: ['us-east-1'],
      users: [central],
      roles: [{ name: 'OrgReader', trust: [{ principal: CENTRAL }] }],
    },
    member('111111111111', 'prod', { name: 'Production', email: 'prod@example.com' }),
    member('222222222222', 'prod-eu'),
    member('333333333333', 'staging', { state: 'PENDING_CLOSURE' }),
    member('444444444444', 'audit'),
    member('555555555555', 'parked', { state: 'SUSPENDED' }),
    member('666666666666', 'closed', { state: 'CLOSED' }),
    member('777777777777', 'loose'),
  ],
  organization: {
    id: 'o-testorg1234',
    managementAccountId: '000000000000',
    delegatedAdministrators: ['444444444444'],
    units: [
      {
        name: 'Workloads',
        units: [
          { name: 'Prod', accounts: ['111111111111', '222222222222'] },
          { name: 'Staging', id: 'ou-abcd-staging1', accounts: ['333333333333'] },
        ],
      },
      { name: 'Security', accounts: ['444444444444'] },
      { name: 'Parked', accounts: ['555555555555'] },
    ],
  },
};

let sb: Sandbox;
const sessions = new Map<string, SessionCredentials>();

function org(credentials: Sandbox['credentials'] | SessionCredentials = sb.credentials): OrganizationsClient {
  return new OrganizationsClient({ endpoint: sb.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
}

async function sessionOf(accountId: string): Promise<SessionCredentials> {
  let session = sessions.get(accountId);
  if (!session) {
    session = await assume(sb, `arn:aws:iam::${accountId}:role/RolegraphReader`);
    sessions.set(accountId, session);
  }
  return session;
}

async function allAccounts(client = org()): Promise<Account[]> {
  const out: Account[] = [];
  for await (const page of paginateListAccounts({ client }, {})) out.push(...(page.Accounts ?? []));
  return out;
}

/** Walks the tree with ListRoots, ListOrganizationalUnitsForParent and ListAccountsForParent. */
async function walk(client = org()): Promise<Map<string, string[]>> {
  const tree = new Map<string, string[]>();
  const roots: Root[] = [];
  let rootToken: string | undefined;
  do {
    const page: ListRootsCommandOutput = await client.send(new ListRootsCommand({ NextToken: rootToken }));
    roots.push(...(page.Roots ?? []));
    rootToken = page.NextToken;
  } while (rootToken);
  const visit = async (parentId: string, path: string) => {
    const accounts: string[] = [];
    let token: string | undefined;
    do {
      const page: ListAccountsForParentCommandOutput = await client.send(
        new ListAccountsForParentCommand({ ParentId: parentId, NextToken: token }),
      );
      accounts.push(...(page.Accounts ?? []).map((a) => a.Id ?? ''));
      token = page.NextToken;
    } while (token);
    tree.set(path, accounts.sort());
    const units: OrganizationalUnit[] = [];
    token = undefined;
    do {
      const page: ListOrganizationalUnitsForParentCommandOutput = await client.send(
        new ListOrganizationalUnitsForParentCommand({ ParentId: parentId, NextToken: token }),
      );
      units.push(...(page.OrganizationalUnits ?? []));
      token = page.NextToken;
    } while (token);
    for (const unit of units) await visit(unit.Id ?? '', `${path}/${unit.Name}`);
  };
  for (const root of roots) await visit(root.Id ?? '', '');
  return tree;
}

async function failure(
  promise: Promise<unknown>,
): Promise<{ name: string; message: string; status?: number }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('the call succeeded');
}

beforeAll(async () => {
  sb = await startSandbox({ fixture });
});
afterAll(async () => {
  await sb.close();
});
afterEach(() => {
  sb.admin.setOrganizations({ emptyPages: false });
  sb.admin.setThrottling(false);
});

describe('Organizations through the SDK client', () => {
  it('DescribeOrganization: ids, ARNs and the management account, for any member account', async () => {
    const mgmt = (await org().send(new DescribeOrganizationCommand({}))).Organization;
    expect(mgmt).toMatchObject({
      Id: 'o-testorg1234',
      Arn: 'arn:aws:organizations::000000000000:organization/o-testorg1234',
      FeatureSet: 'ALL',
      MasterAccountId: '000000000000',
      MasterAccountArn: 'arn:aws:organizations::000000000000:account/o-testorg1234/000000000000',
      MasterAccountEmail: 'management@example.com',
    });
    const fromMember = await org(await sessionOf('111111111111')).send(new DescribeOrganizationCommand({}));
    expect(fromMember.Organization).toEqual(mgmt);
  });

  it('walks the nested tree: the root, OUs recursively and the accounts of each parent', async () => {
    const roots = (await org().send(new ListRootsCommand({}))).Roots ?? [];
    expect(roots).toHaveLength(1);
    const root = roots[0];
    expect(root?.Id).toMatch(/^r-[0-9a-z]{4}$/);
    expect(root).toMatchObject({
      Name: 'Root',
      Arn: `arn:aws:organizations::000000000000:root/o-testorg1234/${root?.Id}`,
    });
    const tree = await walk();
    expect(Object.fromEntries(tree)).toEqual({
      '': ['000000000000', '666666666666', '777777777777'],
      '/Parked': ['555555555555'],
      '/Security': ['444444444444'],
      '/Workloads': [],
      '/Workloads/Prod': ['111111111111', '222222222222'],
      '/Workloads/Staging': ['333333333333'],
    });
    const workloads = (
      await org().send(new ListOrganizationalUnitsForParentCommand({ ParentId: root?.Id ?? '' }))
    ).OrganizationalUnits?.find((u) => u.Name === 'Workloads');
    const rootSuffix = root?.Id?.slice(2);
    expect(workloads?.Id).toMatch(new RegExp(`^ou-${rootSuffix}-[a-z0-9]{8}$`));
    expect(workloads?.Arn).toBe(`arn:aws:organizations::000000000000:ou/o-testorg1234/${workloads?.Id}`);
    const children = await org().send(
      new ListOrganizationalUnitsForParentCommand({ ParentId: workloads?.Id }),
    );
    expect(children.OrganizationalUnits?.map((u) => u.Id)).toContain('ou-abcd-staging1');
  });

  it('ListAccounts: every member with names, emails, ARNs, the five states and the legacy Status', async () => {
    const accounts = await allAccounts();
    expect(accounts.map((a) => a.Id)).toEqual(sb.fixture.accounts.map((a) => a.id).sort());
    const byId = new Map(accounts.map((a) => [a.Id, a]));
    expect(byId.get('111111111111')).toMatchObject({
      Name: 'Production',
      Email: 'prod@example.com',
      Arn: 'arn:aws:organizations::000000000000:account/o-testorg1234/111111111111',
      State: 'ACTIVE',
      Status: 'ACTIVE',
      JoinedMethod: 'CREATED',
    });
    expect(byId.get('111111111111')?.JoinedTimestamp).toBeInstanceOf(Date);
    expect(byId.get('222222222222')).toMatchObject({ Name: 'prod-eu', Email: 'prod-eu@example.com' });
    expect(byId.get('333333333333')).toMatchObject({ State: 'PENDING_CLOSURE', Status: 'PENDING_CLOSURE' });
    expect(byId.get('555555555555')).toMatchObject({ State: 'SUSPENDED', Status: 'SUSPENDED' });
    expect(byId.get('666666666666')).toMatchObject({ State: 'CLOSED', Status: 'SUSPENDED' });
  });

  it('pages with MaxResults 1 (a NextToken on every page but the last); the default page is 20', async () => {
    const client = org();
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await client.send(new ListAccountsCommand({ MaxResults: 1, NextToken: token }));
      pages++;
      expect(page.Accounts).toHaveLength(1);
      seen.push(page.Accounts?.[0]?.Id ?? '');
      token = page.NextToken;
    } while (token);
    expect(pages).toBe(8);
    expect(seen).toEqual([...seen].sort());
    expect(new Set(seen).size).toBe(8);
    const big = await startSandbox({
      fixture: generateFixture({
        accounts: 45,
        regions: ['us-east-1'],
        instancesPerRegion: 0,
        organization: true,
      }),
    });
    try {
      const c = new OrganizationsClient({
        endpoint: big.endpoint,
        region: 'us-east-1',
        credentials: big.credentials,
      });
      const first = await c.send(new ListAccountsCommand({}));
      expect(first.Accounts).toHaveLength(20);
      expect(first.NextToken).toBeDefined();
      const all: string[] = [];
      for await (const page of paginateListAccounts({ client: c }, {}))
        all.push(...(page.Accounts ?? []).map((a) => a.Id ?? ''));
      expect(all).toHaveLength(46);
      expect(big.admin.calls({ service: 'organizations', operation: 'ListAccounts' })).toBe(1 + 3);
    } finally {
      await big.close();
    }
  });

  it('the empty-pages knob: each listing first answers no items and a NextToken, then the real pages', async () => {
    sb.admin.setOrganizations({ emptyPages: true });
    sb.admin.reset();
    const client = org();
    const first = await client.send(new ListAccountsCommand({}));
    expect(first.Accounts).toEqual([]);
    expect(first.NextToken).toBeDefined();
    const second = await client.send(new ListAccountsCommand({ NextToken: first.NextToken }));
    expect(second.Accounts).toHaveLength(8);
    expect(second.NextToken).toBeUndefined();
    // A client that follows NextToken (the SDK's paginator, the tree walk) sees every account.
    expect((await allAccounts(client)).map((a) => a.Id)).toHaveLength(8);
    const roots = await client.send(new ListRootsCommand({}));
    expect(roots.Roots).toEqual([]);
    expect(roots.NextToken).toBeDefined();
    expect(Object.fromEntries(await walk(client))['/Workloads/Prod']).toEqual([
      '111111111111',
      '222222222222',
    ]);
    expect(sb.admin.knobs().organizations).toEqual({ emptyPages: true });
  });

  it('only the management account and delegated administrators may list; any member may describe', async () => {
    const prod = org(await sessionOf('111111111111'));
    for (const command of [
      new ListAccountsCommand({}),
      new ListRootsCommand({}),
      new ListAccountsForParentCommand({ ParentId: sb.fixture.organization?.rootId }),
    ]) {
      const denied = await failure(prod.send(command as ListAccountsCommand));
      expect(denied).toMatchObject({ name: 'AccessDeniedException', status: 400 });
      expect(denied.message).toMatch(/permissions/);
    }
    // A role session in the delegated administrator's account lists the organization.
    const audit = org(await sessionOf('444444444444'));
    expect((await allAccounts(audit)).map((a) => a.Id)).toHaveLength(8);
    // So does a role in the management account.
    const tree = await walk(org(await assume(sb, 'arn:aws:iam::000000000000:role/OrgReader')));
    expect(tree.get('/Security')).toEqual(['444444444444']);
  });

  it('bad input: unknown parent, malformed parent, a foreign or garbled NextToken, MaxResults out of range', async () => {
    const client = org();
    expect(
      await failure(client.send(new ListAccountsForParentCommand({ ParentId: 'ou-abcd-zzzzzzzz' }))),
    ).toMatchObject({ name: 'ParentNotFoundException', status: 400 });
    expect(await failure(client.send(new ListAccountsForParentCommand({ ParentId: 'nope' })))).toMatchObject({
      name: 'InvalidInputException',
    });
    const page = await client.send(new ListAccountsCommand({ MaxResults: 2 }));
    // A ListAccounts token does not continue another listing.
    const foreign = await failure(
      client.send(
        new ListAccountsForParentCommand({
          ParentId: sb.fixture.organization?.rootId,
          NextToken: page.NextToken,
        }),
      ),
    );
    expect(foreign).toMatchObject({ name: 'InvalidInputException' });
    expect(foreign.message).toMatch(/nextToken/);
    expect(await failure(client.send(new ListAccountsCommand({ NextToken: 'garbage' })))).toMatchObject({
      name: 'InvalidInputException',
    });
    expect(await failure(client.send(new ListAccountsCommand({ MaxResults: 21 })))).toMatchObject({
      name: 'InvalidInputException',
    });
    expect(await failure(client.send(new ListAccountsCommand({ MaxResults: 0 })))).toMatchObject({
      name: 'InvalidInputException',
    });
  });

  it('a sandbox without an organization answers AWSOrganizationsNotInUseException', async () => {
    const plain = await startSandbox({ fixture: generateFixture({ accounts: 1, instancesPerRegion: 0 }) });
    try {
      const c = new OrganizationsClient({
        endpoint: plain.endpoint,
        region: 'us-east-1',
        credentials: plain.credentials,
      });
      expect(await failure(c.send(new DescribeOrganizationCommand({})))).toMatchObject({
        name: 'AWSOrganizationsNotInUseException',
      });
      expect(await failure(c.send(new ListAccountsCommand({})))).toMatchObject({
        name: 'AWSOrganizationsNotInUseException',
      });
    } finally {
      await plain.close();
    }
  });

  it('counts Organizations calls by operation, whatever the outcome; bad keys are UnrecognizedClientException', async () => {
    sb.admin.reset();
    await org().send(new ListRootsCommand({}));
    await failure(org(await sessionOf('111111111111')).send(new ListAccountsCommand({})));
    expect(
      sb.admin.calls({ service: 'organizations', operation: 'ListRoots', account: '000000000000' }),
    ).toBe(1);
    expect(
      sb.admin.calls({ service: 'organizations', operation: 'ListAccounts', account: '111111111111' }),
    ).toBe(1);
    const unknown = await failure(
      org({ accessKeyId: 'AKIANOTAREALKEY00000', secretAccessKey: 'x'.repeat(40) }).send(
        new ListRootsCommand({}),
      ),
    );
    expect(unknown).toMatchObject({ name: 'UnrecognizedClientException', status: 400 });
    const wrongSecret = await failure(
      org({ accessKeyId: central.accessKeyId, secretAccessKey: 'y'.repeat(40) }).send(
        new ListRootsCommand({}),
      ),
    );
    expect(wrongSecret).toMatchObject({ name: 'InvalidSignatureException' });
  });

  it('SUSPENDED and CLOSED accounts cannot be assumed into; PENDING_CLOSURE and PENDING_ACTIVATION still can', async () => {
    for (const id of ['555555555555', '666666666666']) {
      const denied = await failure(assume(sb, `arn:aws:iam::${id}:role/RolegraphReader`));
      expect(denied).toMatchObject({ name: 'AccessDenied', status: 403 });
    }
    await expect(sessionOf('333333333333')).resolves.toBeDefined();
    sb.admin.setAccountState('333333333333', 'PENDING_ACTIVATION');
    try {
      await expect(assume(sb, 'arn:aws:iam::333333333333:role/RolegraphReader')).resolves.toBeDefined();
      expect((await allAccounts()).find((a) => a.Id === '333333333333')).toMatchObject({
        State: 'PENDING_ACTIVATION',
        Status: 'ACTIVE',
      });
    } finally {
      sb.admin.setAccountState('333333333333', 'PENDING_CLOSURE');
    }
  });

  it('expired sessions, operations the sandbox does not emulate, faults, and any signing region', async () => {
    const session = await sessionOf('444444444444');
    sb.admin.advanceClock(2 * 3600_000);
    try {
      expect(await failure(org(session).send(new ListRootsCommand({})))).toMatchObject({
        name: 'ExpiredTokenException',
        status: 400,
      });
    } finally {
      sb.admin.advanceClock(-2 * 3600_000);
    }
    sb.admin.reset();
    const unknown = await failure(
      org().send(new CreateAccountCommand({ AccountName: 'x', Email: 'x@example.com' })),
    );
    expect(unknown).toMatchObject({ name: 'UnknownOperationException', status: 400 });
    expect(unknown.message).toMatch(/CreateAccount/);
    expect(sb.admin.calls({ service: 'organizations' })).toBe(0);
    sb.admin.setFault({ service: 'organizations', operation: 'ListRoots', error: 'internal', times: 1 });
    expect(await failure(org().send(new ListRootsCommand({})))).toMatchObject({
      name: 'ServiceException',
      status: 500,
    });
    const eu = new OrganizationsClient({
      endpoint: sb.endpoint,
      region: 'eu-west-1',
      credentials: sb.credentials,
      maxAttempts: 1,
    });
    expect((await eu.send(new ListRootsCommand({}))).Roots).toHaveLength(1);
  });

  it('two sandboxes started from one fixture object never share admin mutations', async () => {
    const shared = generateFixture({
      accounts: 2,
      regions: ['us-east-1'],
      instancesPerRegion: 0,
      organization: true,
    });
    const [a, b] = await Promise.all([startSandbox({ fixture: shared }), startSandbox({ fixture: shared })]);
    try {
      a.admin.addAccount(member('989898989898', 'only-in-a'));
      a.admin.setAccountState('100000000001', 'SUSPENDED');
      const count = async (s: Sandbox) => {
        const c = new OrganizationsClient({
          endpoint: s.endpoint,
          region: 'us-east-1',
          credentials: s.credentials,
        });
        return ((await c.send(new ListAccountsCommand({}))).Accounts ?? []).map((x) => `${x.Id}:${x.State}`);
      };
      expect(await count(a)).toContain('989898989898:ACTIVE');
      expect(await count(a)).toContain('100000000001:SUSPENDED');
      expect(await count(b)).toEqual(['000000000000:ACTIVE', '100000000001:ACTIVE', '100000000002:ACTIVE']);
      expect(shared.accounts).toHaveLength(3);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('admin mutations, visible in the next ListAccounts', () => {
  it('a NextToken is a cursor: accounts added or removed between pages neither repeat nor shift the rest', async () => {
    const client = org();
    const first = await client.send(new ListAccountsCommand({ MaxResults: 3 }));
    const seen = (first.Accounts ?? []).map((a) => a.Id ?? '');
    expect(seen).toEqual(['000000000000', '111111111111', '222222222222']);
    // Before the cursor: one account leaves, one joins; after it: one joins.
    sb.admin.removeAccount('111111111111');
    sb.admin.addAccount(member('100000000000', 'early'));
    sb.admin.addAccount(member('999999999990', 'late'));
    try {
      let token = first.NextToken;
      while (token) {
        const page: ListAccountsCommandOutput = await client.send(
          new ListAccountsCommand({ MaxResults: 3, NextToken: token }),
        );
        seen.push(...(page.Accounts ?? []).map((a) => a.Id ?? ''));
        token = page.NextToken;
      }
      expect(seen).toEqual([
        '000000000000',
        '111111111111',
        '222222222222',
        '333333333333',
        '444444444444',
        '555555555555',
        '666666666666',
        '777777777777',
        '999999999990',
      ]);
    } finally {
      sb.admin.removeAccount('100000000000');
      sb.admin.removeAccount('999999999990');
      sb.admin.addAccount(member('111111111111', 'prod', { name: 'Production', email: 'prod@example.com' }), {
        parentId: sb.fixture.organization?.units[0]?.units[0]?.id,
      });
      sessions.clear();
    }
  });

  it('addAccount: a full fixture account joins under an OU, can be assumed and answers EC2', async () => {
    const staging = 'ou-abcd-staging1';
    const added = sb.admin.addAccount(
      member('888888888888', 'newcomer', {
        name: 'New Comer',
        instances: [{ id: 'i-0aaaaaaaaaaaaaaa1', region: 'us-east-1' }],
      }),
      { parentId: staging },
    );
    expect(added.roles[0]?.arn).toBe('arn:aws:iam::888888888888:role/RolegraphReader');
    const listed = (await allAccounts()).find((a) => a.Id === '888888888888');
    expect(listed).toMatchObject({ Name: 'New Comer', State: 'ACTIVE' });
    expect(Math.abs((listed?.JoinedTimestamp?.getTime() ?? 0) - Date.now())).toBeLessThan(60_000);
    expect((await walk()).get('/Workloads/Staging')).toEqual(['333333333333', '888888888888']);
    expect(sb.fixture.organization?.units[0]?.units[1]?.accounts).toContain('888888888888');
    const creds = await assume(sb, added.roles[0]?.arn ?? '');
    const ec2 = new EC2Client({
      endpoint: sb.endpoint,
      region: 'us-east-1',
      credentials: creds,
      maxAttempts: 1,
    });
    const out = await ec2.send(new DescribeInstancesCommand({}));
    expect(out.Reservations?.flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId)).toEqual([
      'i-0aaaaaaaaaaaaaaa1',
    ]);
  });

  it('setAccountState and moveAccount show in the next listing; SUSPENDED stops the account working', async () => {
    const creds = await assume(sb, 'arn:aws:iam::777777777777:role/RolegraphReader');
    sb.admin.setAccountState('777777777777', 'SUSPENDED');
    expect((await allAccounts()).find((a) => a.Id === '777777777777')).toMatchObject({ State: 'SUSPENDED' });
    expect(await failure(assume(sb, 'arn:aws:iam::777777777777:role/RolegraphReader'))).toMatchObject({
      name: 'AccessDenied',
    });
    const ec2 = new EC2Client({
      endpoint: sb.endpoint,
      region: 'us-east-1',
      credentials: creds,
      maxAttempts: 1,
    });
    expect(await failure(ec2.send(new DescribeInstancesCommand({})))).toMatchObject({ name: 'AuthFailure' });
    sb.admin.setAccountState('777777777777', 'ACTIVE');
    await expect(ec2.send(new DescribeInstancesCommand({}))).resolves.toBeDefined();
    const security = sb.fixture.organization?.units.find((u) => u.name === 'Security')?.id ?? '';
    sb.admin.moveAccount('777777777777', security);
    const tree = await walk();
    expect(tree.get('/Security')).toEqual(['444444444444', '777777777777']);
    expect(tree.get('')).not.toContain('777777777777');
  });

  it('removeAccount: gone from the organization, its roles and sessions stop working', async () => {
    const creds = await assume(sb, 'arn:aws:iam::222222222222:role/RolegraphReader');
    sb.admin.removeAccount('222222222222');
    expect((await allAccounts()).map((a) => a.Id)).not.toContain('222222222222');
    expect((await walk()).get('/Workloads/Prod')).toEqual(['111111111111']);
    expect(sb.fixture.accounts.map((a) => a.id)).not.toContain('222222222222');
    expect(await failure(assume(sb, 'arn:aws:iam::222222222222:role/RolegraphReader'))).toMatchObject({
      name: 'AccessDenied',
    });
    const ec2 = new EC2Client({
      endpoint: sb.endpoint,
      region: 'us-east-1',
      credentials: creds,
      maxAttempts: 1,
    });
    expect(await failure(ec2.send(new DescribeInstancesCommand({})))).toMatchObject({ name: 'AuthFailure' });
    // Added back, it is a new member with fresh data.
    sb.admin.addAccount(member('222222222222', 'prod-eu'), {
      parentId: sb.fixture.organization?.units[0]?.units[0]?.id,
    });
    expect((await walk()).get('/Workloads/Prod')).toEqual(['111111111111', '222222222222']);
  });

  it('typed errors for unknown ids, duplicates, bad accounts and the management account', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        expect(error).toBeInstanceOf(SandboxError);
        return (error as SandboxError).code;
      }
      throw new Error('no error');
    };
    expect(code(() => sb.admin.removeAccount('999999999999'))).toBe('UNKNOWN_ACCOUNT');
    expect(code(() => sb.admin.setAccountState('999999999999', 'ACTIVE'))).toBe('UNKNOWN_ACCOUNT');
    expect(code(() => sb.admin.moveAccount('999999999999', 'ou-abcd-staging1'))).toBe('UNKNOWN_ACCOUNT');
    expect(code(() => sb.admin.moveAccount('111111111111', 'ou-abcd-nothere1'))).toBe('UNKNOWN_PARENT');
    expect(code(() => sb.admin.addAccount(member('111111111111', 'again')))).toBe('ACCOUNT_EXISTS');
    expect(
      code(() => sb.admin.addAccount(member('999999999999', 'x'), { parentId: 'ou-abcd-nothere1' })),
    ).toBe('UNKNOWN_PARENT');
    expect(code(() => sb.admin.removeAccount('000000000000'))).toBe('MANAGEMENT_ACCOUNT');
    // A bad account is reported with its paths, and nothing of it was added.
    try {
      sb.admin.addAccount({ ...member('999999999999', 'bad'), users: [{ ...central }] });
      throw new Error('accepted');
    } catch (error) {
      expect((error as SandboxError).code).toBe('FIXTURE_INVALID');
      expect((error as SandboxError).issues.map((i) => i.path)).toEqual(
        expect.arrayContaining(['users[0].name', 'users[0].accessKeyId']),
      );
    }
    expect(sb.fixture.accounts.map((a) => a.id)).not.toContain('999999999999');
    expect(() => sb.admin.setAccountState('111111111111', 'GONE' as never)).toThrow(TypeError);
  });

  it('the same mutations through the admin HTTP API', async () => {
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${sb.endpoint}${path}`, {
        method,
        ...(body === undefined
          ? {}
          : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const parked = sb.fixture.organization?.units.find((u) => u.name === 'Parked')?.id;
    expect(
      await call('POST', '/_sandbox/accounts', {
        account: member('121212121212', 'via-http'),
        parentId: parked,
      }),
    ).toEqual({ status: 200, body: { ok: true, id: '121212121212' } });
    expect((await walk()).get('/Parked')).toEqual(['121212121212', '555555555555']);
    expect((await call('POST', '/_sandbox/accounts/121212121212', { state: 'CLOSED' })).status).toBe(200);
    expect((await allAccounts()).find((a) => a.Id === '121212121212')).toMatchObject({ State: 'CLOSED' });
    expect((await call('DELETE', '/_sandbox/accounts/121212121212')).status).toBe(200);
    expect((await allAccounts()).map((a) => a.Id)).not.toContain('121212121212');
    const missing = await call('DELETE', '/_sandbox/accounts/121212121212');
    expect(missing).toMatchObject({ status: 404, body: { code: 'UNKNOWN_ACCOUNT' } });
    const bad = await call('POST', '/_sandbox/accounts', { account: { id: 'x' } });
    expect(bad).toMatchObject({ status: 400, body: { code: 'FIXTURE_INVALID' } });
    expect((await call('POST', '/_sandbox/accounts/111111111111', { state: 'ASLEEP' })).status).toBe(400);
    const knobs = await call('POST', '/_sandbox/knobs', { organizations: { emptyPages: true } });
    expect(knobs.body.organizations).toEqual({ emptyPages: true });
  });
});

describe('the generated and demo organizations', () => {
  it('generateFixture at 300 accounts: nested OUs, 2% SUSPENDED, names, an org reader role; listed in full', async () => {
    const fixture = generateFixture({
      accounts: 300,
      regions: ['us-east-1', 'eu-west-1'],
      instancesPerRegion: 2,
      bucketsPerAccount: 0,
      organization: { depth: 3, unitsPerLevel: 4 },
      seed: 5,
    });
    const units: string[] = [];
    const depthOf = new Map<string, number>();
    const visit = (list: NonNullable<typeof fixture.organization>['units'], depth: number) => {
      for (const u of list) {
        units.push(u.id);
        depthOf.set(u.id, depth);
        visit(u.units, depth + 1);
      }
    };
    visit(fixture.organization?.units ?? [], 1);
    expect(units).toHaveLength(4 + 16 + 64);
    expect(Math.max(...depthOf.values())).toBe(3);
    const members = fixture.accounts.slice(1);
    expect(members.filter((a) => a.state === 'SUSPENDED')).toHaveLength(6);
    expect(members.filter((a) => a.state !== 'SUSPENDED').every((a) => a.state === 'ACTIVE')).toBe(true);
    expect(members[41]?.name).toMatch(/^acct-0042 \([a-z]+\)$/);
    expect(fixture.organization?.units[0]?.units[1]?.units[2]?.name).toBe('Unit 1.2.3');
    // The organization draws from a random stream of its own: the resources are those of the same seed without it.
    const without = generateFixture({
      accounts: 300,
      regions: ['us-east-1', 'eu-west-1'],
      instancesPerRegion: 2,
      bucketsPerAccount: 0,
      seed: 5,
    });
    expect(without.accounts.map((a) => a.instances)).toEqual(fixture.accounts.map((a) => a.instances));
    expect(() => generateFixture({ accounts: 1, organization: { depth: 5, unitsPerLevel: 4 } })).toThrow(
      /1000/,
    );
    expect(() => generateFixture({ accounts: 1, organization: { suspendedFraction: 2 } })).toThrow(TypeError);
    expect(members.every((a) => a.roles.some((r) => r.name === 'RolegraphReader'))).toBe(true);
    expect(fixture.accounts[0]?.roles.map((r) => r.name)).toEqual([ORG_READER_ROLE_NAME]);
    expect(
      generateFixture({ accounts: 300, organization: { depth: 3, unitsPerLevel: 4 }, seed: 5 }).organization,
    ).toEqual(fixture.organization);
    const big = await startSandbox({ fixture });
    try {
      const reader = await assume(big, `arn:aws:iam::000000000000:role/${ORG_READER_ROLE_NAME}`);
      const c = new OrganizationsClient({ endpoint: big.endpoint, region: 'us-east-1', credentials: reader });
      const listed: Account[] = [];
      for await (const page of paginateListAccounts({ client: c }, {})) listed.push(...(page.Accounts ?? []));
      expect(listed).toHaveLength(301);
      expect(listed.filter((a) => a.State === 'SUSPENDED')).toHaveLength(6);
    } finally {
      await big.close();
    }
  });

  it('the demo: prod and staging in OUs under Workloads, audit and management under the root, all ACTIVE', async () => {
    const demo = await startSandbox({ fixture: 'demo' });
    try {
      const c = new OrganizationsClient({
        endpoint: demo.endpoint,
        region: 'us-east-1',
        credentials: demo.credentials,
      });
      const tree = Object.fromEntries(await walk(c));
      expect(tree).toEqual({
        '': ['000000000000', '333333333333'],
        '/Workloads': [],
        '/Workloads/Prod': ['111111111111'],
        '/Workloads/Staging': ['222222222222'],
      });
      const accounts: Account[] = [];
      for await (const page of paginateListAccounts({ client: c }, {}))
        accounts.push(...(page.Accounts ?? []));
      expect(accounts.map((a) => [a.Name, a.State])).toEqual([
        ['management', 'ACTIVE'],
        ['prod', 'ACTIVE'],
        ['staging', 'ACTIVE'],
        ['audit', 'ACTIVE'],
      ]);
    } finally {
      await demo.close();
    }
  });
});
