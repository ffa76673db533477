import { NestFactory } from '@nestjs/core';
import { listenPort } from '../common/worker-info';
import { OutboxModule } from '../email/outbox.module';

// A private worker (workers.toml: private = true): it consumes the e-mail outbox in Redis, and no route reaches
// it. It still listens on PORT, for the platform's health check.
async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(OutboxModule);
  app.enableShutdownHooks();
  await app.listen(listenPort(), '0.0.0.0');
}

void bootstrap();
