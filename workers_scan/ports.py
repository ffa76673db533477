"""The ports the topology uses, shared by the constructs that open them and the pictures that show them."""

HTTPS_PORT = 443       # API Gateway -> VPC link -> NLB -> apprunner.requests endpoint, TLS end to end
POSTGRES_PORT = 5432   # Aurora PostgreSQL
REDIS_PORT = 6379      # ElastiCache Valkey/Redis (TLS)
