import { runMain } from '@paymesh/platform/service-host';
import { notificationsService } from './app.ts';

await runMain(notificationsService);
