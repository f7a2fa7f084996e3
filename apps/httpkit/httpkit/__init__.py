"""httpkit: the HTTP layer both services run on. One copy, in apps/httpkit, that both images install.

- `httpserver`: a small HTTP/1.1 server for JSON GET APIs (httptools + asyncio/uvloop);
- `http1`: a pooled HTTP/1.1 client for GETs to one upstream;
- `routing`, `responses`: GET-only routing and JSON answers;
- `serving`: run a service until SIGTERM, then drain it;
- `envconfig`, `logs`, `main`: settings from the environment, one-line logs, and `python -m <service>`.
"""
