import { levenshtein, suggest } from '../../shared/config/suggest.js';

describe('Function: levenshtein()', () => {
  it.each([
    ['webhook', 'webhook', 0],
    ['webhok', 'webhook', 1],
    ['', 'abc', 3],
    ['kitten', 'sitting', 3],
    ['filters', 'flitres', 4],
  ])('distance(%s, %s) = %d', (a, b, distance) => {
    // Act & Assess
    expect(levenshtein(a, b)).toBe(distance);
    expect(levenshtein(b, a)).toBe(distance);
  });
});

describe('Function: suggest()', () => {
  const keys = ['name', 'destination', 'format', 'webhook', 'filters', 'retry', 'delivery'];

  it.each([
    ['webhok', 'webhook'],
    ['Webhook', 'webhook'],
    ['filter', 'filters'],
    ['retries', 'retry'],
    ['destinaton', 'destination'],
    ['fromat', 'format'],
    ['deliver', 'delivery'],
  ])('suggests %s → %s', (input, expected) => {
    // Act & Assess
    expect(suggest(input, keys)).toBe(expected);
  });

  it.each([
    ['warning', 'warn'],
    ['crit', 'critical'],
    ['post', 'POST'],
  ])('suggests values too: %s → %s', (input, expected) => {
    // Act & Assess
    expect(suggest(input, ['debug', 'info', 'warn', 'error', 'critical', 'POST'])).toBe(expected);
  });

  it.each(['url', 'zzz', 'headers', 'x'])('suggests nothing far from every key: %s', (input) => {
    // Act & Assess
    expect(suggest(input, keys)).toBeUndefined();
  });
});
