export interface DemoUser {
  /** The subject identifier: opaque and different from the username, as at a real provider. */
  readonly sub: string;
  readonly username: string;
  readonly password: string;
  readonly name: string;
  readonly email: string;
  /**
   * More claims (groups, roles, Keycloak's `realm_access`, ...), released with the `profile` scope and put in
   * the user's JWT access tokens too; they may replace the standard ones (`email`, `email_verified`) to
   * play a hostile or careless provider.
   */
  readonly claims?: Readonly<Record<string, unknown>>;
  /**
   * Claims released with the `profile` scope at the userinfo endpoint only, never in the ID token: a provider
   * that puts scope claims in userinfo (OIDC Core §5.4), as LemonLDAP::NG does by default.
   */
  readonly userinfoClaims?: Readonly<Record<string, unknown>>;
}

export const DEMO_USERS: readonly DemoUser[] = [
  {
    sub: 'u-1001',
    username: 'alice',
    password: 'alice',
    name: 'Alice Anderson',
    email: 'alice@example.com',
    claims: { groups: ['staff'] },
  },
  {
    sub: 'u-1002',
    username: 'bob',
    password: 'bob',
    name: 'Bob Brown',
    email: 'bob@example.com',
    claims: { groups: ['staff', 'ops'], realm_access: { roles: ['operator'] } },
  },
  // An operator: the admin console's demo requirement is membership of `admins`.
  {
    sub: 'u-1003',
    username: 'carol',
    password: 'carol',
    name: 'Carol Clark',
    email: 'carol@example.com',
    claims: { groups: ['staff', 'admins'] },
  },
];
