import { NoSchemaIntrospectionCustomRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * With `enabled: false`, `__schema` and `__type` are refused at validation
 * (`GRAPHQL_VALIDATION_FAILED`); `__typename` still works. Off by default when `auth` is
 * configured: callers of a production gateway get the schema from its docs, not from probing.
 *
 * @example
 * useIntrospectionSwitch({ enabled: config.server.introspection ?? !hasAuth(config) });
 */
export function useIntrospectionSwitch(options: { enabled: boolean }): Plugin {
  if (options.enabled) return {};
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}
