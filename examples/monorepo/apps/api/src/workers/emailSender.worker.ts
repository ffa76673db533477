import { NestFactory } from '@nestjs/core';
import { EmailModule } from '../email/email.module';

// Consumes the e-mail queue in Redis and exposes /health plus a small admin API.
async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(EmailModule);
  app.enableShutdownHooks();
  await app.listen(Number(process.env.PORT ?? 3000), '0.0.0.0');
}

void bootstrap();
