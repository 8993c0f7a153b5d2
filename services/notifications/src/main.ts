import { runMain } from '@paymesh/platform/service-host';
import { notificationsService } from './service.ts';

await runMain(notificationsService);
