// The HTTP face of a reward runner: three routes, JSON both ways, a refusal that names the field
// for any bad request, and a shutdown that finishes the call in progress.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { UserError } from '../errors';
import type { RewardRunner } from '../rewards/runner';
import { openRlhfAnswer, parseOpenRlhfRequest } from './openrlhf-protocol';
import { readJsonBody } from './request-body';
import { RequestError } from './request-error';
import { parseScoreRequest, scoreAnswer } from './score-protocol';
import { ScoreQueue } from './score-queue';
import type { ServeLog } from './serve-log';

export interface RewardServerOptions {
  host: string;
  /** 0: a free port, which `url` then names. */
  port: number;
  /** The row column OpenRLHF's labels go in. */
  labelField: string;
  log: ServeLog;
}

interface Route {
  method: 'GET' | 'POST';
  answer: (req: IncomingMessage) => Promise<object>;
}

/** How long answers of the last call get to reach their clients before the connections are cut. */
const SHUTDOWN_GRACE_MS = 2000;

export const ROUTES_TEXT = 'POST /score, POST /get_reward (OpenRLHF), GET /health';

export class RewardServer {
  private readonly queue: ScoreQueue;
  private readonly routes: Record<string, Route>;

  private constructor(
    private readonly http: Server,
    private readonly runner: RewardRunner,
    private readonly opts: RewardServerOptions,
  ) {
    this.queue = new ScoreQueue(runner, (report) => opts.log.reload(report));
    this.routes = {
      '/score': { method: 'POST', answer: (req) => this.score(req) },
      '/get_reward': { method: 'POST', answer: (req) => this.openRlhf(req) },
      '/health': { method: 'GET', answer: async () => this.health() },
    };
  }

  /** Listens on host:port; a port in use or an address not of this machine is a UserError naming the flag. */
  static async start(runner: RewardRunner, opts: RewardServerOptions): Promise<RewardServer> {
    const http = createServer();
    const server = new RewardServer(http, runner, opts);
    http.on('request', (req, res) => void server.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      http.once('error', (e: NodeJS.ErrnoException) => reject(listenProblem(e, opts)));
      http.listen(opts.port, opts.host, resolve);
    });
    return server;
  }

  get url(): string {
    const { address, port } = this.http.address() as AddressInfo;
    return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  }

  /** Stops listening, refuses what waits (503), lets the call in progress answer, then closes every connection. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.http.closeIdleConnections();
    await this.queue.close();
    const deadline = Date.now() + SHUTDOWN_GRACE_MS;
    let done = false;
    void closed.then(() => (done = true));
    // Keep-alive sockets go idle once their answer is written; those are what hold close() open.
    while (!done && Date.now() < deadline) {
      this.http.closeIdleConnections();
      await sleep(20);
    }
    this.http.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      const route = this.routes[path];
      if (route === undefined) throw new RequestError(404, `nothing at ${path}; this server answers ${ROUTES_TEXT}`);
      if (req.method !== route.method) {
        res.setHeader('Allow', route.method);
        throw new RequestError(405, `${path} takes ${route.method}, not ${req.method}`);
      }
      send(res, 200, await route.answer(req));
    } catch (e) {
      req.resume(); // a body nobody read must still be drained for the answer to reach the client
      if (e instanceof RequestError) {
        send(res, e.status, { error: e.message });
        return;
      }
      // A bug of ours: this request fails, the server keeps serving.
      const text = e instanceof Error ? (e.stack ?? e.message) : String(e);
      process.stderr.write(`internal error answering ${req.method} ${req.url}: ${text}\n`);
      send(res, 500, { error: `internal error in grpo serve-rewards: ${e instanceof Error ? e.message : String(e)}` });
    }
  }

  private async score(req: IncomingMessage): Promise<object> {
    const request = parseScoreRequest(await readJsonBody(req));
    const answer = scoreAnswer(await this.queue.score({ ...request, mergeable: false }));
    this.opts.log.errors(answer.errors);
    return answer;
  }

  private async openRlhf(req: IncomingMessage): Promise<object> {
    const request = parseOpenRlhfRequest(await readJsonBody(req), this.opts.labelField);
    // OpenRLHF says nothing of its training step, so ctx.iteration is 0.
    const scores = await this.queue.score({ samples: request.scorable.map((s) => s.sample), iteration: 0, mergeable: true });
    const answer = openRlhfAnswer(request, scores);
    this.opts.log.errors(answer.errors);
    return answer;
  }

  /** The versions in use; an edit shows here once a request has been scored after it. */
  private health(): object {
    return {
      status: 'ok',
      functions: this.runner.rewards().map((r) => ({ name: r.name, file: r.file, version: r.version, weight: r.weight, batched: r.batched })),
      versions: this.runner.versions(),
      queued_requests: this.queue.length,
    };
  }
}

function send(res: ServerResponse, status: number, body: object): void {
  if (res.headersSent || res.destroyed) return; // the client left; its answer has nowhere to go
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

function listenProblem(e: NodeJS.ErrnoException, opts: RewardServerOptions): Error {
  if (e.code === 'EADDRINUSE') return new UserError(`--port ${opts.port}: already in use on ${opts.host}; choose another port, or --port 0 for a free one`);
  if (e.code === 'EACCES') return new UserError(`--port ${opts.port}: not allowed for this user (ports below 1024 need privileges); choose a port from 1024`);
  if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') {
    return new UserError(`--host ${opts.host}: not an address of this machine; give one of its addresses, 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)`);
  }
  return e;
}
