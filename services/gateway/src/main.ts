import { runMain } from '@paymesh/platform/service-host';
import { gatewayService } from './service.ts';

await runMain(gatewayService);
