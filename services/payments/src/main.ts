import { runMain } from '@paymesh/platform/service-host';
import { paymentsService } from './app.ts';

await runMain(paymentsService);
