// Starts OpenTelemetry tracing when the standard `OTEL_*` variables ask for it, and does nothing
// otherwise: the SDK is not even loaded, so a platform without a collector pays nothing for it.
// A process entry calls this before importing anything it instruments (docs/adr/0022-tracing.md):
// the import hook and the http/undici/pg/Fastify instrumentations patch modules as they load, so a
// module loaded earlier stays unpatched. Only node: builtins are imported statically here.
import { register } from 'node:module';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';

export interface TracingEnv {
  readonly OTEL_SDK_DISABLED?: string | undefined;
  readonly OTEL_TRACES_EXPORTER?: string | undefined;
  readonly OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
  readonly OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string | undefined;
  readonly OTEL_SERVICE_NAME?: string | undefined;
}

/**
 * Whether the environment configures tracing. Off unless an exporter or an OTLP endpoint is named:
 * the SDK's own default (OTLP to localhost:4318) would send spans to nobody on a laptop.
 */
export function tracingConfigured(env: TracingEnv): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((name) => name.trim()).filter((name) => name !== '');
  if (exporters.length > 0) return !exporters.every((name) => name === 'none');
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

export interface Tracing {
  /** Ends and exports every span still buffered (a stopping process calls it last). */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /**
   * Where spans go instead of the exporter the OTEL_* variables name: a test whose own process
   * hosts the platform reads them from the SDK's in-memory exporter.
   */
  readonly spanProcessors?: SpanProcessor[];
}

/**
 * Starts the SDK when `env` configures tracing (or `options` gives span processors);
 * `defaultServiceName` names the process's spans unless OTEL_SERVICE_NAME does. Returns undefined
 * when tracing is off.
 */
export async function startTracing(defaultServiceName: string, env: TracingEnv = process.env, options: TracingOptions = {}): Promise<Tracing | undefined> {
  if (options.spanProcessors === undefined && !tracingConfigured(env)) return undefined;
  // ESM imports are patched through import-in-the-middle's loader hook; CommonJS ones (pg, which
  // drizzle loads with require semantics) through require-in-the-middle, which the SDK installs.
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  const [{ NodeSDK }, { HttpInstrumentation }, { UndiciInstrumentation }, { PgInstrumentation }, { FastifyOtelInstrumentation }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-undici'),
    import('@opentelemetry/instrumentation-pg'),
    import('@fastify/otel'),
  ]);
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ?? defaultServiceName,
    ...(options.spanProcessors === undefined ? {} : { spanProcessors: options.spanProcessors }),
    instrumentations: [
      // Probes and scrapes would be most of the traces and say nothing about a payment.
      new HttpInstrumentation({ ignoreIncomingRequestHook: (request) => isProbe(request.url) }),
      new UndiciInstrumentation(),
      // Only queries inside a traced unit of work: the relay's and jobs' polls would flood the
      // exporter with root spans of one query each.
      new PgInstrumentation({ requireParentSpan: true }),
      // The request and its handler; not a span per lifecycle hook (eight per request, each
      // service), which multiplied what a payment exports and said little.
      new FastifyOtelInstrumentation({ registerOnInitialization: true, instrumentHooks: false, ignorePaths: (options) => isProbe(options.url) }),
    ],
  });
  sdk.start();
  markTracingOn();
  return { shutdown: () => sdk.shutdown() };
}

function isProbe(url: string | undefined): boolean {
  return url === '/healthz' || url === '/readyz' || url === '/metrics';
}

/**
 * Whether this process started the SDK: the kit's own spans (relay, consumers) are skipped
 * without it, so tracing off costs a boolean test on the hot path. A global, not a module
 * variable, because the embedded launcher and the kit may load this module by different paths.
 */
export function tracingOn(): boolean {
  return (globalThis as { [tracingFlag]?: boolean })[tracingFlag] === true;
}

function markTracingOn(): void {
  (globalThis as { [tracingFlag]?: boolean })[tracingFlag] = true;
}

const tracingFlag = Symbol.for('paymesh.tracing.on');
