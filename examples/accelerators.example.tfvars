# The accelerators-<env> stack: accelerated capacity (GPU, Neuron) added to a team's own
# ECS cluster. Set "accelerators": true for the environment in cdktf.json, then, as an
# administrator:  npx cdktf deploy accelerators-<env> --var-file=accelerators.tfvars
# README: "Accelerated notebooks". (On a platform environment, the platform stack's
# accelerator_* variables do this instead.)

region           = "eu-west-1"
profile_name     = ""                        # empty: the default credential chain
ecs_cluster_name = "data-science"            # the cluster the notebooks run on
# The notebooks' private subnets, with a NAT gateway: a task on an instance gets no public IP.
# They must be in zones that offer the instance types below (trn1 and g6 are not in every zone).
subnet_ids = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]

accelerator_instance_types = ["g6.xlarge", "inf2.xlarge"] # one ECS Managed Instances capacity provider each
accelerator_volume_gib     = 100                          # 30-16384 GiB per instance: images (CUDA, Neuron: several GB) and scratch space
accelerator_idle_seconds   = 300                          # 0-3600: how long an instance without notebooks keeps running

tags = {} # e.g. { CostCenter = "ds-123" }
