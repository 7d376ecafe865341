/**
 * A real HTTP server on a loopback port that serves files the way an object
 * store serves a presigned GET: `Range: bytes=a-b` and `bytes=a-` answered
 * with 206 and Content-Range, no Range with 200, a missing name with 404,
 * an ETag and a Last-Modified on every answer, and If-Match honoured (412
 * when it names another ETag). It counts every request and the body bytes
 * it hands to its sockets, so a test can measure what a client fetched from
 * the server's side. Options make it misbehave as real servers do.
 */

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RangeServer {
  /** The URL of a served file, with an optional query (a presigned URL's signature, say). */
  url(name: string, query?: string): string;
  /** Body bytes handed to sockets since the start or the last reset. */
  readonly bytesSent: number;
  /** Requests answered since the start or the last reset, with the Range header each carried. */
  readonly ranges: readonly (string | undefined)[];
  /** Responses dropped part-way (see RangeServerOptions.cutAfter). */
  readonly cuts: number;
  reset(): void;
  close(): Promise<void>;
}

export interface RangeServerOptions {
  /** Drops each connection once it has sent this many body bytes, as a server that closes idle or long connections does. */
  cutAfter?: number;
  /** Answers every request with 200 and the whole file, whatever its Range says. */
  ignoreRange?: boolean;
  /** Sends at most this many bytes of a range (206 with a shorter Content-Range, as RFC 9110 allows). */
  maxRange?: number;
  /** Answers the first this many requests with 503. */
  failFirst?: number;
  /** From this request on (counting from 1), every file has another ETag and Last-Modified, as if uploaded again. */
  changeAt?: number;
  /** Ignores If-Match (answers whatever the object is now), as some servers do. */
  ignoreIfMatch?: boolean;
}

/** Serves `files` (URL name -> local path) on 127.0.0.1 at a free port. */
export async function startRangeServer(
  files: Readonly<Record<string, string>>,
  options: RangeServerOptions = {},
): Promise<RangeServer> {
  const cutAfter = options.cutAfter ?? Number.POSITIVE_INFINITY;
  let bytesSent = 0;
  let cuts = 0;
  let ranges: (string | undefined)[] = [];

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    ranges.push(req.headers.range);
    const path = files[new URL(req.url ?? '/', 'http://localhost').pathname.slice(1)];
    if (req.method !== 'GET' || path === undefined) {
      res.writeHead(req.method === 'GET' ? 404 : 405).end();
      return;
    }
    if (ranges.length <= (options.failFirst ?? 0)) {
      res.writeHead(503, { 'Content-Length': 0 }).end();
      return;
    }
    const { size, mtime } = await stat(path);
    const version = options.changeAt !== undefined && ranges.length >= options.changeAt ? 2 : 1;
    const etag = `"${size.toString(16)}-${version}"`;
    const validators = { ETag: etag, 'Last-Modified': new Date(mtime.getTime() + (version - 1) * 60_000).toUTCString() };
    const ifMatch = req.headers['if-match'];
    if (ifMatch !== undefined && ifMatch !== etag && !options.ignoreIfMatch) {
      res.writeHead(412, { 'Content-Length': 0, ...validators }).end();
      return;
    }
    const range = options.ignoreRange ? null : /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    const asked = range && range[2] !== '' ? Math.min(Number(range[2]), size - 1) : size - 1;
    const end = range && options.maxRange !== undefined ? Math.min(asked, start + options.maxRange - 1) : asked;
    if (start >= size || end < start) {
      res.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
      return;
    }
    res.writeHead(range ? 206 : 200, {
      'Accept-Ranges': 'bytes',
      'Content-Length': end - start + 1,
      ...validators,
      ...(range ? { 'Content-Range': `bytes ${start}-${end}/${size}` } : {}),
    });
    const body = createReadStream(path, { start, end });
    let sentHere = 0;
    // No encoding was set: every chunk is a Buffer.
    body.on('data', (chunk: string | Buffer) => {
      const bytes = chunk as Buffer;
      const part = bytes.subarray(0, Math.max(0, cutAfter - sentHere));
      sentHere += part.length;
      bytesSent += part.length;
      if (part.length < bytes.length) {
        cuts += 1;
        res.write(part, () => res.destroy());
        body.destroy();
      } else if (!res.write(part)) {
        body.pause();
      }
    });
    res.on('drain', () => body.resume());
    body.on('end', () => res.end());
    // A client that has read what it wanted closes the connection.
    res.on('close', () => body.destroy());
  }

  const server = createServer((req, res) => {
    serve(req, res).catch((error: unknown) => res.destroy(error as Error));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: (name, query) => `http://127.0.0.1:${port}/${name}${query === undefined ? '' : `?${query}`}`,
    get bytesSent() {
      return bytesSent;
    },
    get ranges() {
      return ranges;
    },
    get cuts() {
      return cuts;
    },
    reset() {
      bytesSent = 0;
      ranges = [];
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** A loopback URL where nothing listens: a port a server had and gave back. */
export async function refusedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/video.mp4`;
}
