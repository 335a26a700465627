import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '../../src/schema/connection.js';
import { gql, type Harness, startHarness } from '../helpers.js';
import { unexpectedErrors } from './security-helpers.js';

// Property-based fuzzing of every root field and the nested fields that take arguments, with
// random arguments as variables and as literals. Whatever comes in, the gateway answers with
// a status below 500 and only known error codes: never INTERNAL_SERVER_ERROR.
// A failure prints fast-check's seed, path and the shrunk counterexample.

const SEED = 20_240_707;
const NUM_RUNS = 200;

let h: Harness;
let bucketName = 'none';
let instanceId = 'i-00000000000000000';

beforeAll(async () => {
  h = await startHarness({ config: { limits: { maxCost: 20_000 } } });
  const account = h.sandbox.fixture.accounts.find((a) => a.alias === 'prod');
  bucketName = account?.buckets[0]?.name ?? bucketName;
  instanceId = account?.instances[0]?.id ?? instanceId;
});
afterAll(async () => {
  await h?.close();
});

// --- Arbitraries ---------------------------------------------------------------------------

const interestingStrings = fc.constantFrom(
  '',
  ' ',
  '*',
  'prod',
  'PROD',
  'staging',
  'audit',
  '111111111111',
  '11111111111',
  '1111111111111',
  '000000000000',
  '999999999999',
  'arn:aws:iam::111111111111:role/RolegraphReader',
  'arn:aws:iam::999999999999:role/Admin',
  'arn:aws:iam::000000000000:user/rolegraph-central',
  'us-east-1',
  'eu-west-1',
  'ap-south-1',
  'mars-1',
  'i-0123456789abcdef0',
  'i-',
  'vol-0123456789abcdef0',
  'sg-0123456789abcdef0',
  'vpc-0123456789abcdef0',
  '../../etc/passwd',
  '%00',
  '\u0000',
  '\uFFFF',
  '\uD800',
  '😀',
  'a'.repeat(10_000),
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  ['$', '{jndi:ldap://x}'].join(''),
  'rolegraph:1:',
  'rolegraph:-1:x',
  'rolegraph:99999999999999999999:',
  'W10',
  'bnVsbA',
  'AKIAROLEGRAPHCENTRAL',
);

const anyString = fc.oneof(
  { weight: 3, arbitrary: interestingStrings },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
);

const accountName = fc.oneof(
  anyString,
  fc.stringMatching(/^\d{12}$/),
  fc.stringMatching(/^arn:aws:iam::\d{12}:role\/[A-Za-z]{1,10}$/),
  fc.constantFrom('prod', 'staging', 'audit', '111111111111', '222222222222', '333333333333'),
);

const regionName = fc.oneof(
  fc.constantFrom('us-east-1', 'eu-west-1', 'ap-south-1', 'us-gov-west-1'),
  anyString,
);

/** Gateway cursors: well-formed ones with odd positions, random JSON, random base64, garbage. */
const cursor = fc.oneof(
  anyString,
  fc
    .tuple(
      fc.oneof(fc.integer({ min: -2, max: 3 }), fc.double(), fc.constant(2 ** 53)),
      fc.oneof(fc.constant(null), anyString, fc.integer()),
      fc.oneof(fc.integer({ min: -5, max: 50 }), fc.constant(2 ** 31), fc.constant(2 ** 53), fc.double()),
    )
    .map(([r, a, s]) => Buffer.from(JSON.stringify([r, a, s])).toString('base64url')),
  fc.tuple(fc.nat(3), fc.oneof(fc.constant(null), anyString)).map(([r, c]) => encodeCursor({ r, c })),
  fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null').toString('base64url')),
);

const first = fc.oneof(
  fc.integer({ min: -3, max: 1005 }),
  fc.constantFrom(0, 1, 1000, 1001, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), 2 ** 53, -0),
  fc.double(),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map((n) => Number(n)),
);

/** A JSON value of the wrong type for whatever variable it lands in. */
const wrongType = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constant(null),
  fc.boolean(),
  fc.double(),
  fc.array(anyString, { maxLength: 3 }),
  fc.dictionary(anyString, anyString, { maxKeys: 3 }),
);

const stateName = fc.oneof(
  fc.constantFrom('PENDING', 'RUNNING', 'SHUTTING_DOWN', 'TERMINATED', 'STOPPING', 'STOPPED'),
  anyString,
);

const filter = fc.record(
  {
    ids: fc.option(
      fc.array(
        fc.oneof(
          anyString,
          fc.constant(instanceId).map(() => instanceId),
        ),
        { maxLength: 30 },
      ),
    ),
    states: fc.option(fc.array(stateName, { maxLength: 4 })),
    types: fc.option(fc.array(anyString, { maxLength: 4 })),
    vpcIds: fc.option(fc.array(anyString, { maxLength: 4 })),
    tags: fc.option(
      fc.array(fc.record({ key: anyString, values: fc.option(fc.array(anyString, { maxLength: 4 })) }), {
        maxLength: 4,
      }),
    ),
  },
  { requiredKeys: [] },
);

/** Usually a value of the right type, sometimes (1 in 9 each) a wrong one or none. */
function loosely<T>(typed: fc.Arbitrary<T>): fc.Arbitrary<T | unknown> {
  return fc.oneof(
    { weight: 16, arbitrary: typed },
    { weight: 1, arbitrary: wrongType },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

// --- Property -----------------------------------------------------------------------------

interface Sample {
  query: string;
  variables?: Record<string, unknown>;
}

/** Runs that got past validation and variable coercion into the resolvers. */
let executed = 0;

async function expectHandled({ query, variables }: Sample): Promise<void> {
  const r = await gql(h.gateway, query, variables);
  if (r.body.data) executed++;
  expect(r.status, `status for ${query}`).toBeLessThan(500);
  expect(unexpectedErrors(r.body), JSON.stringify({ query, variables, body: r.body })).toEqual([]);
}

/** Asserts the property and that enough runs reached the resolvers to mean something. */
async function check(samples: fc.Arbitrary<Sample>, minExecuted = NUM_RUNS / 8): Promise<void> {
  executed = 0;
  await fc.assert(fc.asyncProperty(samples, expectHandled), { numRuns: NUM_RUNS, seed: SEED });
  expect(executed).toBeGreaterThanOrEqual(minExecuted);
}

const variablesOf = <T extends Record<string, fc.Arbitrary<unknown>>>(shape: T) =>
  fc.record(shape, { requiredKeys: [] }) as fc.Arbitrary<Record<string, unknown>>;

const INSTANCE_FIELDS = 'id region account state tags { key value } securityGroups { id } volumes { id }';

describe(`GraphQL fuzzing (fast-check, seed ${SEED}, ${NUM_RUNS} runs per property)`, () => {
  it('instances(account, region, filter, first, after) as variables', async () => {
    await check(
      variablesOf({
        account: loosely(accountName),
        region: loosely(regionName),
        filter: loosely(filter),
        first: loosely(first),
        after: loosely(cursor),
      }).map((variables) => ({
        query: `query ($account: String!, $region: String, $filter: InstanceFilter, $first: Int, $after: String) {
          instances(account: $account, region: $region, filter: $filter, first: $first, after: $after) {
            edges { cursor node { ${INSTANCE_FIELDS} } } pageInfo { endCursor hasNextPage } } }`,
        variables,
      })),
    );
  });

  it('instance(account, region, id) and bucket(account, name) as variables', async () => {
    await check(
      variablesOf({
        account: loosely(accountName),
        region: loosely(regionName),
        id: loosely(
          fc.oneof(
            anyString,
            fc.constant(instanceId).map(() => instanceId),
          ),
        ),
        name: loosely(
          fc.oneof(
            anyString,
            fc.constant(bucketName).map(() => bucketName),
          ),
        ),
      }).map((variables) => ({
        query: `query ($account: String!, $region: String, $id: String!, $name: String!) {
          instance(account: $account, region: $region, id: $id) { ${INSTANCE_FIELDS} }
          bucket(account: $account, name: $name) { name region tags { key } encryption { algorithm }
            publicAccessBlock { blockPublicAcls } policyStatus { isPublic } } }`,
        variables,
      })),
    );
  });

  it('buckets(account, first, after) and bucket.objects(prefix, delimiter, first, after) as variables', async () => {
    await check(
      variablesOf({
        account: loosely(accountName),
        first: loosely(first),
        after: loosely(cursor),
        name: loosely(
          fc.oneof(
            anyString,
            fc.constant(bucketName).map(() => bucketName),
          ),
        ),
        prefix: loosely(anyString),
        delimiter: loosely(fc.oneof(fc.constantFrom('/', '', '//'), anyString)),
        objectsFirst: loosely(first),
        objectsAfter: loosely(cursor),
      }).map((variables) => ({
        query: `query ($account: String!, $first: Int, $after: String, $name: String!, $prefix: String,
                       $delimiter: String, $objectsFirst: Int, $objectsAfter: String) {
          buckets(account: $account, first: $first, after: $after) { nodes { name } pageInfo { endCursor } }
          bucket(account: $account, name: $name) {
            objects(prefix: $prefix, delimiter: $delimiter, first: $objectsFirst, after: $objectsAfter) {
              nodes { key size } commonPrefixes pageInfo { endCursor hasNextPage } } } }`,
        variables,
      })),
    );
  });

  it('accounts(aliases), account(account) and every nested Account field as variables', async () => {
    await check(
      variablesOf({
        aliases: loosely(fc.option(fc.array(accountName, { maxLength: 6 }))),
        account: loosely(accountName),
        region: loosely(regionName),
        first: loosely(fc.integer({ min: -2, max: 12 })),
        after: loosely(cursor),
        id: loosely(anyString),
        name: loosely(anyString),
      }).map((variables) => ({
        query: `query ($aliases: [String!], $account: String!, $region: String, $first: Int, $after: String,
                       $id: String!, $name: String!) {
          accounts(aliases: $aliases) { alias accountId regions
            status { credentialState credentialExpiry lastError { code } }
            instances(region: $region, first: $first, after: $after) { nodes { id } }
            instance(region: $region, id: $id) { id }
            buckets(first: $first, after: $after) { nodes { name } }
            bucket(name: $name) { name } }
          account(account: $account) { alias status { callerIdentity { account } } } }`,
        variables,
      })),
    );
  });

  it('arguments as literals: strings, huge ints, floats, enums, lists, objects and null of any type', async () => {
    const literal: fc.Arbitrary<string> = fc.oneof(
      anyString.map((s) => JSON.stringify(s)),
      fc.integer().map(String),
      fc.constantFrom('2147483648', '-2147483649', '99999999999999999999999999', '1e400', '0.5', '-0'),
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => String(d)),
      fc.constantFrom('null', 'true', 'false', 'RUNNING', 'NOT_A_STATE', '[]', '{}', '$undeclared'),
      fc.array(anyString, { maxLength: 3 }).map((xs) => `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`),
      fc
        .record({ ids: fc.array(anyString, { maxLength: 3 }), states: fc.array(stateName, { maxLength: 2 }) })
        .map(({ ids, states }) => `{ ids: ${JSON.stringify(ids)}, states: [${states.join(', ')}] }`),
    );
    const field = fc.constantFrom(
      'instances(account: A, region: R, filter: F, first: N, after: C) { nodes { id } }',
      'instance(account: A, region: R, id: I) { id }',
      'buckets(account: A, first: N, after: C) { nodes { name } }',
      'bucket(account: A, name: I) { name }',
      'account(account: A) { alias }',
      'accounts(aliases: L) { alias }',
    );
    await check(
      fc.tuple(field, fc.array(literal, { minLength: 7, maxLength: 7 })).map(([template, values]) => {
        const [a, r, f, n, c, i, l] = values as [string, string, string, string, string, string, string];
        const replacements: Record<string, string> = { A: a, R: r, F: f, N: n, C: c, I: i, L: l };
        return {
          query: `{ ${template.replace(/\b([ARFNCIL])\b(?=[,)])/g, (k) => replacements[k] ?? k)} }`,
        };
      }),
      // Most literal combinations are refused by validation, which is the point here.
      5,
    );
  });

  it('well-typed cursors and page sizes from real pages stay consistent (control: no false negatives)', async () => {
    // The property above would pass on a gateway that refuses everything; this one proves the
    // same harness sees real data.
    const r = await gql<{ instances: { nodes: Array<{ id: string }> } }>(
      h.gateway,
      '{ instances(account: "prod", first: 3) { nodes { id } } }',
    );
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data?.instances.nodes).toHaveLength(3);
  });
});
