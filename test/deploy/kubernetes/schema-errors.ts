// Offline validation of rendered objects against the Kubernetes OpenAPI schemas, in two passes:
// - values: the `kubernetes-models` validators (the API's OpenAPI schemas compiled with ajv), and
//   for the CloudNativePG objects, which no package models, a committed JSON schema;
// - unknown fields: those validators admit any extra property (`readinesProbe` passes), while an
//   API server drops it silently (or refuses it with --validate=strict). Every field is looked up
//   in the models' TypeScript types instead, walked with the TypeScript checker.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import ts from 'typescript';
import { kubernetesDir, objectId, type K8sObject } from './render.ts';

const repoRoot = resolve(import.meta.dirname, '../../..');

/** Where the model of an apiVersion lives (core `v1` has no group folder). */
function modelModule(apiVersion: string, kind: string): string | undefined {
  if (apiVersion.startsWith('monitoring.coreos.com/')) return `@kubernetes-models/prometheus-operator/${apiVersion}/${kind}`;
  if (apiVersion === 'v1') return `kubernetes-models/v1/${kind}`;
  if (/^[a-z0-9.-]+\/v[0-9a-z]+$/.test(apiVersion) && !apiVersion.includes('cnpg.io')) return `kubernetes-models/${apiVersion}/${kind}`;
  return undefined;
}

const committedSchemas: Record<string, string> = {
  'postgresql.cnpg.io/v1/Cluster': 'cnpg-cluster.schema.json',
  'postgresql.cnpg.io/v1/Database': 'cnpg-database.schema.json',
};

export interface SchemaError {
  readonly object: string;
  readonly message: string;
}

export class SchemaChecker {
  readonly #types = new Map<string, ts.Type>();
  readonly #checker: ts.TypeChecker;
  readonly #models = new Map<string, { validate(): void } & (new (data: unknown) => { validate(): void })>();
  readonly #ajv = new Ajv({ allErrors: true, strict: true });
  readonly #crdValidators = new Map<string, ValidateFunction>();

  private constructor(checker: ts.TypeChecker, types: Map<string, ts.Type>) {
    this.#checker = checker;
    this.#types = types;
  }

  /** One TypeScript program for every kind in `objects` (about a second), then checks are cheap. */
  static async for(objects: readonly K8sObject[]): Promise<SchemaChecker> {
    const kinds = [...new Map(objects.map((o) => [`${o.apiVersion}/${o.kind}`, o])).values()].filter((o) => modelModule(o.apiVersion, o.kind) !== undefined);
    const fileName = join(repoRoot, 'test/deploy/kubernetes/__model-types__.ts');
    const source = kinds.map((o, i) => `import type { I${o.kind} as T${i} } from '${modelModule(o.apiVersion, o.kind)}';\nexport type K${i} = T${i};`).join('\n');
    const options: ts.CompilerOptions = { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, strict: true, noEmit: true, types: [] };
    const host = ts.createCompilerHost(options);
    const readFile = host.readFile.bind(host);
    const fileExists = host.fileExists.bind(host);
    const getSourceFile = host.getSourceFile.bind(host);
    host.readFile = (name) => (name === fileName ? source : readFile(name));
    host.fileExists = (name) => name === fileName || fileExists(name);
    host.getSourceFile = (name, languageVersion, onError, create) => (name === fileName ? ts.createSourceFile(name, source, languageVersion, true) : getSourceFile(name, languageVersion, onError, create));
    const program = ts.createProgram([fileName], options, host);
    const checker = program.getTypeChecker();
    const file = program.getSourceFile(fileName)!;
    const unresolved = ts.getPreEmitDiagnostics(program, file).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    if (unresolved.length > 0) throw new Error(`the model types did not load: ${unresolved.join('; ')}`);
    const types = new Map<string, ts.Type>();
    let i = 0;
    for (const statement of file.statements) {
      if (!ts.isTypeAliasDeclaration(statement)) continue;
      const o = kinds[i++]!;
      types.set(`${o.apiVersion}/${o.kind}`, checker.getTypeAtLocation(statement.name));
    }
    const schemaChecker = new SchemaChecker(checker, types);
    for (const o of kinds) {
      const module = (await import(modelModule(o.apiVersion, o.kind)!)) as Record<string, unknown>;
      schemaChecker.#models.set(`${o.apiVersion}/${o.kind}`, module[o.kind] as never);
    }
    return schemaChecker;
  }

  errors(object: K8sObject): SchemaError[] {
    const key = `${object.apiVersion}/${object.kind}`;
    const id = objectId(object);
    const committed = committedSchemas[key];
    if (committed !== undefined) return this.#crdErrors(key, committed, object).map((message) => ({ object: id, message }));
    const Model = this.#models.get(key);
    const type = this.#types.get(key);
    if (Model === undefined || type === undefined) return [{ object: id, message: `no schema known for ${key}: add its model or a committed schema` }];
    const found: SchemaError[] = [];
    try {
      new Model(object).validate();
    } catch (error) {
      found.push({ object: id, message: (error as Error).message });
    }
    for (const message of this.#unknownFields(object, type, '')) found.push({ object: id, message });
    return found;
  }

  #crdErrors(key: string, file: string, object: K8sObject): string[] {
    let validate = this.#crdValidators.get(key);
    if (validate === undefined) {
      validate = this.#ajv.compile(JSON.parse(readFileSync(join(kubernetesDir, 'schemas', file), 'utf8')) as object);
      this.#crdValidators.set(key, validate);
    }
    if (validate(object)) return [];
    return (validate.errors ?? []).map((e) => (e.keyword === 'additionalProperties' ? `${e.instancePath || '/'}: unknown field ${String((e.params as { additionalProperty: string }).additionalProperty)}` : `${e.instancePath || '/'}: ${e.message}`));
  }

  /** Every key of `value` must be a property (or fall under an index signature) of `type`. */
  #unknownFields(value: unknown, type: ts.Type, path: string): string[] {
    if (value === null || typeof value !== 'object') return [];
    const checker = this.#checker;
    const target = checker.getNonNullableType(type);
    if ((target.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) !== 0) return [];
    const members = target.isUnion() ? target.types : [target];
    if (Array.isArray(value)) {
      const element = members.filter((m) => checker.isArrayType(m)).map((m) => checker.getTypeArguments(m as ts.TypeReference)[0]!)[0];
      return element === undefined ? [] : value.flatMap((item, i) => this.#unknownFields(item, element, `${path}[${i}]`));
    }
    const objects = members.filter((m) => (m.flags & ts.TypeFlags.Object) !== 0);
    return Object.entries(value).flatMap(([key, child]) => {
      const childPath = path === '' ? key : `${path}.${key}`;
      for (const member of objects) {
        const property = checker.getPropertyOfType(member, key);
        if (property !== undefined) return this.#unknownFields(child, checker.getTypeOfSymbol(property), childPath);
      }
      for (const member of objects) {
        const index = checker.getIndexTypeOfType(member, ts.IndexKind.String);
        if (index !== undefined) return this.#unknownFields(child, index, childPath);
      }
      return [`${childPath}: unknown field`];
    });
  }
}
