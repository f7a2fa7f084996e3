"""web-api: the consumer. GET / fetches recipe 42 from recipe-api and returns it with web-api's own identity."""

SERVICE_NAME = "web-api"
