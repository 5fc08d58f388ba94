/**
 * What AWS accepts, as patterns and tables that more than one part of the app checks: the
 * notebook stack's variables, the synth-time settings and the team files.
 */

/** An AWS region name. */
export const REGION_RE = "^[a-z]{2,4}(-[a-z]+)+-[0-9]+$";

/** Subnet, VPC and Route 53 zone IDs. */
export const SUBNET_RE = "^subnet-([0-9a-f]{8}|[0-9a-f]{17})$";
export const VPC_RE = "^vpc-([0-9a-f]{8}|[0-9a-f]{17})$";
export const ZONE_RE = "^Z[A-Z0-9]{1,31}$";
/** A lower-case DNS label. */
export const LABEL = "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?";
/** A notebook domain: the load balancer's host condition takes only letters after the last dot. */
export const NOTEBOOK_DOMAIN_RE = `^(${LABEL}\\.)*[a-z]{1,63}$`;

/**
 * HCL: `c` is a CIDR block without host bits, in any valid spelling. The network address
 * (cidrhost(c, 0)) must equal the address as written; both sides go through cidrhost, which
 * writes addresses one canonical way, so 2001:DB8::/32 and 2001:db8:0:0::/64 pass. An
 * IPv4-mapped IPv6 block (::ffff:0:0/96) is refused: Terraform turns it into IPv4, so it
 * would reach a rule as 0.0.0.0/0.
 */
export const NETWORK_ADDRESS =
  'can(cidrhost(c, 0)) && try(cidrhost(c, 0) == cidrhost(format("%s/%d", split("/", c)[0], strcontains(c, ":") ? 128 : 32), 0) && ' +
  'strcontains(c, ":") == strcontains(cidrhost(c, 0), ":"), false)';

const IMAGE_COMPONENT = "[a-z0-9]+([._-]+[a-z0-9]+)*";
/** An image repository: an optional registry (host, optional port) followed by path components; no tag, no digest. */
export const IMAGE_RE = `^(${IMAGE_COMPONENT}(:[0-9]+)?/)?${IMAGE_COMPONENT}(/${IMAGE_COMPONENT})*$`;
/** The longest image repository name the vars file and the team file take. */
export const MAX_IMAGE_LENGTH = 255;

/** An image tag. */
export const TAG_RE = "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$";

/** Fargate's CPU units and the memory (MiB) each offers. */
export const FARGATE_MEMORY: Record<number, number[]> = {
  256: [512, 1024, 2048],
  512: range(1024, 4096, 1024),
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
  8192: range(16384, 61440, 4096),
  16384: range(32768, 122880, 8192),
};
export const FARGATE_TABLE_TEXT =
  "256: 512, 1024, 2048; 512: 1024-4096; 1024: 2048-8192; 2048: 4096-16384 (steps of 1024); " +
  "4096: 8192-30720 (steps of 1024); 8192: 16384-61440 (steps of 4096); 16384: 32768-122880 (steps of 8192)";

/** Retention values CloudWatch Logs accepts (0: never expire). */
export const LOG_RETENTION_DAYS = [0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}
