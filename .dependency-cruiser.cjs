// The import floors (docs/architecture.md, "Imports"): app/ -> services -> packages/platform, never
// up and never in a circle; a service does not reach into another one; within a service, a feature
// uses another feature's stores and use cases, never its route file. test/dependency-rules.test.ts
// runs these rules in `npm test`; `npm run lint:imports` prints the same list.
/**
 * The feature folders of a service, top floor first: a folder never imports one on a higher floor
 * (on its own floor it may). notifications: dispatch/ fans a message out over the channels and
 * producers/ feed it events, so no channel imports them; the catalogue (messages/) is the ground.
 * users: the flows (admin, credentials, password reset, verification) stand on accounts, which
 * stands on the password rules, the throttles, the tokens and the pages. A folder not listed is
 * free: list it when it is added.
 */
const featureFloors = {
  auth: [['provider'], ['clients', 'interactions', 'revocation'], ['login'], ['throttle'], ['oidc', 'keys']],
  notifications: [['producers'], ['dispatch'], ['inbox', 'live', 'email', 'push', 'webhooks', 'devices', 'preferences', 'delivery'], ['messages']],
  payments: [['wallet', 'refunds'], ['payments'], ['payment-methods'], ['processor', 'idempotency', 'ledger', 'money', 'payers']],
  users: [['admin', 'credentials', 'password-reset', 'verification'], ['accounts'], ['passwords', 'throttle'], ['pages', 'tokens']],
};

function featureFloorRules() {
  return Object.entries(featureFloors).flatMap(([service, floors]) => floors.slice(1).map((floor, i) => ({
    name: `${service}-feature-floors`,
    severity: 'error',
    comment: `${service}: a feature folder imports folders on its floor or below, never above (featureFloors in this file).`,
    from: { path: `^services/${service}/src/(${floor.join('|')})/` },
    to: { path: `^services/${service}/src/(${floors.slice(0, i + 1).flat().join('|')})/` },
  })));
}

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import circle: the files cannot be read, tested or moved one without the other. Type-only imports count too.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'platform-imports-no-service-or-app',
      severity: 'error',
      comment:
        'packages/ is the floor every service stands on: it knows no service and not the composition root. The SDK\'s ' +
        'tests are the exception, as a service\'s are: they run the SDK against a real platform (app/testing).',
      from: { path: '^packages/', pathNot: '^packages/sdk/test/' },
      to: { path: '^(services|app)/' },
    },
    {
      name: 'sdk-stands-alone',
      severity: 'error',
      comment:
        '@paymesh/sdk is what a client of the API installs: it knows the API only through its document (the generated ' +
        'types), never the platform kit or a service\'s code.',
      from: { path: '^packages/sdk/' },
      to: { path: '^packages/platform/' },
    },
    {
      name: 'sdk-runs-on-fetch',
      severity: 'error',
      comment:
        'The SDK runs in browsers and on Node 20+ alike: its runtime code uses fetch, streams and Web Crypto, never a ' +
        'node: module (codegen/ and the tests may).',
      from: { path: '^packages/sdk/src/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'web-app-uses-only-the-sdk',
      severity: 'error',
      comment:
        'The web dashboard (services/gateway/web, ADR 27) runs in the browser: it imports its own files, the SDK and ' +
        'oauth4webapi (its OIDC client), never the platform, a service, the gateway\'s server code or a node: module.',
      from: { path: '^services/gateway/web/' },
      to: { pathNot: ['^services/gateway/web/', '^packages/sdk/src/', '^node_modules/(oauth4webapi|openapi-fetch)/'] },
    },
    {
      name: 'only-the-web-app-build-reads-the-web-app',
      severity: 'error',
      comment: 'The dashboard\'s sources are bundled by esbuild, not imported by the gateway (its unit tests excepted).',
      from: { path: '^services/gateway/src/' },
      to: { path: '^services/gateway/web/' },
    },
    {
      name: 'examples-use-only-the-sdk',
      severity: 'error',
      comment:
        'examples/ show a client of the API: they import the SDK (and Node\'s own modules, as any script does), never ' +
        'the platform, a service or the test harness.',
      from: { path: '^examples/' },
      to: { pathNot: ['^packages/sdk/src/', '^examples/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'service-imports-no-other-service',
      severity: 'error',
      comment:
        'A service talks to another one over HTTP or events, never through its code. The one exception is the producer\'s ' +
        'event contract (`@paymesh/<service>/events`, its src/events.ts), which consumers import instead of re-declaring it.',
      from: { path: '^services/([^/]+)/' },
      to: { path: '^services/', pathNot: ['^services/$1/', '^services/[^/]+/src/events\\.ts$'] },
    },
    {
      name: 'service-src-imports-no-app',
      severity: 'error',
      comment: 'app/ composes the services: a service\'s code never imports it (its tests may, through app/testing).',
      from: { path: '^services/[^/]+/src/' },
      to: { path: '^app/' },
    },
    {
      name: 'feature-imports-no-other-feature-routes',
      severity: 'error',
      comment:
        'A route file is the top of its feature (parse, authorise, call, render): another feature imports the store or ' +
        'use case it calls, never the route file.',
      from: { path: '^services/([^/]+)/src/([^/]+)/' },
      to: { path: '^services/$1/src/[^/]+/[^/]*routes\\.ts$', pathNot: '^services/$1/src/$2/' },
    },
    {
      name: 'route-files-run-no-sql',
      severity: 'error',
      comment:
        'Routes parse, authorise, call and render; the SQL is in the stores and use cases they call (payments/src is the ' +
        'pattern). A route file may name the `Db` type, not build or run a query.',
      from: { path: '^services/[^/]+/src/.*routes\\.ts$' },
      to: { path: '^packages/platform/src/db/open-database\\.ts$', dependencyTypesNot: ['type-only'] },
    },
    ...featureFloorRules(),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/|\\.d\\.ts$' },
    // `import type` is an import for these rules: a circle of types is still a circle to read.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // Workspace packages resolve through their `exports` (`@paymesh/platform/*`), to the real path.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'types', 'node', 'default'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'],
    },
    skipAnalysisNotInRules: true,
  },
};
