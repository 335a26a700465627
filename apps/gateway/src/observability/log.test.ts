import { describe, expect, it } from 'vitest';
import { createJsonLog } from './log.js';

describe('createJsonLog', () => {
  it('writes one JSON line with a timestamp and redacts access key ids', () => {
    const lines: string[] = [];
    const log = createJsonLog({ now: () => 0, write: (line) => lines.push(line) });
    log({ level: 'info', msg: 'hello', detail: 'key ASIAABCDEFGHIJKLMNOP used' });
    log({ level: 'debug', msg: 'dropped' });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toEqual({
      time: '1970-01-01T00:00:00.000Z',
      level: 'info',
      msg: 'hello',
      detail: 'key [redacted] used',
    });
  });
});
