export interface DemoUser {
  /** The subject identifier: opaque and different from the username, as at a real provider. */
  readonly sub: string;
  readonly username: string;
  readonly password: string;
  readonly name: string;
  readonly email: string;
}

export const DEMO_USERS: readonly DemoUser[] = [
  { sub: 'u-1001', username: 'alice', password: 'alice', name: 'Alice Anderson', email: 'alice@example.com' },
  { sub: 'u-1002', username: 'bob', password: 'bob', name: 'Bob Brown', email: 'bob@example.com' },
];
