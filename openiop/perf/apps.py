from django.apps import AppConfig


class PerfConfig(AppConfig):
    """Issue 13: the history generator, benchmarks, load and fault runs, backup/restore."""

    name = "openiop.perf"
    label = "perf"
    verbose_name = "Performance and resilience"
