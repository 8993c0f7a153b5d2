import { runMain } from '@paymesh/platform/service-host';
import { usersService } from './app.ts';

await runMain(usersService);
