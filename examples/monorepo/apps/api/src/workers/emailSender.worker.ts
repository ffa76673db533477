import { NestFactory } from '@nestjs/core';
import { listenPort } from '../common/worker-info';
import { EmailModule } from '../email/email.module';

// Queues e-mail in Redis and exposes /health plus a small API.
async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(EmailModule);
  app.enableShutdownHooks();
  await app.listen(listenPort(), '0.0.0.0');
}

void bootstrap();
