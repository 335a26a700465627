import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import type { GraphQLParams, Plugin } from 'graphql-yoga';
import type { PersistedOperationsConfig } from '../config/config-schema.js';
import { GatewayErrorCode } from '../errors.js';

/**
 * The id a request names its document by: `documentId` (the GraphQL-over-HTTP persisted
 * documents convention, graphql-codegen's client preset) or APQ's
 * `extensions.persistedQuery.sha256Hash`.
 */
export function persistedOperationIdOf(params: GraphQLParams): string | null {
  const documentId = (params as GraphQLParams & { documentId?: unknown }).documentId;
  if (typeof documentId === 'string') return documentId;
  const persisted = (
    params.extensions as { persistedQuery?: { version?: unknown; sha256Hash?: unknown } } | undefined
  )?.persistedQuery;
  if (persisted?.version === 1 && typeof persisted.sha256Hash === 'string') return persisted.sha256Hash;
  return null;
}

const refused = (code: string, message: string) => ({ message, extensions: { code, http: { status: 400 } } });

/**
 * Only known documents run: a request names one by id and the gateway runs the stored text
 * (validated, cost-estimated and budgeted like any other). A request with its own `query` is
 * refused with `PERSISTED_QUERY_ONLY` unless `allowArbitraryOperations`; an unknown id is
 * `PERSISTED_QUERY_NOT_FOUND`. Built on `@graphql-yoga/plugin-persisted-operations`.
 *
 * @example
 * usePersistedDocuments({ documents: { 'sha256:ab12...': '{ accounts { alias } }' }, allowArbitraryOperations: false });
 */
export function usePersistedDocuments(config: PersistedOperationsConfig): Plugin {
  const documents = new Map(Object.entries(config.documents));
  return usePersistedOperations({
    getPersistedOperation: (id) => documents.get(id) ?? null,
    extractPersistedOperationId: persistedOperationIdOf,
    allowArbitraryOperations: config.allowArbitraryOperations,
    customErrors: {
      notFound: refused(GatewayErrorCode.PERSISTED_QUERY_NOT_FOUND, 'No persisted operation has this id'),
      keyNotFound: refused(
        GatewayErrorCode.PERSISTED_QUERY_NOT_FOUND,
        'Send a persisted operation id (documentId, or extensions.persistedQuery.sha256Hash)',
      ),
      persistedQueryOnly: refused(
        GatewayErrorCode.PERSISTED_QUERY_ONLY,
        'Only persisted operations are accepted here: send a documentId, not a query',
      ),
    },
  }) as Plugin;
}
