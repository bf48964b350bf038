// oidc-provider as the benchmark's OAuth 2 peer: one confidential client that may use the
// client_credentials grant with client_secret_basic, and token introspection. Everything else is
// the library's default (in-memory adapter, opaque access tokens for client credentials).
//
// Environment: BENCH_PORT, BENCH_CLIENT_ID, BENCH_CLIENT_SECRET.
import Provider from 'oidc-provider';

const port = Number(process.env.BENCH_PORT);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: process.env.BENCH_CLIENT_ID,
      client_secret: process.env.BENCH_CLIENT_SECRET,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'documents:read documents:sign',
    },
  ],
  scopes: ['documents:read', 'documents:sign'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
  },
  ttl: { ClientCredentials: 3600 },
});

// No per-request logging: the peer runs as quietly as Porteiro (RUST_LOG=warn).
provider.on('server_error', (ctx, err) => console.error('server_error', err));

provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
