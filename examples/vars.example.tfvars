# Copy to vars.tfvars (git-ignored), fill in, then:
#   npx cdktf deploy notebook --var-file=vars.tfvars
# A vars file written for the team's old Terraform configuration works unchanged:
# the first twelve names below are exactly its variables.
# In an environment with a platform stack ("platform": true in cdktf.json), the platform's
# lines (vpc_id ... fargate_subnets, domain, listener_port, assign_public_ip, efs_*) go:
# region and your own choices are enough (README, "Notebooks on the platform").

# --- the old configuration's variables -------------------------------------------
region           = "eu-west-1"                 # region of the cluster, load balancer and notebook
profile_name     = ""                          # AWS config profile; "" = default credential chain
vpc_id           = ""                          # "" = the load balancer's VPC
ecs_cluster_name = "data-science"              # name (not ARN) of the existing ECS cluster
loadbalancer_arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/team-alb/0123456789abcdef"
hosted_zone_id   = "Z0123456789ABCDEFGHIJ"     # Route 53 zone the hostname is created in
fargate_subnets  = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
token            = ""                          # "" = generate a 32-character token (>= 16 URL-safe characters if set)
jupyter_docker_tag = "latest"                  # pin a date tag (e.g. "2025-03-17") for a reproducible environment
cpu              = 1024                        # Fargate CPU units: 256, 512, 1024, 2048, 4096, 8192, 16384
memory           = 4096                        # MiB; must suit cpu (1024 -> 2048..8192), see the README's table
domain           = ""                          # "" = the hosted zone's name; hostname is jupyter-<suffix>.<domain>

# --- new, optional (defaults shown) ------------------------------------------------
# environment        = "dev"                                    # refuse any other environment's stack
# image              = "quay.io/jupyter/datascience-notebook"   # repository without tag
# listener_port      = 443                                      # port of the load balancer's HTTPS listener
# hostname_prefix    = "jupyter"                                # at most 23 characters
# allowed_cidrs      = ["0.0.0.0/0", "::/0"]                    # 1-4 source CIDRs, e.g. the office's
# assign_public_ip   = false                                    # true in public subnets without NAT
# log_retention_days = 30
# tags               = { CostCenter = "ds-123" }

# --- with the team's image from notebook-image/ (ignored by the stock images) -----
# idle_timeout_minutes = 120                                    # stop when idle; 0 = never
# git_repository_url   = "https://github.com/acme/analysis.git" # cloned into ~/work at start
# git_token            = ""                                     # for a private repository

# --- options, each off by default (see the README's "Options" section) -------------
# efs_file_system_id           = "fs-0123456789abcdef0"   # persistent ~/work per user ...
# efs_security_group_id        = "sg-0123456789abcdef0"   # ... and a client group its mount targets admit NFS from (see README)
# cognito_user_pool_arn        = "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbCdEf123"
# cognito_user_pool_client_id  = "1example23456789abcdefghij"
# cognito_user_pool_domain     = "acme-notebooks"
# auth_session_timeout_seconds = 43200
# task_role_policy_arns        = ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]
# capacity_provider            = "FARGATE_SPOT"           # cheaper; may stop with 2 minutes' notice
# ephemeral_storage_gib        = 50
# enable_execute_command       = true
