// Type-checks dashboard JSON against @grafana/schema with the TypeScript compiler: each text becomes
// the object literal of `const dashboard: DashboardJson = <text>`, in memory. A literal is checked
// field by field, its strings against the schema's unions and enums, and a field the schema does
// not know is refused (excess property check), which importing the .json file would not do (its
// strings are widened to `string` and nothing is "excess").
import { resolve } from 'node:path';
import ts from 'typescript';

const options: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2024,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  allowImportingTsExtensions: true,
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  types: [],
  lib: ['lib.es2024.d.ts', 'lib.dom.d.ts'],
};

/** The compiler's messages for each named JSON text, `name: message`; none when every one conforms. */
export function dashboardSchemaErrors(texts: ReadonlyMap<string, string>): string[] {
  const sources = new Map([...texts].map(([name, text]) => [
    // Beside this file, so that the import below and node_modules resolve as for any test file.
    resolve(import.meta.dirname, `${name}.schema-check.ts`),
    { name, source: `import type { DashboardJson } from './grafana-dashboard-json.ts';\nexport const dashboard: DashboardJson = ${text};\n` },
  ]));
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (path, language, ...rest) => {
    const virtual = sources.get(path);
    return virtual === undefined ? getSourceFile.call(host, path, language, ...rest) : ts.createSourceFile(path, virtual.source, language);
  };
  host.fileExists = (path) => sources.has(path) || fileExists.call(host, path);
  host.readFile = (path) => sources.get(path)?.source ?? readFile.call(host, path);
  const program = ts.createProgram([...sources.keys()], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file === undefined ? 'typescript' : (sources.get(d.file.fileName)?.name ?? d.file.fileName);
    return `${where}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}
