import { describe, expect, it } from 'vitest';
import { aliasSchema } from '../config/config-schema.js';
import { deriveAliases, slugAlias } from './derive-aliases.js';

const at = (iso: string) => new Date(iso);

describe('slugAlias', () => {
  it('lower-cases, turns runs of other characters into one dash and trims them', () => {
    expect(slugAlias('Prod (EU) / Payments', '111111111111')).toBe('prod-eu-payments');
    expect(slugAlias('  Données Économiques  ', '111111111111')).toBe('donnees-economiques');
    expect(slugAlias('acct-0042 (team)', '111111111111')).toBe('acct-0042-team');
  });

  it('never gives something that reads as an account id, or nothing', () => {
    expect(slugAlias('123456789012', '222222222222')).toBe('account-123456789012');
    expect(slugAlias('1234-5678-9012', '222222222222')).toBe('1234-5678-9012');
    expect(slugAlias('日本', '222222222222')).toBe('account-222222222222');
    expect(slugAlias('---', '222222222222')).toBe('account-222222222222');
  });

  it('keeps within 63 characters without a trailing dash', () => {
    const slug = slugAlias(`${'a'.repeat(62)} b`, '111111111111');
    expect(slug).toBe('a'.repeat(62));
    expect(aliasSchema.safeParse(slugAlias('x'.repeat(200), '111111111111')).success).toBe(true);
  });
});

describe('deriveAliases', () => {
  it('gives colliding names a suffix of the last 4 digits; the earliest joined keeps the plain one', () => {
    const aliases = deriveAliases([
      { id: '333333333333', name: 'Prod', joinedAt: at('2024-03-01') },
      { id: '111111111111', name: 'prod', joinedAt: at('2020-01-01') },
      { id: '222222222222', name: 'PROD!', joinedAt: at('2022-01-01') },
    ]);
    expect(Object.fromEntries(aliases)).toEqual({
      '111111111111': 'prod',
      '222222222222': 'prod-2222',
      '333333333333': 'prod-3333',
    });
  });

  it('is deterministic: the same accounts in any order give the same aliases', () => {
    const accounts = Array.from({ length: 40 }, (_, i) => ({
      id: String(100000000000 + i * 7919),
      name: i % 3 === 0 ? 'Shared' : `team ${i % 5}`,
      joinedAt: at(`2021-01-${String((i % 28) + 1).padStart(2, '0')}`),
    }));
    const forward = Object.fromEntries(deriveAliases(accounts));
    const backward = Object.fromEntries(deriveAliases([...accounts].reverse()));
    expect(backward).toEqual(forward);
    expect(new Set(Object.values(forward)).size).toBe(accounts.length);
    for (const alias of Object.values(forward)) expect(aliasSchema.safeParse(alias).success).toBe(true);
  });

  it('does not rename an account when a later one with the same name joins', () => {
    const first = { id: '111111111111', name: 'Data', joinedAt: at('2020-01-01') };
    const before = deriveAliases([first]);
    const after = deriveAliases([first, { id: '999999999999', name: 'data', joinedAt: at('2025-01-01') }]);
    expect(before.get('111111111111')).toBe('data');
    expect(after.get('111111111111')).toBe('data');
    expect(after.get('999999999999')).toBe('data-9999');
  });

  it('falls back to the whole id when the 4-digit suffix is taken too', () => {
    const aliases = deriveAliases([
      { id: '100000001234', name: 'ops', joinedAt: at('2020-01-01') },
      { id: '200000001234', name: 'ops', joinedAt: at('2021-01-01') },
      { id: '300000001234', name: 'ops', joinedAt: at('2022-01-01') },
    ]);
    expect([...aliases.values()]).toEqual(['ops', 'ops-1234', 'ops-300000001234']);
  });

  it('uses overrides as they are and never takes a reserved (static) alias', () => {
    const aliases = deriveAliases(
      [
        { id: '111111111111', name: 'prod' },
        { id: '222222222222', name: 'staging' },
        { id: '333333333333', name: 'anything' },
      ],
      { overrides: { '333333333333': 'staging' }, reserved: new Set(['prod']) },
    );
    expect(Object.fromEntries(aliases)).toEqual({
      '111111111111': 'prod-1111',
      '222222222222': 'staging-2222',
      '333333333333': 'staging',
    });
  });
});
