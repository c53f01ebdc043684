// oidc-provider 9 ships no type declarations: this is the part of its API the demo identity provider uses.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  /** The Koa context oidc-provider hands to middleware registered with `provider.use`. */
  export interface ProviderContext {
    readonly req: IncomingMessage;
    readonly res: ServerResponse;
    readonly method: string;
    readonly path: string;
    query: Record<string, string | string[] | undefined>;
    status: number;
    type: string;
    body: unknown;
    redirect(url: string): void;
    readonly oidc?: { readonly route?: string };
  }

  export type ProviderMiddleware = (ctx: ProviderContext, next: () => Promise<void>) => Promise<void>;

  export interface Interaction {
    readonly uid: string;
    readonly prompt: { readonly name: string };
    readonly params: Readonly<Record<string, unknown>>;
    readonly grantId?: string;
    readonly session?: { readonly accountId: string };
  }

  export interface Grant {
    readonly accountId: string;
    addOIDCScope(scope: string): void;
    addResourceScope(resource: string, scope: string): void;
    getOIDCScope(): string;
    save(): Promise<string>;
  }

  export interface InteractionResult {
    /** `acr`, `amr`: how the user authenticated, as the ID token will say; `ts`: when (epoch seconds). */
    readonly login?: { readonly accountId: string; readonly acr?: string; readonly amr?: readonly string[]; readonly ts?: number };
    readonly consent?: { readonly grantId: string };
    /** Ends the authorization request with this OAuth error (e.g. `access_denied` when the user declines). */
    readonly error?: string;
    readonly error_description?: string;
  }

  /** An oidc-provider error: an OAuth error code, and `expose` when it may be shown to the user. */
  export interface ProviderError extends Error {
    readonly error: string;
    readonly error_description?: string;
    readonly error_detail?: string;
    readonly expose?: boolean;
  }

  /** An access token as oidc-provider models it (the part the token-exchange grant uses). */
  export interface AccessTokenModel {
    readonly accountId?: string;
    readonly clientId: string;
    readonly isExpired: boolean;
    readonly expiration: number;
    readonly scope?: string;
    readonly tokenType: string;
    resourceServer: unknown;
    save(): Promise<string>;
  }

  export class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    readonly issuer: string;
    readonly AccessToken: {
      new (properties: { accountId: string; client: unknown; gty: string; scope: string }): AccessTokenModel;
      find(value: string): Promise<AccessTokenModel | undefined>;
    };
    readonly ResourceServer: new (
      identifier: string,
      data: Record<string, unknown>,
    ) => unknown;
    registerGrantType(name: string, handler: (ctx: ProviderContext) => Promise<void>, parameters?: readonly string[]): void;
    readonly Grant: { new (properties: { accountId: string; clientId: string }): Grant; find(id: string): Promise<Grant | undefined> };
    readonly Client: { readonly prototype: { includeSid(): boolean } };
    callback(): (request: IncomingMessage, response: ServerResponse) => void;
    use(middleware: ProviderMiddleware): void;
    on(event: string, listener: (...args: never[]) => void): this;
    interactionDetails(request: IncomingMessage, response: ServerResponse): Promise<Interaction>;
    interactionResult(request: IncomingMessage, response: ServerResponse, result: InteractionResult): Promise<string>;
  }

  /** What a Check sees of the authorization request being evaluated. */
  export interface CheckContext {
    readonly oidc: {
      readonly params: Readonly<Record<string, unknown>>;
      readonly session: { readonly accountId?: string };
      readonly acr?: string;
      readonly result?: { readonly login?: unknown };
    };
  }

  export interface Check {
    readonly reason: string;
  }

  export interface InteractionPrompt {
    readonly name: string;
    readonly checks: { add(check: Check, index?: number): void };
  }

  export const interactionPolicy: {
    readonly Check: {
      new (reason: string, description: string, check: (ctx: CheckContext) => boolean | Promise<boolean>): Check;
      readonly REQUEST_PROMPT: true;
      readonly NO_NEED_TO_PROMPT: false;
    };
    base(): { get(name: string): InteractionPrompt | undefined } & Iterable<InteractionPrompt>;
  };

  export const errors: {
    readonly InvalidTarget: new (description?: string) => ProviderError;
    readonly InvalidGrant: new (description?: string) => ProviderError;
    readonly InvalidRequest: new (description?: string) => ProviderError;
    readonly InvalidScope: new (description: string, scope: string) => ProviderError;
  };
}

declare module 'oidc-provider/lib/adapters/memory_adapter.js' {
  /** oidc-provider's in-memory adapter with a store of its own (an LRU of 1,000 entries). */
  export function createMemoryAdapter(clockTolerance?: number): (model: string) => object;
}

declare module 'oidc-provider/lib/helpers/validate_dpop.js' {
  import type { Provider, ProviderContext } from 'oidc-provider';
  /** The request's DPoP proof, checked (RFC 9449 §4.3); undefined without one. */
  export default function validateDpop(provider: Provider, ctx: ProviderContext): Promise<{ readonly thumbprint: string } | undefined>;
}

declare module 'oidc-provider/lib/helpers/grant_common.js' {
  import type { Provider, ProviderContext } from 'oidc-provider';
  /** Checks the proof's jti for replay and binds the token to its key (`cnf.jkt`). */
  export function applyDpopBinding(provider: Provider, ctx: ProviderContext, dPoP: unknown, token: unknown): Promise<void>;
}

declare module 'oidc-provider/lib/helpers/grant_response.js' {
  import type { Provider } from 'oidc-provider';
  export function buildTokenResponse(
    provider: Provider,
    response: { accessToken: string; expiresIn: number; scope?: string; tokenType: string; issuedTokenType?: string },
  ): Record<string, unknown>;
}
