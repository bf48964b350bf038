// oidc-provider as the benchmark's OAuth 2 peer: one confidential client that may use the
// client_credentials grant with client_secret_basic, and token introspection. Everything else is
// the library's default (in-memory adapter, opaque access tokens for client credentials).
//
// With BENCH_ACCESS_TOKEN_FORMAT=jwt, client-credentials access tokens are ES256-signed JWTs
// instead, as Porteiro's are: `features.resourceIndicators` with one resource server whose
// `accessTokenFormat` is 'jwt', made the default resource so that a plain
// `grant_type=client_credentials` request gets it. The P-256 key is generated at start.
// oidc-provider does not introspect its own JWT access tokens (its introspection endpoint answers
// `unsupported_token_type` for any JWT): a resource server verifies them with the JWKS.
//
// Environment: BENCH_PORT, BENCH_CLIENT_ID, BENCH_CLIENT_SECRET, BENCH_ACCESS_TOKEN_FORMAT
// (`opaque`, the default, or `jwt`).
import { generateKeyPairSync } from 'node:crypto';

import Provider from 'oidc-provider';

const port = Number(process.env.BENCH_PORT);
const issuer = `http://127.0.0.1:${port}`;
const jwt = process.env.BENCH_ACCESS_TOKEN_FORMAT === 'jwt';
const SCOPE = 'documents:read documents:sign';
// The benchmark's API, the audience of the JWT access tokens.
const RESOURCE = 'https://api.bench.example/';

const configuration = {
  clients: [
    {
      client_id: process.env.BENCH_CLIENT_ID,
      client_secret: process.env.BENCH_CLIENT_SECRET,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: SCOPE,
    },
  ],
  scopes: ['documents:read', 'documents:sign'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
  },
  ttl: { ClientCredentials: 3600 },
};

if (jwt) {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  configuration.jwks = {
    keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'bench-es256', alg: 'ES256', use: 'sig' }],
  };
  // The provider's own signatures (ID tokens, which this peer never issues) use the one key too.
  configuration.clientDefaults = { id_token_signed_response_alg: 'ES256' };
  configuration.enabledJWA = { idTokenSigningAlgValues: ['ES256'] };
  configuration.features.resourceIndicators = {
    enabled: true,
    defaultResource: async () => RESOURCE,
    getResourceServerInfo: async (ctx, resourceIndicator) => {
      if (resourceIndicator !== RESOURCE) {
        throw new Provider.errors.InvalidTarget();
      }
      return {
        scope: SCOPE,
        accessTokenTTL: 3600,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'ES256' } },
      };
    },
  };
}

const provider = new Provider(issuer, configuration);

// No per-request logging: the peer runs as quietly as Porteiro (RUST_LOG=warn).
provider.on('server_error', (ctx, err) => console.error('server_error', err));

provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer} (${jwt ? 'ES256 JWT' : 'opaque'} access tokens)`);
});
