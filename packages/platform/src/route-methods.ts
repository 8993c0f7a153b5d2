// Which methods a path is served under, from the routes a server declares: what a 405's Allow
// header lists. Route templates are matched segment by segment (`:id` is any one segment, `*` any
// rest), with the router's own rules: a trailing slash is ignored, the query is not part of it.

interface Template {
  readonly pattern: RegExp;
  readonly methods: Set<string>;
}

export class RouteMethods {
  readonly #templates = new Map<string, Template>();

  add(method: string | readonly string[], url: string): void {
    let template = this.#templates.get(url);
    if (template === undefined) {
      template = { pattern: templatePattern(url), methods: new Set() };
      this.#templates.set(url, template);
    }
    for (const one of typeof method === 'string' ? [method] : method) template.methods.add(one.toUpperCase());
  }

  /** The methods some route serves this path under, sorted; empty when no route has the path. */
  allowedFor(path: string): string[] {
    const bare = path.length > 1 ? path.replace(/\/+$/, '') : path;
    const allowed = new Set<string>();
    for (const { pattern, methods } of this.#templates.values()) {
      if (pattern.test(bare)) for (const method of methods) allowed.add(method);
    }
    return [...allowed].sort();
  }
}

function templatePattern(url: string): RegExp {
  const bare = url.length > 1 ? url.replace(/\/+$/, '') : url;
  const source = bare.split('/').map((segment) => {
    if (segment === '*') return '.*';
    // A parameter may share its segment with text (`:from-:to`) or carry its own pattern (`:id(^\\d+)`).
    return segment.split(/(:[A-Za-z0-9_]+(?:\([^)]*\))?)/).map((part) => (part.startsWith(':') ? '[^/]+' : escape(part))).join('');
  }).join('/');
  return new RegExp(`^${source}$`);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
