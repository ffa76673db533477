import { Controller, Get, HttpException } from '@nestjs/common';
import { workerInfo } from '../common/worker-info';
import { OutboxConsumer } from './outbox.consumer';
import { Queue } from './queue';

// No route reaches it: only the platform's health check (and `python main.py local`'s) calls it.
@Controller()
export class OutboxController {
  constructor(
    private readonly queue: Queue,
    private readonly consumer: OutboxConsumer,
  ) {}

  @Get('health')
  async health() {
    const cache = await this.queue.ping();
    const body = {
      status: cache === 'up' ? 'ok' : 'degraded', ...workerInfo(), cache,
      consumed: this.consumer.consumed, last: this.consumer.last,
    };
    if (cache !== 'up') throw new HttpException(body, 503);
    return body;
  }
}
