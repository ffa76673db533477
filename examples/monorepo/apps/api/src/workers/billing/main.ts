import { NestFactory } from '@nestjs/core';
import { listenPort } from '../../common/worker-info';
import { BillingModule } from './billing.module';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(BillingModule);
  app.enableShutdownHooks();
  await app.listen(listenPort(), '0.0.0.0');
}

void bootstrap();
