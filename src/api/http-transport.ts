/**
 * The API client's default transport: one request over `node:http` (or
 * `node:https`) through Node's global agent, which keeps connections alive
 * (Node ≥ 19) and lets a process exit while they are idle. It does what the
 * client needs of `fetch` — method, headers, a byte body, an abort signal, the
 * status and the whole answer — at less than half of `fetch`'s CPU per
 * request (undici's `fetch` builds WHATWG streams, headers and a `Response`
 * for every call; `npm run bench:http` measures both side by side).
 */
import http from 'node:http';
import https from 'node:https';

/** What the client reads of an answer; `fetch`'s `Response` has it too. */
export interface HttpAnswer {
  readonly ok: boolean;
  readonly status: number;
  text(): Promise<string>;
}

export interface HttpRequestInit {
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array | null;
  readonly signal: AbortSignal;
}

export type HttpTransport = (url: string, init: HttpRequestInit) => Promise<HttpAnswer>;

/** The answer's whole body is read before this resolves (as `fetch` + `text()` would). */
export const nodeHttpTransport: HttpTransport = (url, init) =>
  new Promise<HttpAnswer>((resolve, reject) => {
    const client = url.startsWith('https:') ? https : http;
    const headers: Record<string, string> = { ...init.headers };
    if (init.body !== null) headers['content-length'] = String(init.body.byteLength);
    const request = client.request(
      url,
      { method: init.method, headers, signal: init.signal },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('close', () => {
          if (!response.complete) reject(new Error('connection closed before the whole answer'));
        });
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
          resolve({
            ok: status >= 200 && status < 300,
            status,
            text: () => Promise.resolve(body.toString('utf8')),
          });
        });
      },
    );
    request.on('error', reject);
    request.end(init.body ?? undefined);
  });

/** Adapts a `fetch` (tests, proxies) to the transport's shape. */
export function fetchTransport(fetchImpl: typeof fetch): HttpTransport {
  return (url, init) =>
    fetchImpl(url, {
      method: init.method,
      headers: init.headers,
      body: init.body,
      signal: init.signal,
    });
}
