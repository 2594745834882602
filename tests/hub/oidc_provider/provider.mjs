// A real OpenID provider for the hub's SSO tests: node-oidc-provider with one static client
// and devInteractions (its built-in login and consent pages: any login name is accepted and
// becomes the account). Configured by the environment the test fixture sets; prints READY.
//   PORT, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI
// Account ids are email addresses; one starting with "unverified" has email_verified false.
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: process.env.CLIENT_ID,
      client_secret: process.env.CLIENT_SECRET,
      redirect_uris: [process.env.REDIRECT_URI],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['hub-test-oidc-cookie-key'] },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          email: id,
          email_verified: !id.startsWith('unverified'),
          name: `Test ${id.split('@')[0]}`,
        };
      },
    };
  },
});
provider.proxy = false;

provider.listen(port, '127.0.0.1', () => {
  console.log('READY');
});
