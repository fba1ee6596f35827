// A real OpenID Connect provider (panva's oidc-provider) for the Python tests, on loopback only.
//
//   OIDC_PORT=0 OIDC_CLIENT_ID=journal OIDC_CLIENT_SECRET=... \
//   OIDC_REDIRECT_URIS=http://127.0.0.1:9/cb OIDC_POST_LOGOUT_REDIRECT_URIS=http://127.0.0.1:9/bye \
//   node tests/oidc/provider.mjs
//
// Listens on 127.0.0.1:OIDC_PORT (0: any free port; a port may also be the first argument), issuer
// http://127.0.0.1:<port>, and prints one JSON line {"issuer": ..., "port": ...} on stdout once it serves.
// One confidential client (authorization code only, PKCE with S256 required, client_secret_basic unless
// OIDC_CLIENT_AUTH_METHOD says otherwise). The development interactions accept any login with any password:
// the login becomes the subject, with the e-mail <login>@example.org. RP-initiated logout is on. The signing
// key is a fresh RSA key per process (kid printed too), so a restart on the same port rotates the keys.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const HOST = '127.0.0.1';

function required(name) {
  const value = process.env[name];
  if (!value) {
    process.stderr.write(`provider.mjs: ${name} is not set\n`);
    process.exit(2);
  }
  return value;
}

function list(value) {
  return (value || '').split(/[\s,]+/).filter(Boolean);
}

const requestedPort = Number(process.argv[2] ?? process.env.OIDC_PORT ?? 0);
const kid = `k-${randomBytes(6).toString('hex')}`;
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' };

const client = {
  client_id: required('OIDC_CLIENT_ID'),
  client_secret: required('OIDC_CLIENT_SECRET'),
  redirect_uris: list(required('OIDC_REDIRECT_URIS')),
  post_logout_redirect_uris: list(process.env.OIDC_POST_LOGOUT_REDIRECT_URIS),
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: process.env.OIDC_CLIENT_AUTH_METHOD || 'client_secret_basic',
};

function configuration() {
  return {
    clients: [client],
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    pkce: { methods: ['S256'], required: () => true },
    scopes: ['openid', 'email', 'profile'],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
    },
    features: {
      devInteractions: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      userinfo: { enabled: true },
    },
    async findAccount(ctx, id) {
      return {
        accountId: id,
        async claims() {
          return { sub: id, email: `${id}@example.org`, email_verified: true, name: `Пользователь ${id}` };
        },
      };
    },
  };
}

const server = createServer();
server.on('error', (error) => {
  process.stderr.write(`provider.mjs: ${error.message}\n`);
  process.exit(1);
});
server.listen(requestedPort, HOST, () => {
  const { port } = server.address();
  const issuer = `http://${HOST}:${port}`;
  const provider = new Provider(issuer, configuration());
  provider.on('server_error', (ctx, error) => process.stderr.write(`server_error: ${error.stack}\n`));
  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer, port, kid })}\n`);
});

// Nothing to flush: every grant and session lives in this process's memory and goes with it.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}
