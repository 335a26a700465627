/**
 * The internal value of every SDL enum value: what resolvers and the adapters see. Both the
 * resolvers and GraphQL Code Generator (`codegen.ts`) read this one table.
 */
export const enumValues = {
  InstanceState: {
    PENDING: 'pending',
    RUNNING: 'running',
    SHUTTING_DOWN: 'shutting-down',
    TERMINATED: 'terminated',
    STOPPING: 'stopping',
    STOPPED: 'stopped',
  },
  CredentialState: {
    EMPTY: 'empty',
    FRESH: 'fresh',
    ADVISORY: 'advisory',
    MANDATORY: 'mandatory',
    EXPIRED: 'expired',
  },
} as const;
