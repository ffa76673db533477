import { Body, Controller, Get, HttpException, Post } from '@nestjs/common';
import { workerInfo } from '../common/worker-info';
import { Queue } from './queue';

@Controller()
export class EmailController {
  constructor(private readonly queue: Queue) {}

  @Get('health')
  async health() {
    const cache = await this.queue.ping();
    const smtp = { host: process.env.SMTP_HOST ?? null, passwordSet: Boolean(process.env.SMTP_PASSWORD) };
    const body = { status: cache === 'up' ? 'ok' : 'degraded', ...workerInfo(), cache, smtp };
    if (cache !== 'up') throw new HttpException(body, 503);
    return body;
  }

  @Post('send')
  async send(@Body() message: { to?: string; subject?: string }) {
    return { ...workerInfo(), queued: await this.queue.enqueue(message) };
  }
}
