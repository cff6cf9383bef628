import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { ReadinessCheck } from '../../application/ports/lifecycle.port';
import { LoggerPort } from '../../application/ports/logger.port';
import { ReadinessRounds } from '../../application/readiness-rounds';

// Defined with the lifecycle port, which adapters and the supervisor speak; kept importable from here.
export type { ReadinessCheck };

/** What /metrics serves; PrometheusMetrics is one. */
export interface MetricsSource {
  metrics(): Promise<string>;
  readonly contentType: string;
}

export interface HttpStatusServerDeps {
  readonly logger: LoggerPort;
  readonly readiness: readonly ReadinessCheck[];
  readonly metrics: MetricsSource;
  /** The Top-K orders, serialised as JSON on /topk. */
  readonly topOrders: () => unknown;
}

export interface HttpStatusServerOptions {
  /**
   * A check slower than this counts as not ready. Default 2000 ms, so the probe's own timeout must
   * be longer (Kubernetes defaults timeoutSeconds to 1 s), or a slow check reads as a dead server.
   */
  readonly readinessTimeoutMs?: number;
  /**
   * How long an answer of /readyz is served again before the checks run anew; default 1000 ms.
   * Probes from every replica, kubelet and load balancer then cost one round of checks a second,
   * and requests that arrive while a round runs wait for that round instead of starting their own.
   */
  readonly readinessCacheMs?: number;
  /** Connections open at once; more are refused (closed at once). Default 256: probes and scrapes need few, a flood gets no more. */
  readonly maxConnections?: number;
  /** The whole request headers must arrive within this; default 10 000 ms (slow-loris clients are cut off). */
  readonly headersTimeoutMs?: number;
  /** The whole request must arrive within this; default 15 000 ms. */
  readonly requestTimeoutMs?: number;
  /** An idle keep-alive connection is closed after this; default 5000 ms (Node's own). */
  readonly keepAliveTimeoutMs?: number;
  /** How often the timeouts above are enforced; default 1000 ms (Node's is 30 s, which would stretch them). */
  readonly connectionsCheckingIntervalMs?: number;
}

type Route = (response: ServerResponse) => Promise<void>;

/**
 * Health, readiness, metrics and the Top-K over plain node:http: four GET routes do not need a
 * framework. Every route is read-only, so anything but GET is refused.
 */
export class HttpStatusServer {
  private readonly server: Server;
  private readonly readiness: ReadinessRounds;
  private readonly routes: ReadonlyMap<string, Route>;

  constructor(
    private readonly deps: HttpStatusServerDeps,
    options: HttpStatusServerOptions = {},
  ) {
    // ReadinessRounds defaults what is undefined.
    this.readiness = new ReadinessRounds(deps.readiness, { timeoutMs: options.readinessTimeoutMs, cacheMs: options.readinessCacheMs });
    this.routes = new Map<string, Route>([
      // Liveness answers without consulting anything: a failing dependency is a reason to stop
      // routing traffic here (readiness), not to restart a process that may be fine.
      ['/healthz', async (response) => sendJson(response, 200, { status: 'ok' })],
      ['/readyz', (response) => this.readyz(response)],
      ['/metrics', (response) => this.metrics(response)],
      ['/topk', async (response) => sendJson(response, 200, this.deps.topOrders())],
    ]);
    this.server = createServer(
      {
        headersTimeout: options.headersTimeoutMs ?? 10_000,
        requestTimeout: options.requestTimeoutMs ?? 15_000,
        keepAliveTimeout: options.keepAliveTimeoutMs ?? 5_000,
        connectionsCheckingInterval: options.connectionsCheckingIntervalMs ?? 1_000,
      },
      (request, response) => {
        this.handle(request, response).catch((error: unknown) => this.fail(request, response, error));
      },
    );
    this.server.maxConnections = options.maxConnections ?? 256;
  }

  /** Starts listening; resolves with the bound port, which is the useful part when `port` is 0. */
  listen(port: number, host = '0.0.0.0'): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  /**
   * Stops accepting connections, lets requests in progress finish and drops idle keep-alive
   * connections, which would otherwise hold close() open until they time out.
   */
  close(): Promise<void> {
    if (!this.server.listening) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.server.close((error) => (error === undefined ? resolve() : reject(error)));
      this.server.closeIdleConnections();
    });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const route = this.routes.get(pathOf(request));
    if (route === undefined) return sendJson(response, 404, { error: 'Not found' });
    if (request.method !== 'GET') {
      response.setHeader('Allow', 'GET');
      return sendJson(response, 405, { error: 'Method not allowed' });
    }
    await route(response);
  }

  private async readyz(response: ServerResponse): Promise<void> {
    const { ready, checks } = await this.readiness.report();
    sendJson(response, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', checks });
  }

  private async metrics(response: ServerResponse): Promise<void> {
    const body = await this.deps.metrics.metrics();
    send(response, 200, this.deps.metrics.contentType, body);
  }

  private fail(request: IncomingMessage, response: ServerResponse, error: unknown): void {
    const err = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    this.deps.logger.error({ method: request.method, path: pathOf(request), err }, 'Status request failed');
    // The exception's text stays in the log: it may describe internals the caller has no business seeing.
    if (!response.headersSent) sendJson(response, 500, { error: 'Internal server error' });
    else response.destroy();
  }
}

/** The path without the query string; the query is also kept out of the logs. */
const pathOf = (request: IncomingMessage): string => (request.url ?? '/').split('?', 1)[0] as string;

const sendJson = (response: ServerResponse, status: number, body: unknown): void =>
  send(response, status, 'application/json; charset=utf-8', JSON.stringify(body));

const send = (response: ServerResponse, status: number, contentType: string, body: string): void => {
  response.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    // Probes and scrapes want the state now, never a cached answer.
    'Cache-Control': 'no-store',
  });
  response.end(body);
};
