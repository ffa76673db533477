import { NestFactory } from '@nestjs/core';
import { listenPort } from '../common/worker-info';
import { OrdersModule } from '../orders/orders.module';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(OrdersModule);
  app.enableShutdownHooks();
  await app.listen(listenPort(), '0.0.0.0');
}

void bootstrap();
