import { BadRequestException, Body, Controller, Get, Post, Req } from '@nestjs/common';
import type { AuthenticatedRequest } from './access-token.strategy.js';
import { type Todo, TodoStore } from './todo.store.js';

const MAX_TITLE_LENGTH = 200;

@Controller('todos')
export class TodosController {
  constructor(private readonly store: TodoStore) {}

  @Get()
  list(@Req() request: AuthenticatedRequest): { sub: string; todos: readonly Todo[] } {
    return { sub: request.user.sub, todos: this.store.list(request.user.sub) };
  }

  @Post()
  add(@Req() request: AuthenticatedRequest, @Body() body: unknown): Todo {
    const title = typeof body === 'object' && body !== null ? (body as { title?: unknown }).title : undefined;
    if (typeof title !== 'string' || title.trim() === '' || title.length > MAX_TITLE_LENGTH) {
      throw new BadRequestException({ error: 'invalid_request', message: `title must be 1-${MAX_TITLE_LENGTH} characters` });
    }
    return this.store.add(request.user.sub, title.trim());
  }
}
