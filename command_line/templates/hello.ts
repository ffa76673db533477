import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

// A first worker, written by `python main.py init`: every entry file of this folder is a worker, served at
// /<its name> (this one at /hello). Replace it with your own, or keep it as a smoke test of the platform.
@Controller()
class HealthController {
  @Get('$health_path')
  health(): { status: string } {
    return { status: 'ok' };
  }
}

@Module({ controllers: [HealthController] })
class HelloModule {}

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(HelloModule);
  app.enableShutdownHooks();
  await app.listen(Number(process.env.PORT ?? $port), '0.0.0.0');
}

void bootstrap();
