import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { Pool } from 'pg';

// The platform injects DB_HOST, DB_PORT, DB_NAME and DB_SECRET: the JSON the cluster's RDS-managed secret holds
// (`username`, `password`), resolved by App Runner or ECS when the instance starts.
function credentials(): { user: string; password: string } {
  const secret = JSON.parse(process.env.DB_SECRET ?? '{}') as { username?: string; password?: string };
  return { user: secret.username ?? process.env.DB_USER ?? '', password: secret.password ?? '' };
}

@Injectable()
export class Database implements OnModuleDestroy {
  private readonly pool = new Pool({
    host: process.env.DB_HOST,
    port: Number(process.env.DB_PORT ?? 5432),
    database: process.env.DB_NAME,
    ...credentials(),
    max: 4,
    connectionTimeoutMillis: 3000,
  });

  async ping(): Promise<string> {
    try {
      const result = await this.pool.query<{ ok: number }>('SELECT 1 AS ok');
      return result.rows[0]?.ok === 1 ? 'up' : 'down';
    } catch (error) {
      return `down: ${(error as Error).message}`;
    }
  }

  async item(id: number): Promise<{ id: number; at: string }> {
    const result = await this.pool.query<{ id: number; at: Date }>('SELECT $1::int AS id, now() AS at', [id]);
    return { id: result.rows[0].id, at: result.rows[0].at.toISOString() };
  }

  async onModuleDestroy(): Promise<void> {
    await this.pool.end();
  }
}
