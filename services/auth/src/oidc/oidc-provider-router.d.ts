// oidc-provider's own router (no types shipped): provider-route-paths.ts asks it which route a path is.
declare module 'oidc-provider/lib/helpers/router.js' {
  export default class Router {
    post(name: string, path: string, ...middleware: unknown[]): this;
    get(name: string, path: string, ...middleware: unknown[]): this;
    put(name: string, path: string, ...middleware: unknown[]): this;
    delete(name: string, path: string, ...middleware: unknown[]): this;
    match(method: string, path: string): { route: { name: string; path: string } } | undefined;
  }
}
