"""The ports the topology uses, shared by the constructs that open them and the pictures that show them."""

HTTP_PORT = 80         # COMPUTE=ecs without ECS_CERTIFICATE_ARN: NLB -> the workers' ALB, plain HTTP in the VPC
HTTPS_PORT = 443       # API Gateway -> VPC link -> NLB -> apprunner.requests endpoint, TLS end to end; ecs: to the ALB
                       # with ECS_CERTIFICATE_ARN
POSTGRES_PORT = 5432   # Aurora PostgreSQL
REDIS_PORT = 6379      # ElastiCache Valkey/Redis (TLS)
