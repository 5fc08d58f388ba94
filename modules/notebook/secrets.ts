import { Construct } from "constructs";
import { conditional, Fn, Op, Token } from "cdktf";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { SecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/secretsmanager-secret-version";
import { Password } from "@cdktf/provider-random/lib/password";
import { splat } from "../expressions";
import { keepLogicalId } from "./logical-ids";

export interface NotebookSecretsProps {
  /** The construct these resources belonged to before they moved here: their addresses stay its children's. */
  readonly owner: Construct;
  /** `<prefix>-<suffix>`: names the secrets. */
  readonly name: string;
  /**
   * Jupyter access token. Undefined, an empty string, or an expression that evaluates to
   * one means a 32-character token is generated. Its rules are the caller's to check.
   * @default a generated token
   */
  readonly token?: string;
  /**
   * Token for a private git repository (empty: none, and no secret for it).
   * @default no git token
   */
  readonly gitToken?: string;
}

/**
 * The notebook's secrets: the Jupyter token (given, or generated) and, when one is given,
 * the git token, each in Secrets Manager, deleted without recovery window on destroy. They
 * reach the container through ECS, never the task definition. The resources keep the
 * Terraform addresses they had as direct children of the notebook (keepLogicalId).
 */
export class NotebookSecrets extends Construct {
  public readonly generatedToken: Password;
  /** The token in effect (an expression): the given one, else the generated one. Sensitive. */
  public readonly token: string;
  public readonly tokenSecret: SecretsmanagerSecret;
  public readonly tokenValue: SecretsmanagerSecretVersion;
  /** The git token's secret: one instance when a git token is given, none otherwise. */
  public readonly gitTokenSecret: SecretsmanagerSecret;
  public readonly gitTokenValue: SecretsmanagerSecretVersion;
  /** ARNs of the git token's secret: a list of one, or an empty one. */
  public readonly gitSecretArns: string[];

  constructor(scope: Construct, id: string, props: NotebookSecretsProps) {
    super(scope, id);
    const gitToken = props.gitToken ?? "";

    this.generatedToken = new Password(this, "generated_token", { length: 32, special: false });
    keepLogicalId(this.generatedToken, props.owner, "generated_token");
    this.token =
      props.token === undefined ? this.generatedToken.result : Token.asString(Fn.coalesce([props.token, this.generatedToken.result]));
    this.tokenSecret = new SecretsmanagerSecret(this, "token_secret", {
      name: `${props.name}/jupyter-token`,
      description: `Jupyter token of notebook ${props.name}`,
      // Deleted at once on destroy: a secret in its recovery window would block a redeploy.
      recoveryWindowInDays: 0,
    });
    keepLogicalId(this.tokenSecret, props.owner, "token_secret");
    this.tokenValue = new SecretsmanagerSecretVersion(this, "token_secret_value", {
      secretId: this.tokenSecret.id,
      secretString: Token.asString(this.token),
    });
    keepLogicalId(this.tokenValue, props.owner, "token_secret_value");

    // The git token, when one is given, is a secret too (count 0 or 1). Its length is not
    // secret, and count must not be sensitive.
    const gitTokenGiven = Fn.nonsensitive(Op.gte(Fn.lengthOf(gitToken), 1));
    const gitSecretCount = Token.asNumber(conditional(gitTokenGiven, 1, 0));
    this.gitTokenSecret = new SecretsmanagerSecret(this, "git_token_secret", {
      count: gitSecretCount,
      name: `${props.name}/git-token`,
      description: `Git token of notebook ${props.name}`,
      recoveryWindowInDays: 0,
    });
    keepLogicalId(this.gitTokenSecret, props.owner, "git_token_secret");
    this.gitSecretArns = splat(this.gitTokenSecret, "arn");
    this.gitTokenValue = new SecretsmanagerSecretVersion(this, "git_token_secret_value", {
      count: gitSecretCount,
      secretId: Token.asString(Fn.one(splat(this.gitTokenSecret, "id"))),
      secretString: gitToken,
    });
    keepLogicalId(this.gitTokenValue, props.owner, "git_token_secret_value");
  }
}
