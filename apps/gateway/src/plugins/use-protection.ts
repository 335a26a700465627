import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import type { Plugin } from 'graphql-yoga';
import type { LimitsConfig } from '../config/config-schema.js';

/**
 * graphql-armor's depth, alias, token and directive limits (its own cost limit is off: the
 * gateway's fan-out aware `useFanOutCost` replaces it), field suggestions in errors only when
 * `suggestions` is on, and yoga's CSRF prevention with the configured required headers.
 */
export function useProtection(options: {
  limits: LimitsConfig;
  csrfHeaders: string[];
  /** `Did you mean "alias"?` in validation errors. Hiding them protects nothing where introspection shows the schema. @default false */
  suggestions?: boolean;
}): Plugin[] {
  const { limits } = options;
  return [
    EnvelopArmorPlugin({
      maxDepth: { enabled: true, n: limits.maxDepth, ignoreIntrospection: true },
      maxAliases: { enabled: true, n: limits.maxAliases },
      maxTokens: { enabled: true, n: limits.maxTokens },
      maxDirectives: { enabled: true, n: limits.maxDirectives },
      costLimit: { enabled: false },
      blockFieldSuggestion: { enabled: !options.suggestions },
    }) as Plugin,
    useCSRFPrevention({ requestHeaders: options.csrfHeaders }),
  ];
}
