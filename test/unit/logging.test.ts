// The shared log schema (logging/logger.ts): what a JSON line holds, how children bind fields,
// LOG_LEVEL filtering, errors among fields, the pretty form, and bad settings named.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { prettyFactory } from 'pino-pretty';
import { createLogger, logSettings, prettyOptions, type LoggerOptions } from '../../logging/logger.ts';

function capture(options: LoggerOptions = {}) {
  const lines: string[] = [];
  const logger = createLogger({ ...options, destination: { write: (line: string) => void lines.push(line) } });
  return { logger, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('logging: one JSON schema', () => {
  test('a line: level by name, ISO time, component and fields, msg', () => {
    const { logger, lines, parsed } = capture({ bindings: { component: 'fleet' } });
    logger.info('replica ready', { id: 'acts-8000', port: 8000 });
    assert.equal(lines.length, 1);
    assert.ok(lines[0]!.endsWith('\n'));
    const [line] = parsed();
    assert.equal(line!.level, 'info');
    assert.match(String(line!.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(
      { ...line, time: undefined },
      { level: 'info', time: undefined, component: 'fleet', id: 'acts-8000', port: 8000, msg: 'replica ready' },
    );
  });

  test("a child's component replaces its parent's: the key appears once", () => {
    const { logger, lines } = capture({ bindings: { component: 'supervisor', instance: 'a' } });
    logger.child({ component: 'admin' }).warn('admin request failed');
    assert.equal(lines[0]!.match(/"component"/g)?.length, 1, lines[0]);
    assert.deepEqual(JSON.parse(lines[0]!), {
      ...JSON.parse(lines[0]!),
      component: 'admin',
      instance: 'a',
      level: 'warn',
    });
  });

  test('LOG_LEVEL filters: debug hidden at info, shown at debug; warn alone at warn', () => {
    const at = (level: 'info' | 'debug' | 'warn') => {
      const { logger, parsed } = capture({ level });
      logger.debug('d');
      logger.info('i');
      logger.log('warn', 'w');
      logger.error('e');
      return parsed().map((l) => l.msg);
    };
    assert.deepEqual(at('info'), ['i', 'w', 'e']);
    assert.deepEqual(at('debug'), ['d', 'i', 'w', 'e']);
    assert.deepEqual(at('warn'), ['w', 'e']);
  });

  test('an Error among the fields prints as {code, message}, not {}', () => {
    const { logger, parsed } = capture();
    const err = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    logger.error('start failed', { error: err, plain: { a: 1 } });
    assert.deepEqual(parsed()[0]!.error, { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' });
    assert.deepEqual(parsed()[0]!.plain, { a: 1 });
  });
});

describe('logging: format and settings', () => {
  test('pretty: one readable line naming time, level, component and message', () => {
    const { logger, lines } = capture({ bindings: { component: 'fleet' } });
    logger.warn('replica failed', { id: 'acts-8000' });
    // What createLogger's terminal stream does to each line, with the same options.
    const text = prettyFactory(prettyOptions(false))(lines[0]!);
    assert.match(text, /^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: fleet: replica failed \{"id":"acts-8000"\}\n$/);
  });

  test('logSettings: defaults, both read, and a bad value named', () => {
    const invalid = (variable: string, value: string, expected: string) =>
      new Error(`${variable}=${value}: expected ${expected}`);
    assert.deepEqual(logSettings({}, invalid), { level: 'info', format: 'auto' });
    assert.deepEqual(logSettings({ LOG_LEVEL: 'debug', LOG_FORMAT: 'json' }, invalid), {
      level: 'debug',
      format: 'json',
    });
    assert.throws(
      () => logSettings({ LOG_LEVEL: 'DEBUG' }, invalid),
      /LOG_LEVEL=DEBUG/,
      'names as pino spells them, like every other setting',
    );
    assert.throws(
      () => logSettings({ LOG_LEVEL: 'loud' }, invalid),
      /^Error: LOG_LEVEL=loud: expected one of fatal, error, warn, info, debug, trace, silent$/,
    );
    assert.throws(
      () => logSettings({ LOG_FORMAT: 'xml' }, invalid),
      /LOG_FORMAT=xml: expected one of auto, json, pretty/,
    );
  });
});
