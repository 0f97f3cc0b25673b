// The balancer's link-preview page (supervisor/balancer/share-page.ts), pure: what a service's
// answer may put in the HTML (nothing that escapes an attribute, no image of another site), what
// a missing thing or no answer gives, and which Host headers may name the page's origin.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import {
  escapeHtml,
  pageOrigin,
  parsePreview,
  previewPage,
  renderPreviewPage,
  type PagePreview,
} from '../../supervisor/balancer/share-page.ts';

const shell = readFileSync(path.resolve(import.meta.dirname, '../../public/index.html'), 'utf8');

const PREVIEW: PagePreview = {
  title: 'A kind act by nia · Porch',
  description: 'Fixed the porch light.',
  type: 'article',
  card: 'summary_large_image',
  image: {
    url: '/api/v1/acts/70/image/0123456789abcdef/1280.jpg',
    type: 'image/jpeg',
    width: 1280,
    height: 960,
    alt: 'A porch',
  },
};

/** The content of every meta tag, by its property or name. */
function tags(html: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const m of html.matchAll(/<meta (?:property|name)="([^"]+)" content="([^"]*)">/g)) found[m[1]!] = m[2]!;
  return found;
}

describe('link-preview page', () => {
  test('a preview becomes the title, the description and the Open Graph and Twitter tags, with absolute URLs', () => {
    const html = renderPreviewPage(shell, '/a/70', { status: 200, preview: PREVIEW }, 'https://acts.example');
    const t = tags(html);
    assert.match(html, /<title>A kind act by nia · Porch<\/title>/);
    assert.equal(html.match(/<title>/g)?.length, 1);
    assert.equal(t.description, 'Fixed the porch light.');
    assert.equal(t['og:site_name'], 'SelfLessActs');
    assert.equal(t['og:url'], 'https://acts.example/a/70');
    assert.equal(t['og:image'], 'https://acts.example/api/v1/acts/70/image/0123456789abcdef/1280.jpg');
    assert.deepEqual([t['og:image:width'], t['og:image:height'], t['og:image:type']], ['1280', '960', 'image/jpeg']);
    assert.equal(t['twitter:card'], 'summary_large_image');
    assert.equal(t['twitter:image'], t['og:image']);
    assert.match(html, /<link rel="canonical" href="https:\/\/acts\.example\/a\/70">/);
    // The page is still the UI: its script and styles are untouched.
    assert.match(html, /<script type="module" src="\/js\/main\.js"><\/script>/);
  });

  test('whatever a caption holds stays text: quotes, tags and replacement patterns ("$&")', () => {
    const hostile = {
      ...PREVIEW,
      title: `"><script>alert(1)</script> $& $' $1`,
      description: `</title><img src=x onerror=alert(1)> & 'quoted'`,
    };
    const html = renderPreviewPage(shell, '/a/70', { status: 200, preview: parsePreview(hostile)! }, undefined);
    assert.doesNotMatch(html, /<script>alert/);
    assert.doesNotMatch(html, /<img src=x/);
    assert.match(html, /<title>&quot;&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt; \$&amp; \$&#39; \$1<\/title>/);
    assert.equal(
      tags(html)['og:description'],
      '&lt;/title&gt;&lt;img src=x onerror=alert(1)&gt; &amp; &#39;quoted&#39;',
    );
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  test("a service's answer is checked before it reaches the HTML", () => {
    assert.deepEqual(parsePreview(PREVIEW), PREVIEW);
    const bad: unknown[] = [
      null,
      [],
      'text',
      { ...PREVIEW, title: '' },
      { ...PREVIEW, title: 5 },
      { ...PREVIEW, type: 'video' },
      { ...PREVIEW, card: 'player' },
      // An image of another site, or a script, is no preview of this one.
      { ...PREVIEW, image: { ...PREVIEW.image, url: '//evil.example/x.jpg' } },
      { ...PREVIEW, image: { ...PREVIEW.image, url: '/\\evil.example/x.jpg' } },
      { ...PREVIEW, image: { ...PREVIEW.image, url: 'javascript:alert(1)' } },
      { ...PREVIEW, image: { ...PREVIEW.image, url: 'https://evil.example/x.jpg' } },
      { ...PREVIEW, image: { ...PREVIEW.image, url: '/a b.jpg' } },
      { ...PREVIEW, image: { ...PREVIEW.image, type: 'text/html' } },
      { ...PREVIEW, image: { ...PREVIEW.image, width: -1 } },
      { ...PREVIEW, image: { ...PREVIEW.image, height: 1.5 } },
    ];
    for (const body of bad) assert.equal(parsePreview(body), undefined, JSON.stringify(body));
    const long = parsePreview({ ...PREVIEW, title: 't'.repeat(500), description: `a\n\n${'d'.repeat(1000)}` })!;
    assert.ok(long.title.length <= 200 && long.title.endsWith('…'));
    assert.ok(long.description.length <= 300 && long.description.startsWith('a d'));
  });

  test('nothing there: the page with a 404 and a title that says so; no answer: the page as it is', () => {
    assert.deepEqual(previewPage({ status: 404, body: { error: 'no such act' } }), { status: 404, preview: undefined });
    assert.deepEqual(previewPage({ status: 400, body: { error: 'bad' } }), { status: 404, preview: undefined });
    const missing = renderPreviewPage(shell, '/a/9', previewPage({ status: 404, body: {} }), undefined);
    assert.match(missing, /<title>Not found · SelfLessActs<\/title>/);
    assert.deepEqual(tags(missing), tags(shell));
    for (const answer of [undefined, { status: 503, body: { error: 'busy' } }, { status: 200, body: { title: 3 } }]) {
      const page = previewPage(answer);
      assert.deepEqual(page, { status: 200, preview: undefined });
      assert.equal(renderPreviewPage(shell, '/a/9', page, undefined), shell);
    }
  });

  test("the origin comes from a plain Host only; otherwise the page's URLs stay relative", () => {
    assert.equal(pageOrigin('http', '127.0.0.1:3000'), 'http://127.0.0.1:3000');
    assert.equal(pageOrigin('https', 'Acts.Example'), 'https://acts.example');
    assert.equal(pageOrigin('http', '[::1]:3000'), 'http://[::1]:3000');
    for (const host of [
      undefined,
      '',
      'evil.example/x',
      'a"b',
      'a b',
      'evil.example@x',
      'x..y',
      '-x.example',
      'x:99999999',
    ])
      assert.equal(pageOrigin('http', host), undefined, String(host));
    const html = renderPreviewPage(shell, '/a/70', { status: 200, preview: PREVIEW }, undefined);
    assert.equal(tags(html)['og:url'], '/a/70');
  });
});
