import type { StoredKey } from './store.js';

const ENTITIES: Readonly<Record<string, string>> = Object.freeze({
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
});

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** What the index page shows. */
export interface IndexPage {
  username: string;
  appId: string;
  facets: readonly string[];
  keys: readonly StoredKey[];
}

/**
 * The small page at `GET /`: the user's registered keys with their last counters, and how
 * to drive the server with curl. Every value from a client or the store is escaped.
 */
export function renderIndexPage(page: IndexPage): string {
  const e = escapeHtml;
  const rows = page.keys.map((key, i) => {
    const { registration } = key;
    const counter =
      registration.counter === undefined ? 'never used' : String(registration.counter);
    const transports = registration.transports?.join(', ') ?? '';
    return (
      `<tr><td>${i + 1}</td><td><code>${e(registration.keyHandle.slice(0, 24))}…</code></td>` +
      `<td>${e(counter)}</td><td>${e(key.lastUsedAt ?? '')}</td><td>${e(key.createdAt)}</td>` +
      `<td>${e(key.certificateSubject)}</td><td>${e(transports)}</td></tr>`
    );
  });
  const table =
    page.keys.length === 0
      ? '<p>No keys registered for this user yet.</p>'
      : '<table><thead><tr><th>#</th><th>key handle</th><th>counter</th><th>last used</th>' +
        '<th>registered</th><th>attestation</th><th>transports</th></tr></thead>' +
        `<tbody>${rows.join('')}</tbody></table>`;
  const user = encodeURIComponent(page.username);
  const facets = page.facets.map((f) => `<code>${e(f)}</code>`).join(', ');

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>KeyBench example U2F server</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; max-width: 60em; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: 0.3em 0.6em; }
code { font-size: 0.9em; }
</style>
</head>
<body>
<h1>KeyBench example U2F server</h1>
<p>App ID <code>${e(page.appId)}</code>; facets ${facets}.</p>
<h2>Keys of <code>${e(page.username)}</code></h2>
${table}
<h2>Endpoints</h2>
<ul>
<li><code>GET /enroll?username=${e(user)}</code>: a registration request</li>
<li><code>POST /bind</code> with <code>data</code> = the RegisterResponse JSON</li>
<li><code>GET /sign?username=${e(user)}</code>: a sign request</li>
<li><code>POST /verify</code> with <code>data</code> = the SignResponse JSON</li>
</ul>
</body>
</html>
`;
}
