"""OpenTelemetry traces of requests and database calls, exported over OTLP when configured."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from sqlalchemy import Engine

from app import __version__
from app.settings import Settings


def tracer_provider_for(
    settings: Settings, processor: SpanProcessor | None = None
) -> TracerProvider | None:
    """A provider exporting to OTEL_EXPORTER_OTLP_ENDPOINT (or to `processor`), else None: off."""
    if processor is None and not settings.otlp_endpoint:
        return None
    provider = TracerProvider(
        resource=Resource.create(
            {"service.name": settings.service_name, "service.version": __version__}
        )
    )
    if processor is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        # The exporter reads the endpoint, headers and timeout from the standard OTEL_* variables.
        processor = BatchSpanProcessor(OTLPSpanExporter())
    provider.add_span_processor(processor)
    return provider


def instrument_engine(engine: Engine, provider: TracerProvider) -> None:
    """One span per SQL statement, children of the request's span."""
    instrumentor = SQLAlchemyInstrumentor()
    if instrumentor.is_instrumented_by_opentelemetry:
        # The instrumentor is one per process (a server has one engine): a later app in the
        # same process, as in tests, takes it over.
        instrumentor.uninstrument()
    instrumentor.instrument(engine=engine, tracer_provider=provider, enable_commenter=False)


def tracer(provider: TracerProvider | None) -> trace.Tracer:
    """The app's tracer: a no-op one when tracing is off."""
    if provider is None:
        return trace.NoOpTracer()
    return provider.get_tracer("app.http", __version__)
