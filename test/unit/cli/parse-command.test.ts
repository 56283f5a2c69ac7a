import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommandLine } from '../../../src/cli/parse-command.js';

test('the commands and flags the gateway knows are read', () => {
  assert.deepEqual(parseCommandLine([]), { kind: 'start' });
  assert.deepEqual(parseCommandLine(['start']), { kind: 'start' });
  assert.deepEqual(parseCommandLine(['--profiles', 'p']), { kind: 'start', profiles: 'p' });
  assert.deepEqual(parseCommandLine(['start', '--profiles=p']), { kind: 'start', profiles: 'p' });
  assert.deepEqual(parseCommandLine(['--help']), { kind: 'help' });
  assert.deepEqual(parseCommandLine(['-h']), { kind: 'help' });
  assert.deepEqual(parseCommandLine(['help']), { kind: 'help' });
  assert.deepEqual(parseCommandLine(['start', '--help']), { kind: 'help' });
  assert.deepEqual(parseCommandLine(['version']), { kind: 'version' });
  assert.deepEqual(parseCommandLine(['--version']), { kind: 'version' });
  assert.deepEqual(parseCommandLine(['config', 'check']), { kind: 'config-check' });
  assert.deepEqual(parseCommandLine(['config', 'check', 'dir']), { kind: 'config-check', dir: 'dir' });
  assert.deepEqual(parseCommandLine(['config', 'check', '--schema']), { kind: 'config-schema' });
  assert.deepEqual(parseCommandLine(['config', 'schema']), { kind: 'config-schema' });
  assert.deepEqual(parseCommandLine(['reload', '--tls', '--admin', 'http://127.0.0.1:1', '--json']),
    { kind: 'reload', args: ['--tls', '--admin', 'http://127.0.0.1:1', '--json'] });
});

test('an unknown command, flag or extra word is a usage error that names it', () => {
  const cases: [string[], RegExp][] = [
    [['bogus'], /unknown command 'bogus'/],
    [['--bogus'], /--bogus/],
    [['start', '--bogus'], /--bogus/],
    [['start', 'now'], /now/],
    [['--profiles'], /--profiles/],
    [['--help', 'x'], /'x'/],
    [['version', 'x'], /'x'/],
    [['config'], /check or schema/],
    [['config', 'bogus'], /unknown config subcommand 'bogus'/],
    [['config', 'check', 'a', 'b'], /'b'/],
    [['config', 'check', '--schema', 'dir'], /--schema takes no directory/],
    [['config', 'schema', 'x'], /'x'/],
    [['reload', '--force'], /--force/],
    [['reload', 'now'], /now/],
  ];
  for (const [argv, message] of cases) {
    const c = parseCommandLine(argv);
    assert.equal(c.kind, 'usage-error', argv.join(' '));
    assert.match(c.kind === 'usage-error' ? c.message : '', message, argv.join(' '));
  }
});
