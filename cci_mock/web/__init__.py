"""The only aiohttp code: middlewares, handlers, watch streams, discovery and OpenAPI,
the admin API (/_mock) and injected answers."""
