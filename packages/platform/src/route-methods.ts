// Which methods a path is served under, from the routes a server declares: what a 405's Allow
// header lists. The routes are kept in a router of their own, the same library and options as
// Fastify's, so a path matches here exactly when it would match there (trailing slash, percent
// decoding, a parameter's own pattern, wildcards), and a lookup costs what routing costs.
import FindMyWay, { type HTTPVersion, type Instance } from 'find-my-way';

/** Fastify's router options, shared so that both routers read paths alike. */
export const routerOptions = { ignoreTrailingSlash: true, maxParamLength: 200 } as const;

export class RouteMethods {
  readonly #router: Instance<HTTPVersion.V1> = FindMyWay({ ...routerOptions });
  readonly #methods = new Set<string>();

  add(method: string | readonly string[], url: string): void {
    for (const one of typeof method === 'string' ? [method] : method) {
      const upper = one.toUpperCase();
      if (this.#router.hasRoute(upper as never, url)) continue;
      this.#router.on(upper as never, url, () => {});
      this.#methods.add(upper);
    }
  }

  /** The methods some route serves this URL under, sorted; empty when no route has the path. */
  allowedFor(url: string): string[] {
    return [...this.#methods].filter((method) => this.#router.find(method as never, url) !== null).sort();
  }
}
