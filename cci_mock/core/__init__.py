"""The generic API server: plain Python that never names a kind and never imports aiohttp.

catalog (what is served) -> registry (the verb pipeline, strategy hooks) -> store.
Everything a kind adds comes in through its catalog entry and strategy (cci_mock.kinds).
"""
