import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import type { Plugin } from 'graphql-yoga';
import type { LimitsConfig } from '../config/config-schema.js';

/**
 * graphql-armor's depth, alias, token and directive limits (its own cost limit is off: the
 * gateway's fan-out aware `useFanOutCost` replaces it), no field suggestions in errors, and
 * yoga's CSRF prevention with the configured required headers.
 */
export function useProtection(options: { limits: LimitsConfig; csrfHeaders: string[] }): Plugin[] {
  const { limits } = options;
  return [
    EnvelopArmorPlugin({
      maxDepth: { enabled: true, n: limits.maxDepth, ignoreIntrospection: true },
      maxAliases: { enabled: true, n: limits.maxAliases },
      maxTokens: { enabled: true, n: limits.maxTokens },
      maxDirectives: { enabled: true, n: limits.maxDirectives },
      costLimit: { enabled: false },
      blockFieldSuggestion: { enabled: true },
    }) as Plugin,
    useCSRFPrevention({ requestHeaders: options.csrfHeaders }),
  ];
}
