import type { Session } from '@rolegraph/credentials';
import type { Plugin } from 'graphql-yoga';
import type { Authenticate } from '../auth/authenticate.js';
import type { AccountConfig } from '../config/config-schema.js';
import { GatewayError, redact } from '../errors.js';
import type { AccountActivity } from '../observability/account-activity.js';
import type { Caller } from '../schema/context.js';

export interface StatusPageOptions {
  /** The accounts this caller may see, as of now. */
  accounts: (caller: Caller) => readonly AccountConfig[];
  /** The account's cached session, without creating one or counting as a use. */
  peek: (account: AccountConfig) => Session | undefined;
  activity: AccountActivity;
  /** The same authentication as GraphQL: anonymous when auth is off. */
  authenticate: Authenticate;
  now: () => number;
  /** @default '/status' */
  path?: string;
}

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

function ago(at: Date | undefined, now: number): string {
  if (!at) return '—';
  const s = Math.round((now - at.getTime()) / 1000);
  if (s < 0) return `in ${fmtDuration(-s)}`;
  return `${fmtDuration(s)} ago`;
}

function fmtDuration(s: number): string {
  if (s < 90) return `${s} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

const HEALTH: Record<string, { label: string; tone: 'ok' | 'warn' | 'bad' | 'idle' }> = {
  fresh: { label: 'fresh', tone: 'ok' },
  advisory: { label: 'refreshing soon (advisory)', tone: 'warn' },
  mandatory: { label: 'must refresh (mandatory)', tone: 'warn' },
  expired: { label: 'expired', tone: 'bad' },
  empty: { label: 'not yet obtained', tone: 'idle' },
};

/** One account's row: what an operator needs at a glance. Never a key, a token or an error message. */
function row(account: AccountConfig, options: StatusPageOptions, now: number): string {
  const session = options.peek(account);
  const status = session?.status().credentials;
  const recent = options.activity.recent(account.accountId);
  const lastError = status?.lastError;
  const state = status ? (HEALTH[status.state] ?? { label: status.state, tone: 'idle' as const }) : undefined;
  const tone =
    state?.tone === 'bad' || (lastError && status?.state !== 'fresh') || recent.errors > recent.calls / 2
      ? 'bad'
      : state?.tone === 'warn' || recent.errors > 0 || lastError
        ? 'warn'
        : (state?.tone ?? 'idle');
  const cells = [
    `<th scope="row">${escapeHtml(account.alias)}<div class="sub">${escapeHtml(account.accountId)}</div></th>`,
    `<td><span class="dot ${tone}"></span>${escapeHtml(state?.label ?? 'no session yet')}</td>`,
    `<td>${status?.expiration ? `${escapeHtml(status.expiration.toISOString())}<div class="sub">${ago(status.expiration, now)}</div>` : '—'}</td>`,
    `<td>${ago(status?.lastRefreshAt, now)}</td>`,
    `<td>${lastError ? `<code>${escapeHtml(redact(lastError.code))}</code><div class="sub">${ago(lastError.at, now)}</div>` : '—'}</td>`,
    `<td class="num">${recent.calls}</td>`,
    `<td class="num${recent.errors > 0 ? ' bad-text' : ''}">${recent.errors}${recent.lastErrorCode ? `<div class="sub"><code>${escapeHtml(redact(recent.lastErrorCode))}</code></div>` : ''}</td>`,
  ];
  return `<tr class="${tone}" data-account="${escapeHtml(account.alias)}">${cells.join('')}</tr>`;
}

/** The page itself: plain HTML and inline CSS, no script, nothing fetched from elsewhere. */
export function renderStatusPage(accounts: readonly AccountConfig[], options: StatusPageOptions): string {
  const now = options.now();
  const minutes = Math.round(options.activity.windowMs / 60_000);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="15">
<title>rolegraph gateway: status</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#1b1f24;background:#f6f8fa}
h1{font-size:1.3rem;margin:0 0 .25rem}p{margin:0 0 1rem;color:#57606a}
table{border-collapse:collapse;background:#fff;box-shadow:0 1px 3px #0002;min-width:60rem}
th,td{padding:.55rem .9rem;text-align:left;border-bottom:1px solid #d8dee4;vertical-align:top}
thead th{background:#eef1f4;font-weight:600;font-size:.85rem;color:#424a53}
.num{text-align:right;font-variant-numeric:tabular-nums}.sub{font-size:.8rem;color:#6e7781}
.dot{display:inline-block;width:.7rem;height:.7rem;border-radius:50%;margin-right:.5rem}
.dot.ok{background:#1a7f37}.dot.warn{background:#bf8700}.dot.bad{background:#cf222e}.dot.idle{background:#8c959f}
tr.bad{background:#fff5f5}.bad-text{color:#cf222e;font-weight:600}code{font-size:.85rem}
</style></head><body>
<h1>rolegraph gateway: accounts</h1>
<p>${accounts.length} account${accounts.length === 1 ? '' : 's'} · AWS calls and errors over the last ${minutes} min · as of ${escapeHtml(new Date(now).toISOString())} · refreshes every 15 s</p>
<table><thead><tr><th>account</th><th>credentials</th><th>expiry</th><th>last refresh</th><th>last refresh error</th><th class="num">AWS calls (${minutes} min)</th><th class="num">errors (${minutes} min)</th></tr></thead>
<tbody>
${accounts.map((a) => row(a, options, now)).join('\n')}
</tbody></table>
</body></html>
`;
}

/**
 * `GET /status`: an HTML page with every account the caller may use: credential state, expiry,
 * last refresh and its error code, AWS calls and errors in the recent window. Behind the same
 * authentication as GraphQL; it shows no key material and no error messages, only codes.
 */
export function useStatusPage(options: StatusPageOptions): Plugin {
  const path = options.path ?? '/status';
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname !== path || request.method !== 'GET') return;
      return options.authenticate(request).then(
        (caller) => {
          const accounts = options.accounts(caller);
          endResponse(
            new fetchAPI.Response(renderStatusPage(accounts, options), {
              status: 200,
              headers: {
                'content-type': 'text/html; charset=utf-8',
                'cache-control': 'no-store',
                'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
              },
            }),
          );
        },
        (error: unknown) => {
          const status = error instanceof GatewayError && error.httpStatus ? error.httpStatus : 500;
          const message = error instanceof GatewayError ? error.message : 'Unexpected error.';
          endResponse(
            new fetchAPI.Response(`${escapeHtml(message)}\n`, {
              status,
              headers: {
                'content-type': 'text/plain; charset=utf-8',
                ...(status === 401 ? { 'www-authenticate': 'Bearer' } : {}),
              },
            }),
          );
        },
      );
    },
  };
}
