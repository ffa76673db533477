import { Controller, Get } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { workerInfo } from '../common/worker-info';

// The build copies src/i18n to dist/i18n (BUILD_COMMAND's last step).
const messages = JSON.parse(readFileSync(join(__dirname, '..', 'i18n', 'en', 'common.json'), 'utf8')) as Record<string, string>;

@Controller()
export class BillingController {
  @Get('health')
  health() {
    return { status: 'ok', ...workerInfo() };
  }

  // STRIPE_API_KEY is a secret by reference: the instance gets its value at start, the API shows only that it has one.
  @Get('invoices')
  invoices() {
    return { ...workerInfo(), invoices: [], stripeKeySet: Boolean(process.env.STRIPE_API_KEY), greeting: messages.greeting };
  }
}
