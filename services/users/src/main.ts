import { runMain } from '@paymesh/platform/service-host';
import { usersService } from './service.ts';

await runMain(usersService);
