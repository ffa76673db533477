import { Injectable, OnModuleDestroy } from '@nestjs/common';
import Redis from 'ioredis';

// The Redis list e-mails wait in: email-sender pushes on the left, email-outbox pops on the right (oldest first).
export const OUTBOX = 'email:outbox';

// The platform injects REDIS_HOST, REDIS_PORT and REDIS_TLS (`true` on AWS: ElastiCache accepts TLS only).
@Injectable()
export class Queue implements OnModuleDestroy {
  private readonly redis = new Redis({
    host: process.env.REDIS_HOST,
    port: Number(process.env.REDIS_PORT ?? 6379),
    tls: process.env.REDIS_TLS === 'true' ? {} : undefined,
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 1,
  });

  async ping(): Promise<string> {
    try {
      return (await this.redis.ping()) === 'PONG' ? 'up' : 'down';
    } catch (error) {
      return `down: ${(error as Error).message}`;
    }
  }

  async enqueue(message: unknown): Promise<number> {
    return this.redis.lpush(OUTBOX, JSON.stringify(message));
  }

  async onModuleDestroy(): Promise<void> {
    this.redis.disconnect();
  }
}
