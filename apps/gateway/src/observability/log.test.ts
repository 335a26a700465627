import { describe, expect, it } from 'vitest';
import { createJsonLog, createLog } from './log.js';

describe('createLog', () => {
  it('writes one JSON line with a timestamp and the level as a word, and redacts access key ids', () => {
    const lines: string[] = [];
    const log = createJsonLog({ now: () => 0, write: (line) => lines.push(line) });
    log({ level: 'info', msg: 'hello', detail: 'key ASIAABCDEFGHIJKLMNOP used' });
    log({ level: 'debug', msg: 'dropped' });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith('\n')).toBe(true);
    expect(JSON.parse(lines[0] ?? '')).toEqual({
      time: '1970-01-01T00:00:00.000Z',
      level: 'info',
      msg: 'hello',
      detail: 'key [redacted] used',
    });
  });

  it('censors secret-named fields and key ids at any depth, in messages and errors too', () => {
    const lines: string[] = [];
    const log = createLog({ now: () => 0, write: (line) => lines.push(line) });
    log({
      level: 'warn',
      msg: 'refresh failed for AKIAABCDEFGHIJKLMNOP',
      credentials: {
        accessKeyId: 'ASIAABCDEFGHIJKLMNOP',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG',
        sessionToken: 'FwoG',
      },
      headers: [{ authorization: 'Bearer eyJ' }],
      error: new Error('denied for ASIAABCDEFGHIJKLMNOP'),
    });
    const line = lines[0] ?? '';
    expect(line).not.toMatch(/AKIA|ASIA|wJalr|FwoG|eyJ/);
    expect(JSON.parse(line)).toMatchObject({
      level: 'warn',
      msg: 'refresh failed for [redacted]',
      credentials: { accessKeyId: '[redacted]', secretAccessKey: '[redacted]', sessionToken: '[redacted]' },
      headers: [{ authorization: '[redacted]' }],
      error: { name: 'Error', message: 'denied for [redacted]' },
    });
  });

  it('writes pino-pretty lines in pretty format: level, message and fields, no JSON', async () => {
    const lines: string[] = [];
    const log = createLog({ format: 'pretty', colorize: false, now: () => 0, write: (l) => lines.push(l) });
    log({ level: 'info', msg: 'listening', url: 'http://127.0.0.1:4000/graphql' });
    log({ level: 'error', msg: 'bad ASIAABCDEFGHIJKLMNOP' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const text = lines.join('');
    expect(text).toMatch(/INFO.*listening.*"url":"http:\/\/127\.0\.0\.1:4000\/graphql"/);
    expect(text).toMatch(/ERROR.*bad \[redacted\]/);
    expect(text).not.toMatch(/^\{/m);
  });
});
