import { runMain } from '@paymesh/platform/service-host';
import { authService } from './app.ts';

await runMain(authService);
