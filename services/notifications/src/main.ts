// Tracing starts first (when OTEL_* variables configure it): its hooks patch http, undici, pg and
// Fastify as they load, so everything else is imported after it (docs/adr/0022-tracing.md).
import { startTracing } from '@paymesh/platform/tracing/start-tracing';

const tracing = await startTracing('notifications');
const { runMain } = await import('@paymesh/platform/service-host');
const { notificationsService } = await import('./service.ts');
await runMain(notificationsService, { tracing });
