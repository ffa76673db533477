import { Module } from '@nestjs/common';
import { OutboxConsumer } from './outbox.consumer';
import { OutboxController } from './outbox.controller';
import { Queue } from './queue';

@Module({ controllers: [OutboxController], providers: [Queue, OutboxConsumer] })
export class OutboxModule {}
