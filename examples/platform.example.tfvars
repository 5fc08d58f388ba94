# Variables of the platform stack (cluster, network, load balancers, certificate, EFS).
# Copy to platform.tfvars (git-ignored), fill in, then, as an administrator:
#   npx cdktf deploy platform-dev --var-file=platform.tfvars
# Notebook stacks of the environment then read the platform from this stack's state.

# --- required ------------------------------------------------------------------------
region         = "eu-west-1"                 # region of the whole platform (and of its notebooks)
hosted_zone_id = "Z0123456789ABCDEFGHIJ"     # the team's public Route 53 zone; only records are added

# --- optional (defaults shown) -------------------------------------------------------
profile_name = ""                            # AWS config profile; "" = default credential chain
domain       = ""                            # "" = the zone's name; hostnames are <prefix>-<suffix>.<domain>,
                                             # the certificate *.<domain> (domain at most 62 characters)

# Network: a new VPC (vpc_id = "") ...
vpc_id             = ""
vpc_cidr           = "10.42.0.0/16"          # /16 to /20; public subnets take its 1st-3rd sixteenths, private ones the 9th-11th
availability_zones = 2                       # 2 or 3
task_network       = "public"                # "public": a public IP per notebook, no NAT gateway;
                                             # "private": private subnets and one NAT gateway (about $33/month more)
# ... or an existing one (then both subnet lists are required; empty otherwise):
# vpc_id                   = "vpc-0123456789abcdef0"
# load_balancer_subnet_ids = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]  # public, 2+ zones
# notebook_subnet_ids      = ["subnet-00112233445566778", "subnet-08877665544332211"]  # distinct zones with efs
load_balancer_subnet_ids = []
notebook_subnet_ids      = []

# Load balancers
allowed_cidrs        = ["0.0.0.0/0", "::/0"] # 1-20 source CIDRs admitted on 443 and 80, e.g. the office's
idle_timeout_seconds = 3600                  # 60-4000; websockets of kernels and terminals sit idle between messages
access_logs_bucket   = ""                    # "" = no access logs; else a bucket in the same region (SSE-S3)
access_logs_prefix   = ""                    # folder in that bucket, without leading or trailing "/"

# Cluster and storage
container_insights = false                   # CloudWatch Container Insights, billed per metric
efs                = false                   # an encrypted EFS file system for persistent notebook homes

# Accelerated notebooks (README: "Accelerated notebooks"); they need task_network = "private"
accelerator_instance_types = []              # e.g. ["g6.xlarge", "inf2.xlarge"]: one ECS Managed Instances capacity provider each
accelerator_volume_gib     = 100             # 30-16384 GiB per instance: images (CUDA, Neuron: several GB) and scratch space
accelerator_idle_seconds   = 300             # 0-3600: how long an instance without notebooks keeps running

tags = {}                                    # e.g. { CostCenter = "ds-123" }, added to the default tags
