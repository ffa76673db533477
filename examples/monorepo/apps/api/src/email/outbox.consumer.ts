import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import Redis from 'ioredis';
import { OUTBOX } from './queue';

// Pops what email-sender queues, one message at a time, until the application shuts down.
@Injectable()
export class OutboxConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('email-outbox');
  // Its own connection: BRPOP blocks it, so the health check pings through Queue's.
  private readonly redis = new Redis({
    host: process.env.REDIS_HOST,
    port: Number(process.env.REDIS_PORT ?? 6379),
    tls: process.env.REDIS_TLS === 'true' ? {} : undefined,
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 1,
  });
  private stopping = false;
  consumed = 0;
  last: unknown = null;

  onApplicationBootstrap(): void {
    this.redis.on('error', (error: Error) => this.logger.warn(`Redis: ${error.message}`));
    void this.consume();
  }

  private async consume(): Promise<void> {
    while (!this.stopping) {
      try {
        const popped = await this.redis.brpop(OUTBOX, 5);   // [list, message], or null after 5 s
        if (popped) {
          this.consumed += 1;
          this.last = JSON.parse(popped[1]);
          this.logger.log(`sending ${popped[1]}`);
        }
      } catch (error) {
        if (!this.stopping) {
          this.logger.warn(`waiting for Redis: ${(error as Error).message}`);
          await new Promise((resolve) => setTimeout(resolve, 1000));
        }
      }
    }
  }

  onModuleDestroy(): void {
    this.stopping = true;
    this.redis.disconnect();
  }
}
