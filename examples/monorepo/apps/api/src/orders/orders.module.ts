import { Module } from '@nestjs/common';
import { Database } from './database';
import { OrdersController } from './orders.controller';

@Module({ controllers: [OrdersController], providers: [Database] })
export class OrdersModule {}
