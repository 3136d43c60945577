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
 * The parsed body. An oversize body is refused with 413 as soon as the limit is passed (or the
 * Content-Length announces it), and the rest is read and dropped so the client can read the answer.
 */
export function readJsonBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const tooLarge = () =>
      new RequestError(413, `the request body is over ${limit} bytes; send fewer samples per request (split the batch)`);
    const announced = Number(req.headers['content-length']);
    if (Number.isFinite(announced) && announced > limit) {
      req.resume();
      reject(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > limit) {
        refused = true;
        chunks.length = 0;
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', (e) => reject(new RequestError(400, `the request body could not be read (${e.message})`)));
    req.on('end', () => {
      if (refused) return;
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
