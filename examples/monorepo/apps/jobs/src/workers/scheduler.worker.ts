import { NestFactory } from '@nestjs/core';
import { SchedulerModule } from '../scheduler/scheduler.module';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(SchedulerModule);
  app.enableShutdownHooks();
  await app.listen(Number(process.env.PORT ?? 3000), '0.0.0.0');
}

void bootstrap();
