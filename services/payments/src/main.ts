import { runMain } from '@paymesh/platform/service-host';
import { paymentsService } from './service.ts';

await runMain(paymentsService);
