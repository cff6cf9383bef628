import * as net from 'node:net';
import {
  HttpStatusServer,
  HttpStatusServerDeps,
  HttpStatusServerOptions,
  ReadinessCheck,
} from '../../../src/adapters/http/http-status-server';
import { PrometheusMetrics } from '../../../src/adapters/prometheus/prometheus-metrics';
import { LoggerSpy } from '../../support/logger-spy';


const passing = (name: string): ReadinessCheck => ({ name, check: async () => {} });

describe('HttpStatusServer', () => {
  let server: HttpStatusServer | undefined;
  let logger: LoggerSpy;

  /** Starts a server on a free loopback port and returns its base URL. */
  const start = async (deps: Partial<HttpStatusServerDeps> = {}, options: HttpStatusServerOptions = {}) => {
    logger = new LoggerSpy();
    server = new HttpStatusServer(
      {
        logger,
        readiness: [],
        metrics: { metrics: async () => '', contentType: 'text/plain' },
        topOrders: () => [],
        ...deps,
      },
      options,
    );
    const port = await server.listen(0, '127.0.0.1');
    return `http://127.0.0.1:${port}`;
  };

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('answers /healthz while the process runs', async () => {
    const response = await fetch(`${await start()}/healthz`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('ignores the query string when routing', async () => {
    expect((await fetch(`${await start()}/healthz?verbose=1`)).status).toBe(200);
  });

  describe('/readyz', () => {
    it('is 503 with the failing check and its reason, then 200 once the check passes', async () => {
      let archiveReachable = false;
      const base = await start({
        readiness: [
          passing('consumer'),
          {
            name: 'archive',
            check: async () => {
              if (!archiveReachable) throw new Error('archive bucket not reachable');
            },
          },
        ],
      }, { readinessCacheMs: 0 });

      const notReady = await fetch(`${base}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toEqual({
        status: 'not ready',
        checks: [
          { name: 'consumer', ready: true },
          { name: 'archive', ready: false, error: 'archive bucket not reachable' },
        ],
      });

      archiveReachable = true;
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({
        status: 'ready',
        checks: [
          { name: 'consumer', ready: true },
          { name: 'archive', ready: true },
        ],
      });
    });

    it('counts a check that outlives the timeout as not ready', async () => {
      const base = await start(
        { readiness: [{ name: 'broker', check: () => new Promise<void>(() => {}) }] },
        { readinessTimeoutMs: 50 },
      );
      const response = await fetch(`${base}/readyz`);
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({
        status: 'not ready',
        checks: [{ name: 'broker', ready: false, error: 'timed out after 50 ms' }],
      });
    });

    it('counts a check that throws synchronously as not ready', async () => {
      const base = await start({
        readiness: [
          {
            name: 'config',
            check: () => {
              throw new Error('no archive bucket configured');
            },
          },
        ],
      });
      const response = await fetch(`${base}/readyz`);
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({
        status: 'not ready',
        checks: [{ name: 'config', ready: false, error: 'no archive bucket configured' }],
      });
    });

    it('runs the checks concurrently', async () => {
      // "first" can only pass once "second" has started: run one after the other, it would time out.
      let secondStarted!: () => void;
      const started = new Promise<void>((resolve) => (secondStarted = resolve));
      const base = await start(
        {
          readiness: [
            { name: 'first', check: () => started },
            { name: 'second', check: async () => secondStarted() },
          ],
        },
        { readinessTimeoutMs: 500 },
      );
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
    });

    it('runs one round of checks for 100 concurrent probes, and serves it again while it is fresh', async () => {
      let calls = 0;
      let pass!: () => void;
      const passed = new Promise<void>((resolve) => (pass = resolve));
      const base = await start({ readiness: [{ name: 'archive', check: () => (calls++, passed) }] }, { readinessCacheMs: 60_000 });
      const probes = Array.from({ length: 100 }, () => fetch(`${base}/readyz`));
      while (calls === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      pass();
      const statuses = await Promise.all(probes.map(async (probe) => (await probe).status));
      expect(statuses).toEqual(Array.from({ length: 100 }, () => 200));
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      expect(calls).toBe(1);
    });

    it('runs the checks again once the last answer is older than the cache time', async () => {
      let calls = 0;
      const base = await start({ readiness: [{ name: 'archive', check: async () => void calls++ }] }, { readinessCacheMs: 0 });
      await fetch(`${base}/readyz`);
      await fetch(`${base}/readyz`);
      expect(calls).toBe(2);
    });

    it('is ready when there is nothing to check', async () => {
      expect((await fetch(`${await start()}/readyz`)).status).toBe(200);
    });
  });

  describe('connections', () => {
    const sockets: net.Socket[] = [];
    // Before the server's own afterEach: close() waits for open connections.
    afterEach(() => sockets.splice(0).forEach((socket) => socket.destroy()));
    const connect = (base: string): Promise<net.Socket> =>
      new Promise((resolve, reject) => {
        const url = new URL(base);
        const socket = net.connect(Number(url.port), url.hostname, () => resolve(socket));
        sockets.push(socket);
        socket.once('error', reject);
      });
    const closed = (socket: net.Socket): Promise<string> =>
      new Promise((resolve) => {
        let data = '';
        socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
        socket.once('close', () => resolve(data));
      });

    it('refuses connections beyond the cap and keeps serving the others', async () => {
      const base = await start({}, { maxConnections: 2 });
      const first = await connect(base);
      const second = await connect(base);
      const third = await connect(base);
      expect(await closed(third)).toBe('');
      const answer = closed(first);
      first.end('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      expect(await answer).toMatch(/^HTTP\/1\.1 200/);
      second.destroy();
    }, 10_000);

    it('cuts off a client that never finishes its request headers', async () => {
      const base = await start({}, { headersTimeoutMs: 200, requestTimeoutMs: 300, connectionsCheckingIntervalMs: 50 });
      const slow = await connect(base);
      const answer = closed(slow);
      slow.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
      expect(await answer).toMatch(/^HTTP\/1\.1 408/);
      // Without the settings, Node waits 60 s for headers and checks every 30 s: the test's own timeout ends first.
    }, 10_000);
  });

  it('serves /metrics from the provider, with its content type', async () => {
    const metrics = new PrometheusMetrics({ logger: new LoggerSpy(), throughput: () => 1.5 });
    metrics.orderArchived('web', 20, false);
    const response = await fetch(`${await start({ metrics })}/metrics`);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(metrics.contentType);
    const text = await response.text();
    expect(text).toContain('orderflow_orders_archived_total{channel="web"} 1');
    expect(text).toContain('orderflow_throughput_orders_per_second 1.5');
  });

  it('serves the Top-K orders as JSON on /topk', async () => {
    const top = [
      { id: 'o-2', total: 900 },
      { id: 'o-1', total: 150 },
    ];
    const response = await fetch(`${await start({ topOrders: () => top })}/topk`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(top);
  });

  it('answers 404 in JSON for an unknown path, whatever the method', async () => {
    const base = await start();
    for (const method of ['GET', 'POST']) {
      const response = await fetch(`${base}/admin`, { method });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: 'Not found' });
    }
  });

  it('answers 405 with Allow: GET for any other method on a known path', async () => {
    const base = await start();
    for (const method of ['POST', 'PUT', 'DELETE', 'HEAD']) {
      const response = await fetch(`${base}/healthz`, { method });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('GET');
    }
  });

  it('turns a failing handler into a logged 500 without leaking the error, and keeps serving', async () => {
    const base = await start({
      topOrders: () => {
        throw new Error('statistics corrupted at 0x7f3a');
      },
    });

    const response = await fetch(`${base}/topk?token=abc`);
    expect(response.status).toBe(500);
    const body = await response.text();
    expect(JSON.parse(body)).toEqual({ error: 'Internal server error' });
    expect(body).not.toContain('0x7f3a');
    expect(logger.lines.filter((line) => line.level === 'error')).toEqual([
      {
        level: 'error',
        fields: { method: 'GET', path: '/topk', err: 'Error: statistics corrupted at 0x7f3a' },
        message: 'Status request failed',
      },
    ]);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('answers 500 when the metrics provider fails', async () => {
    const base = await start({
      metrics: {
        metrics: async () => {
          throw new Error('registry broken');
        },
        contentType: 'text/plain',
      },
    });
    expect((await fetch(`${base}/metrics`)).status).toBe(500);
    expect(logger.messages('error')).toHaveLength(1);
  });

  it('closes promptly despite idle keep-alive connections, and stops answering', async () => {
    const base = await start();
    // fetch keeps the connection alive after the response; close() must not wait for it to time out.
    await (await fetch(`${base}/healthz`)).text();
    await server?.close();

    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });

  it('rejects listen() when the port is taken', async () => {
    const port = Number(new URL(await start()).port);
    const other = new HttpStatusServer({
      logger: new LoggerSpy(),
      readiness: [],
      metrics: { metrics: async () => '', contentType: 'text/plain' },
      topOrders: () => [],
    });
    await expect(other.listen(port, '127.0.0.1')).rejects.toThrow(/EADDRINUSE/);
  });
});
