import type { AnswerFreshness } from '@rolegraph/credentials/aws';
import { GatewayError, GatewayErrorCode } from '../errors.js';

const MAX_AGE = /^max-age=(?:(\d{1,10})|"(\d{1,10})")$/i;

/**
 * What a request's `Cache-Control` header asks of the AWS-answer cache: `no-cache` (or
 * `max-age=0`) serves no stored answer and stores the fresh one, `max-age=N` accepts answers at
 * most N seconds old. Other directives are ignored, as HTTP says; a `max-age` that is not a whole
 * number of seconds is `BAD_USER_INPUT` (a caller asking for fresh data must not silently get old data).
 *
 * @example
 * parseCacheControl('no-cache'); // { noCache: true }
 * parseCacheControl('max-age=30'); // { maxAgeMs: 30000 }
 */
export function parseCacheControl(header: string | null | undefined): AnswerFreshness {
  if (!header) return {};
  const freshness: AnswerFreshness = {};
  for (const raw of header.split(',')) {
    const directive = raw.trim();
    if (directive.length === 0) continue;
    const lower = directive.toLowerCase();
    if (lower === 'no-cache') {
      freshness.noCache = true;
      continue;
    }
    if (!lower.startsWith('max-age')) continue;
    const match = MAX_AGE.exec(directive);
    if (!match) {
      throw new GatewayError(
        `Cache-Control ${JSON.stringify(directive.slice(0, 40))}: max-age must be a whole number of seconds`,
        { code: GatewayErrorCode.BAD_USER_INPUT, httpStatus: 400 },
      );
    }
    const ms = Number(match[1] ?? match[2]) * 1000;
    // Several max-age directives: the strictest wins.
    freshness.maxAgeMs = Math.min(freshness.maxAgeMs ?? ms, ms);
  }
  if (freshness.maxAgeMs === 0) freshness.noCache = true;
  return freshness;
}
