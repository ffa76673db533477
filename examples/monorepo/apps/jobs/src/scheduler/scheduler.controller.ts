import { Controller, Get, Req } from '@nestjs/common';

// The part of Express's request this controller reads.
interface Request {
  originalUrl: string;
}

// A worker of a second package (apps/jobs): the same platform, its own build and start script.
@Controller()
export class SchedulerController {
  @Get()
  status(@Req() request: Request) {
    return { worker: process.env.WORKER_NAME ?? 'unknown', package: '@monorepo/jobs', path: request.originalUrl };
  }
}
