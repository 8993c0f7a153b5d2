// The route template of a request a Fastify route did not serve: a middleware that answers itself
// (auth's OIDC provider, mounted with middie) names it here, so metrics and logs carry
// `/auth/token` instead of `unmatched`. A template, never the raw path: labels stay bounded.
import type { IncomingMessage } from 'node:http';

const templates = new WeakMap<IncomingMessage, string>();

export function setRouteTemplate(req: IncomingMessage, template: string): void {
  templates.set(req, template);
}

export function routeTemplateOf(req: IncomingMessage): string | undefined {
  return templates.get(req);
}
