import { conditional, Fn, IResolvable, Op } from "cdktf";

/**
 * Sign-in at the load balancer before Jupyter's token: Amazon Cognito or a generic OpenID
 * Connect provider (never both; the variables' validation refuses that). Values may be
 * Terraform expressions: an empty user pool ARN or issuer means that kind is off.
 */
export interface SignInProps {
  readonly cognitoUserPoolArn?: string;
  readonly cognitoUserPoolClientId?: string;
  readonly cognitoUserPoolDomain?: string;
  readonly oidcIssuer?: string;
  readonly oidcAuthorizationEndpoint?: string;
  readonly oidcTokenEndpoint?: string;
  readonly oidcUserInfoEndpoint?: string;
  readonly oidcClientId?: string;
  readonly oidcClientSecret?: string;
  /**
   * Seconds a sign-in lasts.
   * @default 43200 (12 hours)
   */
  readonly sessionTimeoutSeconds?: number;
}

/** The listener rule's sign-in actions, all with order 1 (the forward comes after them). */
export interface SignInActions {
  /** Whether any sign-in is configured (a Terraform expression). */
  readonly enabled: IResolvable;
  /** `dynamic "action"` blocks: at most one of them yields an action. */
  readonly dynamicActions: Array<Record<string, unknown>>;
}

export const SIGN_IN_ORDER = 1;

export function signInActions(props: SignInProps = {}): SignInActions {
  const cognito = Op.gte(Fn.lengthOf(props.cognitoUserPoolArn ?? ""), 1);
  const oidc = Op.gte(Fn.lengthOf(props.oidcIssuer ?? ""), 1);
  const sessionTimeout = props.sessionTimeoutSeconds ?? 43200;
  return {
    enabled: Op.or(cognito, oidc),
    dynamicActions: [
      {
        for_each: conditional(cognito, ["cognito"], []),
        content: {
          type: "authenticate-cognito",
          order: SIGN_IN_ORDER,
          authenticate_cognito: {
            user_pool_arn: props.cognitoUserPoolArn,
            user_pool_client_id: props.cognitoUserPoolClientId,
            user_pool_domain: props.cognitoUserPoolDomain,
            session_timeout: sessionTimeout,
            on_unauthenticated_request: "authenticate",
          },
        },
      },
      {
        for_each: conditional(oidc, ["oidc"], []),
        content: {
          type: "authenticate-oidc",
          order: SIGN_IN_ORDER,
          authenticate_oidc: {
            issuer: props.oidcIssuer,
            authorization_endpoint: props.oidcAuthorizationEndpoint,
            token_endpoint: props.oidcTokenEndpoint,
            user_info_endpoint: props.oidcUserInfoEndpoint,
            client_id: props.oidcClientId,
            client_secret: props.oidcClientSecret,
            scope: "openid",
            session_timeout: sessionTimeout,
            on_unauthenticated_request: "authenticate",
          },
        },
      },
    ],
  };
}
