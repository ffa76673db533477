import { NestFactory } from '@nestjs/core';
import { OrdersModule } from '../orders/orders.module';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(OrdersModule);
  app.enableShutdownHooks();
  await app.listen(Number(process.env.PORT ?? 3000), '0.0.0.0');
}

void bootstrap();
