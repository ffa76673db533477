import { Controller, Get, HttpException, Param, ParseIntPipe, Req } from '@nestjs/common';
import { workerInfo } from '../common/worker-info';
import { Database } from './database';

// The part of Express's request this controller reads.
interface Request {
  originalUrl: string;
  headers: Record<string, string | string[] | undefined>;
}

@Controller()
export class OrdersController {
  constructor(private readonly database: Database) {}

  @Get('health')
  async health() {
    const database = await this.database.ping();
    const body = { status: database === 'up' ? 'ok' : 'degraded', ...workerInfo(), database };
    if (database !== 'up') throw new HttpException(body, 503);
    return body;
  }

  // GET /orders/items/1 through the API reaches this worker as GET /items/1.
  @Get('items/:id')
  async item(@Param('id', ParseIntPipe) id: number, @Req() request: Request) {
    return { ...workerInfo(), path: request.originalUrl, host: request.headers.host, item: await this.database.item(id) };
  }
}
