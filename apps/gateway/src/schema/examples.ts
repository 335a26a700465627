/**
 * The example queries GraphiQL opens with, written for the configured accounts. Comment lines
 * stay within 46 characters: what the editor shows whole at 1400 px (graphiql.browser.test.ts).
 */
export function exampleQueries(accountAliases: readonly string[]): Array<{ query: string }> {
  const one = accountAliases[0] ?? 'prod';
  return [
    {
      query: `# One account: its instances (with security
# groups and volumes) and its buckets. Every
# account argument takes an alias or an id.
# Build your own in the Explorer (left bar).
query OneAccount {
  instances(account: "${one}", first: 10) {
    nodes {
      id
      name
      region
      state
      type
      securityGroups { id name }
      volumes { id sizeGiB encrypted }
    }
    pageInfo { endCursor hasNextPage }
  }
  buckets(account: "${one}") {
    nodes {
      name
      region
      tags { key value }
      encryption { algorithm }
      publicAccessBlock { blockPublicAcls }
    }
  }
}
`,
    },
    {
      query: `# Every account, all its regions at once.
# A failing account is null for its fields
# only, with an error naming it; the others
# still answer.
query AllAccounts {
  accounts {
    alias
    accountId
    instances {
      nodes {
        id
        region
        state
        securityGroups { id name }
        volumes { id sizeGiB }
      }
    }
    buckets {
      nodes { name region tags { key value } }
    }
  }
}
`,
    },
    {
      query: `# Account health: who each session is, and
# how its credentials are doing.
query AccountHealth {
  accounts {
    alias
    status {
      callerIdentity { account arn }
      credentialState
      credentialExpiry
      lastRefresh
      lastError { code message at recoverable }
    }
  }
}
`,
    },
  ];
}
