// No route is public by omission: each one either sits inside `protectedRoutes` (authenticated,
// its scope and callers declared in its config) or says `config: { public: true }`. Checked once
// the server is assembled (the protected plugin records its routes after the root sees them), so a
// forgotten declaration stops the service at boot, in tests as in production.
import type { FastifyInstance, RouteOptions } from 'fastify';

/** The options of every route registered inside `protectedRoutes` (authenticate.ts adds them). */
export const protectedRouteOptions = new WeakSet<object>();

export function requireRouteDeclarations(app: FastifyInstance): void {
  const routes: RouteOptions[] = [];
  // The same options object goes through every onRoute hook, the protected plugin's included.
  app.addHook('onRoute', (route) => void routes.push(route));
  app.addHook('onReady', async () => {
    const undeclared = routes.filter((r) => r.config?.public !== true && !protectedRouteOptions.has(r));
    if (undeclared.length > 0) {
      throw new Error(`Routes neither protected nor declared public (config: { public: true }): ${undeclared.map((r) => `${String(r.method)} ${r.url}`).join(', ')}`);
    }
  });
}
