// The API reference through the gateway: GET /openapi.json, one OpenAPI 3.1 document of every
// service's public API (their paths are the public ones: the gateway keeps the prefix), and
// GET /openapi/<service>.json, each service's own. Read from the services on each request, so
// the document is always that of the services running behind this gateway.
import { apiVersion } from '@paymesh/platform/openapi/use-open-api';
import { sendError, type HttpServer } from '@paymesh/platform/http-server';
import { gatewayErrors } from './errors.ts';

/** The parts of an OpenAPI document the merge reads. */
interface Document {
  openapi: string;
  info: { title: string; version: string; description?: string; license?: { name: string; identifier?: string } };
  servers?: { url: string }[];
  tags?: { name: string; description?: string }[];
  paths?: Record<string, Record<string, unknown> | undefined>;
  webhooks?: Record<string, unknown>;
  components?: { schemas?: Record<string, unknown>; securitySchemes?: Record<string, unknown> };
  [key: string]: unknown;
}

/** Service name → its base URL. */
export type ApiUpstreams = Readonly<Record<string, string>>;

export function serveApiDocuments(app: HttpServer, upstreams: ApiUpstreams, publicUrl: string): void {
  const fetchDocument = async (service: string): Promise<Document> => {
    const response = await fetch(`${upstreams[service]}/openapi.json`, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) throw new Error(`${service} answered ${response.status}`);
    return (await response.json()) as Document;
  };
  app.get('/openapi.json', { config: { public: true } }, async (request, reply) => {
    let documents: Document[];
    try {
      documents = await Promise.all(Object.keys(upstreams).map(fetchDocument));
    } catch (error) {
      request.log.warn({ err: error }, 'an API document could not be read');
      return sendError(reply, gatewayErrors.upstreamUnavailable(5));
    }
    return reply.header('cache-control', 'public, max-age=60').send(mergeDocuments(documents, publicUrl));
  });
  app.get('/openapi/:service', { config: { public: true } }, async (request, reply) => {
    const service = (request.params as { service: string }).service.replace(/\.json$/, '');
    if (!Object.hasOwn(upstreams, service)) return reply.callNotFound();
    try {
      const document = await fetchDocument(service);
      return reply.header('cache-control', 'public, max-age=60').send({ ...document, servers: [{ url: publicUrl }] });
    } catch (error) {
      request.log.warn({ err: error, service }, 'an API document could not be read');
      return sendError(reply, gatewayErrors.upstreamUnavailable(5));
    }
  });
}

/**
 * One document of several: paths, tags and components side by side. Two services describing the
 * same path and method, or the same component differently, is a mistake caught here (and by the
 * test that merges the committed snapshots), not resolved silently.
 */
export function mergeDocuments(documents: readonly Document[], publicUrl: string): Document {
  const merged: Document = {
    openapi: '3.1.0',
    info: {
      title: 'Paymesh API',
      version: apiVersion,
      license: { name: 'Apache License 2.0', identifier: 'Apache-2.0' },
      description: 'Every service\'s public API through the gateway: auth (sign-in, tokens, clients; the OAuth 2.1 / OpenID Connect endpoints are in the discovery document at /auth/.well-known/openid-configuration), users, payments and notifications.',
    },
    servers: [{ url: publicUrl }],
    tags: [],
    paths: {},
    webhooks: {},
    components: { schemas: {}, securitySchemes: {} },
  };
  for (const document of documents) {
    for (const tag of document.tags ?? []) {
      if (merged.tags!.some((t) => t.name === tag.name)) throw new Error(`API documents: tag "${tag.name}" is declared by two services`);
      merged.tags!.push(tag);
    }
    for (const [path, item] of Object.entries(document.paths ?? {})) {
      const into = (merged.paths![path] ??= {}) as Record<string, unknown>;
      for (const [method, operation] of Object.entries(item ?? {})) {
        if (into[method] !== undefined) throw new Error(`API documents: ${method.toUpperCase()} ${path} is described by two services`);
        into[method] = operation;
      }
    }
    for (const [name, item] of Object.entries(document.webhooks ?? {})) {
      const into = merged.webhooks as Record<string, unknown>;
      if (into[name] !== undefined) throw new Error(`API documents: webhook ${name} is described by two services`);
      into[name] = item;
    }
    for (const kind of ['schemas', 'securitySchemes'] as const) {
      const target = merged.components![kind] as Record<string, unknown>;
      for (const [name, value] of Object.entries(document.components?.[kind] ?? {})) {
        if (target[name] !== undefined && JSON.stringify(target[name]) !== JSON.stringify(value)) throw new Error(`API documents: components.${kind}.${name} differs between services`);
        target[name] = value;
      }
    }
  }
  return merged;
}
