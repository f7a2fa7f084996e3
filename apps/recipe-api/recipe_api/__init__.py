"""recipe-api: the producer. Serves recipes as JSON (GET /recipes/{id}) plus liveness and readiness probes."""

SERVICE_NAME = "recipe-api"
