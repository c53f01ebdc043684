import type { IncomingMessage } from 'node:http';
import type { Interaction, Provider, ProviderContext, ProviderError, ProviderMiddleware } from 'oidc-provider';
import type { DemoUser } from './demo-users.js';
import { consentPage, loginPage, messagePage } from './interaction.pages.js';

/** The demo's authentication levels: a password alone, and a password with the (pretend) second factor. */
export const ACR_PASSWORD = 'urn:sessiongate:loa:1';
export const ACR_SECOND_FACTOR = 'urn:sessiongate:loa:2';
export const ACR_VALUES = [ACR_PASSWORD, ACR_SECOND_FACTOR] as const;

const INTERACTION_PATH = /^\/interaction\/([\w-]+)(\/login|\/consent)?$/;
const MAX_FORM_BYTES = 4096;

export interface ConsentPolicy {
  /** The OpenID scopes the provider knows; the rest of a request's scope belongs to resources. */
  readonly oidcScopes: ReadonlySet<string>;
  readonly resources: Readonly<Record<string, { readonly scope: string }>>;
  /** Ask the user to allow or deny (a third party's consent screen) instead of granting at once. */
  readonly consent: boolean;
}

/**
 * The provider's own login screen (devInteractions are off): `GET /interaction/:uid` shows the form,
 * `POST /interaction/:uid/login` checks the demo user. Consent is asked only with `policy.consent` (a
 * third-party provider: `POST /interaction/:uid/consent` allows or denies); otherwise the clients are
 * first party, so everything they request is granted, and the interaction finishes at once.
 */
export function loginInteraction(provider: Provider, users: readonly DemoUser[], policy: ConsentPolicy): ProviderMiddleware {
  return async (ctx, next) => {
    const match = INTERACTION_PATH.exec(ctx.path);
    if (!match) return next();
    try {
      const interaction = await provider.interactionDetails(ctx.req, ctx.res);
      // The interaction cookie, not the URL, decides which interaction this is; a stale tab must not act on another.
      if (interaction.uid !== match[1]) return showExpired(ctx);
      const clientId = String(interaction.params.client_id);
      if (ctx.method === 'GET' && !match[2]) {
        if (interaction.prompt.name !== 'login' && interaction.session) {
          if (policy.consent) {
            ctx.type = 'html';
            ctx.body = consentPage({ uid: interaction.uid, clientId, scopes: String(interaction.params.scope ?? '') });
            return;
          }
          return await finish(ctx, provider, interaction, interaction.session.accountId, policy);
        }
        ctx.type = 'html';
        ctx.body = loginPage({ uid: interaction.uid, clientId, acrValues: requestedAcr(interaction) });
        return;
      }
      if (ctx.method === 'POST' && match[2] === '/consent' && interaction.session) {
        const form = await readForm(ctx.req);
        if (form.get('decision') === 'allow') return await finish(ctx, provider, interaction, interaction.session.accountId, policy);
        const returnTo = await provider.interactionResult(ctx.req, ctx.res, {
          error: 'access_denied',
          error_description: 'The user denied the request.',
        });
        ctx.status = 303;
        ctx.redirect(returnTo);
        return;
      }
      if (ctx.method === 'POST' && match[2] === '/login') {
        const form = await readForm(ctx.req);
        const username = form.get('username') ?? '';
        const user = users.find((candidate) => candidate.username === username && candidate.password === form.get('password'));
        if (!user) {
          ctx.status = 401;
          ctx.type = 'html';
          ctx.body = loginPage({
            uid: interaction.uid,
            clientId,
            username,
            error: 'Wrong username or password.',
            acrValues: requestedAcr(interaction),
          });
          return;
        }
        // The demo's second factor is a checkbox: what matters here is that the ID token's acr says which was used.
        const secondFactor = form.get('second_factor') === 'yes';
        const authentication = {
          acr: secondFactor ? ACR_SECOND_FACTOR : ACR_PASSWORD,
          amr: secondFactor ? ['pwd', 'otp'] : ['pwd'],
          ts: Math.floor(Date.now() / 1000),
        };
        if (policy.consent) {
          // Logged in: the provider comes back with a consent prompt, answered by the consent page.
          const returnTo = await provider.interactionResult(ctx.req, ctx.res, { login: { accountId: user.sub, ...authentication } });
          ctx.status = 303;
          ctx.redirect(returnTo);
          return;
        }
        return await finish(ctx, provider, interaction, user.sub, policy, authentication);
      }
      ctx.status = 405;
    } catch (error) {
      if (!(error as ProviderError).expose) throw error;
      showExpired(ctx);
    }
  };
}

async function finish(
  ctx: ProviderContext,
  provider: Provider,
  interaction: Interaction,
  accountId: string,
  policy: ConsentPolicy,
  authentication?: { readonly acr: string; readonly amr: readonly string[]; readonly ts: number },
): Promise<void> {
  const existing = interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined;
  const grant =
    existing?.accountId === accountId ? existing : new provider.Grant({ accountId, clientId: String(interaction.params.client_id) });
  const requested = String(interaction.params.scope ?? '').split(' ');
  // offline_access is always granted: oidc-provider drops it from a request without prompt=consent
  // (OIDC Core 11), so issueRefreshToken reads it from this grant instead.
  grant.addOIDCScope([...requested.filter((scope) => policy.oidcScopes.has(scope)), 'offline_access'].join(' '));
  for (const resource of [interaction.params.resource ?? []].flat() as string[]) {
    const server = policy.resources[resource];
    if (server) grant.addResourceScope(resource, server.scope);
  }
  const grantId = await grant.save();
  const login = interaction.prompt.name === 'login' ? { login: { accountId, ...authentication } } : {};
  const returnTo = await provider.interactionResult(ctx.req, ctx.res, { ...login, consent: { grantId } });
  ctx.status = 303;
  ctx.redirect(returnTo);
}

function requestedAcr(interaction: Interaction): string | undefined {
  const requested = interaction.params.acr_values;
  return typeof requested === 'string' ? requested : undefined;
}

function showExpired(ctx: ProviderContext): void {
  ctx.status = 400;
  ctx.type = 'html';
  ctx.body = messagePage('Login expired', 'This login request is no longer valid. Go back to the application and log in again.');
}

async function readForm(request: IncomingMessage): Promise<URLSearchParams> {
  let body = '';
  for await (const chunk of request) {
    body += chunk;
    if (body.length > MAX_FORM_BYTES) throw new Error('login form too large');
  }
  return new URLSearchParams(body);
}
