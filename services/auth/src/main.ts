import { runMain } from '@paymesh/platform/service-host';
import { authService } from './service.ts';

await runMain(authService);
