import { generateKeyPairSync, KeyObject, randomUUID, sign } from "crypto";
import * as http from "http";
import * as net from "net";

/**
 * The sign-in of an Application Load Balancer, as its targets see it: after an
 * authenticate-oidc or authenticate-cognito action it hands them x-amzn-oidc-data, a JWT
 * (ES256) whose header names the load balancer (signer), the app client, the issuer and the
 * expiry and whose payload is what the provider's user-info endpoint said, and
 * x-amzn-oidc-accesstoken, the provider's access token; it publishes its public key at
 * <keys URL>/<kid> (PEM). This stand-in holds its own P-256 key and signs such tokens, serves
 * the key, and plays the sign-in provider's user-info endpoint (/userinfo: the `sub` of the
 * access tokens in `users`), on 127.0.0.1, counting what is asked.
 */
export class FakeAlbSignIn {
  readonly kid = randomUUID();
  private readonly keys = generateKeyPairSync("ec", { namedCurve: "P-256" });
  /** Key ids fetched, in order. */
  readonly fetches: string[] = [];
  /** The provider's users: access token => sub. */
  readonly users = new Map<string, string>();
  /** Access tokens the user-info endpoint was asked about, in order. */
  readonly userInfoCalls: string[] = [];
  /** What the user-info endpoint answers instead, while set (an outage: 503, 429). */
  userInfoFailure?: number;
  /** A Cognito user pool's signing key (RS256), published at /cognito/.well-known/jwks.json. */
  readonly poolKid = "pool-key-1";
  private readonly poolKeys = generateKeyPairSync("rsa", { modulusLength: 2048 });
  /** How often the pool's keys were fetched. */
  poolKeyFetches = 0;
  private server?: http.Server;
  port = 0;

  async start(): Promise<this> {
    const pem = this.keys.publicKey.export({ type: "spki", format: "pem" }).toString();
    this.server = http.createServer((req, res) => {
      if (req.url === "/cognito/.well-known/jwks.json") {
        this.poolKeyFetches++;
        const jwk = this.poolKeys.publicKey.export({ format: "jwk" });
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ keys: [{ ...jwk, kid: this.poolKid, alg: "RS256", use: "sig" }] }));
        return;
      }
      if (req.url === "/userinfo") {
        const token = String(req.headers.authorization ?? "").replace(/^Bearer /, "");
        this.userInfoCalls.push(token);
        if (this.userInfoFailure) {
          res.writeHead(this.userInfoFailure, { "content-type": "text/plain" });
          res.end("unavailable");
          return;
        }
        const sub = this.users.get(token);
        res.writeHead(sub ? 200 : 401, { "content-type": "application/json" });
        res.end(JSON.stringify(sub ? { sub, email: `${sub}@example.com` } : { error: "invalid_token" }));
        return;
      }
      const kid = decodeURIComponent((req.url ?? "").replace(/^\//, ""));
      this.fetches.push(kid);
      if (kid === this.kid) {
        res.writeHead(200, { "content-type": "application/x-pem-file" });
        res.end(pem);
      } else {
        res.writeHead(404, { "content-type": "text/plain" });
        res.end("NoSuchKey");
      }
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.port = (this.server!.address() as net.AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Where the keys are: the waker's WAKER_SIGNIN_KEYS_URL. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Where the user pool's keys are, as WAKER_COGNITO_KEYS_URL says it (without /.well-known/jwks.json). */
  get poolKeysUrl(): string {
    return `${this.url}/cognito`;
  }

  /**
   * A Cognito access token as a user pool issues it (RS256, signed with the pool's key unless
   * `key` is given): for `clientId`, of `sub`, valid for an hour unless `claims` says otherwise.
   */
  poolAccessToken(fields: { issuer: string; clientId: string; sub: string }, claims: Record<string, unknown> = {}, key?: KeyObject): string {
    const header = { kid: this.poolKid, alg: "RS256" };
    const payload = {
      sub: fields.sub,
      iss: fields.issuer,
      client_id: fields.clientId,
      token_use: "access",
      scope: "openid",
      exp: Math.floor(Date.now() / 1000) + 3600,
      ...claims,
    };
    const signed = `${Buffer.from(JSON.stringify(header)).toString("base64url")}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}`;
    return `${signed}.${sign("sha256", Buffer.from(signed), key ?? this.poolKeys.privateKey).toString("base64url")}`;
  }

  /** The sign-in provider's user-info endpoint. */
  get userInfoUrl(): string {
    return `${this.url}/userinfo`;
  }

  /**
   * x-amzn-oidc-data for a user signed in at `signer` through `client` of `issuer`, valid for
   * two minutes unless `header` says otherwise; `key` signs instead of the load balancer's.
   */
  token(fields: { signer: string; client: string; issuer: string; sub?: string }, options: { header?: Record<string, unknown>; key?: KeyObject } = {}): string {
    const exp = Math.floor(Date.now() / 1000) + 120;
    const header = { alg: "ES256", kid: this.kid, signer: fields.signer, iss: fields.issuer, client: fields.client, exp, ...options.header };
    const sub = fields.sub ?? "alice-sub";
    const payload = { sub, email: `${sub}@example.com`, exp, iss: fields.issuer };
    // The load balancer's base64url keeps its "=" padding.
    const encode = (data: Buffer) => data.toString("base64url").padEnd(Math.ceil(data.toString("base64url").length / 4) * 4, "=");
    const signed = `${encode(Buffer.from(JSON.stringify(header)))}.${encode(Buffer.from(JSON.stringify(payload)))}`;
    const signature = sign("sha256", Buffer.from(signed), { key: options.key ?? this.keys.privateKey, dsaEncoding: "ieee-p1363" });
    return `${signed}.${encode(signature)}`;
  }
}

/** Another P-256 key: what someone without the load balancer's key signs with. */
export const otherKey = (): KeyObject => generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
/** Another RSA key: what someone without the user pool's key signs with. */
export const otherRsaKey = (): KeyObject => generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
