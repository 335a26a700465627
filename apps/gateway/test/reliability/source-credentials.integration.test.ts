import { afterEach, describe, expect, it } from 'vitest';
import { gql, type Harness, startHarness } from '../helpers.js';

// The identity that assumes every role has no credentials (the default chain found nothing):
// callers learn that, not that some AWS operation failed, and retrying will not help.
describe('no source credentials', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('a query answers SOURCE_CREDENTIALS_UNAVAILABLE, not retryable, naming no AWS operation; nothing is sent', async () => {
    h = await startHarness({
      deps: {
        sourceCredentials: async () => {
          throw Object.assign(new Error('Could not load credentials from any providers'), {
            name: 'CredentialsProviderError',
          });
        },
      },
    });
    const r = await gql(
      h.gateway,
      '{ account(account: "prod") { alias instances(first: 1) { nodes { id } } } }',
    );
    expect(r.body.data).toEqual({ account: { alias: 'prod', instances: null } });
    expect(r.body.errors).toHaveLength(1);
    const [error] = r.body.errors ?? [];
    expect(error?.extensions).toMatchObject({
      code: 'SOURCE_CREDENTIALS_UNAVAILABLE',
      retryable: false,
      account: 'prod',
      accountId: '111111111111',
    });
    expect(error?.message).not.toMatch(/DescribeInstances/);
    expect(error?.message).toMatch(/credentials/i);
    expect(h.sandbox.admin.counters()).toEqual([]);
    expect((await h.gateway.checkSource()).state).toBe('missing');
    const ready = await h.gateway.fetch('http://localhost/ready');
    expect(ready.status).toBe(503);
  });
});
