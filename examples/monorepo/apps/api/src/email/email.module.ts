import { Module } from '@nestjs/common';
import { EmailController } from './email.controller';
import { Queue } from './queue';

@Module({ controllers: [EmailController], providers: [Queue] })
export class EmailModule {}
