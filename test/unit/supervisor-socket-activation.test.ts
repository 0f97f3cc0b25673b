// Which inherited sockets the supervisor takes from the environment systemd sets (sd_listen_fds).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ActivationError, forgetActivationEnv, inheritedSockets } from '../../supervisor/balancer/socket-activation.ts';

const PID = 4242;

describe('inheritedSockets', () => {
  const cases: Array<{
    name: string;
    env: Record<string, string>;
    expect: { public: number; redirect: number | null } | null;
  }> = [
    { name: 'no LISTEN_FDS → none (the supervisor binds listen.port itself)', env: {}, expect: null },
    {
      name: 'LISTEN_PID of another process (inherited from a parent) → none',
      env: { LISTEN_FDS: '1', LISTEN_PID: '1' },
      expect: null,
    },
    {
      name: 'one socket, unnamed → fd 3 is the public listener',
      env: { LISTEN_FDS: '1', LISTEN_PID: String(PID) },
      expect: { public: 3, redirect: null },
    },
    {
      name: "one socket with systemd's default name (the unit's) → public",
      env: { LISTEN_FDS: '1', LISTEN_PID: String(PID), LISTEN_FDNAMES: 'selflessacts.socket' },
      expect: { public: 3, redirect: null },
    },
    {
      name: 'no LISTEN_PID at all → taken (some launchers omit it)',
      env: { LISTEN_FDS: '1' },
      expect: { public: 3, redirect: null },
    },
    {
      name: 'two named sockets, redirect first → by name',
      env: { LISTEN_FDS: '2', LISTEN_PID: String(PID), LISTEN_FDNAMES: 'redirect:public' },
      expect: { public: 4, redirect: 3 },
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const got = inheritedSockets(c.env, PID);
      assert.deepEqual(got && { public: got.public, redirect: got.redirect }, c.expect);
    });
  }

  const refused: Array<{ name: string; env: Record<string, string>; message: RegExp }> = [
    {
      name: 'a count that is not a number',
      env: { LISTEN_FDS: 'two' },
      message: /LISTEN_FDS is "two"; expected a count/,
    },
    {
      name: 'names and count disagree',
      env: { LISTEN_FDS: '2', LISTEN_FDNAMES: 'public' },
      message: /names 1 socket\(s\) \(public\) but LISTEN_FDS is 2/,
    },
    {
      name: 'two sockets without names',
      env: { LISTEN_FDS: '2' },
      message: /each needs FileDescriptorName=public or redirect/,
    },
    {
      name: 'an unknown name among several',
      env: { LISTEN_FDS: '2', LISTEN_FDNAMES: 'public:admin' },
      message: /named "admin"/,
    },
    {
      name: 'two public sockets',
      env: { LISTEN_FDS: '2', LISTEN_FDNAMES: 'public:public' },
      message: /two sockets are named public/,
    },
    {
      name: 'only a redirect socket',
      env: { LISTEN_FDS: '1', LISTEN_FDNAMES: 'redirect' },
      message: /no socket is named public/,
    },
  ];
  for (const c of refused) {
    test(`refused: ${c.name}`, () => {
      assert.throws(
        () => inheritedSockets(c.env, PID),
        (err: unknown) => err instanceof ActivationError && c.message.test(err.message),
      );
    });
  }

  test('forgetActivationEnv unsets the three variables, nothing else', () => {
    const env: Record<string, string> = { LISTEN_FDS: '1', LISTEN_PID: '1', LISTEN_FDNAMES: 'public', PATH: '/bin' };
    forgetActivationEnv(env);
    assert.deepEqual(env, { PATH: '/bin' });
  });
});
