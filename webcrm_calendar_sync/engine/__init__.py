"""Provider-neutral sync engine: plain Python, never imports ``odoo``.

``events`` (the neutral event type), ``errors`` (typed errors), ``provider`` (the
interface), ``reconcile`` (change set + bindings -> plan) and ``providers.*`` (one
module per external calendar). ``testing`` holds local fake servers that speak
each provider's wire format, for tests and benchmarks.
"""
