import { NestFactory } from '@nestjs/core';
import { BillingModule } from './billing.module';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(BillingModule);
  app.enableShutdownHooks();
  await app.listen(Number(process.env.PORT ?? 3000), '0.0.0.0');
}

void bootstrap();
