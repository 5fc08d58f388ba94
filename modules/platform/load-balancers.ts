import { Construct } from "constructs";
import { TerraformIterator, Token } from "cdktf";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { LbListener } from "@cdktf/provider-aws/lib/lb-listener";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { LOAD_BALANCER_TAG } from "../platform-state/placement";
import { Condition, isEmpty, not } from "./conditions";
import { inlineRule } from "./inline-rule";

/** The port notebooks are reached on: every load balancer's HTTPS listener. */
export const HTTPS_PORT = 443;
/** Plain HTTP, redirected to HTTPS. */
export const HTTP_PORT = 80;
/** TLS 1.3 and 1.2 only. */
export const SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";
export const DEFAULT_IDLE_TIMEOUT_SECONDS = 3600;
export const DEFAULT_ALLOWED_CIDRS = ["0.0.0.0/0", "::/0"];
export const DEFAULT_NOT_FOUND_MESSAGE = "No notebook here. Check the address.";

/** The IPv4 and the IPv6 entries of a list of CIDRs (a literal list, or an expression). */
function splitCidrs(cidrs: string[]): { ipv4: string[]; ipv6: string[] } {
  if (!Token.isUnresolved(cidrs)) return { ipv4: cidrs.filter((c) => !c.includes(":")), ipv6: cidrs.filter((c) => c.includes(":")) };
  const each = TerraformIterator.fromList(cidrs);
  return {
    ipv4: Token.asList(each.forExpressionForList('val if !strcontains(val, ":")')),
    ipv6: Token.asList(each.forExpressionForList('val if strcontains(val, ":")')),
  };
}

export interface LoadBalancerSecurityGroupProps {
  readonly name: string;
  readonly vpcId: string;
  /** The VPC's IPv4 ranges: the only destinations the load balancers send to. */
  readonly vpcCidrBlocks: string[];
  /**
   * Source CIDRs (IPv4 or IPv6) admitted on ports 443 and 80.
   * @default anywhere: 0.0.0.0/0 and ::/0
   */
  readonly allowedCidrs?: string[];
}

/**
 * The security group every load balancer of the platform shares: HTTPS and HTTP in from the
 * allowed CIDRs; out to the notebooks in the VPC, and HTTPS to anywhere, which sign-in at the
 * load balancer needs (it calls the Cognito or OIDC provider's token and user-info endpoints).
 */
export class LoadBalancerSecurityGroup extends Construct {
  public readonly securityGroup: SecurityGroup;

  constructor(scope: Construct, id: string, props: LoadBalancerSecurityGroupProps) {
    super(scope, id);
    const { ipv4, ipv6 } = splitCidrs(props.allowedCidrs ?? DEFAULT_ALLOWED_CIDRS);
    this.securityGroup = new SecurityGroup(this, "security_group", {
      name: props.name,
      description: "Notebook load balancers: HTTPS and HTTP from the allowed CIDRs, out to the VPC and HTTPS out",
      vpcId: props.vpcId,
      ingress: [
        inlineRule({ description: "HTTPS from the allowed CIDRs", protocol: "tcp", fromPort: HTTPS_PORT, toPort: HTTPS_PORT, cidrBlocks: ipv4, ipv6CidrBlocks: ipv6 }),
        inlineRule({ description: "HTTP from the allowed CIDRs, redirected to HTTPS", protocol: "tcp", fromPort: HTTP_PORT, toPort: HTTP_PORT, cidrBlocks: ipv4, ipv6CidrBlocks: ipv6 }),
      ],
      // To the notebooks (and their health checks), which live in the VPC.
      egress: [
        inlineRule({ description: "To the notebooks in the VPC", protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: props.vpcCidrBlocks }),
        // Sign-in (Cognito or OIDC) at the load balancer: its provider's endpoints are on the internet.
        inlineRule({ description: "HTTPS to the sign-in provider's endpoints", protocol: "tcp", fromPort: HTTPS_PORT, toPort: HTTPS_PORT, cidrBlocks: ["0.0.0.0/0"], ipv6CidrBlocks: ["::/0"] }),
      ],
      tags: { Name: props.name },
    });
  }
}

export interface NotebookLoadBalancerProps {
  /** Name of the load balancer (at most 32 characters); also its NotebookLoadBalancer tag. */
  readonly name: string;
  /** Public subnets, in two Availability Zones at least. */
  readonly subnetIds: string[];
  readonly securityGroupIds: string[];
  /** Certificate of the HTTPS listener; take it from the validation, so the listener waits for it. */
  readonly certificateArn: string;
  /**
   * Seconds a connection may stay idle: Jupyter's kernels and terminals run over websockets
   * that are quiet between messages.
   * @default 3600 seconds
   */
  readonly idleTimeoutSeconds?: number;
  /**
   * S3 bucket for access logs; empty (or an expression that evaluates to "") means none.
   * @default no access logs
   */
  readonly accessLogsBucket?: string;
  /**
   * Prefix of the access logs in that bucket.
   * @default the bucket's root
   */
  readonly accessLogsPrefix?: string;
  /**
   * Plain-text body of the 404 answered for a hostname with no notebook.
   * @default "No notebook here. Check the address."
   */
  readonly notFoundMessage?: string;
}

/**
 * One internet-facing Application Load Balancer for notebooks: an HTTPS listener whose
 * default answer is a plain 404 (each notebook adds its own host rule), and HTTP redirected
 * to HTTPS. It holds no target group of its own.
 */
export class NotebookLoadBalancer extends Construct {
  public readonly loadBalancer: Lb;
  public readonly httpsListener: LbListener;
  public readonly httpListener: LbListener;
  /** Whether access logs are on. */
  public readonly accessLogsEnabled: Condition;

  constructor(scope: Construct, id: string, props: NotebookLoadBalancerProps) {
    super(scope, id);
    const bucket = props.accessLogsBucket ?? "";
    this.accessLogsEnabled = not(isEmpty(bucket));

    this.loadBalancer = new Lb(this, "load_balancer", {
      name: props.name,
      loadBalancerType: "application",
      internal: false,
      subnets: props.subnetIds,
      securityGroups: props.securityGroupIds,
      idleTimeout: props.idleTimeoutSeconds ?? DEFAULT_IDLE_TIMEOUT_SECONDS,
      dropInvalidHeaderFields: true,
      // The default, said: the client's address is appended to X-Forwarded-For, where the
      // waker checks a notebook's allowed CIDRs (a client's own entries come before it).
      xffHeaderProcessingMode: "append",
      // The provider sends bucket and prefix only when enabled.
      accessLogs: { bucket, prefix: props.accessLogsPrefix ?? "", enabled: this.accessLogsEnabled },
      // Notebooks' target groups carry the same tag: placement counts them per load balancer.
      tags: { Name: props.name, [LOAD_BALANCER_TAG]: props.name },
    });
    this.httpsListener = new LbListener(this, "https_listener", {
      loadBalancerArn: this.loadBalancer.arn,
      port: HTTPS_PORT,
      protocol: "HTTPS",
      sslPolicy: SSL_POLICY,
      certificateArn: props.certificateArn,
      defaultAction: [
        {
          type: "fixed-response",
          fixedResponse: { statusCode: "404", contentType: "text/plain", messageBody: props.notFoundMessage ?? DEFAULT_NOT_FOUND_MESSAGE },
        },
      ],
    });
    this.httpListener = new LbListener(this, "http_listener", {
      loadBalancerArn: this.loadBalancer.arn,
      port: HTTP_PORT,
      protocol: "HTTP",
      defaultAction: [{ type: "redirect", redirect: { protocol: "HTTPS", port: String(HTTPS_PORT), statusCode: "HTTP_301" } }],
    });
  }
}
