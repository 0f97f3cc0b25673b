import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isEngineError, isNotFound, tarBuffer, tarStream, type JsonMessage } from '../../engine-client/index.ts';
import { TEST_LABEL, TEST_LABELS, engineSuite, skipEngine, uniqueName } from './support.ts';

describe('engine-client images (real dockerd)', { skip: skipEngine }, () => {
  const suite = engineSuite();
  const { engine } = suite;

  test('a small build: streamed context, build args, labels, tag, progress to the callback', async () => {
    const tag = `${uniqueName('build')}:v1`;
    const dockerfile = [
      'ARG BASE',
      'FROM ${BASE}',
      'ARG GREETING',
      'COPY greeting.txt /greeting.txt',
      'RUN ["node", "-e", "require(\'fs\').writeFileSync(\'/built.txt\', process.env.GREETING)"]',
      'ENV GREETING=${GREETING}',
      '',
    ].join('\n');
    const progress: JsonMessage[] = [];
    const result = await engine.images.build(
      tarStream([
        { name: 'build/Dockerfile.test', content: dockerfile },
        { name: 'greeting.txt', content: 'hello from the context' },
      ]),
      {
        tags: [tag],
        dockerfile: 'build/Dockerfile.test',
        buildArgs: { BASE: suite.image, GREETING: 'built with an arg' },
        labels: { ...TEST_LABELS, 'selflessacts.image': 'test' },
        onProgress: (message) => progress.push(message),
      },
    );
    assert.match(result.imageId, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(result.tags, [tag]);
    const text = progress.map((m) => m.stream ?? '').join('');
    assert.match(text, /Step 1\/\d+ : ARG BASE/);
    assert.match(text, /Successfully tagged/);

    const info = await engine.images.inspect(tag);
    assert.equal(info.id, result.imageId);
    assert.equal(info.labels[TEST_LABEL], 'engine');
    assert.equal(info.labels['selflessacts.image'], 'test');
    assert.ok(info.env.includes('GREETING=built with an arg'));
    assert.ok(info.repoTags.includes(tag));

    // What the build wrote is in the image.
    const { id } = await engine.containers.create({
      image: tag,
      cmd: [
        'node',
        '-e',
        "const fs = require('fs'); console.log(fs.readFileSync('/built.txt', 'utf8') + ' / ' + fs.readFileSync('/greeting.txt', 'utf8'))",
      ],
      labels: TEST_LABELS,
    });
    await engine.containers.start(id);
    assert.equal((await engine.containers.wait(id)).statusCode, 0);
    assert.equal((await engine.containers.logsText(id)).stdout, 'built with an arg / hello from the context\n');
    await engine.containers.remove(id);

    // tag, list, remove
    const second = `${uniqueName('tagged')}:other`;
    await engine.images.tag(tag, second);
    assert.equal((await engine.images.inspect(second)).id, result.imageId);
    const listed = await engine.images.list({ labels: { 'selflessacts.image': 'test', [TEST_LABEL]: 'engine' } });
    const entry = listed.find((image) => image.id === result.imageId);
    assert.deepEqual(entry?.repoTags.sort(), [tag, second].sort());
    assert.ok((entry?.size ?? 0) > 0);
    assert.deepEqual(await engine.images.list({ labels: { 'selflessacts.image': uniqueName('none') } }), []);

    assert.deepEqual(await engine.images.remove(second), [{ untagged: second }]);
    const removed = await engine.images.remove(tag);
    assert.ok(removed.some((r) => r.deleted === result.imageId));
    await assert.rejects(engine.images.inspect(tag), (e: unknown) => isNotFound(e));
    assert.equal(await engine.images.find(tag), undefined);
    await assert.rejects(engine.images.remove(tag), (e: unknown) => isNotFound(e));
  });

  test('a step failing inside the 200 stream fails the build with the engine message', async () => {
    const progress: JsonMessage[] = [];
    const error = await engine.images
      .build(
        tarStream([{ name: 'Dockerfile', content: `FROM ${suite.image}\nRUN ["node", "-e", "process.exit(3)"]\n` }]),
        {
          tags: [`${uniqueName('fails')}:v1`],
          labels: TEST_LABELS,
          onProgress: (m) => progress.push(m),
        },
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(isEngineError(error), `expected EngineError, got ${String(error)}`);
    assert.equal(error.code, 'STREAM_ERROR');
    assert.equal(error.status, 200);
    assert.match(error.engineMessage ?? '', /returned a non-zero code: 3/);
    assert.match(error.message, /returned a non-zero code: 3/);
    assert.ok(
      progress.some((m) => m.errorDetail?.message?.includes('non-zero code: 3')),
      'the error line reached the callback',
    );
  });

  test('an unknown instruction and a COPY of a missing file fail with the engine message', async () => {
    const bad = await engine.images
      .build(await tarBuffer([{ name: 'Dockerfile', content: `FROM ${suite.image}\nFROBNICATE now\n` }]), {
        labels: TEST_LABELS,
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(isEngineError(bad), `expected EngineError, got ${String(bad)}`);
    assert.match(bad.message, /unknown instruction: FROBNICATE/i);

    // (No FROM of a missing image here: the engine would try to pull it from the internet.)
    const noFile = await engine.images
      .build(await tarBuffer([{ name: 'Dockerfile', content: `FROM ${suite.image}\nCOPY not-in-context.txt /\n` }]), {
        labels: TEST_LABELS,
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(isEngineError(noFile), `expected EngineError, got ${String(noFile)}`);
    assert.equal(noFile.code, 'STREAM_ERROR');
    assert.match(noFile.message, /not-in-context\.txt/);
  });

  test('a context file that cannot be read fails the build as STREAM_ERROR, not as a missing engine', async () => {
    const error = await engine.images
      .build(
        tarStream([
          { name: 'Dockerfile', content: `FROM ${suite.image}\n` },
          { name: 'gone', sourcePath: '/nonexistent/file' },
        ]),
        {
          labels: TEST_LABELS,
        },
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(isEngineError(error), `expected EngineError, got ${String(error)}`);
    assert.equal(error.code, 'STREAM_ERROR');
    assert.match(error.message, /nonexistent/);
    assert.ok((await engine.system.ping()).apiVersion, 'the engine is fine');
  });

  test('import turns a rootfs tar into an image, with changes applied', async () => {
    const repo = uniqueName('import');
    const result = await engine.images.import(
      tarStream([
        { name: 'etc', type: 'directory' },
        { name: 'etc/motd', content: 'imported' },
        { name: 'motd', type: 'symlink', linkname: 'etc/motd' },
      ]),
      { repo, tag: 't1', changes: [`LABEL ${TEST_LABEL}=engine`, 'ENV FROM_IMPORT=yes', 'WORKDIR /etc'] },
    );
    const info = await engine.images.inspect(`${repo}:t1`);
    assert.equal(info.id, result.imageId);
    assert.equal(info.labels[TEST_LABEL], 'engine');
    assert.ok(info.env.includes('FROM_IMPORT=yes'));
    assert.equal(info.workingDir, '/etc');
    await engine.images.remove(`${repo}:t1`);
  });
});
