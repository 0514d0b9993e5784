import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RedisUrlError, describeRedisUrl, parseRedisUrl, redactRedisUrl } from '../../../src/storage/redis/url.ts';

test('redis:// URLs: host, default port 6379, db, user and password (percent-decoded)', () => {
  assert.deepEqual(parseRedisUrl('redis://localhost'), { tls: false, host: 'localhost', port: 6379, username: null, password: null, db: 0 });
  assert.deepEqual(parseRedisUrl('redis://app:p%40ss%3Aw0rd@10.0.0.5:6380/3'), {
    tls: false,
    host: '10.0.0.5',
    port: 6380,
    username: 'app',
    password: 'p@ss:w0rd',
    db: 3,
  });
  assert.deepEqual(parseRedisUrl('redis://:secret@[::1]:7000/'), { tls: false, host: '::1', port: 7000, username: null, password: 'secret', db: 0 });
  assert.equal(parseRedisUrl('rediss://default:pw@cache.example.com:6380').tls, true);
});

test('bad URLs are clear errors that never show the password', () => {
  const cases: [string, RegExp][] = [
    ['http://:hunter2@host', /scheme must be redis:\/\/ or rediss:\/\//],
    ['redis://:hunter2@host:99999', /not a URL|port/],
    ['redis://:hunter2@host/abc', /database number/],
    ['redis://:hunter2@host/1?tls=true', /query parameters/],
    ['redis://hunter2@host', /user name without a password/],
    ['redis://:hunter2%zz@host', /percent-encoding/],
    ['not a url hunter2', /not a URL/],
  ];
  for (const [url, why] of cases) {
    assert.throws(() => parseRedisUrl(url), (error: unknown) => {
      assert.ok(error instanceof RedisUrlError);
      assert.match(error.message, why);
      assert.doesNotMatch(error.message, /hunter2/, url);
      return true;
    });
  }
});

test('redacted forms replace the password only', () => {
  assert.equal(redactRedisUrl('redis://app:s3cr@t@host:6379/1'), 'redis://app:[REDACTED]@host:6379/1');
  assert.equal(redactRedisUrl('rediss://:pw@host'), 'rediss://:[REDACTED]@host');
  assert.equal(redactRedisUrl('redis://host:6379/2'), 'redis://host:6379/2');
  assert.equal(describeRedisUrl(parseRedisUrl('rediss://app:pw@[::1]:7000/4')), 'rediss://app:[REDACTED]@[::1]:7000/4');
  assert.equal(describeRedisUrl(parseRedisUrl('redis://:pw@h')), 'redis://:[REDACTED]@h:6379/0');
  assert.equal(describeRedisUrl(parseRedisUrl('redis://h')), 'redis://h:6379/0');
});

test('user info without a colon is redacted whole (it may be a password written as a user name)', () => {
  assert.equal(redactRedisUrl('redis://hunter2@host'), 'redis://[REDACTED]@host');
  assert.equal(redactRedisUrl('garbage'), 'garbage');
});
