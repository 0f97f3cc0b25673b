// Pure value rules of the acts service: actIds, timestamps, strict base64.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  canonicalActId,
  decodeStrictBase64,
  formatTimestamp,
  nextActId,
  timestampSortKey,
} from '../../app/acts/values.ts';

describe('canonicalActId', () => {
  const cases: [string, string, string | undefined][] = [
    ['plain digits stay', '42', '42'],
    ['leading zeros go: 007 is 7', '007', '7'],
    ['zero is zero', '0', '0'],
    ['all zeros are zero', '0000', '0'],
    ['2^53 + 1 keeps every digit', '9007199254740993', '9007199254740993'],
    ['hundreds of digits keep every digit', `000${'9'.repeat(300)}`, '9'.repeat(300)],
    ['a sign is refused', '-1', undefined],
    ['a plus sign is refused', '+1', undefined],
    ['a fraction is refused', '1.0', undefined],
    ['an exponent is refused', '1e3', undefined],
    ['empty is refused', '', undefined],
    ['spaces are refused', ' 1', undefined],
    ['non-ASCII digits are refused', '١٢', undefined],
  ];
  for (const [name, input, expected] of cases) test(name, () => assert.equal(canonicalActId(input), expected));
});

describe('nextActId', () => {
  test('none yet → 1', () => assert.equal(nextActId(undefined), '1'));
  test('beyond 2^53 exactly', () => assert.equal(nextActId('9007199254740992'), '9007199254740993'));
  test('carries across any length', () => assert.equal(nextActId('9'.repeat(40)), `1${'0'.repeat(40)}`));
  test('skips further on when asked', () => assert.equal(nextActId('10', 5), '16'));
  test('a skip that carries', () => assert.equal(nextActId('97', 38), '136'));
  test('a skip that carries into a run of nines', () => assert.equal(nextActId('1999995', 5), '2000001'));
  test('a skip beyond zero', () => assert.equal(nextActId(undefined, 12), '13'));
  test('an actId of millions of digits in linear time (no BigInt conversion)', () => {
    const started = performance.now();
    assert.equal(nextActId('9'.repeat(4_000_000)), `1${'0'.repeat(4_000_000)}`);
    assert.equal(nextActId(`${'7'.repeat(4_000_000)}8`), `${'7'.repeat(4_000_000)}9`);
    assert.ok(performance.now() - started < 1000);
  });
});

describe('timestampSortKey', () => {
  const cases: [string, string, string | undefined][] = [
    ['a valid time → YYYYMMDDHHMMSS', '15-06-2021:30-45-12', '20210615124530'],
    ['midnight on 1 January 0001', '01-01-0001:00-00-00', '00010101000000'],
    ['the last second of 9999', '31-12-9999:59-59-23', '99991231235959'],
    ['29 February in a leap year', '29-02-2024:00-00-00', '20240229000000'],
    ['29 February 2000 (divisible by 400)', '29-02-2000:00-00-00', '20000229000000'],
    ['29 February 1900 (divisible by 100) is refused', '29-02-1900:00-00-00', undefined],
    ['29 February in a common year is refused', '29-02-2023:00-00-00', undefined],
    ['31 April is refused', '31-04-2021:00-00-00', undefined],
    ['day 00 is refused', '00-01-2021:00-00-00', undefined],
    ['month 00 is refused', '01-00-2021:00-00-00', undefined],
    ['month 13 is refused', '01-13-2021:00-00-00', undefined],
    ['year 0000 is refused', '01-01-0000:00-00-00', undefined],
    ['hour 24 is refused', '01-01-2021:00-00-24', undefined],
    ['minute 60 is refused', '01-01-2021:00-60-00', undefined],
    ['second 60 is refused', '01-01-2021:60-00-00', undefined],
    ['one-digit fields are refused', '1-01-2021:00-00-00', undefined],
    ['a five-digit year is refused', '01-01-20211:00-00-00', undefined],
    ['other separators are refused', '01/01/2021 00:00:00', undefined],
    ['trailing text is refused', '01-01-2021:00-00-00Z', undefined],
    ['a trailing newline is refused', '01-01-2021:00-00-00\n', undefined],
    ['non-ASCII digits are refused', '٠١-01-2021:00-00-00', undefined],
  ];
  for (const [name, input, expected] of cases) test(name, () => assert.equal(timestampSortKey(input), expected));

  test('keys sort like the times they name', () => {
    const times = [
      '31-12-2020:59-59-23',
      '01-01-2021:00-00-00',
      '01-01-2021:01-00-00',
      '01-01-2021:00-01-00',
      '02-01-2021:00-00-00',
      '01-02-2021:00-00-00',
    ];
    const sorted = [...times].sort((a, b) => (timestampSortKey(a)! < timestampSortKey(b)! ? -1 : 1));
    assert.deepEqual(sorted, times);
  });
});

describe('formatTimestamp', () => {
  test('UTC, in the spec format, and parseable back', () => {
    const text = formatTimestamp(new Date(Date.UTC(2024, 1, 29, 7, 8, 9)));
    assert.equal(text, '29-02-2024:09-08-07');
    assert.equal(timestampSortKey(text), '20240229070809');
  });
});

describe('decodeStrictBase64', () => {
  const valid: [string, string, number[]][] = [
    ['no padding', 'TWFu', [0x4d, 0x61, 0x6e]],
    ['one =', 'TWE=', [0x4d, 0x61]],
    ['two =', 'TQ==', [0x4d]],
    ['+ and /', '+/+/', [0xfb, 0xff, 0xbf]],
  ];
  for (const [name, input, bytes] of valid)
    test(`valid: ${name}`, () => assert.deepEqual(decodeStrictBase64(input), Buffer.from(bytes)));

  const invalid: [string, string][] = [
    ['empty', ''],
    ['the spec example $bWF5byBvci$BtdX$N0Pw==', '$bWF5byBvci$BtdX$N0Pw=='],
    ['length not a multiple of 4', 'TWFuT'],
    ['missing padding', 'TWE'],
    ['= in the middle', 'TQ==TWFu'],
    ['three =', 'T==='],
    ['only padding', '===='],
    ['URL-safe - and _', 'a-_a'],
    ['a space', 'TW Fu'],
    ['a newline', 'TWFu\nTWFu'],
    ['non-zero padding bits (TWF=)', 'TWF='],
    ['non-zero padding bits (TR==)', 'TR=='],
    ['non-ASCII letters', 'TWFü'],
  ];
  for (const [name, input] of invalid)
    test(`invalid: ${name}`, () => assert.equal(decodeStrictBase64(input), undefined));
});

describe('values at their edges', () => {
  test('a timestamp with anything before or after it is no timestamp', () => {
    for (const text of [
      'x01-01-2020:00-00-00',
      '01-01-2020:00-00-00x',
      ' 01-01-2020:00-00-00',
      '01-01-2020:00-00-00\n',
    ]) {
      assert.equal(timestampSortKey(text), undefined, JSON.stringify(text));
    }
  });
  test('a year before 1000 is written with four digits', () => {
    const date = new Date(Date.UTC(2000, 0, 2, 3, 4, 5));
    date.setUTCFullYear(999);
    assert.equal(formatTimestamp(date), '02-01-0999:05-04-03');
    assert.equal(timestampSortKey(formatTimestamp(date)), '09990102030405');
  });
  test('an empty value is not base64, though it decodes to nothing', () => {
    assert.equal(decodeStrictBase64(''), undefined);
  });
});
