import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/config/errors.ts';
import { describeValue, durationMs, parseDuration, parseSize, sizeBytes } from '../../src/config/duration.ts';

describe('parseDuration', () => {
  const table: [unknown, number][] = [
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['1m30s', 90_000],
    ['1h 30m', 5_400_000],
    ['1.5s', 1_500],
    ['0.25m', 15_000],
    ['0s', 0],
    [' 2s ', 2_000],
    [250, 250],
    [0, 0],
    [12.4, 12],
    ['750', 750],
  ];
  for (const [input, expected] of table) {
    test(`${JSON.stringify(input)} -> ${expected}ms`, () => {
      assert.equal(parseDuration(input, 'x'), expected);
    });
  }

  const bad: unknown[] = ['fast', '', '-1s', '5 minutes', '1y', '1m30', 's', -5, Infinity, NaN, true, null, [], {}];
  for (const input of bad) {
    test(`rejects ${describeValue(input)}`, () => {
      assert.equal(durationMs(input), undefined);
    });
  }

  test('a bare numeric string is milliseconds', () => {
    assert.equal(durationMs('5'), 5);
  });

  test('the error names the path and the value', () => {
    assert.throws(
      () => parseDuration('fast', 'pools.a.recovery.cooldown'),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.code, 'config_invalid');
        assert.equal(err.path, 'pools.a.recovery.cooldown');
        assert.equal(err.message, 'pools.a.recovery.cooldown: expected a duration like 500ms, 30s, 5m, 1h or 1d, got "fast"');
        return true;
      },
    );
  });
});

describe('parseSize', () => {
  const table: [unknown, number][] = [
    [1024, 1024],
    ['512KiB', 524_288],
    ['10MiB', 10_485_760],
    ['25MB', 25_000_000],
    ['1GiB', 1_073_741_824],
    ['100kb', 100_000],
    ['2 GB', 2_000_000_000],
    ['1.5KiB', 1_536],
    ['42', 42],
    ['42b', 42],
    ['1TiB', 1024 ** 4],
    ['1tb', 1e12],
  ];
  for (const [input, expected] of table) {
    test(`${JSON.stringify(input)} -> ${expected} bytes`, () => {
      assert.equal(parseSize(input, 'x'), expected);
    });
  }

  for (const input of ['big', '10 parsecs', '-1MB', '', -1, false, ['1MB']] as unknown[]) {
    test(`rejects ${describeValue(input)}`, () => {
      assert.equal(sizeBytes(input), undefined);
    });
  }

  test('the error names the path and the value', () => {
    assert.throws(() => parseSize('big', 'proxy.limits.max_body'), {
      name: 'ConfigError',
      message: 'proxy.limits.max_body: expected a size like 512KiB, 10MiB or 25MB, got "big"',
    });
  });
});

describe('describeValue', () => {
  test('scalars are JSON, containers are named', () => {
    assert.equal(describeValue('two'), '"two"');
    assert.equal(describeValue(2), '2');
    assert.equal(describeValue(true), 'true');
    assert.equal(describeValue(null), 'null');
    assert.equal(describeValue([1]), 'a list');
    assert.equal(describeValue({ a: 1 }), 'a mapping');
    assert.equal(describeValue(Infinity), 'Infinity');
    assert.equal(describeValue(undefined), 'undefined');
  });
});
