import type { FixtureInput } from '@rolegraph/sandbox';

/** The central principal of these fixtures: the gateway's source credentials. */
export const CENTRAL = {
  name: 'rolegraph-central',
  accessKeyId: 'AKIAORGTESTCENTRAL01',
  secretAccessKey: 'org-test-central-secret-not-a-real-key',
};
export const CENTRAL_ARN = `arn:aws:iam::000000000000:user/${CENTRAL.name}`;
export const MEMBER_EXTERNAL_ID = 'rolegraph-member-ext';
export const ORG_READER_ROLE = 'arn:aws:iam::000000000000:role/RolegraphOrgReader';
export const REGIONS = ['us-east-1', 'eu-west-1'];

export interface MemberSpec {
  id: string;
  name: string;
  state?: 'PENDING_ACTIVATION' | 'ACTIVE' | 'SUSPENDED' | 'PENDING_CLOSURE' | 'CLOSED';
}

/** A member account with the reader role (trusting the central user with an ExternalId) and one instance per region. */
export function member(spec: MemberSpec): NonNullable<FixtureInput['accounts']>[number] {
  return {
    id: spec.id,
    alias: `a-${spec.id}`,
    name: spec.name,
    ...(spec.state ? { state: spec.state } : {}),
    regions: REGIONS,
    roles: [
      {
        name: 'RolegraphReader',
        trust: [{ principal: CENTRAL_ARN, externalId: MEMBER_EXTERNAL_ID }],
      },
    ],
    instances: REGIONS.map((region, r) => ({
      id: `i-${spec.id.slice(0, 8)}0000000${r}0`,
      region,
      tags: { Name: `${spec.name} ${region}` },
    })),
  };
}

/** The management account: the central user, the role that lists the organization, a reader role (no instances). */
export function management(): NonNullable<FixtureInput['accounts']>[number] {
  return {
    id: '000000000000',
    alias: 'management',
    name: 'Management',
    regions: ['us-east-1'],
    users: [CENTRAL],
    roles: [
      { name: 'RolegraphOrgReader', trust: [{ principal: CENTRAL_ARN }] },
      { name: 'RolegraphReader', trust: [{ principal: CENTRAL_ARN, externalId: MEMBER_EXTERNAL_ID }] },
    ],
  };
}

/**
 * Root: Management; Security: Audit; Workloads: Shared Services; Workloads/Prod: Payments Prod,
 * Old Prod (SUSPENDED), Closing (PENDING_CLOSURE); Workloads/Prod/EU: Payments EU;
 * Workloads/Sandbox: Sandbox One, Sandbox Two (names that slug alike: `sandbox-one` vs `Sandbox One!`).
 */
export function nestedOrganization(): FixtureInput {
  const members: MemberSpec[] = [
    { id: '111111111111', name: 'Shared Services' },
    { id: '222222222222', name: 'Payments Prod' },
    { id: '333333333333', name: 'Old Prod', state: 'SUSPENDED' },
    { id: '444444444444', name: 'Payments EU' },
    { id: '555555555555', name: 'Sandbox One' },
    { id: '565656565656', name: 'Sandbox One!' },
    { id: '666666666666', name: 'Audit' },
    { id: '777777777777', name: 'Closing', state: 'PENDING_CLOSURE' },
  ];
  return {
    centralPrincipal: CENTRAL.name,
    organization: {
      managementAccountId: '000000000000',
      units: [
        {
          name: 'Workloads',
          accounts: ['111111111111'],
          units: [
            {
              name: 'Prod',
              accounts: ['222222222222', '333333333333', '777777777777'],
              units: [{ name: 'EU', accounts: ['444444444444'] }],
            },
            { name: 'Sandbox', accounts: ['555555555555', '565656565656'] },
          ],
        },
        { name: 'Security', accounts: ['666666666666'] },
      ],
    },
    accounts: [management(), ...members.map(member)],
  };
}
