import { Injectable } from '@nestjs/common';

export interface Todo {
  readonly id: number;
  readonly title: string;
  readonly done: boolean;
}

const STARTER_TITLES = ['Log in through the gateway', 'Load these todos without the page ever seeing a token'];

/** Each user's todos, in memory; a user's list starts with a couple of entries. */
@Injectable()
export class TodoStore {
  private readonly lists = new Map<string, Todo[]>();
  private nextId = 1;

  list(owner: string): readonly Todo[] {
    return this.listOf(owner);
  }

  add(owner: string, title: string): Todo {
    const todo = this.create(title);
    this.listOf(owner).push(todo);
    return todo;
  }

  private listOf(owner: string): Todo[] {
    let list = this.lists.get(owner);
    if (!list) {
      list = STARTER_TITLES.map((title) => this.create(title));
      this.lists.set(owner, list);
    }
    return list;
  }

  private create(title: string): Todo {
    return { id: this.nextId++, title, done: false };
  }
}
