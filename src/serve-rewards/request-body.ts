// Reads a request's JSON body under a size limit, so one oversize request cannot exhaust the
// memory of a server that every trainer rank depends on.
import type { IncomingMessage } from 'node:http';
import { RequestError } from './request-error';

/**
 * 64 MiB holds a few hundred thousand completions of a few hundred characters: far above any
 * trainer's batch, far below what would endanger the process.
 */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

/**
 * The parsed body. An oversize body is refused with 413 once it has been read to its end and
 * dropped: clients (fetch, requests, aiohttp) send the whole body before they read an answer,
 * and one cut off mid-upload sees a reset connection, not the reason. Node's request timeout
 * bounds a body that never ends.
 */
export function readJsonBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else chunks.length = 0;
    });
    req.on('error', (e) => reject(new RequestError(400, `the request body could not be read (${e.message})`)));
    req.on('end', () => {
      if (size > limit) {
        reject(new RequestError(413, `the request body is over ${limit} bytes; send fewer samples per request (split the batch)`));
        return;
      }
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') {
        reject(new RequestError(400, 'the request body is empty; send a JSON object'));
        return;
      }
      try {
        resolve(JSON.parse(text));
      } catch (e) {
        reject(new RequestError(400, `the request body is not valid JSON (${(e as Error).message}); send a JSON object`));
      }
    });
  });
}
