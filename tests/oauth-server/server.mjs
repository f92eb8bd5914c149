#!/usr/bin/env node
// Independent OAuth 2.0 / OpenID Connect authorization server for Almanac's
// end-to-end sign-in test, built on oidc-provider (panva). See README.md.
//
//   node server.mjs [--port N]
//
// Listens on 127.0.0.1 (ephemeral port unless --port), prints one JSON line
// with the issuer and endpoints (read from its own discovery document) to
// stdout, logs every authorization and token request (never codes or token
// values) to stderr, and runs until SIGTERM/SIGINT.

import { AsyncLocalStorage } from 'node:async_hooks';
import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: { port: { type: 'string', default: '0' } },
});
const requestedPort = Number.parseInt(args.port, 10);
if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65535) {
  console.error(`invalid --port ${args.port}`);
  process.exit(2);
}

const ACCOUNT_ID = 'canary-user';
const ACCOUNT_EMAIL = process.env.OIDC_ACCOUNT_EMAIL || 'casey.canary@example.test';
const ACCESS_TOKEN_TTL = Number.parseInt(process.env.OIDC_ACCESS_TOKEN_TTL || '3600', 10);
if (!Number.isInteger(ACCESS_TOKEN_TTL) || ACCESS_TOKEN_TTL <= 0) {
  console.error(`invalid OIDC_ACCESS_TOKEN_TTL ${process.env.OIDC_ACCESS_TOKEN_TTL}`);
  process.exit(2);
}

const CALENDAR_SCOPES = [
  'https://www.googleapis.com/auth/calendar.events',
  'https://www.googleapis.com/auth/calendar.calendarlist.readonly',
];

const log = (line) => process.stderr.write(`${line}\n`);

// Path of a URL without its query or fragment (they may hold codes or state).
const pathOnly = (url) => {
  try {
    const u = new URL(url, 'http://x');
    return u.pathname;
  } catch {
    return '?';
  }
};

// ---------------------------------------------------------------------------
// Signing key and cookie keys: fresh for every run, never written to disk.
const signingJwk = {
  ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
  kid: randomUUID(),
  use: 'sig',
  alg: 'RS256',
};
const cookieKeys = [randomBytes(32).toString('base64url')];

// Authorization codes issued for a request carrying Google's access_type=offline
// (jti -> true). oidc-provider does not keep extra parameters on the code, so
// they are recorded when the code is saved, while the authorization request's
// Koa context is still current (kept in requestContext by a middleware below).
const offlineCodes = new Set();
const requestContext = new AsyncLocalStorage();

// The HTTP server comes first so that the issuer can carry the real port.
let handler = (_req, res) => {
  res.statusCode = 503;
  res.end();
};
const server = createServer((req, res) => handler(req, res));
server.keepAliveTimeout = 1000;
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(requestedPort, '127.0.0.1', resolve);
});
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const configuration = {
  clients: [
    {
      // Plays Almanac's Google "Desktop app" OAuth client.
      client_id: 'almanac-desktop',
      client_secret: 'almanac-desktop-not-secret',
      token_endpoint_auth_method: 'client_secret_post',
      application_type: 'native',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      // RFC 8252 §7.3: for native clients oidc-provider accepts this loopback
      // redirect URI with any port (Client#redirectUriAllowed strips the port
      // of http loopback URIs before comparing).
      redirect_uris: ['http://127.0.0.1/callback/google'],
    },
  ],
  pkce: {
    // Required for every authorization request, S256 only ("plain" is rejected).
    methods: ['S256'],
    required: () => true,
  },
  scopes: ['openid', 'email', 'profile', 'offline_access', ...CALENDAR_SCOPES],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name'],
  },
  // Like Google: the id_token carries the claims of the granted scopes (email).
  conformIdTokenClaims: false,
  // Google's authorization request parameters, accepted and readable.
  extraParams: ['access_type', 'include_granted_scopes'],
  responseTypes: ['code'],
  features: {
    devInteractions: { enabled: false },
    revocation: { enabled: true },
    userinfo: { enabled: true },
  },
  issueRefreshToken: async (_ctx, client, code) => {
    if (!client.grantTypeAllowed('refresh_token')) return false;
    if (code.scopes.has('offline_access')) return true;
    return code.kind === 'AuthorizationCode' && offlineCodes.has(code.jti);
  },
  rotateRefreshToken: true,
  // Refresh tokens outlive the browser session (the stand-in browser's cookies).
  expiresWithSession: async () => false,
  ttl: {
    AccessToken: ACCESS_TOKEN_TTL,
    AuthorizationCode: 120,
    IdToken: 3600,
    RefreshToken: 14 * 24 * 60 * 60,
    Interaction: 3600,
    Session: 24 * 60 * 60,
    Grant: 14 * 24 * 60 * 60,
  },
  interactions: {
    url: async (_ctx, interaction) => `/interaction/${interaction.uid}`,
  },
  findAccount: async (_ctx, sub) => {
    if (sub !== ACCOUNT_ID) return undefined;
    return {
      accountId: ACCOUNT_ID,
      claims: async () => ({
        sub: ACCOUNT_ID,
        email: ACCOUNT_EMAIL,
        email_verified: true,
        name: 'Casey Canary',
        given_name: 'Casey',
        family_name: 'Canary',
      }),
    };
  },
  cookies: {
    keys: cookieKeys,
    // Plain http on 127.0.0.1: never mark cookies Secure.
    long: { httpOnly: true, sameSite: 'lax', secure: false },
    short: { httpOnly: true, sameSite: 'lax', secure: false },
  },
  jwks: { keys: [signingJwk] },
  renderError: async (ctx, out) => {
    ctx.type = 'json';
    ctx.body = out;
  },
};

const provider = new Provider(issuer, configuration);
provider.proxy = false; // no reverse proxy; X-Forwarded-* are not trusted

// --- request log -----------------------------------------------------------
provider.use((ctx, next) => requestContext.run(ctx, next));
provider.on('authorization_code.saved', (code) => {
  const ctx = requestContext.getStore();
  if (ctx?.oidc?.params?.access_type === 'offline') offlineCodes.add(code.jti);
});
provider.on('authorization_code.consumed', (code) => {
  // Keep the marker until the token response is built; drop it shortly after.
  setTimeout(() => offlineCodes.delete(code.jti), 60_000).unref();
});

const describeAuthz = (ctx) => {
  const p = ctx.oidc?.params || {};
  const parts = [`client_id=${p.client_id ?? '-'}`];
  if (p.scope) parts.push(`scope=${JSON.stringify(p.scope)}`);
  if (p.access_type) parts.push(`access_type=${p.access_type}`);
  if (p.redirect_uri) {
    try {
      const u = new URL(p.redirect_uri);
      parts.push(`redirect_uri=${u.origin}${u.pathname}`);
    } catch {
      parts.push('redirect_uri=?');
    }
  }
  return parts.join(' ');
};
provider.on('interaction.started', (ctx, prompt) => {
  log(`authorization result=interaction prompt=${prompt?.name} ${describeAuthz(ctx)}`);
});
provider.on('authorization.success', (ctx) => {
  log(`authorization result=success ${describeAuthz(ctx)}`);
});
provider.on('authorization.error', (ctx, err) => {
  log(`authorization result=error error=${err.error || err.name} description=${JSON.stringify(err.error_description || err.message)} ${describeAuthz(ctx)}`);
});
provider.on('grant.success', (ctx) => {
  log(`token grant_type=${ctx.oidc?.params?.grant_type ?? '-'} status=200`);
});
provider.on('grant.error', (ctx, err) => {
  const grantType = ctx.oidc?.params?.grant_type ?? ctx.request?.body?.grant_type ?? '-';
  const detail = err.error_detail ? ` detail=${JSON.stringify(err.error_detail)}` : '';
  log(`token grant_type=${grantType} status=${err.statusCode || err.status || 500} error=${err.error || err.name} description=${JSON.stringify(err.error_description || err.message)}${detail}`);
});
provider.on('revocation.error', (ctx, err) => {
  log(`revocation status=${err.statusCode || err.status || 500} error=${err.error || err.name}`);
});
provider.on('server_error', (ctx, err) => {
  log(`server_error path=${ctx.path} ${err.stack || err}`);
});
// Every HTTP request the provider serves: method, path (no query), status.
provider.use(async (ctx, next) => {
  await next();
  log(`http ${ctx.method} ${ctx.path} status=${ctx.status}`);
});

// --- interaction endpoint (replaces devInteractions) -----------------------
async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session } = details;
  let result;
  if (prompt.name === 'login') {
    result = { login: { accountId: ACCOUNT_ID } };
  } else if (prompt.name === 'consent') {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const d = prompt.details || {};
    if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
    if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
    if (d.missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(d.missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
    }
    result = { consent: { grantId: await grant.save() } };
  } else {
    result = { error: 'access_denied', error_description: `unsupported prompt ${prompt.name}` };
  }
  log(`interaction prompt=${prompt.name} finished`);
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}

const providerCallback = provider.callback();
handler = (req, res) => {
  if (req.method === 'GET' && /^\/interaction\/[^/?#]+(?:[?#].*)?$/.test(req.url)) {
    interaction(req, res).catch((err) => {
      log(`http GET ${pathOnly(req.url)} status=400 error=${JSON.stringify(err.message)}`);
      if (!res.headersSent) {
        res.statusCode = 400;
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ error: 'interaction_failed', error_description: err.message }));
      }
    });
    return;
  }
  providerCallback(req, res);
};

// --- announce ----------------------------------------------------------------
const discovery = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
process.stdout.write(`${JSON.stringify({
  issuer: discovery.issuer,
  authorization_endpoint: discovery.authorization_endpoint,
  token_endpoint: discovery.token_endpoint,
  revocation_endpoint: discovery.revocation_endpoint,
  userinfo_endpoint: discovery.userinfo_endpoint,
  jwks_uri: discovery.jwks_uri,
})}\n`);
log(`listening issuer=${issuer}`);

const shutdown = (signal) => {
  log(`shutting down on ${signal}`);
  server.close();
  server.closeAllConnections();
  process.exit(0);
};
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
