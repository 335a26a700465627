import { afterEach, describe, expect, it } from 'vitest';
import { gql, type Harness, startHarness } from '../helpers.js';

// Reproduction 4 of the hardening issue: a caller allowed one account whose AssumeRole is denied
// read the management account, the central principal and role names in STS's message.
const AUDIT_ROLE = 'arn:aws:iam::333333333333:role/RolegraphReader';
const STS_MESSAGE = `User: arn:aws:iam::000000000000:user/rolegraph-central is not authorized to perform: sts:AssumeRole on resource: ${AUDIT_ROLE}`;

describe('credential failures show callers a code, not the hub', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('AssumeRole denied: the caller sees its account and a code; STS’s message is only in the log', async () => {
    h = await startHarness({
      sandbox: {
        faults: [
          {
            service: 'sts',
            roleArn: AUDIT_ROLE,
            error: { code: 'AccessDenied', status: 403, message: STS_MESSAGE },
          },
        ],
      },
    });
    const r = await gql(
      h.gateway,
      '{ account(account: "audit") { alias status { lastError { code message recoverable } } instances(first: 1) { nodes { id } } } }',
    );
    const text = JSON.stringify(r.body);
    for (const secret of ['000000000000', 'rolegraph-central', 'arn:aws', 'role/', 'not authorized']) {
      expect(text).not.toContain(secret);
    }
    expect(r.body.data).toMatchObject({
      account: {
        alias: 'audit',
        status: {
          lastError: {
            code: 'AccessDenied',
            message: 'Refreshing the credentials of account audit failed (AccessDenied)',
            recoverable: false,
          },
        },
        instances: null,
      },
    });
    expect(r.body.errors?.[0]?.extensions).toMatchObject({
      code: 'CREDENTIALS_UNAVAILABLE',
      credentialsCode: 'ASSUME_ROLE_REJECTED',
      account: 'audit',
      retryable: false,
    });
    // The operator still has the whole story.
    const logged = JSON.stringify(h.logs.filter((l) => l.msg === 'credential refresh failed'));
    expect(logged).toContain('rolegraph-central');
  });
});
