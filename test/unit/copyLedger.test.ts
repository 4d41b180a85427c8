import { CopyLedger } from '../../shared/pipeline/copyLedger.js';

describe('Class: CopyLedger', () => {
  let clock = 0;
  const newLedger = (options: { maxSettled?: number; maxPending?: number } = {}) =>
    new CopyLedger<string>({ ttlMs: 1_000, now: () => clock, ...options });

  beforeEach(() => {
    clock = 0;
  });

  it('calls a first copy new, its twin in flight, and a copy after it settled a duplicate', () => {
    const ledger = newLedger();

    expect(ledger.claim('d|0|')).toEqual({ kind: 'new' });
    expect(ledger.claim('d|0|')).toEqual({ kind: 'in_flight' });
    ledger.settled('d|0|');
    expect(ledger.claim('d|0|')).toEqual({ kind: 'duplicate' });
    // The next step of the chain is another identity.
    expect(ledger.claim('d|1|')).toEqual({ kind: 'new' });
  });

  it('hands a pending outcome to the next copy, once, until it is settled', () => {
    const ledger = newLedger();
    ledger.claim('d|2|');

    ledger.pending('d|2|', 'retry copy of attempt 3');

    expect(ledger.claim('d|2|')).toEqual({ kind: 'pending', value: 'retry copy of attempt 3' });
    expect(ledger.claim('d|2|')).toEqual({ kind: 'in_flight' });
    ledger.settled('d|2|');
    expect(ledger.claim('d|2|')).toEqual({ kind: 'duplicate' });
  });

  it('forgets a released claim: the copy is handled anew', () => {
    const ledger = newLedger();
    ledger.claim('d|0|');

    ledger.release('d|0|');

    expect(ledger.claim('d|0|')).toEqual({ kind: 'new' });
  });

  it('forgets settled identities after the TTL', () => {
    const ledger = newLedger();
    ledger.claim('d|0|');
    ledger.settled('d|0|');

    clock = 1_001;

    expect(ledger.claim('d|0|')).toEqual({ kind: 'new' });
  });

  it('keeps at most maxSettled identities, forgetting the oldest first', () => {
    const ledger = newLedger({ maxSettled: 3 });
    for (const id of ['a', 'b', 'c', 'd']) {
      ledger.claim(id);
      ledger.settled(id);
    }

    expect(ledger.claim('a')).toEqual({ kind: 'new' });
    expect(['b', 'c', 'd'].map((id) => ledger.claim(id).kind)).toEqual([
      'duplicate',
      'duplicate',
      'duplicate',
    ]);
  });

  it('keeps at most maxPending outcomes', () => {
    const ledger = newLedger({ maxPending: 2 });
    for (const id of ['a', 'b', 'c']) {
      ledger.claim(id);
      ledger.pending(id, `outcome ${id}`);
    }

    expect(ledger.claim('a')).toEqual({ kind: 'new' });
    expect(ledger.claim('c')).toEqual({ kind: 'pending', value: 'outcome c' });
  });
});
