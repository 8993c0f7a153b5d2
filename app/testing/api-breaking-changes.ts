// What a client written against a released API document would break on in a newer one: an
// operation removed or renamed (its SDK method), a parameter or request field removed (sending it
// now answers 400 parameter_unknown) or newly required, a value accepted before refused now (a type,
// an enum value, a length, a bound or a pattern narrowed), a response field removed or its type
// changed. Additions that old clients never see are not breaking. test/openapi.test.ts runs it
// against the newest document in docs/api/released/.

type Json = Record<string, unknown>;
type Document = Json & { paths?: Record<string, Record<string, Json>>; components?: { schemas?: Record<string, Json> } };

const methods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

export function breakingChanges(released: Document, current: Document): string[] {
  const problems: string[] = [];
  for (const [path, item] of Object.entries(released.paths ?? {})) {
    for (const method of methods) {
      const before = item[method] as Json | undefined;
      if (before === undefined) continue;
      const where = `${method.toUpperCase()} ${path}`;
      const after = current.paths?.[path]?.[method] as Json | undefined;
      if (after === undefined) {
        problems.push(`${where}: the operation was removed`);
        continue;
      }
      if (before.operationId !== after.operationId) problems.push(`${where}: operationId ${String(before.operationId)} became ${String(after.operationId)} (the SDK method's name)`);
      compareParameters(where, before, after, released, current, problems);
      const bodyBefore = jsonSchemaOf(before.requestBody, released);
      const bodyAfter = jsonSchemaOf(after.requestBody, current);
      if (bodyBefore !== undefined && bodyAfter === undefined) problems.push(`${where}: the request body is no longer accepted`);
      if (bodyBefore !== undefined && bodyAfter !== undefined) compareInput(`${where} body`, bodyBefore, bodyAfter, released, current, problems);
      if (bodyBefore === undefined && bodyAfter !== undefined && (after.requestBody as Json).required === true) problems.push(`${where}: a request body is now required`);
      for (const [status, response] of Object.entries((before.responses ?? {}) as Record<string, Json>)) {
        const outBefore = jsonSchemaOf(response, released);
        const outAfter = jsonSchemaOf((after.responses as Record<string, Json> | undefined)?.[status], current);
        if (outBefore !== undefined && outAfter !== undefined) compareOutput(`${where} ${status} response`, outBefore, outAfter, released, current, problems);
      }
    }
  }
  return problems;
}

function compareParameters(where: string, before: Json, after: Json, released: Document, current: Document, problems: string[]): void {
  const params = (op: Json) => new Map(((op.parameters ?? []) as Json[]).map((p) => [`${String(p.in)} ${String(p.name)}`, p]));
  const was = params(before);
  const is = params(after);
  for (const [key, p] of was) {
    const now = is.get(key);
    if (now === undefined) problems.push(`${where}: parameter ${key} was removed`);
    else {
      if (p.required !== true && now.required === true) problems.push(`${where}: parameter ${key} is now required`);
      compareInput(`${where} parameter ${key}`, resolve(p.schema as Json, released), resolve(now.schema as Json, current), released, current, problems);
    }
  }
  for (const [key, p] of is) if (!was.has(key) && p.required === true) problems.push(`${where}: new required parameter ${key}`);
}

/** A request value: whatever `before` accepted, `after` must accept too. */
function compareInput(where: string, before: Json, after: Json, released: Document, current: Document, problems: string[]): void {
  before = resolve(before, released);
  after = resolve(after, current);
  const alternativesBefore = alternatives(before);
  const alternativesAfter = alternatives(after);
  if (alternativesBefore.length > 1 || alternativesAfter.length > 1) {
    // Each alternative accepted before must still be accepted by one of those after, as it is.
    for (const alternative of alternativesBefore) {
      const accepts = (candidate: Json) => {
        const found: string[] = [];
        compareInput(where, alternative, candidate, released, current, found);
        return found.length === 0;
      };
      if (!alternativesAfter.some(accepts)) problems.push(`${where}: ${describe(alternative)} is no longer accepted`);
    }
    return;
  }
  const typesBefore = typesOf(before);
  const typesAfter = typesOf(after);
  if (typesAfter !== undefined && (typesBefore === undefined || typesBefore.some((t) => !typesAfter.includes(t) && !(t === 'integer' && typesAfter.includes('number'))))) {
    problems.push(`${where}: type ${typesBefore?.join('|') ?? 'any'} narrowed to ${typesAfter.join('|')}`);
    return;
  }
  const enumOf = (s: Json) => (s.const !== undefined ? [s.const] : (s.enum as unknown[] | undefined));
  const enumBefore = enumOf(before);
  const enumAfter = enumOf(after);
  if (enumAfter !== undefined && (enumBefore === undefined || enumBefore.some((v) => !enumAfter.some((w) => JSON.stringify(w) === JSON.stringify(v))))) problems.push(`${where}: accepted values narrowed to ${JSON.stringify(enumAfter)}`);
  for (const [key, tighter] of [['minLength', 'up'], ['maxLength', 'down'], ['minimum', 'up'], ['maximum', 'down'], ['exclusiveMinimum', 'up'], ['exclusiveMaximum', 'down'], ['minItems', 'up'], ['maxItems', 'down']] as const) {
    const b = before[key] as number | undefined;
    const a = after[key] as number | undefined;
    if (a === undefined) continue;
    if (b === undefined || (tighter === 'up' ? a > b : a < b)) problems.push(`${where}: ${key} ${b ?? 'none'} became ${a}`);
  }
  if (after.pattern !== undefined && after.pattern !== before.pattern) problems.push(`${where}: pattern ${String(before.pattern ?? 'none')} became ${String(after.pattern)}`);
  if (before.properties !== undefined || after.properties !== undefined) {
    const propsBefore = (before.properties ?? {}) as Record<string, Json>;
    const propsAfter = (after.properties ?? {}) as Record<string, Json>;
    for (const [name, schema] of Object.entries(propsBefore)) {
      if (propsAfter[name] === undefined) {
        if (after.additionalProperties === false) problems.push(`${where}: field ${name} is no longer accepted`);
      } else compareInput(`${where}.${name}`, schema, propsAfter[name]!, released, current, problems);
    }
    const requiredBefore = new Set((before.required ?? []) as string[]);
    for (const name of (after.required ?? []) as string[]) if (!requiredBefore.has(name)) problems.push(`${where}: field ${name} is now required`);
  }
  if (before.additionalProperties !== false && after.additionalProperties === false && after.properties === undefined) problems.push(`${where}: no longer accepts any field`);
  if (before.items !== undefined && after.items !== undefined) compareInput(`${where}[]`, before.items as Json, after.items as Json, released, current, problems);
}

/** A response value: whatever a client read before is still there, with the same type. */
function compareOutput(where: string, before: Json, after: Json, released: Document, current: Document, problems: string[]): void {
  before = resolve(before, released);
  after = resolve(after, current);
  const typesBefore = typesOf(before);
  const typesAfter = typesOf(after);
  if (typesBefore !== undefined && (typesAfter === undefined || typesAfter.some((t) => !typesBefore.includes(t)))) {
    problems.push(`${where}: type ${typesBefore.join('|')} became ${typesAfter?.join('|') ?? 'any'}`);
    return;
  }
  const propsBefore = (before.properties ?? {}) as Record<string, Json>;
  const propsAfter = (after.properties ?? {}) as Record<string, Json>;
  const requiredAfter = new Set((after.required ?? []) as string[]);
  for (const [name, schema] of Object.entries(propsBefore)) {
    if (propsAfter[name] === undefined) problems.push(`${where}: field ${name} was removed`);
    else {
      if (((before.required ?? []) as string[]).includes(name) && !requiredAfter.has(name)) problems.push(`${where}: field ${name} is no longer always present`);
      compareOutput(`${where}.${name}`, schema, propsAfter[name]!, released, current, problems);
    }
  }
  if (before.items !== undefined && after.items !== undefined) compareOutput(`${where}[]`, before.items as Json, after.items as Json, released, current, problems);
}

function jsonSchemaOf(holder: unknown, document: Document): Json | undefined {
  const content = (resolve(holder as Json | undefined, document) as Json | undefined)?.content as Record<string, Json> | undefined;
  const schema = content?.['application/json']?.schema as Json | undefined;
  return schema === undefined ? undefined : resolve(schema, document);
}

function resolve<T extends Json | undefined>(schema: T, document: Document): T {
  let current: Json | undefined = schema;
  for (let hops = 0; current !== undefined && typeof current.$ref === 'string' && hops < 20; hops++) {
    const pointer = (current.$ref as string).replace(/^#\//, '').split('/').map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
    current = pointer.reduce<unknown>((node, key) => (node as Json | undefined)?.[key], document) as Json | undefined;
  }
  return (current ?? {}) as T;
}

function alternatives(schema: Json): Json[] {
  return ((schema.anyOf ?? schema.oneOf) as Json[] | undefined) ?? [schema];
}

function typesOf(schema: Json): string[] | undefined {
  if (schema.type === undefined) return undefined;
  return Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
}

function describe(schema: Json): string {
  return JSON.stringify(schema).slice(0, 80);
}
