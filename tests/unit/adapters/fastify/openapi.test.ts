import SwaggerParser from '@apidevtools/swagger-parser';
import { anOrderApi, OrderApiFixture } from '../../../support/order-api';

describe('GET /openapi.json', () => {
  let f: OrderApiFixture;
  beforeAll(async () => {
    f = await anOrderApi({ tokens: ['a-token-of-some-length'] });
  });
  afterAll(async () => {
    await f.api.close();
  });

  const document = async (): Promise<Record<string, unknown> & { paths: Record<string, Record<string, unknown>> }> =>
    (await f.api.app.inject({ method: 'GET', url: '/openapi.json' })).json();

  it('validates against the OpenAPI 3 schema', async () => {
    const api = await document();
    expect(api.openapi).toMatch(/^3\./);
    await expect(SwaggerParser.validate(structuredClone(api) as never)).resolves.toBeDefined();
  });

  it('documents every route the server registered, with its method, and nothing else', async () => {
    const api = await document();
    const documented = Object.entries(api.paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`));
    const registered = f.api.registeredRoutes.filter((route) => route.documented).map((route) => `${route.method} ${route.url.replace(/:([A-Za-z]+)/g, '{$1}')}`);
    expect(registered.length).toBe(11);
    expect(documented.sort()).toEqual([...new Set(registered)].sort());
    for (const route of ['POST /orders', 'PUT /orders/{id}/status', 'GET /orders/{id}', 'GET /orders', 'POST /create-order', 'PUT /update-order', 'GET /order-details', 'GET /getAllOrderIdsFromTopic', 'GET /healthz', 'GET /readyz', 'GET /metrics']) {
      expect(documented).toContain(route);
    }
  });

  it('names the bearer scheme when tokens are required, and every error answer as problem+json', async () => {
    const api = await document();
    expect(api).toMatchObject({ security: [{ bearer: [] }], components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } } });
    const post = api.paths['/orders']!.post as { responses: Record<string, { content?: Record<string, unknown> }> };
    for (const status of ['400', '409', '413', '415', '422', '503', '401']) expect(Object.keys(post.responses[status]!.content!)).toEqual(['application/problem+json']);
  });

  it('serves the interactive docs at /docs', async () => {
    const res = await f.api.app.inject({ method: 'GET', url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('swagger-ui');
  });
});
